package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.CloseReason;
import io.berth.ConnectionInfo;
import io.berth.ConnectionState;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.PoolStats;
import io.berth.ReusePolicy;
import io.berth.Session;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The pool's fast path for a caller that takes the connection it used last: the release parks the
 * connection on its own state instead of the shared idle set, and the caller takes it back with one
 * CAS on that state (see {@link PooledConnection}). Parked connections are idle for everybody else:
 * the stats, other callers (before they open one), waiters, the purge, limits, close and servers that
 * leave; the sequences here pin each of those down, with one server (where the caller's last
 * connection is tried first) unless said otherwise.
 */
@Timeout(20)
class ParkingTest {
    /** Acquires on the calling thread twice in a row: the second lease is the thread's last connection again. */
    private static Lease parkOne(PoolFixture f) throws IOException {
        Lease first = f.pool.acquire(true);
        f.pool.release(first, Outcome.REUSABLE);
        assertThat(f.pool.parkedCount()).as("a lease from the shared set goes back there").isZero();
        Lease again = f.pool.acquire(true);
        assertThat(again.id()).isEqualTo(first.id());
        f.pool.release(again, Outcome.REUSABLE);
        assertThat(f.pool.parkedCount()).as("the caller's own connection, taken back, is parked").isEqualTo(1);
        return again;
    }

