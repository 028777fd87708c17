package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.CloseReason;
import io.berth.ConnectionStats;
import io.berth.Lease;
import io.berth.Outcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * HAProxy's purge formula (DESIGN.md "Keep, purge, expire"), period by period, at literal times, for a
 * backend of one server and of three. The formula applies to each server on its own figures, so with
 * three servers every sequence is checked server by server.
 */
@ParameterizedClass(name = "{0} server(s)")
@ValueSource(ints = {1, 3})
class PurgeTest {
    private static final Duration PERIOD = Duration.ofSeconds(5);
    /** 20 idle connections of one server after a burst of 20, pass after pass (DESIGN.md). */
    private static final List<Integer> AFTER_20 = List.of(20, 20, 15, 10, 6, 3, 1, 0);
    /** A server that serves one caller between passes, after a burst to 64. */
    private static final List<Integer> AFTER_64_ONE_CALLER = List.of(64, 64, 48, 32, 20, 12, 7, 4, 2, 1, 1, 1);
    /** A server that serves nobody after a burst to 64: nothing keeps its last connection. */
    private static final List<Integer> AFTER_64_NO_CALLER = List.of(64, 64, 48, 32, 20, 12, 7, 4, 2, 1, 0, 0);

    @Parameter
    int servers;

    private PoolFixture fixture(int minIdle) {
        return new PoolFixture(servers, b -> b.purgeDelay(PERIOD).idleTimeout(Duration.ofHours(1))
                .maxLifetime(Duration.ZERO).minIdle(minIdle));
    }

