package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.CloseReason;
import io.berth.ConnectionStats;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.PoolStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Connections with a capacity: the engine leases exchanges on connections that carry several at
 * once (HTTP/2 streams), over in-memory multiplexed connections whose capacity a test changes as a
 * server's SETTINGS and GOAWAY would.
 */
@Timeout(20)
class MultiplexedEngineTest {
    private static PoolFixture fixture(int capacity, java.util.function.UnaryOperator<io.berth.BackendPoolConfig.Builder> c) {
        PoolFixture f = new PoolFixture(c);
        f.connector.multiplexedCapacity = capacity;
        return f;
    }

    private static List<Lease> acquire(PoolFixture f, int n) throws Exception {
        List<Lease> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(f.pool.acquire(true));
        }
        return out;
    }

    private static ConnectionStats row(PoolStats s, long id) {
        return s.connections().stream().filter(r -> r.id() == id).findFirst().orElseThrow();
    }

    @Test
    void oneConnectionFillsUpToItsCapacityBeforeAnotherOpens() throws Exception {
        try (PoolFixture f = fixture(4, b -> b)) {
            List<Lease> first = acquire(f, 4);
            assertThat(first).extracting(Lease::id).containsOnly(first.get(0).id());
            assertThat(first).extracting(Lease::reused).containsExactly(false, true, true, true);
            assertThat(f.connector.opened()).isEqualTo(1);
            Lease fifth = f.pool.acquire(true);
            assertThat(fifth.id()).isNotEqualTo(first.get(0).id());
            PoolStats s = f.pool.stats();
            assertThat(s.inUse()).as("connections, not exchanges").isEqualTo(2);
            assertThat(s.acquired()).isEqualTo(5);
            assertThat(row(s, first.get(0).id()).inFlight()).isEqualTo(4);
            assertThat(first.get(0).inFlight()).isEqualTo(4);
            first.forEach(l -> f.pool.release(l, Outcome.REUSABLE));
            f.pool.release(fifth, Outcome.REUSABLE);
            PoolStats after = f.pool.stats();
            assertThat(after.inUse()).isZero();
            assertThat(after.idle()).isEqualTo(2);
            assertThat(row(after, first.get(0).id()).uses()).isEqualTo(4);
        }
    }

    @Test
    void atTheLimitCallersWaitInOrderAndAReleasedExchangeGoesToTheLongestWaiter() throws Exception {
        try (PoolFixture f = fixture(2, b -> b.maxConnections(1).acquireTimeout(Duration.ofSeconds(5)))) {
            List<Lease> held = acquire(f, 2);
            // Each waiter on a thread of its own: from JDK 25 the default async pool may have one thread
            // (2 cores), which the first waiter, parked in the pool, would keep.
            CompletableFuture<Lease> w1 = CompletableFuture.supplyAsync(() -> get(f), r -> new Thread(r, "w1").start());
            await().until(() -> f.pool.waitingCount() == 1);
            CompletableFuture<Lease> w2 = CompletableFuture.supplyAsync(() -> get(f), r -> new Thread(r, "w2").start());
            await().until(() -> f.pool.waitingCount() == 2);
            f.pool.release(held.get(0), Outcome.REUSABLE);
            Lease got = w1.get(5, TimeUnit.SECONDS);
            assertThat(got.id()).isEqualTo(held.get(0).id());
            assertThat(w2).isNotDone();
            f.pool.release(held.get(1), Outcome.REUSABLE);
            assertThat(w2.get(5, TimeUnit.SECONDS).id()).isEqualTo(held.get(0).id());
            assertThat(f.connector.opened()).isEqualTo(1);
            assertThat(f.pool.stats().connections().get(0).inFlight()).isEqualTo(2);
            f.pool.release(got, Outcome.REUSABLE);
            f.pool.release(w2.get(), Outcome.REUSABLE);
            assertThat(f.pool.stats().connections().get(0).inFlight()).isZero();
        }
    }

    /**
     * Found against nginx (NginxH2Test): after its GOAWAY, each exchange leaving the connection handed
     * its room to a waiter, whose request the connection refused; the refused exchange left and handed
     * the room on, until a request had spent all its retries on a connection that took no stream.
     */
    @Test
    void aLeavingExchangeHandsAWaiterNoRoomTheConnectionNoLongerHas() throws Exception {
        try (PoolFixture f = fixture(3, b -> b.maxConnections(1).acquireTimeout(Duration.ofSeconds(5)))) {
            List<Lease> held = acquire(f, 3);
            FakeConnection first = f.connector.connections.get(0);
            CompletableFuture<Lease> w1 = CompletableFuture.supplyAsync(() -> get(f), r -> new Thread(r, "w1").start());
            await().until(() -> f.pool.waitingCount() == 1);
            first.capacity = 2; // SETTINGS lowered the limit below the three in flight
            f.pool.release(held.get(0), Outcome.REUSABLE);
            assertThat(f.pool.waitingCount()).as("two in flight is the limit: no room to hand over").isEqualTo(1);
            f.pool.release(held.get(1), Outcome.REUSABLE);
            Lease joined = w1.get(5, TimeUnit.SECONDS);
            assertThat(joined.id()).as("one in flight, the waiter's makes two").isEqualTo(held.get(0).id());
            assertThat(row(f.pool.stats(), joined.id()).inFlight()).isEqualTo(2);

            CompletableFuture<Lease> w2 = CompletableFuture.supplyAsync(() -> get(f), r -> new Thread(r, "w2").start());
            await().until(() -> f.pool.waitingCount() == 1);
            first.capacity = 0; // GOAWAY
            f.pool.release(joined, Outcome.REUSABLE);
            assertThat(w2).as("no room on a connection that takes no new stream").isNotDone();
            f.pool.release(held.get(2), Outcome.REUSABLE);
            Lease fresh = w2.get(5, TimeUnit.SECONDS);
            assertThat(fresh.id()).as("a new connection once the old one closed").isNotEqualTo(held.get(0).id());
            assertThat(f.pool.stats().closed(CloseReason.NOT_REUSABLE)).isEqualTo(1);
            f.pool.release(fresh, Outcome.REUSABLE);
        }
    }

    /**
     * A caller taking an idle multiplexed connection cannot let others join it until it has leased it
     * (here: its liveness check before a request that is not replayable takes 300 ms). A caller arriving
     * meanwhile waits for it and joins it, rather than open a second connection, as it would wait for
     * a connection being opened (bursts against nginx opened a second connection now and then).
     */
    @Test
    void aCallerArrivingWhileAnIdleMultiplexedConnectionIsBeingTakenJoinsIt() throws Exception {
        try (PoolFixture f = fixture(8, b -> b.acquireTimeout(Duration.ofSeconds(5)))) {
            f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
            FakeConnection c = f.connector.connections.get(0);
            c.livenessDelayMillis = 300;
            CompletableFuture<Lease> taking = CompletableFuture.supplyAsync(() -> {
                try {
                    return f.pool.acquire(false); // not replayable: its connection is checked first
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, r -> new Thread(r, "taker").start());
            await().until(() -> c.livenessChecks.get() == 1);
            c.livenessDelayMillis = 0;
            Lease arriving = f.pool.acquire(true);
            Lease taken = taking.get(5, TimeUnit.SECONDS);
            assertThat(arriving.id()).as("joined the connection being taken").isEqualTo(taken.id());
            assertThat(f.connector.opened()).isEqualTo(1);
            assertThat(row(f.pool.stats(), taken.id()).inFlight()).isEqualTo(2);
            f.pool.release(arriving, Outcome.REUSABLE);
            f.pool.release(taken, Outcome.REUSABLE);
            assertThat(f.pool.stats().idle()).isEqualTo(1);
        }
    }

    private static Lease get(PoolFixture f) {
        try {
            return f.pool.acquire(true);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    @Test
    void theCapacityIsReadEachTimeAsTheServerChangesIt() throws Exception {
        try (PoolFixture f = fixture(1, b -> b)) { // one stream until the server's SETTINGS arrive
            Lease a = f.pool.acquire(true);
            Lease b = f.pool.acquire(true);
            assertThat(b.id()).isNotEqualTo(a.id());
            FakeConnection first = f.connector.connections.get(0);
            first.capacity = 3; // SETTINGS: three streams
            Lease c = f.pool.acquire(true);
            Lease d = f.pool.acquire(true);
            assertThat(List.of(c.id(), d.id())).containsOnly(a.id());
            first.capacity = 2; // lowered while three are in flight: nobody joins until below it
            Lease e = f.pool.acquire(true);
            assertThat(e.id()).isNotIn(a.id(), b.id());
            for (Lease l : List.of(a, b, c, d, e)) {
                f.pool.release(l, Outcome.REUSABLE);
            }
            assertThat(f.connector.opened()).isEqualTo(3);
        }
    }

    @Test
    void aConnectionThatTakesNoNewExchangeClosesWhenItsLastOneEnds() throws Exception {
        try (PoolFixture f = fixture(4, b -> b)) {
            List<Lease> two = acquire(f, 2);
            FakeConnection conn = f.connector.connections.get(0);
            conn.capacity = 0; // GOAWAY
            Lease other = f.pool.acquire(true);
            assertThat(other.id()).isNotEqualTo(two.get(0).id());
            f.pool.release(two.get(0), Outcome.REUSABLE);
            assertThat(conn.isOpen()).as("one exchange still in flight").isTrue();
            f.pool.release(two.get(1), Outcome.REUSABLE);
            assertThat(conn.closedGracefully).isTrue();
            assertThat(f.pool.stats().closed(CloseReason.NOT_REUSABLE)).isEqualTo(1);
            f.pool.release(other, Outcome.REUSABLE);
        }
    }

    @Test
    void maxUsesCountsExchangesAndDrainsTheConnection() throws Exception {
        try (PoolFixture f = fixture(10, b -> b.maxUses(3))) {
            List<Lease> three = acquire(f, 3);
            Lease fourth = f.pool.acquire(true);
            assertThat(fourth.id()).isNotEqualTo(three.get(0).id());
            three.forEach(l -> f.pool.release(l, Outcome.REUSABLE));
            assertThat(f.connector.connections.get(0).closedGracefully).isTrue();
            assertThat(f.pool.stats().closed(CloseReason.MAX_USES)).isEqualTo(1);
            f.pool.release(fourth, Outcome.REUSABLE);
        }
    }

    @Test
    void aBrokenExchangeDrainsTheConnectionAndTheLastOneOutAbortsIt() throws Exception {
        try (PoolFixture f = fixture(4, b -> b)) {
            List<Lease> two = acquire(f, 2);
            f.pool.release(two.get(0), Outcome.BROKEN);
            Lease next = f.pool.acquire(true);
            assertThat(next.id()).as("nothing joins a broken connection").isNotEqualTo(two.get(0).id());
            FakeConnection conn = f.connector.connections.get(0);
            assertThat(conn.isOpen()).isTrue();
            f.pool.release(two.get(1), Outcome.REUSABLE);
            assertThat(conn.aborted).isTrue();
            assertThat(f.pool.stats().closed(CloseReason.BROKEN)).isEqualTo(1);
            f.pool.release(next, Outcome.REUSABLE);
        }
    }

    @Test
    void purgesAndExpiryNeverTouchAConnectionCarryingExchanges() throws Exception {
        try (PoolFixture f = fixture(4, b -> b.idleTimeout(Duration.ofSeconds(1)).purgeDelay(Duration.ofSeconds(1)))) {
            Lease busy = f.pool.acquire(true);
            List<Lease> other = acquire(f, 4); // fill it, and open a second one
            other.forEach(l -> f.pool.release(l, Outcome.REUSABLE));
            f.advanceAndMaintain(Duration.ofSeconds(2));
            f.advanceAndMaintain(Duration.ofSeconds(2));
            FakeConnection first = f.connector.connections.get(0);
            FakeConnection second = f.connector.connections.get(1);
            assertThat(first.isOpen()).as("carrying an exchange").isTrue();
            assertThat(second.isOpen()).as("idle past idleTimeout").isFalse();
            f.pool.release(busy, Outcome.REUSABLE);
        }
    }

    @Test
    void aStreamLeaseIsReleasedOnce() throws Exception {
        try (PoolFixture f = fixture(4, b -> b)) {
            Lease l = f.pool.acquire(true);
            f.pool.release(l, Outcome.REUSABLE);
            assertThatThrownBy(() -> f.pool.release(l, Outcome.REUSABLE)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("already released");
            assertThatThrownBy(l::connection).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void concurrentCallersToABackendWithNoConnectionWaitForTheOneBeingOpened() throws Exception {
        try (PoolFixture f = fixture(10, b -> b.acquireTimeout(Duration.ofSeconds(5)))) {
            f.connector.expectedCapacityHint = 10; // e.g. h2 offered: a connection carries about 10
            f.connector.connectDelayMillis = 200;
            List<CompletableFuture<Lease>> callers = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                callers.add(CompletableFuture.supplyAsync(() -> get(f), PoolFixture.OWN_THREAD));
            }
            List<Lease> got = new ArrayList<>();
            for (CompletableFuture<Lease> c : callers) {
                got.add(c.get(5, TimeUnit.SECONDS));
            }
            assertThat(f.connector.attempts.get()).as("one connection, not one per caller").isEqualTo(1);
            assertThat(got).extracting(Lease::id).containsOnly(got.get(0).id());
            got.forEach(l -> f.pool.release(l, Outcome.REUSABLE));
        }
    }

    @Test
    void whenTheConnectionOpenedCarriesOneTheWaitersOpenTheirOwn() throws Exception {
        try (PoolFixture f = fixture(0, b -> b.acquireTimeout(Duration.ofSeconds(5)))) { // HTTP/1.1 after all
            f.connector.expectedCapacityHint = 10;
            f.connector.connectDelayMillis = 100;
            List<CompletableFuture<Lease>> callers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                callers.add(CompletableFuture.supplyAsync(() -> get(f), PoolFixture.OWN_THREAD));
            }
            List<Lease> got = new ArrayList<>();
            for (CompletableFuture<Lease> c : callers) {
                got.add(c.get(5, TimeUnit.SECONDS));
            }
            assertThat(got).extracting(Lease::id).doesNotHaveDuplicates();
            assertThat(f.connector.opened()).isEqualTo(4);
            got.forEach(l -> f.pool.release(l, Outcome.REUSABLE));
        }
    }

    @Test
    void whenTheServerRaisesItsLimitWaitersAreServedAtOnce() throws Exception {
        try (PoolFixture f = fixture(1, b -> b.maxConnections(1).acquireTimeout(Duration.ofSeconds(5)))) {
            Lease first = f.pool.acquire(true);
            CompletableFuture<Lease> w1 = CompletableFuture.supplyAsync(() -> get(f), PoolFixture.OWN_THREAD);
            await().until(() -> f.pool.waitingCount() == 1);
            CompletableFuture<Lease> w2 = CompletableFuture.supplyAsync(() -> get(f), PoolFixture.OWN_THREAD);
            await().until(() -> f.pool.waitingCount() == 2);
            f.connector.connections.get(0).changeCapacity(3); // SETTINGS: three streams
            assertThat(w1.get(5, TimeUnit.SECONDS).id()).isEqualTo(first.id());
            assertThat(w2.get(5, TimeUnit.SECONDS).id()).isEqualTo(first.id());
            assertThat(f.pool.stats().connections().get(0).inFlight()).isEqualTo(3);
            f.pool.release(first, Outcome.REUSABLE);
            f.pool.release(w1.get(), Outcome.REUSABLE);
            f.pool.release(w2.get(), Outcome.REUSABLE);
        }
    }

    @Test
    void underSafeABusyConnectionCarryingASessionsExchangeServesOnlyThatSession() throws Exception {
        for (io.berth.ReusePolicy policy : List.of(io.berth.ReusePolicy.SAFE, io.berth.ReusePolicy.ALWAYS)) {
            try (PoolFixture f = fixture(10, b -> b.reusePolicy(policy))) {
                io.berth.Session a = f.pool.openSession();
                io.berth.Session other = f.pool.openSession();
                Lease first = f.pool.acquire(true, a);
                Lease again = f.pool.acquire(false, a); // the session's own busy connection, whatever the policy
                assertThat(again.id()).isEqualTo(first.id());
                Lease stranger = f.pool.acquire(true, other);
                Lease anonymous = f.pool.acquire(true);
                if (policy == io.berth.ReusePolicy.SAFE) {
                    assertThat(List.of(stranger.id(), anonymous.id())).as(policy.toString())
                            .doesNotContain(first.id());
                } else {
                    assertThat(List.of(stranger.id(), anonymous.id())).as(policy.toString())
                            .containsOnly(first.id());
                }
                for (Lease l : List.of(first, again, stranger, anonymous)) {
                    f.pool.release(l, Outcome.REUSABLE);
                }
                a.close();
                other.close();
            }
        }
    }

    @Test
    void underSafeANonReplayableRequestMayUseABusyMultiplexedConnection() throws Exception {
        try (PoolFixture f = fixture(10, b -> b)) {
            Lease get = f.pool.acquire(true);
            Lease post = f.pool.acquire(false);
            assertThat(post.id()).as("carrying an exchange: proven alive").isEqualTo(get.id());
            f.pool.release(get, Outcome.REUSABLE);
            f.pool.release(post, Outcome.REUSABLE);
            assertThat(f.connector.opened()).isEqualTo(1);
        }
    }

    @Test
    void watchesOfFinishedExchangesDoNotPileUpAndOnlyAnAbandonedOneIsReclaimed() throws Exception {
        try (PoolFixture f = fixture(10, b -> b)) {
            Object[] held = new Object[1];
            int[] abandoned = new int[2];
            Lease kept = f.pool.acquire(true);
            held[0] = new Object();
            f.pool.watch(kept, held[0], () -> abandoned[0]++);
            for (int i = 0; i < 3 * StreamWatches.SWEEP_EVERY; i++) {
                Lease l = f.pool.acquire(true);
                f.pool.watch(l, new Object(), () -> abandoned[1]++); // its response, dropped once read
                f.pool.release(l, Outcome.REUSABLE);
            }
            assertThat(f.pool.streamWatches.size()).as("swept by the callers between passes")
                    .isBetween(1, StreamWatches.SWEEP_EVERY);
            Lease dropped = f.pool.acquire(true);
            f.pool.watch(dropped, new Object(), () -> abandoned[1] += 1000);
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                System.gc();
                return f.pool.streamWatches.sweep(true) == 1;
            });
            assertThat(abandoned).as("the dropped one abandoned once; the held and the finished ones never")
                    .containsExactly(0, 1000);
            assertThat(f.pool.abandonedCount()).isEqualTo(1);
            assertThat(dropped.inFlight()).isEqualTo(1); // the held one
            assertThat(f.pool.streamWatches.size()).isEqualTo(1);
            assertThat(held[0]).isNotNull();
            f.pool.release(kept, Outcome.REUSABLE);
            assertThat(f.pool.streamWatches.sweep(true)).isZero();
            assertThat(f.pool.streamWatches.size()).isZero();
            assertThat(f.pool.stats().connections().get(0).inFlight()).isZero();
        }
    }
}
