package io.berth.pool.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.Backend;
import io.berth.BackendPool;
import io.berth.BackendPoolConfig;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.PurgeScheduler;
import io.berth.Server;
import io.berth.pool.Berth;
import io.berth.spi.Connection;
import io.berth.testing.ManualPurgeScheduler;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class BerthMetricsTest {

    /** The smallest connection that satisfies the SPI; no I/O happens in this test. */
    private static final class Idle implements Connection {
        private final Server server;
        private boolean open = true;

        Idle(Server server) {
            this.server = server;
        }

        public Server server() {
            return server;
        }

        public int read(ByteBuffer dst, long t) {
            throw new UnsupportedOperationException();
        }

        public void write(ByteBuffer src, long t) {
            throw new UnsupportedOperationException();
        }

        public Liveness liveness() {
            return Liveness.ALIVE;
        }

        public boolean isOpen() {
            return open;
        }

        public boolean close() {
            open = false;
            return true;
        }

        public void abort() {
            open = false;
        }

        public String describe() {
            return server.toString();
        }
    }

    @Test
    @SuppressWarnings("try")
    void statsAreExportedTaggedByPoolAndBackend() throws Exception {
        BackendPool pool = Berth.newPool(Backend.of("https://backend.test"),
                BackendPoolConfig.builder().name("orders").purgeScheduler(new ManualPurgeScheduler()).build(),
                (server, t) -> new Idle(server));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Lease a = pool.acquire(true);
        pool.release(a, Outcome.REUSABLE);
        Lease b = pool.acquire(true);
        pool.release(b, Outcome.NOT_REUSABLE);
        try (BerthMetrics m = BerthMetrics.bind(pool, registry, Tags.of("app", "shop"))) {
            Tags t = Tags.of("pool", "orders", "backend", "https://backend.test:443", "app", "shop");
            assertThat(registry.get(BerthMetrics.OPENED).tags(t).functionCounter().count()).isEqualTo(1);
            assertThat(registry.get(BerthMetrics.ACQUIRED).tags(t).functionCounter().count()).isEqualTo(2);
            assertThat(registry.get(BerthMetrics.REUSED).tags(t).functionCounter().count()).isEqualTo(1);
            assertThat(registry.get(BerthMetrics.CLOSED).tags(t).tag("reason", "not_reusable").functionCounter()
                    .count()).isEqualTo(1);
            assertThat(registry.get(BerthMetrics.CLOSED).tags(t).tag("reason", "purged").functionCounter().count())
                    .isZero();
            assertThat(registry.get(BerthMetrics.CONNECTIONS).tags(t).gauge().value()).isZero();
            assertThat(registry.get(BerthMetrics.PEAK_IN_USE).tags(t).gauge().value()).isEqualTo(1);
            assertThat(registry.get(BerthMetrics.SERVER_UP).tags(t).tag("server", "backend.test:443").gauge().value())
                    .isEqualTo(1);
            assertThat(registry.get(BerthMetrics.SERVER_OPENED).tags(t).tag("server", "backend.test:443")
                    .functionCounter().count()).isEqualTo(1);
            assertThat(registry.getMeters()).hasSize(14 + 6 + io.berth.CloseReason.values().length + 7);
        }
        assertThat(registry.getMeters()).as("removed on close").isEmpty();
        pool.close();
    }
}
