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
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Acquire, release and purge racing each other, explored by Lincheck's model checker (which tries
 * many thread interleavings, not just the ones the OS happens to pick), for a backend of one server and
 * of three ({@link ThreeServers}). After every run the pool's invariants hold, per server and in total:
 * no connection held by two callers, idle + in use = open, the slot table agrees with the count, no
 * server over its limit, nothing probed or closed twice; a connection parked by a caller that took it
 * back ({@link OneServer}: one server, so each caller first tries its last connection) is idle and counted
 * in use until somebody takes it. A racy check-then-act beside it must fail.
 *
 * <p>Lincheck's data-structure API ({@link Operation}s and a {@link Validate} function), not its
 * general {@code Lincheck.runConcurrentTest}: on Temurin 25 the general API explored no interleaving
 * and its must-fail canary passed (RELIABILITY.md §1), while this one catches the canary on JDK 17 and
 * 25. Every operation returns nothing, so any order is linearizable: what can fail is an operation
 * throwing (a connection held twice) or the validation. Assertions throw plain {@link AssertionError}s
 * (Lincheck calls {@code equals} on AssertJ objects; see RELIABILITY.md).
 */
public class PoolLincheckTest {
    /** The operations and invariants Lincheck explores, over a backend of {@code servers} servers. */
    public abstract static class Model {
        private final FakeTicker ticker = new FakeTicker();
        private final FakeConnector connector = new FakeConnector();
        private final int violationsBefore = FakeConnection.VIOLATIONS.get();
        private final LockFreeBackendPool pool;

        private final int max;

        Model(int servers) {
            this(servers, 2);
        }

        Model(int servers, int max) {
            this.max = max;
            BackendPoolConfig config = BackendPoolConfig.builder().name("lincheck").maxConnections(max)
                    .acquireTimeout(Duration.ZERO).retries(0).maxLifetime(Duration.ZERO)
                    .purgeDelay(Duration.ofSeconds(1)).idleTimeout(Duration.ofHours(1))
                    .ticker(ticker).purgeScheduler(new ManualPurgeScheduler()).build();
            pool = Berth.engine(PoolFixture.backend(servers), config, connector);
            cycle(pool, true); // one idle connection to fight over
        }

        @Operation
        public void replayable() {
            cycle(pool, true);
        }

        @Operation
        public void notReplayable() {
            cycle(pool, false);
        }

        /** Two in a row on one thread: the second takes the thread's last connection again and parks it. */
        @Operation
        public void twice() {
            cycle(pool, true);
            cycle(pool, true);
        }

        @Operation
        public void purge() {
            ticker.advance(Duration.ofSeconds(5));
            pool.maintain(ticker.read());
        }

        @Validate
        public void invariants() {
            checkInvariants(pool, connector, violationsBefore, max);
        }
    }

    /** One server. */
    public static final class OneServer extends Model {
        public OneServer() {
            super(1);
        }
    }

    /**
     * One server of one connection: every caller's last connection is the same one, so callers taking
     * it back from parked race each other, and the callers stealing it, on one state.
     */
    public static final class OneConnection extends Model {
        public OneConnection() {
            super(1, 1);
        }
    }

    /** Three servers, checked per server and in total. */
    public static final class ThreeServers extends Model {
        public ThreeServers() {
            super(3);
        }
    }

    static void checkInvariants(LockFreeBackendPool pool, FakeConnector connector, int violationsBefore, int max) {
        for (ServerEntry e : pool.entries) {
            int parked = pool.recycler.parked(e);
            check(e.total.get() == e.table.registered(), e.server + ": total " + e.total.get() + " != slots "
                    + e.table.registered());
            check(e.table.size() + parked == e.total.get(), e.server + ": idle " + e.table.size() + " + parked "
                    + parked + " != open " + e.total.get());
            check(e.inUse.get() == parked, e.server + ": in use " + e.inUse.get() + " with nothing held but "
                    + parked + " parked");
            check(e.total.get() <= max, e.server + ": over the limit: " + e.total.get());
        }
        check(pool.total() == pool.registered(), "total " + pool.total() + " != slots " + pool.registered());
        check(pool.idleCount() == pool.total(), "idle " + pool.idleCount() + " != open " + pool.total());
        check(connector.openCount() == pool.total(), "open sockets " + connector.openCount()
                + " != pool's count " + pool.total());
        check(FakeConnection.VIOLATIONS.get() == violationsBefore, "a connection was probed or closed twice");
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(classes = {OneServer.class, OneConnection.class, ThreeServers.class})
    @Timeout(120)
    void acquireReleaseAndPurgeKeepThePoolsInvariants(Class<?> servers) {
        new ModelCheckingOptions().iterations(Integer.getInteger("lincheck.iterations", 5))
                .invocationsPerIteration(40).threads(3).actorsPerThread(1).actorsBefore(0).actorsAfter(0)
                .check(servers);
    }

    @Test
    @Timeout(120)
    void canaryCheckThenActIsCaught() {
        AssertionError e = assertThrows(AssertionError.class, () -> new ModelCheckingOptions().iterations(10)
                .invocationsPerIteration(200).threads(2).actorsPerThread(1).actorsBefore(0).actorsAfter(0)
                .minimizeFailedScenario(false).check(RacyHolder.class));
        org.assertj.core.api.Assertions.assertThat(e).hasMessageContaining("taken twice");
    }

    /** Takes its one item with a check-then-act: two takers can both take it. */
    public static final class RacyHolder {
        private volatile boolean taken;
        private volatile int takers;

        public RacyHolder() {
        }

        @Operation
        public void take() {
            if (!taken) {
                taken = true;
                takers++;
            }
        }

        @Validate
        public void takenOnce() {
            check(takers <= 1, "taken twice");
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

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