    /**
     * {@code n} callers at once: acquired one after another, then released in the same order.
     *
     * @return the leases, in the order they were released
     */
    private static List<Lease> burst(PoolFixture f, int n) throws Exception {
        List<Lease> leases = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            leases.add(f.pool.acquire(true));
            f.ticker.advance(Duration.ofMillis(1));
        }
        for (Lease l : leases) {
            f.pool.release(l, Outcome.REUSABLE);
            f.ticker.advance(Duration.ofMillis(1));
        }
        return leases;
    }

    /** A burst of {@code perServer} on every server of a pool with no idle connection (round robin). */
    private void burstOnEveryServer(PoolFixture f, int perServer) throws Exception {
        burst(f, perServer * servers);
        for (int i = 0; i < servers; i++) {
            assertThat(f.idleOn(i)).as("idle on server " + i + " after the burst").isEqualTo(perServer);
        }
    }

    /** @return the index of the server that served one caller */
    private static int oneCaller(PoolFixture f) throws Exception {
        Lease l = f.pool.acquire(true);
        f.pool.release(l, Outcome.REUSABLE);
        return f.serverOf(l);
    }

    /** @return per server, its idle count after each purge pass */
    private List<List<Integer>> idlePerServer() {
        List<List<Integer>> idle = new ArrayList<>();
        for (int i = 0; i < servers; i++) {
            idle.add(new ArrayList<>());
        }
        return idle;
    }

    private void record(PoolFixture f, List<List<Integer>> idle) {
        for (int i = 0; i < servers; i++) {
            idle.get(i).add(f.idleOn(i));
        }
    }

    /**
     * Runs {@code passes} purge passes, one caller busy between them, and checks each server's idle
     * counts: {@code served} for the server that served the caller, {@code unserved} for the others.
     */
    private void passesWithOneCaller(PoolFixture f, int passes, List<Integer> served, List<Integer> unserved)
            throws Exception {
        List<List<Integer>> idle = idlePerServer();
        int callerServer = -1;
        for (int pass = 0; pass < passes; pass++) {
            if (pass > 0) {
                int s = oneCaller(f);
                // The premise of the per-server figures: idle reuse keeps the caller on one server's
                // warm set (no connection is opened, so where the idle scan starts does not move).
                assertThat(callerServer).as("the server of the one caller").isIn(-1, s);
                callerServer = s;
            }
            f.advanceAndMaintain(PERIOD);
            record(f, idle);
        }
        for (int i = 0; i < servers; i++) {
            assertThat(idle.get(i)).as("idle on server " + i + (i == callerServer ? " (the caller's)" : ""))
                    .containsExactlyElementsOf(i == callerServer ? served : unserved);
        }
    }

    @Test
    void idleAfterABurstOf20ShrinksAsTheDesignSays() throws Exception {
        try (PoolFixture f = fixture(0)) {
            burstOnEveryServer(f, 20);
            List<List<Integer>> idle = idlePerServer();
            for (int pass = 0; pass < 8; pass++) {
                f.advanceAndMaintain(PERIOD);
                record(f, idle);
            }
            for (int i = 0; i < servers; i++) {
                assertThat(idle.get(i)).as("idle on server " + i).containsExactlyElementsOf(AFTER_20);
            }
            assertThat(f.pool.stats().closed(CloseReason.PURGED)).isEqualTo(20L * servers);
            assertThat(f.connector.openCount()).isZero();
        }
    }

    @Test
    void afterABurstTo64OneCallerKeepsOneConnection() throws Exception {
        try (PoolFixture f = fixture(0)) {
            burstOnEveryServer(f, 64);
            // surplus = inUse + idle - max(peak, need); close ceil(surplus / 2); need = max((need + peak) / 2, peak)
            passesWithOneCaller(f, 12, AFTER_64_ONE_CALLER, AFTER_64_NO_CALLER);
            assertThat(f.pool.stats().opened()).as("the caller never needed a new connection").isEqualTo(64L * servers);
        }
    }

    @Test
    void purgeNeverGoesBelowMinIdle() throws Exception {
        try (PoolFixture f = fixture(3)) {
            burstOnEveryServer(f, 64);
            List<Integer> floorOf3 = List.of(64, 64, 48, 32, 20, 12, 7, 4, 3, 3, 3, 3);
            passesWithOneCaller(f, 12, floorOf3, floorOf3);
        }
    }

    @Test
    void steadyLoadOfKCallersKeepsKConnections() throws Exception {
        try (PoolFixture f = fixture(0)) {
            burstOnEveryServer(f, 20);
            int[] load = new int[servers];
            for (int pass = 0; pass < 15; pass++) {
                load = new int[servers];
                for (Lease l : burst(f, 8)) { // 8 in use at once during every period
                    load[f.serverOf(l)]++;
                }
                f.advanceAndMaintain(PERIOD);
                assertThat(f.pool.idleCount()).isGreaterThanOrEqualTo(8);
            }
            assertThat(f.pool.idleCount()).isEqualTo(8);
            // Each server keeps what its own load needs (idle reuse puts the load on warm connections;
            // a server that got none of it keeps nothing).
            for (int i = 0; i < servers; i++) {
                assertThat(f.idleOn(i)).as("idle on server " + i).isEqualTo(load[i]);
            }
        }
    }

    @Test
    void purgeClosesTheColdestConnectionsFirst() throws Exception {
        try (PoolFixture f = fixture(0)) {
            List<Lease> released = burst(f, 4 * servers); // per server, the first one released is the coldest
            List<List<Long>> coldestFirst = new ArrayList<>();
            for (int i = 0; i < servers; i++) {
                coldestFirst.add(new ArrayList<>());
            }
            for (Lease l : released) {
                coldestFirst.get(f.serverOf(l)).add(l.id());
            }
            f.advanceAndMaintain(PERIOD); // peak 4: nothing
            f.advanceAndMaintain(PERIOD); // need 4 -> 2... nothing yet (need 4)
            f.advanceAndMaintain(PERIOD); // surplus 4 - 2 = 2 -> close 1
            for (int i = 0; i < servers; i++) {
                assertThat(purgedOn(f, i)).as("purged on server " + i)
                        .containsExactlyElementsOf(coldestFirst.get(i).subList(0, 1));
            }
            f.advanceAndMaintain(PERIOD);
            for (int i = 0; i < servers; i++) {
                assertThat(purgedOn(f, i)).as("purged on server " + i)
                        .containsExactlyInAnyOrderElementsOf(coldestFirst.get(i).subList(0, 2));
            }
        }
    }

    private static List<Long> purgedOn(PoolFixture f, int server) {
        String name = f.pool.entries[server].server.toString();
        return f.pool.stats().connections().stream()
                .filter(r -> r.closeReason() == CloseReason.PURGED && r.server().equals(name))
                .map(ConnectionStats::id).toList();
    }

    @Test
    void minIdleIsOpenedAheadOfNeedOffTheCallersThread() throws Exception {
        try (PoolFixture f = fixture(3)) {
            assertThat(f.scheduler.lastDelay(TimeUnit.NANOSECONDS)).as("first pass at once").isZero();
            f.scheduler.runPending();
            assertThat(f.pool.idleCount()).isEqualTo(3 * servers);
            assertThat(f.connector.opened()).isEqualTo(3 * servers);

            Lease l = f.pool.acquire(true);
            assertThat(l.reused()).as("a fresh connection from minIdle").isFalse();
            assertThat(f.connector.opened()).isEqualTo(3 * servers);
            f.pool.release(l, Outcome.BROKEN);
            f.advanceAndMaintain(Duration.ofMillis(100));
            for (int i = 0; i < servers; i++) {
                assertThat(f.idleOn(i)).as("idle on server " + i).isEqualTo(3);
            }
            assertThat(f.connector.opened()).isEqualTo(3 * servers + 1);
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
