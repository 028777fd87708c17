package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.BackendPoolConfig;
import io.berth.CloseReason;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.PoolStats;
import io.berth.testing.ManualPurgeScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many threads on few connections: mutual exclusion (or, on multiplexed connections, no more exchanges
 * than the capacity), counts that add up, no deadlock.
 */
class ConcurrencyTest {

    @Test
    @Timeout(120)
    void eightThreadsTimesHundredThousandCyclesOnFourConnections() throws Exception {
        int violationsBefore = FakeConnection.VIOLATIONS.get();
        int threads = 8;
        int cycles = 100_000;
        FakeConnector connector = new FakeConnector();
        BackendPoolConfig config = BackendPoolConfig.builder().name("stress").maxConnections(4)
                .acquireTimeout(Duration.ofSeconds(30)).purgeScheduler(new ManualPurgeScheduler()).build();
        LockFreeBackendPool pool = Berth.engine(PoolFixture.BACKEND, config, connector);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicInteger maxHolders = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            boolean replayable = t % 4 != 0; // some POSTs too: under SAFE they take slots, never idle connections
            Thread w = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < cycles && failure.get() == null; i++) {
                        Lease l = pool.acquire(replayable);
                        FakeConnection c = (FakeConnection) l.connection();
                        int h = c.holders.incrementAndGet();
                        if (h != 1) {
                            throw new AssertionError("connection " + c.n + " held by " + h + " callers at once");
                        }
                        maxHolders.accumulateAndGet(h, Math::max);
                        c.holders.decrementAndGet();
                        pool.release(l, Outcome.REUSABLE);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "stress-" + t);
            workers.add(w);
            w.start();
        }
        start.countDown();
        joinAll(workers, failure);
        PoolStats s = settled(pool, connector, (long) threads * cycles, 4);
        assertThat(s.peakInUse()).isLessThanOrEqualTo(4);
        // Non-replayable requests under SAFE never take an idle connection: at the limit they replace one.
        assertThat(s.closedTotal()).isEqualTo(s.closed(CloseReason.EVICTED));
        pool.close();
        assertThat(connector.openCount()).isZero();
        assertThat(FakeConnection.VIOLATIONS.get()).as("connections probed or closed after close")
                .isEqualTo(violationsBefore);
    }

    /**
     * Callers acquire and release exchanges on multiplexed connections while a "server" changes their
     * capacities (up, down, to 0 as a GOAWAY) and a maintenance thread moves the clock and expires and
     * purges idle connections: no exchange is granted on a closed connection, none is closed under a
     * caller (FakeConnection counts that as a violation), no connection carries more exchanges than the
     * most it was ever allowed, and at the end nothing is lost.
     */
    @Test
    @Timeout(120)
    void multiplexedConnectionsWithCapacitiesChangingUnderway() throws Exception {
        int violationsBefore = FakeConnection.VIOLATIONS.get();
        int threads = 6;
        int cycles = 20_000;
        int maxCapacity = 4;
        FakeTicker ticker = new FakeTicker();
        FakeConnector connector = new FakeConnector();
        connector.multiplexedCapacity = maxCapacity;
        BackendPoolConfig config = BackendPoolConfig.builder().name("stress-mux").maxConnections(2)
                .idleTimeout(Duration.ofSeconds(2)).purgeDelay(Duration.ofSeconds(1)).maxLifetime(Duration.ZERO)
                .acquireTimeout(Duration.ofSeconds(30)).ticker(ticker).purgeScheduler(new ManualPurgeScheduler()).build();
        LockFreeBackendPool pool = Berth.engine(PoolFixture.backendOf(2), config, connector);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicInteger maxHolders = new AtomicInteger();
        AtomicInteger joined = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long seed = t;
            Thread w = new Thread(() -> {
                java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
                try {
                    start.await();
                    for (int i = 0; i < cycles && failure.get() == null; i++) {
                        Lease l = pool.acquire(rnd.nextInt(4) != 0);
                        FakeConnection c = (FakeConnection) l.connection();
                        int h = c.holders.incrementAndGet();
                        if (!c.isOpen()) {
                            throw new AssertionError("an exchange was granted on closed connection " + c.n);
                        }
                        if (h > maxCapacity) {
                            throw new AssertionError("connection " + c.n + " carries " + h + " exchanges, over "
                                    + maxCapacity);
                        }
                        if (h > 1) {
                            joined.incrementAndGet();
                        }
                        maxHolders.accumulateAndGet(h, Math::max);
                        if (rnd.nextInt(4) == 0) {
                            Thread.yield(); // hold it a little longer, so that others join
                        }
                        c.holders.decrementAndGet();
                        pool.release(l, rnd.nextInt(200) == 0 ? Outcome.BROKEN : Outcome.REUSABLE);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "stress-mux-" + t);
            workers.add(w);
        }
        Thread server = new Thread(() -> {
            java.util.SplittableRandom rnd = new java.util.SplittableRandom(42);
            while (!done.get()) {
                List<FakeConnection> open = new ArrayList<>();
                synchronized (connector.connections) {
                    for (FakeConnection c : connector.connections) {
                        if (c.isOpen()) {
                            open.add(c);
                        }
                    }
                }
                if (!open.isEmpty()) {
                    // SETTINGS up or down, now and then a GOAWAY (0: it takes no new exchange)
                    open.get(rnd.nextInt(open.size())).capacity = rnd.nextInt(10) == 0 ? 0 : 1 + rnd.nextInt(maxCapacity);
                }
                java.util.concurrent.locks.LockSupport.parkNanos(50_000);
            }
        }, "stress-mux-server");
        Thread maintenance = new Thread(() -> {
            while (!done.get()) {
                ticker.advance(Duration.ofMillis(100));
                pool.maintain(ticker.read());
                java.util.concurrent.locks.LockSupport.parkNanos(200_000);
            }
        }, "stress-mux-maintenance");
        workers.forEach(Thread::start);
        server.start();
        maintenance.start();
        start.countDown();
        try {
            joinAll(workers, failure);
        } finally {
            done.set(true);
            server.join();
            maintenance.join();
        }
        PoolStats s = settled(pool, connector, (long) threads * cycles, 4);
        assertThat(s.connections()).filteredOn(r -> r.state() != io.berth.ConnectionState.CLOSED)
                .allSatisfy(r -> assertThat(r.inFlight()).as("exchanges in flight on #" + r.id()).isZero());
        // It exercised what it claims: exchanges joined busy connections, some beyond a lowered
        // capacity's room went elsewhere, GOAWAYs and broken exchanges drained connections, idle ones expired.
        assertThat(joined.get()).as("exchanges that joined a busy connection").isGreaterThan(1_000);
        assertThat(maxHolders.get()).isGreaterThan(1);
        assertThat(s.closed(CloseReason.NOT_REUSABLE)).as("closed after a GOAWAY").isPositive();
        assertThat(s.closed(CloseReason.BROKEN)).as("closed after a broken exchange").isPositive();
        pool.close();
        assertThat(connector.openCount()).isZero();
        assertThat(FakeConnection.VIOLATIONS.get()).as("connections closed under a caller, probed or closed twice")
                .isEqualTo(violationsBefore);
    }

    private static void joinAll(List<Thread> workers, AtomicReference<Throwable> failure) throws InterruptedException {
        for (Thread w : workers) {
            w.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("a worker failed", failure.get());
        }
    }

    /** @return the stats once every lease is back: nothing in use or waiting, and the counts add up */
    /**
     * Each connection counts its own leases, and a snapshot adds up the open connections' counts and
     * the closed ones': with connections retired every third exchange ({@code maxUses}) while callers
     * run, a thread taking snapshots all along never sees the lease totals go down, nor the reused ones
     * exceed them; at the end they are exact.
     */
    @Test
    @Timeout(120)
    void leaseTotalsNeverGoDownWhileConnectionsCloseAndAreExactAtTheEnd() throws Exception {
        int threads = 4;
        int cycles = 50_000;
        FakeConnector connector = new FakeConnector();
        BackendPoolConfig config = BackendPoolConfig.builder().name("stress-totals").maxConnections(3).maxUses(3)
                .acquireTimeout(Duration.ofSeconds(30)).purgeScheduler(new ManualPurgeScheduler()).build();
        LockFreeBackendPool pool = Berth.engine(PoolFixture.BACKEND, config, connector);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        AtomicInteger snapshots = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < cycles && failure.get() == null; i++) {
                        pool.release(pool.acquire(true), Outcome.REUSABLE);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "totals-" + t);
            workers.add(w);
            w.start();
        }
        Thread observer = new Thread(() -> {
            long acquired = 0;
            long reused = 0;
            try {
                start.await();
                while (!done.get() && failure.get() == null) {
                    PoolStats s = pool.stats();
                    if (s.acquired() < acquired || s.reused() < reused || s.reused() > s.acquired()) {
                        throw new AssertionError("lease totals went from " + acquired + " (" + reused + " reused) to "
                                + s.acquired() + " (" + s.reused() + " reused)");
                    }
                    acquired = s.acquired();
                    reused = s.reused();
                    snapshots.incrementAndGet();
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }, "totals-observer");
        observer.start();
        start.countDown();
        try {
            joinAll(workers, failure);
        } finally {
            done.set(true);
            observer.join(10_000);
        }
        assertThat(failure.get()).isNull();
        assertThat(snapshots.get()).as("snapshots taken while callers ran").isPositive();
        PoolStats s = settled(pool, connector, (long) threads * cycles, 3);
        assertThat(s.closed(CloseReason.MAX_USES)).as("connections retired meanwhile").isGreaterThan(1_000);
        assertThat(s.reused()).isEqualTo(s.acquired() - s.opened());
        pool.close();
    }

    private static PoolStats settled(LockFreeBackendPool pool, FakeConnector connector, long acquired, int maxTotal) {
        PoolStats s = pool.stats();
        assertThat(s.acquired()).isEqualTo(acquired);
        assertThat(s.inUse()).isZero();
        assertThat(s.waiting()).isZero();
        assertThat(s.acquireTimeouts()).isZero();
        assertThat(s.total()).isLessThanOrEqualTo(maxTotal).isEqualTo(s.idle()).isEqualTo(pool.registered());
        assertThat(s.opened() - s.closedTotal()).as("open = opened - closed").isEqualTo(s.total());
        assertThat(connector.openCount()).isEqualTo(s.total());
        return s;
    }
}