    private static <T> T onOtherThread(Callable<T> task) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        PoolFixture.OWN_THREAD.execute(() -> {
            try {
                result.complete(task.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result.get(10, TimeUnit.SECONDS);
    }

    @Test
    void theCallersOwnConnectionIsParkedAndTakenBackCountedAsIdleMeanwhile() throws Exception {
        try (PoolFixture f = new PoolFixture()) {
            Lease parked = parkOne(f);
            ServerEntry e = f.pool.entries[0];
            assertThat(e.table.size()).as("not in the shared set").isZero();
            PoolStats s = f.pool.stats();
            assertThat(s.idle()).isEqualTo(1);
            assertThat(s.inUse()).isZero();
            assertThat(s.connections()).singleElement().satisfies(r -> assertThat(r.state()).isEqualTo(ConnectionState.IDLE));
            assertThat(e.inUse.get()).as("still counted, so that taking it back writes nothing shared").isEqualTo(1);

            Lease back = f.pool.acquire(true);
            assertThat(back.id()).isEqualTo(parked.id());
            assertThat(back.reused()).isTrue();
            assertThat(f.pool.parkedCount()).isZero();
            assertThat(f.pool.stats().inUse()).isEqualTo(1);
            assertThat(f.pool.stats().peakInUse()).isEqualTo(1);
            f.pool.release(back, Outcome.REUSABLE);
            assertThat(f.pool.parkedCount()).isEqualTo(1);
            assertThat(f.pool.stats().acquired()).isEqualTo(3);
            assertThat(f.connector.opened()).isEqualTo(1);
        }
    }

    @Test
    void anotherCallerTakesAParkedConnectionRatherThanOpenANewOne() throws Exception {
        try (PoolFixture f = new PoolFixture()) {
            Lease parked = parkOne(f);
            long id = onOtherThread(() -> {
                Lease l = f.pool.acquire(true);
                f.pool.release(l, Outcome.REUSABLE);
                return l.id();
            });
            assertThat(id).isEqualTo(parked.id());
            assertThat(f.connector.opened()).isEqualTo(1);
            assertThat(f.pool.parkedCount()).as("not its own last connection: back to the shared set").isZero();
            assertThat(f.pool.entries[0].table.size()).isEqualTo(1);
            assertThat(f.pool.entries[0].inUse.get()).isZero();
            assertThat(f.pool.stats().peakInUse()).isEqualTo(1);
        }
    }

    @Test
    void aCallerThatMayNotUseAParkedConnectionAtTheLimitReplacesIt() throws Exception {
        ReusePolicy replayableOnly = (replayable, c) -> replayable;
        try (PoolFixture f = new PoolFixture(b -> b.maxConnections(1).reusePolicy(replayableOnly))) {
            parkOne(f);
            Lease post = f.pool.acquire(false);
            assertThat(post.reused()).isFalse();
            assertThat(f.pool.stats().closed(CloseReason.EVICTED)).isEqualTo(1);
            assertThat(f.pool.total()).isEqualTo(1);
            assertThat(f.pool.entries[0].inUse.get()).isEqualTo(1);
            f.pool.release(post, Outcome.REUSABLE);
        }
    }

    @Test
    void aWaiterIsNeverLeftBesideAParkedConnection() throws Exception {
        try (PoolFixture f = new PoolFixture(b -> b.maxConnections(1).acquireTimeout(Duration.ofSeconds(5)))) {
            Lease first = f.pool.acquire(true);
            f.pool.release(first, Outcome.REUSABLE);
            Lease mine = f.pool.acquire(true); // the last one again: its release would park it
            CompletableFuture<Lease> waiter = CompletableFuture.supplyAsync(() -> {
                try {
                    return f.pool.acquire(true);
                } catch (IOException ex) {
                    throw new RuntimeException(ex);
                }
            }, PoolFixture.OWN_THREAD);
            org.awaitility.Awaitility.await().until(() -> f.pool.waitingCount() == 1);
            f.pool.release(mine, Outcome.REUSABLE);
            Lease got = waiter.get(5, TimeUnit.SECONDS);
            assertThat(got.id()).isEqualTo(mine.id());
            assertThat(f.pool.parkedCount()).isZero();
            assertThat(f.pool.entries[0].inUse.get()).isEqualTo(1);
            f.pool.release(got, Outcome.REUSABLE);
            assertThat(f.pool.entries[0].inUse.get()).isZero();
        }
    }

    /**
     * The race a release that parks must not lose: a caller starts waiting after the release looked at
     * the queue and before the connection is parked. The policy's {@code sharesIdleConnections}, which
     * the release asks in between, holds the releasing thread there until the waiter is in the queue.
     */
    @Test
    void aWaiterArrivingWhileTheConnectionIsBeingParkedGetsIt() throws Exception {
        AtomicReference<Thread> holdOnce = new AtomicReference<>();
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch waiterIn = new CountDownLatch(1);
        ReusePolicy gated = new ReusePolicy() {
            @Override
            public boolean mayCarry(boolean replayable, ConnectionInfo c) {
                return ReusePolicy.SAFE.mayCarry(replayable, c);
            }

            @Override
            public boolean sharesIdleConnections() {
                if (holdOnce.compareAndSet(Thread.currentThread(), null)) {
                    held.countDown();
                    try {
                        assertThat(waiterIn.await(5, TimeUnit.SECONDS)).isTrue();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                }
                return true;
            }
        };
        try (PoolFixture f = new PoolFixture(b -> b.maxConnections(1).reusePolicy(gated)
                .acquireTimeout(Duration.ofSeconds(3)))) {
            f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
            Lease mine = f.pool.acquire(true); // the last one again: its release parks it
            CompletableFuture<Lease> waiter = new CompletableFuture<>();
            PoolFixture.OWN_THREAD.execute(() -> {
                try {
                    assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
                    PoolFixture.OWN_THREAD.execute(() -> {
                        try {
                            waiter.complete(f.pool.acquire(true));
                        } catch (Throwable t) {
                            waiter.completeExceptionally(t);
                        }
                    });
                    org.awaitility.Awaitility.await().until(() -> f.pool.waitingCount() == 1);
                    waiterIn.countDown();
                } catch (Throwable t) {
                    waiter.completeExceptionally(t);
                }
            });
            holdOnce.set(Thread.currentThread());
            f.pool.release(mine, Outcome.REUSABLE);
            assertThat(holdOnce).as("the release passed the gate").hasValue(null);
            Lease got = waiter.get(10, TimeUnit.SECONDS);
            assertThat(got.id()).isEqualTo(mine.id());
            assertThat(f.pool.stats().acquireWaits()).isEqualTo(1);
            f.pool.release(got, Outcome.REUSABLE);
        }
    }

    @Test
    void eachMaintenancePassMovesParkedConnectionsToTheSharedSetWhereIdleTimeoutAndPurgeApply() throws Exception {
        try (PoolFixture f = new PoolFixture(b -> b.idleTimeout(Duration.ofSeconds(30)))) {
            parkOne(f);
            f.advanceAndMaintain(Duration.ofSeconds(1));
            assertThat(f.pool.parkedCount()).isZero();
            assertThat(f.pool.entries[0].table.size()).isEqualTo(1);
            assertThat(f.pool.entries[0].inUse.get()).as("no longer counted in use").isZero();
            f.advanceAndMaintain(Duration.ofSeconds(31));
            assertThat(f.pool.total()).isZero();
            assertThat(f.pool.stats().closed(CloseReason.IDLE_TIMEOUT)).isEqualTo(1);
            assertThat(f.connector.openCount()).isZero();
        }
    }

    @Test
    void closingThePoolClosesParkedConnections() throws Exception {
        PoolFixture f = new PoolFixture();
        parkOne(f);
        f.pool.close();
        assertThat(f.connector.openCount()).isZero();
        assertThat(f.pool.stats().closed(CloseReason.POOL_CLOSED)).isEqualTo(1);
        assertThat(f.pool.total()).isZero();
    }

    @Test
    void aServerDrainedOrRemovedClosesItsParkedConnections() throws Exception {
        try (PoolFixture f = new PoolFixture(2, b -> b.preferLastServer(true))) {
            Lease parked = parkOne(f);
            f.pool.control().drainServer(parked.server());
            assertThat(f.pool.parkedCount()).isZero();
            assertThat(f.pool.stats().closed(CloseReason.SERVER_UNAVAILABLE)).isEqualTo(1);

            Lease other = parkOne(f);
            assertThat(other.server()).isNotEqualTo(parked.server());
            f.pool.control().resumeServer(parked.server());
            f.pool.control().removeServer(other.server());
            assertThat(f.pool.parkedCount()).isZero();
            assertThat(f.pool.stats().closed(CloseReason.SERVER_UNAVAILABLE)).isEqualTo(2);
            assertThat(f.connector.openCount()).isZero();
        }
    }

    @Test
    void newSettingsApplyToParkedConnectionsAtOnce() throws Exception {
        try (PoolFixture f = new PoolFixture()) {
            parkOne(f);
            f.pool.control().reconfigure(f.pool.config().toBuilder().maxIdle(0).build());
            assertThat(f.pool.parkedCount()).isZero();
            assertThat(f.pool.total()).isZero();
            assertThat(f.pool.stats().closed(CloseReason.IDLE_LIMIT)).isEqualTo(1);
            Lease l = f.pool.acquire(true);
            f.pool.release(l, Outcome.REUSABLE);
            assertThat(f.pool.parkedCount()).as("maxIdle set: never parked").isZero();
        }
    }

    @Test
    void aSessionsConnectionsAndANewThreadPerRequestNeverPark() throws Exception {
        try (PoolFixture f = new PoolFixture()) {
            Session s = f.pool.openSession();
            for (int i = 0; i < 3; i++) {
                f.pool.release(f.pool.acquire(true, s), Outcome.REUSABLE);
            }
            assertThat(f.pool.parkedCount()).isZero();
            assertThat(s.idleConnections()).isEqualTo(1);
            s.close();
            for (int i = 0; i < 3; i++) {
                onOtherThread(() -> {
                    f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
                    return null;
                });
                assertThat(f.pool.parkedCount()).isZero();
            }
            assertThat(f.connector.opened()).isEqualTo(1);
        }
    }

    @Test
    void withSeveralServersOnlyPreferLastServerParks() throws Exception {
        try (PoolFixture f = new PoolFixture(3, b -> b)) {
            for (int i = 0; i < 3; i++) {
                f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
            }
            assertThat(f.pool.parkedCount()).isZero();
        }
        try (PoolFixture f = new PoolFixture(3, b -> b.preferLastServer(true))) {
            parkOne(f);
        }
    }

    @Test
    void aThreadWhoseIdSharesAnothersSlotDoesNotTakeItsConnectionAsItsOwn() throws Exception {
        try (PoolFixture f = new PoolFixture()) {
            Lease mine = parkOne(f);
            long ours = Thread.currentThread().getId();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            long[] parkedAfter = {-1, -1};
            Runnable twoCycles = () -> {
                try {
                    for (int i = 0; i < 2; i++) {
                        Lease l = f.pool.acquire(true);
                        assertThat(l.id()).as("the one connection").isEqualTo(mine.id());
                        f.pool.release(l, Outcome.REUSABLE);
                        parkedAfter[i] = f.pool.parkedCount();
                    }
                } catch (Throwable t) {
                    failed.set(t);
                }
            };
            Thread colliding = null; // ids are consecutive: one of the next SLOTS threads meets ours
            for (int i = 0; i < 2 * LastConnections.SLOTS && colliding == null; i++) {
                Thread t = new Thread(twoCycles, "colliding");
                if (t.getId() != ours && ((t.getId() - ours) & (LastConnections.SLOTS - 1)) == 0) {
                    colliding = t;
                }
            }
            assertThat(colliding).as("a thread whose id meets ours in the table").isNotNull();
            colliding.start();
            colliding.join(10_000);
            assertThat(failed.get()).isNull();
            assertThat(parkedAfter[0]).as("our parked connection is idle to it, not its own: not parked again")
                    .isZero();
            assertThat(parkedAfter[1]).as("its own last connection now: parked").isEqualTo(1);
            f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
            assertThat(f.pool.parkedCount()).as("the slot is the other thread's now: ours is no longer ours")
                    .isZero();
            assertThat(f.connector.opened()).isEqualTo(1);
        }
    }

    @Test
    void aClosedConnectionIsNotKeptReachableAsAThreadsLast() throws Exception {
        try (PoolFixture f = new PoolFixture()) {
            java.lang.ref.WeakReference<Lease> closed = new java.lang.ref.WeakReference<>(parkOne(f));
            assertThat(f.pool.lastOfThread.get()).isSameAs(closed.get());
            f.pool.control().reconfigure(f.pool.config().toBuilder().maxIdle(0).build());
            assertThat(f.pool.total()).isZero();
            for (int i = 0; i < 50 && closed.get() != null; i++) {
                System.gc();
                Thread.sleep(20);
            }
            assertThat(closed.get()).as("the closed connection, still this thread's last, collected").isNull();
            assertThat(f.pool.lastOfThread.get()).isNull();
        }
    }
}
