package io.berth.pool;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.PurgeScheduler;
import io.berth.testing.ManualPurgeScheduler;
import java.time.Duration;
import java.util.function.UnaryOperator;

/** A pool over fake connections, a fake ticker and a manual scheduler. */
final class PoolFixture implements AutoCloseable {
    static final Backend BACKEND = Backend.of("https://backend.test:8443");

    final FakeTicker ticker = new FakeTicker();
    final ManualPurgeScheduler scheduler = new ManualPurgeScheduler();
    final FakeConnector connector = new FakeConnector();
    final LockFreeBackendPool pool;

    PoolFixture(UnaryOperator<BackendPoolConfig.Builder> config) {
        this(1, config);
    }

    /** @param servers how many servers the backend has: {@code s0.test:8443}, {@code s1.test:8443}... */
    PoolFixture(int servers, UnaryOperator<BackendPoolConfig.Builder> config) {
        BackendPoolConfig c = config.apply(BackendPoolConfig.builder()
                .name("test")
                .ticker(ticker)
                .purgeScheduler(scheduler)
                .acquireTimeout(Duration.ofMillis(200))).build();
        pool = Berth.engine(servers == 1 ? BACKEND : backendOf(servers), c, connector);
    }

    static Backend backendOf(int servers) {
        Backend.Builder b = Backend.builder();
        for (int i = 0; i < servers; i++) {
            b.server(server(i), 1);
        }
        return b.build();
    }

    static io.berth.Server server(int i) {
        return io.berth.Server.of("s" + i + ".test", 8443);
    }

    PoolFixture() {
        this(b -> b);
    }

    /** Advances time and runs the pending maintenance pass, as the scheduler would. */
    void advanceAndMaintain(Duration d) {
        ticker.advance(d);
        pool.maintain(ticker.read());
    }

    FakeConnection fake(io.berth.Lease lease) {
        return (FakeConnection) lease.connection();
    }

    @Override
    public void close() {
        pool.close();
    }
}
