package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.CloseReason;
import io.berth.Lease;
import io.berth.Outcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** HAProxy's purge formula (DESIGN.md "Keep, purge, expire"), period by period, at literal times. */
class PurgeTest {
    private static final Duration PERIOD = Duration.ofSeconds(5);

    private static PoolFixture fixture(int minIdle) {
        return new PoolFixture(b -> b.purgeDelay(PERIOD).idleTimeout(Duration.ofHours(1))
                .maxLifetime(Duration.ZERO).minIdle(minIdle));
    }

    private static void burst(PoolFixture f, int n) throws Exception {
        List<Lease> leases = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            leases.add(f.pool.acquire(true));
            f.ticker.advance(Duration.ofMillis(1));
        }
        for (Lease l : leases) {
            f.pool.release(l, Outcome.REUSABLE);
            f.ticker.advance(Duration.ofMillis(1));
        }
    }

    private static void oneCaller(PoolFixture f) throws Exception {
        f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
    }

    /** @return the idle count after each of {@code passes} purge passes, one caller busy between them */
    private static List<Integer> passesWithOneCaller(PoolFixture f, int passes) throws Exception {
        List<Integer> idle = new ArrayList<>();
        for (int pass = 0; pass < passes; pass++) {
            if (pass > 0) {
                oneCaller(f);
            }
            f.advanceAndMaintain(PERIOD);
            idle.add(f.pool.idleCount());
        }
        return idle;
    }

    @Test
    void idleAfterABurstOf20ShrinksAsTheDesignSays() throws Exception {
        try (PoolFixture f = fixture(0)) {
            burst(f, 20);
            List<Integer> idle = new ArrayList<>();
            for (int pass = 0; pass < 8; pass++) {
                f.advanceAndMaintain(PERIOD);
                idle.add(f.pool.idleCount());
            }
            assertThat(idle).containsExactly(20, 20, 15, 10, 6, 3, 1, 0);
            assertThat(f.pool.stats().closed(CloseReason.PURGED)).isEqualTo(20);
            assertThat(f.connector.openCount()).isZero();
        }
    }

    @Test
    void afterABurstTo64OneCallerKeepsOneConnection() throws Exception {
        try (PoolFixture f = fixture(0)) {
            burst(f, 64);
            List<Integer> idle = passesWithOneCaller(f, 12);
            // surplus = inUse + idle - max(peak, need); close ceil(surplus / 2); need = max((need + peak) / 2, peak)
            assertThat(idle).containsExactly(64, 64, 48, 32, 20, 12, 7, 4, 2, 1, 1, 1);
            assertThat(f.pool.stats().opened()).as("the caller never needed a new connection").isEqualTo(64);
        }
    }

    @Test
    void purgeNeverGoesBelowMinIdle() throws Exception {
        try (PoolFixture f = fixture(3)) {
            burst(f, 64);
            List<Integer> idle = passesWithOneCaller(f, 12);
            assertThat(idle).containsExactly(64, 64, 48, 32, 20, 12, 7, 4, 3, 3, 3, 3);
        }
    }

    @Test
    void steadyLoadOfKCallersKeepsKConnections() throws Exception {
        try (PoolFixture f = fixture(0)) {
            burst(f, 20);
            for (int pass = 0; pass < 15; pass++) {
                burst(f, 8); // 8 in use at once during every period
                f.advanceAndMaintain(PERIOD);
                assertThat(f.pool.idleCount()).isGreaterThanOrEqualTo(8);
            }
            assertThat(f.pool.idleCount()).isEqualTo(8);
        }
    }

    @Test
    void purgeClosesTheColdestConnectionsFirst() throws Exception {
        try (PoolFixture f = fixture(0)) {
            burst(f, 4); // released in order 1, 2, 3, 4: #1 is the coldest
            f.advanceAndMaintain(PERIOD); // peak 4: nothing
            f.advanceAndMaintain(PERIOD); // need 4 -> 2... nothing yet (need 4)
            f.advanceAndMaintain(PERIOD); // surplus 4 - 2 = 2 -> close 1
            assertThat(f.pool.stats().connections()).filteredOn(r -> r.closeReason() == CloseReason.PURGED)
                    .extracting(r -> r.id()).containsExactly(1L);
            f.advanceAndMaintain(PERIOD);
            assertThat(f.pool.stats().connections()).filteredOn(r -> r.closeReason() == CloseReason.PURGED)
                    .extracting(r -> r.id()).containsExactlyInAnyOrder(1L, 2L);
        }
    }

    @Test
    void minIdleIsOpenedAheadOfNeedOffTheCallersThread() throws Exception {
        try (PoolFixture f = fixture(3)) {
            assertThat(f.scheduler.lastDelay(TimeUnit.NANOSECONDS)).as("first pass at once").isZero();
            f.scheduler.runPending();
            assertThat(f.pool.idleCount()).isEqualTo(3);
            assertThat(f.connector.opened()).isEqualTo(3);

            Lease l = f.pool.acquire(true);
            assertThat(l.reused()).as("a fresh connection from minIdle").isFalse();
            assertThat(f.connector.opened()).isEqualTo(3);
            f.pool.release(l, Outcome.BROKEN);
            f.advanceAndMaintain(Duration.ofMillis(100));
            assertThat(f.pool.idleCount()).isEqualTo(3);
            assertThat(f.connector.opened()).isEqualTo(4);
        }
    }

    @Test
    void maintenanceRunsAtLeastEverySecondAndStopsAtClose() throws Exception {
        PoolFixture f = fixture(0);
        assertThat(f.scheduler.pending()).isEqualTo(1);
        assertThat(f.scheduler.lastDelay(TimeUnit.MILLISECONDS)).isEqualTo(1000);
        f.ticker.advance(Duration.ofSeconds(1));
        f.scheduler.runPending();
        assertThat(f.scheduler.pending()).as("rescheduled itself").isEqualTo(1);
        f.pool.close();
        assertThat(f.scheduler.pending()).isZero();
        assertThat(f.scheduler.runPending()).isZero();
    }
}
