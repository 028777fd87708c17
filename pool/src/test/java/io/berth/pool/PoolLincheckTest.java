package io.berth.pool;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.berth.AcquireTimeoutException;
import io.berth.BackendPoolConfig;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.testing.ManualPurgeScheduler;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jetbrains.lincheck.Lincheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Acquire, release and purge racing each other, explored by Lincheck's model checker (which tries
 * many thread interleavings, not just the ones the OS happens to pick), for a backend of one server and
 * of three. After every run the pool's invariants hold, per server and in total: no connection held by
 * two callers, idle + in use = open, the slot table agrees with the count, no server over its limit,
 * nothing probed or closed twice. A racy check-then-act beside it must fail.
 *
 * <p>Assertions inside the model-checked block throw plain {@link AssertionError}s (Lincheck calls
 * {@code equals} on AssertJ objects; see RELIABILITY.md).
 */
class PoolLincheckTest {

    @ParameterizedTest(name = "{0} server(s)")
    @ValueSource(ints = {1, 3})
    @Timeout(120)
    void acquireReleaseAndPurgeKeepThePoolsInvariants(int servers) {
        Lincheck.runConcurrentTest(Integer.getInteger("lincheck.invocations", 50), () -> {
            int violationsBefore = FakeConnection.VIOLATIONS.get();
            FakeTicker ticker = new FakeTicker();
            FakeConnector connector = new FakeConnector();
            BackendPoolConfig config = BackendPoolConfig.builder().name("lincheck").maxConnections(2)
                    .acquireTimeout(Duration.ZERO).retries(0).maxLifetime(Duration.ZERO)
                    .purgeDelay(Duration.ofSeconds(1)).idleTimeout(Duration.ofHours(1))
                    .ticker(ticker).purgeScheduler(new ManualPurgeScheduler()).build();
            LockFreeBackendPool pool = Berth.engine(PoolFixture.backend(servers), config, connector);
            cycle(pool, true); // one idle connection to fight over

            Thread a = new Thread(() -> cycle(pool, true));
            Thread b = new Thread(() -> cycle(pool, false));
            Thread purger = new Thread(() -> {
                ticker.advance(Duration.ofSeconds(5));
                pool.maintain(ticker.read());
            });
            a.start();
            b.start();
            purger.start();
            join(a);
            join(b);
            join(purger);

            for (ServerEntry e : pool.entries) {
                check(e.total.get() == e.table.registered(), e.server + ": total " + e.total.get() + " != slots "
                        + e.table.registered());
                check(e.table.size() == e.total.get(), e.server + ": idle " + e.table.size() + " != open "
                        + e.total.get());
                check(e.total.get() <= 2, e.server + ": over the limit: " + e.total.get());
            }
            check(pool.total() == pool.registered(), "total " + pool.total() + " != slots " + pool.registered());
            check(pool.idleCount() == pool.total(), "idle " + pool.idleCount() + " != open " + pool.total());
            check(connector.openCount() == pool.total(), "open sockets " + connector.openCount()
                    + " != pool's count " + pool.total());
            check(FakeConnection.VIOLATIONS.get() == violationsBefore, "a connection was probed or closed twice");
            pool.close();
            check(connector.openCount() == 0, "open after close: " + connector.openCount());
        });
    }

    @Test
    @Timeout(120)
    void canaryCheckThenActIsCaught() {
        AssertionError e = assertThrows(AssertionError.class, () -> Lincheck.runConcurrentTest(300, () -> {
            RacyHolder holder = new RacyHolder();
            Thread a = new Thread(holder::take);
            Thread b = new Thread(holder::take);
            a.start();
            b.start();
            join(a);
            join(b);
            check(holder.takers <= 1, "taken twice");
        }));
        org.assertj.core.api.Assertions.assertThat(e).hasMessageContaining("taken twice");
    }

    private static final class RacyHolder {
        volatile boolean taken;
        volatile int takers;

        void take() {
            if (!taken) {
                taken = true;
                takers++;
            }
        }
    }

    private static void cycle(LockFreeBackendPool pool, boolean replayable) {
        Lease l;
        try {
            l = pool.acquire(replayable, null, 0, TimeUnit.NANOSECONDS);
        } catch (AcquireTimeoutException e) {
            return; // both connections busy: allowed with acquireTimeout 0
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        FakeConnection c = (FakeConnection) l.connection();
        if (c.holders.incrementAndGet() != 1) {
            throw new AssertionError("connection " + c.n + " held twice");
        }
        c.holders.decrementAndGet();
        pool.release(l, Outcome.REUSABLE);
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
