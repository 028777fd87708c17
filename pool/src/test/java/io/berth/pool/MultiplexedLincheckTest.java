package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.berth.ReusePolicy;
import io.berth.Server;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.ThreadIdGen;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The ownership rules of connections with a capacity above one (PooledConnection's class comment),
 * explored by Lincheck's model checker over the production {@link PooledConnection#tryJoin()},
 * {@link PooledConnection#leave()} and {@link SlotTable}: the operations below do what the engine does
 * with them, step for step.
 * <ul>
 *   <li>{@link #acquire}: join a busy connection with room ({@code findMultiplexed} + {@code tryJoin}),
 *       else take an idle one (its idle bit) and lease it ({@code streams = 1}), else open one below
 *       the limit (LockFreeBackendPool.takeFrom, lease, Acquirer);</li>
 *   <li>{@link #release}: leave; the last one out owns the connection and makes it idle, or closes it
 *       if it drains; {@link #releaseBroken} first makes it drain (LockFreeBackendPool.releaseStream,
 *       leaveStream);</li>
 *   <li>{@link #purge}: take the coldest idle bit and close (Maintenance.purge, closeConnection);
 *       {@link #sweep}: take one connection's idle bit, check it, make it idle again
 *       (Maintenance.sweepIdle).</li>
 * </ul>
 * The properties, checked at every grant and close and, after each run, by {@link #nothingLost}: no
 * exchange is ever granted on a closed connection; a connection is never closed, nor its idle bit
 * taken, while it carries an exchange; the count of exchanges never exceeds the capacity; nothing is
 * lost (every open connection is idle with no exchange, or carries exactly the exchanges its callers
 * hold; none is left owned; the count of open connections is exact). The operations return nothing
 * that depends on the interleaving (what a caller gets depends on whether a connection was in the
 * hands of its releaser at that moment, which no sequential order shows), so the check is of these
 * properties, not of linearizability. Two broken joins beside it must fail, proving the check can.
 */
class MultiplexedLincheckTest {
    private static final int CAPACITY = 2;
    private static final int MAX_CONNECTIONS = 2;
    private static final int THREADS = 3;
    private static final int ACTORS = 3;
    private static final Server SERVER = Server.of("backend.test", 443);

    /** The harness Lincheck drives: one pool's worth of the engine's moves on multiplexed connections. */
    @Param(name = "tid", gen = ThreadIdGen.class)
    public static class Ownership {
        private final SlotTable table = new SlotTable(SlotTable.SEGMENT_SIZE);
        /** Connections open or being opened (ServerEntry.total). */
        private final AtomicInteger total = new AtomicInteger();
        private final AtomicLong clock = new AtomicLong();
        private final AtomicInteger ids = new AtomicInteger();
        /** Every connection opened, by id. */
        private final AtomicReferenceArray<PooledConnection> opened =
                new AtomicReferenceArray<>(2 + THREADS * ACTORS);
        /**
         * Per thread (Lincheck's thread ids, the parallel part's and the initial and final parts'): the
         * connections it holds an exchange on, last first. Each row is touched by its thread only.
         */
        private final PooledConnection[][] held = new PooledConnection[THREADS + 2][ACTORS * 3];
        private final int[] heldCount = new int[THREADS + 2];
        /** The first property found broken, if any. */
        private final AtomicReference<String> violation = new AtomicReference<>();

        public Ownership() {
            total.incrementAndGet();
            PooledConnection c = open();
            table.add(c.index, clock.incrementAndGet()); // one idle connection to start from
        }

        /** Joins a busy connection: the production rule, overridden by the canaries. */
        boolean join(PooledConnection c) {
            return c.tryJoin();
        }

        @Operation
        public int acquire(@Param(name = "tid") int tid) {
            PooledConnection c = table.findMultiplexed(this::join);
            if (c == null) {
                c = table.pollMostRecent(true, ReusePolicy.ALWAYS);
                if (c != null) {
                    if (c.streams != 0) {
                        violate("took the idle bit of connection #" + c.id + " carrying " + c.streams + " exchange(s)");
                    }
                    c.streams = 1; // leased: now others may join
                } else if (total.incrementAndGet() <= MAX_CONNECTIONS) {
                    c = open();
                    c.streams = 1;
                } else {
                    total.decrementAndGet();
                    return 0; // every connection full: a caller would wait
                }
            }
            FakeConnection fake = (FakeConnection) c.connection;
            int holders = fake.holders.incrementAndGet();
            if (!fake.isOpen()) {
                violate("an exchange was granted on closed connection #" + c.id);
            }
            if (holders > CAPACITY || c.streams > CAPACITY) {
                violate("connection #" + c.id + " carries " + holders + " exchanges (count " + c.streams
                        + "), over its capacity " + CAPACITY);
            }
            held[tid][heldCount[tid]++] = c;
            return 0;
        }

        @Operation
        public int release(@Param(name = "tid") int tid) {
            return leave(tid, false);
        }

        @Operation
        public int releaseBroken(@Param(name = "tid") int tid) {
            return leave(tid, true);
        }

        private int leave(int tid, boolean broken) {
            if (heldCount[tid] == 0) {
                return 0;
            }
            PooledConnection c = held[tid][--heldCount[tid]];
            ((FakeConnection) c.connection).holders.decrementAndGet();
            if (broken) {
                c.draining = true; // nobody joins any more; the last one out closes it
            }
            if (c.leave()) { // the last one out owns it
                if (c.draining) {
                    close(c);
                } else {
                    table.add(c.index, clock.incrementAndGet());
                }
            }
            return 0;
        }

        @Operation
        public int purge() {
            PooledConnection c = table.pollColdest();
            if (c != null) {
                close(c);
            }
            return 0;
        }

        @Operation
        public int sweep() {
            PooledConnection c = opened.get(1); // the first connection, if it is idle
            if (c != null && table.remove(c)) {
                if (c.streams != 0 || ((FakeConnection) c.connection).holders.get() != 0) {
                    violate("took the idle bit of connection #" + c.id + " carrying exchanges");
                }
                table.add(c.index, c.lastUsedNanos); // checked: idle again
            }
            return 0;
        }

        private PooledConnection open() {
            int id = ids.incrementAndGet();
            FakeConnection fake = new FakeConnection(SERVER, id, false, new AtomicInteger(1), true);
            fake.capacity = CAPACITY;
            PooledConnection c = new PooledConnection(null, null, id, fake, 0, Long.MAX_VALUE);
            c.index = table.register(c, true);
            opened.set(id, c);
            return c;
        }

        /** Closes a connection the caller owns. */
        private void close(PooledConnection c) {
            FakeConnection fake = (FakeConnection) c.connection;
            if (c.streams != 0 || fake.holders.get() != 0) {
                violate("closed connection #" + c.id + " while it carries " + fake.holders.get() + " exchange(s)");
            }
            if (!fake.close()) {
                violate("closed connection #" + c.id + " twice");
            }
            table.unregister(c.index);
            total.decrementAndGet();
        }

        private void violate(String what) {
            violation.compareAndSet(null, what);
        }

        @Validate
        public void nothingLost() {
            String v = violation.get();
            if (v != null) {
                throw new IllegalStateException(v);
            }
            int[] idle = table.idleSlots();
            int open = 0;
            for (int id = 1; id <= ids.get(); id++) {
                PooledConnection c = opened.get(id);
                FakeConnection fake = (FakeConnection) c.connection;
                int holds = 0;
                for (int t = 0; t < held.length; t++) {
                    for (int i = 0; i < heldCount[t]; i++) {
                        holds += held[t][i] == c ? 1 : 0;
                    }
                }
                boolean registered = table.entry(c.index) == c;
                boolean isIdle = false;
                for (int slot : idle) {
                    isIdle |= registered && slot == c.index;
                }
                boolean ok;
                if (!fake.isOpen()) {
                    ok = !registered && holds == 0 && c.streams == 0;
                } else {
                    open++;
                    ok = registered && (isIdle ? c.streams == 0 && holds == 0 && fake.holders.get() == 0
                            : holds >= 1 && c.streams == holds && fake.holders.get() == holds);
                }
                if (!ok) {
                    throw new IllegalStateException("lost: connection #" + id + " is open=" + fake.isOpen()
                            + " registered=" + registered + " idle=" + isIdle + " with count " + c.streams + ", "
                            + fake.holders.get() + " holder(s) and " + holds + " exchange(s) held (an open one must be "
                            + "idle with none, or carry exactly those held; a closed one, none)");
                }
            }
            if (total.get() != open) {
                throw new IllegalStateException("lost: count " + total.get() + " != open connections " + open);
            }
        }
    }

    private static ModelCheckingOptions options() {
        return new ModelCheckingOptions().iterations(10).invocationsPerIteration(200).threads(THREADS)
                .actorsPerThread(ACTORS).actorsBefore(2).actorsAfter(2);
    }

    @Test
    @Timeout(120)
    void ownershipHoldsUnderModelChecking() {
        options().check(Ownership.class);
    }

    @Test
    @Timeout(120)
    void canaryAJoinAtCountZeroIsCaught() {
        AssertionError e = assertThrows(AssertionError.class, () -> options().minimizeFailedScenario(false)
                .check(JoinAtZero.class));
        assertCaughtByTheProperties(e);
    }

    @Test
    @Timeout(120)
    void canaryAJoinWithoutCasIsCaught() {
        AssertionError e = assertThrows(AssertionError.class, () -> options().minimizeFailedScenario(false)
                .check(JoinWithoutCas.class));
        assertCaughtByTheProperties(e);
    }

    /** The failure is one of the properties above, not an accident of the harness. */
    private static void assertCaughtByTheProperties(AssertionError e) {
        assertThat(e).hasMessageContaining("Validation function nothingLost has failed")
                .hasMessageFindingMatch("IllegalStateException: (an exchange was granted on closed connection"
                        + "|closed connection #\\d+ while it carries|took the idle bit of connection"
                        + "|connection #\\d+ carries \\d+ exchanges|lost: )");
    }

    /** Broken: admits a join at count 0, i.e. on a connection that is idle or owned. */
    public static class JoinAtZero extends Ownership {
        private static final java.lang.invoke.VarHandle STREAMS;

        static {
            try {
                STREAMS = java.lang.invoke.MethodHandles.lookup().findVarHandle(PooledConnection.class, "streams",
                        int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        @Override
        boolean join(PooledConnection c) {
            for (;;) {
                int k = c.streams;
                if (k < 0 || c.draining || k >= c.connection.capacity()) {
                    return false;
                }
                if (STREAMS.compareAndSet(c, k, k + 1)) {
                    return true;
                }
            }
        }
    }

    /**
     * Broken only under concurrency: checks the count, then writes it (no CAS), so a join racing the
     * last leave, or another join, goes through: sequentially it is the production rule.
     */
    public static class JoinWithoutCas extends Ownership {
        @Override
        boolean join(PooledConnection c) {
            int k = c.streams;
            if (k < 1 || c.draining || k >= c.connection.capacity()) {
                return false;
            }
            c.streams = k + 1;
            return true;
        }
    }
}
