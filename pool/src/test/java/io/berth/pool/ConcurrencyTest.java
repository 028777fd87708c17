package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.BackendPoolConfig;
import io.berth.CloseReason;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.PoolStats;
import io.berth.PurgeScheduler;
import io.berth.testing.ManualPurgeScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Many threads on few connections: mutual exclusion, counts that add up, no deadlock. */
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
        for (Thread w : workers) {
            w.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("a worker failed", failure.get());
        }
        PoolStats s = pool.stats();
        assertThat(s.acquired()).isEqualTo((long) threads * cycles);
        assertThat(s.inUse()).isZero();
        assertThat(s.waiting()).isZero();
        assertThat(s.total()).isLessThanOrEqualTo(4).isEqualTo(s.idle()).isEqualTo(pool.registered());
        assertThat(s.peakInUse()).isLessThanOrEqualTo(4);
        assertThat(s.opened() - s.closedTotal()).as("open = opened - closed").isEqualTo(s.total());
        assertThat(connector.openCount()).isEqualTo(s.total());
        assertThat(s.acquireTimeouts()).isZero();
        // Non-replayable requests under SAFE never take an idle connection: at the limit they replace one.
        assertThat(s.closedTotal()).isEqualTo(s.closed(CloseReason.EVICTED));
        pool.close();
        assertThat(connector.openCount()).isZero();
        assertThat(FakeConnection.VIOLATIONS.get()).as("connections probed or closed after close")
                .isEqualTo(violationsBefore);
    }
}
