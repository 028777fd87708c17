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
