package io.berth.pool;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.ManualPurgeScheduler;
import io.berth.PurgeScheduler;
import java.time.Duration;
import java.util.function.UnaryOperator;

/** A pool over fake connections, a fake ticker and a manual scheduler. */
final class PoolFixture implements AutoCloseable {
    static final Backend BACKEND = Backend.of("https://backend.test:8443");

    final FakeTicker ticker = new FakeTicker();
    final ManualPurgeScheduler scheduler = PurgeScheduler.manual();
    final FakeConnector connector = new FakeConnector();
    final LockFreeBackendPool pool;

    PoolFixture(UnaryOperator<BackendPoolConfig.Builder> config) {
        BackendPoolConfig c = config.apply(BackendPoolConfig.builder()
                .name("test")
                .ticker(ticker)
                .purgeScheduler(scheduler)
                .acquireTimeout(Duration.ofMillis(200))).build();
        pool = new LockFreeBackendPool(BACKEND, c, connector);
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
