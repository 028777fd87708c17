package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.BackendPoolConfig;
import io.berth.ReusePolicy;
import io.berth.pool.http.BerthClient;
import io.berth.pool.http.BerthPools;
import java.net.URI;
import org.junit.jupiter.api.Test;

class BerthPoolsTest {

    @Test
    void oneClientPerOriginWithDefaultPortsAndCaseFolded() {
        try (BerthPools pools = BerthPools.builder()
                .defaults(BackendPoolConfig.builder().maxConnections(5).build())
                .backend("https://special.test", BackendPoolConfig.builder().reusePolicy(ReusePolicy.NEVER).build())
                .build()) {
            BerthClient a = pools.client(URI.create("https://API.test/x?y=1"));
            assertThat(pools.client(URI.create("https://api.test:443/other"))).isSameAs(a);
            assertThat(pools.client(URI.create("http://api.test/"))).isNotSameAs(a);
            assertThat(a.pool().backend()).hasToString("https://api.test:443");
            assertThat(a.pool().config().maxConnections()).isEqualTo(5);
            assertThat(pools.client(URI.create("https://special.test/")).pool().config().reusePolicy())
                    .isSameAs(ReusePolicy.NEVER);
            assertThat(pools.clients()).hasSize(3);
            assertThatThrownBy(() -> pools.client(URI.create("ftp://api.test/")))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("URI scheme must be https or http but was 'ftp://api.test/'");
            assertThatThrownBy(() -> pools.client(URI.create("/relative")))
                    .hasMessage("URI must be absolute with a host but was '/relative'");
            pools.close();
            assertThat(a.pool().isClosed()).isTrue();
            assertThatThrownBy(() -> pools.client(URI.create("https://new.test/")))
                    .isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void aClientListenerHearsOfEveryPoolOnceWhenPoolsAreCreatedAsItIsAdded() throws Exception {
        for (int round = 0; round < 20; round++) {
            try (BerthPools pools = BerthPools.withDefaults()) {
                java.util.Map<BerthClient, Integer> heard = new java.util.concurrent.ConcurrentHashMap<>();
                java.util.function.Consumer<BerthClient> listener = c -> heard.merge(c, 1, Integer::sum);
                java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
                java.util.List<Thread> creators = new java.util.ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int from = t * 25;
                    Thread creator = new Thread(() -> {
                        try {
                            go.await();
                        } catch (InterruptedException e) {
                            return;
                        }
                        for (int i = from; i < from + 25; i++) {
                            pools.client(URI.create("http://host-" + i + ".test/"));
                        }
                    });
                    creator.start();
                    creators.add(creator);
                }
                go.countDown();
                pools.addClientListener(listener);
                for (Thread t : creators) {
                    t.join(10_000);
                }
                assertThat(pools.clients()).hasSize(100);
                assertThat(heard).hasSize(100).allSatisfy((c, n) -> assertThat(n).isEqualTo(1));
                pools.removeClientListener(listener);
                pools.client(URI.create("http://later.test/"));
                assertThat(heard).hasSize(100);
            }
        }
    }

    @Test
    void aClientOverASharedPoolDoesNotCloseIt() {
        try (BerthClient owner = BerthClient.create("https://backend.test")) {
            BerthClient caller = BerthClient.over(owner.pool());
            caller.close();
            assertThat(owner.pool().isClosed()).isFalse();
            owner.close();
            assertThat(owner.pool().isClosed()).isTrue();
        }
    }
}
