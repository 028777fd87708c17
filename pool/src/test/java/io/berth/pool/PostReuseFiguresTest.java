package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.PoolStats;
import io.berth.ReusePolicy;
import io.berth.TlsConfig;
import io.berth.pool.http.BerthClient;
import io.berth.pool.http.BerthRequest;
import io.berth.pool.http.BerthResponse;
import io.berth.transport.testing.HttpTestServer.Reply;
import io.berth.transport.testing.HttpTestServer;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The figures behind the README's note on POSTs under {@code SAFE}: 1,000 requests of which every
 * tenth is a POST, sequentially and from 8 callers at once, over real TLS to a server on 127.0.0.1
 * that counts the connections it accepted. Under {@code SAFE} each POST (not replayable) opens a
 * connection of its own; {@code AGGRESSIVE}, {@code ALWAYS}, or an {@code Idempotency-Key} with
 * {@code idempotencyKeyReplayable} let POSTs reuse. The figures are printed (the test's output file)
 * and bounded here.
 */
@ExtendWith(Hygiene.class)
@Timeout(120)
class PostReuseFiguresTest {
    private static final int REQUESTS = 1_000;

    /** @return connections opened (the pool's count, equal to the server's) for one run */
    private static long run(String label, BackendPoolConfig.Builder config, boolean idempotencyKey, int callers)
            throws Exception {
        try (HttpTestServer server = HttpTestServer.start(TestPki.server().context(), r -> Reply.ok("ok"))) {
            Backend backend = Backend.builder().server("127.0.0.1", server.port())
                    .tls(TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate())).build()).build();
            PoolStats stats;
            try (BerthClient client = BerthClient.create(backend, config.name("posts-" + label).build())) {
                AtomicInteger next = new AtomicInteger();
                ExecutorService pool = Executors.newFixedThreadPool(callers);
                List<Future<?>> done = new ArrayList<>();
                for (int c = 0; c < callers; c++) {
                    done.add(pool.submit(() -> {
                        for (int i; (i = next.getAndIncrement()) < REQUESTS; ) {
                            BerthRequest request = i % 10 == 9 ? post(i, idempotencyKey) : BerthRequest.get("/items/" + i);
                            try (BerthResponse r = client.send(request)) {
                                assertThat(r.bodyString()).isEqualTo("ok");
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
                pool.shutdown();
                assertThat(pool.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
                stats = client.pool().stats();
            }
            assertThat(server.requests()).hasSize(REQUESTS);
            assertThat(server.connections()).as("server's count = pool's").isEqualTo((int) stats.opened());
            System.out.printf("%-32s callers %d: %4d requests, %3d connections opened%n", label, callers, REQUESTS,
                    stats.opened());
            return stats.opened();
        }
    }

    private static BerthRequest post(int i, boolean idempotencyKey) {
        BerthRequest.Builder b = BerthRequest.newBuilder("POST", "/orders").header("Content-Type", "application/json")
                .body(BerthRequest.Body.of("{\"n\":" + i + "}", StandardCharsets.UTF_8));
        if (idempotencyKey) {
            b.header("Idempotency-Key", "order-" + i);
        }
        return b.build();
    }

    @Test
    void sequentiallyEveryPostOpensItsOwnConnectionUnderSafeOnly() throws Exception {
        assertThat(run("SAFE", BackendPoolConfig.builder(), false, 1)).isEqualTo(1 + REQUESTS / 10);
        assertThat(run("AGGRESSIVE", BackendPoolConfig.builder().reusePolicy(ReusePolicy.AGGRESSIVE), false, 1))
                .isEqualTo(1);
        assertThat(run("ALWAYS", BackendPoolConfig.builder().reusePolicy(ReusePolicy.ALWAYS), false, 1)).isEqualTo(1);
        assertThat(run("SAFE + Idempotency-Key", BackendPoolConfig.builder().idempotencyKeyReplayable(true), true, 1))
                .isEqualTo(1);
    }

    @Test
    void fromEightCallersSafeOpensAConnectionPerPostAndTheOthersAFew() throws Exception {
        long safe = run("SAFE", BackendPoolConfig.builder(), false, 8);
        long aggressive = run("AGGRESSIVE", BackendPoolConfig.builder().reusePolicy(ReusePolicy.AGGRESSIVE), false, 8);
        long always = run("ALWAYS", BackendPoolConfig.builder().reusePolicy(ReusePolicy.ALWAYS), false, 8);
        long keyed = run("SAFE + Idempotency-Key", BackendPoolConfig.builder().idempotencyKeyReplayable(true), true, 8);
        assertThat(safe).isGreaterThanOrEqualTo(REQUESTS / 10);
        assertThat(aggressive).isLessThanOrEqualTo(16);
        assertThat(always).isLessThanOrEqualTo(8);
        assertThat(keyed).isLessThanOrEqualTo(8);
    }
}
