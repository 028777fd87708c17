package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.AcquireTimeoutException;
import io.berth.BackendUnavailableException;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.PassiveHealth;
import io.berth.ServerState;
import io.berth.ServerStats;
import io.berth.Session;
import io.berth.Ticker;
import java.net.ConnectException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What one engine for the whole backend guarantees beyond a single server's rules: one FIFO of
 * waiters, the backend's true peak, errors that name the backend and its servers, sessions that
 * belong to the pool itself, callers that wait for a connection being checked instead of opening
 * another, and passive health that never closes working connections.
 */
@Timeout(20)
class BackendEngineTest {

    /** Starts an acquisition on another thread and waits until it is parked in the queue. */
    private static CompletableFuture<Lease> waitingAcquire(PoolFixture f, boolean replayable, int waitersAfter) {
        CompletableFuture<Lease> r = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                r.complete(f.pool.acquire(replayable, null, 10, TimeUnit.SECONDS));
            } catch (Throwable e) {
                r.completeExceptionally(e);
            }
        });
        t.start();
        await().until(() -> f.pool.waitingCount() == waitersAfter
                && (t.getState() == Thread.State.TIMED_WAITING || r.isDone()));
        return r;
    }

    @Nested
    class OneQueue {
        @Test
        void aReleaseOnAnyServerGoesToTheLongestWaiter() throws Exception {
            try (PoolFixture f = new PoolFixture(2, b -> b.maxConnections(1))) {
                Lease first = f.pool.acquire(true);
                Lease second = f.pool.acquire(true);
                assertThat(first.server()).isNotEqualTo(second.server()); // both servers at their limit
                CompletableFuture<Lease> w1 = waitingAcquire(f, true, 1);
                CompletableFuture<Lease> w2 = waitingAcquire(f, true, 2);
                f.pool.release(second, Outcome.REUSABLE);
                assertThat(w1.get(5, TimeUnit.SECONDS).id()).as("the longest waiter, whatever server it is on")
                        .isEqualTo(second.id());
                assertThat(w2).isNotDone();
                f.pool.release(first, Outcome.REUSABLE);
                assertThat(w2.get(5, TimeUnit.SECONDS).id()).isEqualTo(first.id());
                assertThat(f.connector.opened()).isEqualTo(2);
                f.pool.release(w1.get(), Outcome.REUSABLE);
                f.pool.release(w2.get(), Outcome.REUSABLE);
            }
        }

        @Test
        void aSlotFreedOnAnyServerGoesToTheLongestWaiter() throws Exception {
            try (PoolFixture f = new PoolFixture(2, b -> b.maxConnections(1))) {
                Lease first = f.pool.acquire(true);
                Lease second = f.pool.acquire(true);
                CompletableFuture<Lease> w1 = waitingAcquire(f, true, 1);
                f.pool.release(second, Outcome.BROKEN); // closed: its slot is the waiter's
                Lease got = w1.get(5, TimeUnit.SECONDS);
                assertThat(got.server()).isEqualTo(second.server());
                assertThat(got.reused()).isFalse();
                f.pool.release(got, Outcome.REUSABLE);
                f.pool.release(first, Outcome.REUSABLE);
            }
        }
    }

    @Nested
    class WeightZero {
        @Test
        void aConnectionReleasedOnAServerOfWeightZeroIsKeptNotHandedToAWaiter() throws Exception {
            try (PoolFixture f = new PoolFixture(2, b -> b.maxConnections(1))) {
                Lease a = f.pool.acquire(true);
                Lease b = f.pool.acquire(true);
                assertThat(f.serverOf(b)).isEqualTo(1);
                f.pool.control().reweight(PoolFixture.server(1), 0); // it takes no new request
                CompletableFuture<Lease> waiter = waitingAcquire(f, true, 1);
                f.pool.release(b, Outcome.REUSABLE);
                assertThat(f.idleOn(1)).as("kept, unused, for when its weight comes back").isEqualTo(1);
                assertThat(f.pool.waitingCount()).isEqualTo(1);
                f.pool.release(a, Outcome.REUSABLE);
                assertThat(waiter.get(5, TimeUnit.SECONDS).id()).isEqualTo(a.id());
                f.pool.release(waiter.get(), Outcome.REUSABLE);
            }
        }

        @Test
        void whenItsWeightComesBackItsIdleConnectionsGoToTheWaitersAtOnce() throws Exception {
            try (PoolFixture f = new PoolFixture(2, b -> b.maxConnections(1))) {
                Lease a = f.pool.acquire(true);
                Lease b = f.pool.acquire(true);
                f.pool.release(b, Outcome.REUSABLE); // s1: at its limit, with an idle connection
                f.pool.control().reweight(PoolFixture.server(1), 0);
                CompletableFuture<Lease> waiter = waitingAcquire(f, true, 1);
                f.pool.control().reweight(PoolFixture.server(1), 1);
                Lease got = waiter.get(5, TimeUnit.SECONDS);
                assertThat(got.id()).isEqualTo(b.id());
                assertThat(f.connector.opened()).isEqualTo(2);
                f.pool.release(got, Outcome.REUSABLE);
                f.pool.release(a, Outcome.REUSABLE);
            }
        }
    }

    @Test
    void peakInUseIsTheBackendsTruePeakNotASumOfServerPeaks() throws Exception {
        try (PoolFixture f = new PoolFixture(2, b -> b)) {
            f.pool.control().reweight(PoolFixture.server(1), 0);
            List<Lease> onFirst = List.of(f.pool.acquire(true), f.pool.acquire(true));
            onFirst.forEach(l -> assertThat(l.server()).isEqualTo(PoolFixture.server(0)));
            onFirst.forEach(l -> f.pool.release(l, Outcome.REUSABLE));
            f.pool.control().reweight(PoolFixture.server(1), 1);
            f.pool.control().reweight(PoolFixture.server(0), 0);
            List<Lease> onSecond = List.of(f.pool.acquire(true), f.pool.acquire(true));
            onSecond.forEach(l -> assertThat(l.server()).isEqualTo(PoolFixture.server(1)));
            onSecond.forEach(l -> f.pool.release(l, Outcome.REUSABLE));
            assertThat(f.pool.stats().peakInUse()).isEqualTo(2);
        }
    }

    @Test
    void anAcquireTimeoutNamesThePoolTheWaitAndEachServerWithTheLastConnectFailure() throws Exception {
        try (PoolFixture f = new PoolFixture(2, b -> b.maxConnections(1).acquireTimeout(Duration.ofMillis(150)))) {
            f.connector.failures.add(new ConnectException("refused once"));
            Lease a = f.pool.acquire(true); // the failed connect is retried on the other server
            Lease b = f.pool.acquire(true);
            assertThatThrownBy(() -> f.pool.acquire(true)).isInstanceOfSatisfying(AcquireTimeoutException.class, e -> {
                assertThat(e.getMessage()).contains("pool 'test'").contains("after waiting")
                        .contains("total=2, idle=0, inUse=2, waiting=1, maxConnections=1 per server")
                        .contains("s0.test:8443 total=1 idle=0 inUse=1 UP")
                        .contains("s1.test:8443 total=1 idle=0 inUse=1 UP")
                        .doesNotContain("test/s0"); // no internal per-server pool any more
                assertThat(e.waited()).isGreaterThanOrEqualTo(Duration.ofMillis(150));
                assertThat(e.getCause()).isInstanceOf(ConnectException.class).hasMessage("refused once");
            });
            f.pool.release(a, Outcome.REUSABLE);
            f.pool.release(b, Outcome.REUSABLE);
        }
    }

    @Test
    void sessionsAndLeasesHandOutThePoolItselfNeverAnInternalOne() throws Exception {
        try (PoolFixture f = new PoolFixture(3, b -> b)) {
            Session s = f.pool.openSession();
            Lease l = f.pool.acquire(true, s);
            assertThat(s.pool()).isSameAs(f.pool);
            assertThat(l.session()).isSameAs(s);
            assertThat(l.session().pool()).isSameAs(f.pool);
            f.pool.release(l, Outcome.REUSABLE);
            assertThat(s.idleConnections()).isEqualTo(1);
            Lease again = f.pool.acquire(true, s);
            assertThat(again.id()).isEqualTo(l.id());
            f.pool.release(again, Outcome.REUSABLE);
            s.close();
        }
    }

    @Nested
    class ConnectionsBeingChecked {
        @Test
        void aCallerArrivingDuringTheCheckGetsTheCheckedConnection() throws Exception {
            try (PoolFixture f = new PoolFixture(b -> b.acquireTimeout(Duration.ofSeconds(5)))) {
                Lease l = f.pool.acquire(true);
                f.pool.release(l, Outcome.REUSABLE);
                FakeConnection c = f.connector.connections.get(0);
                c.livenessDelayMillis = 30;
                int checks = c.livenessChecks.get();
                CompletableFuture<Long> pass = CompletableFuture.supplyAsync(() -> f.pool.maintain(f.ticker.read()), PoolFixture.OWN_THREAD);
                await().until(() -> c.livenessChecks.get() > checks); // the check is under way
                Lease during = f.pool.acquire(true);
                assertThat(during.id()).as("the connection being checked, not a new one").isEqualTo(l.id());
                assertThat(f.connector.opened()).isEqualTo(1);
                f.pool.release(during, Outcome.REUSABLE);
                pass.get(5, TimeUnit.SECONDS);
            }
        }

        @Test
        void aCheckThatTakesTooLongIsWaitedForOnlyBriefly() throws Exception {
            try (PoolFixture f = new PoolFixture(b -> b.acquireTimeout(Duration.ofSeconds(5)))) {
                Lease l = f.pool.acquire(true);
                f.pool.release(l, Outcome.REUSABLE);
                FakeConnection c = f.connector.connections.get(0);
                c.livenessDelayMillis = 3_000;
                CompletableFuture<Long> pass = CompletableFuture.supplyAsync(() -> f.pool.maintain(f.ticker.read()), PoolFixture.OWN_THREAD);
                await().until(() -> c.livenessChecks.get() > 0 && f.pool.idleCount() == 0);
                long start = System.nanoTime();
                Lease during = f.pool.acquire(true);
                long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertThat(during.id()).isNotEqualTo(l.id());
                assertThat(waitedMillis).isBetween(Acquirer.CHECK_WAIT_NANOS / 1_000_000 - 5, 2_500L);
                f.pool.release(during, Outcome.REUSABLE);
                pass.get(5, TimeUnit.SECONDS);
            }
        }
    }

    @Nested
    class PassiveHealthRules {
        @Test
        void aServerBackFromItsBackoffServesTheCallersWaitingByTheNextMaintenancePass() throws Exception {
            try (PoolFixture f = new PoolFixture(2, b -> b.maxConnections(1).retries(0).failuresToMarkDown(1)
                    .downBackoff(Duration.ofSeconds(1)).slowStart(Duration.ZERO))) {
                Lease held = f.pool.acquire(true); // s0 at its limit
                f.connector.refusing.add(PoolFixture.server(1));
                assertThatThrownBy(() -> f.pool.acquire(true)).isInstanceOf(ConnectException.class);
                f.connector.refusing.clear();
                assertThat(f.pool.stats().servers().get(1).state()).isEqualTo(ServerState.DOWN);
                // It waits for a release on s0: s1 is down, and nothing tells it when s1 comes back...
                CompletableFuture<Lease> waiter = waitingAcquire(f, true, 1);
                f.advanceAndMaintain(Duration.ofSeconds(1)); // ...but the maintenance pass after its back-off
                Lease got = waiter.get(5, TimeUnit.SECONDS);
                assertThat(got.server()).isEqualTo(PoolFixture.server(1));
                assertThat(got.reused()).isFalse();
                f.pool.release(got, Outcome.REUSABLE);
                f.pool.release(held, Outcome.REUSABLE);
            }
        }

        @Test
        void failedConnectsNeverCloseWorkingConnectionsWhichKeepServing() throws Exception {
            try (PoolFixture f = new PoolFixture(b -> b.retries(0).failuresToMarkDown(3))) {
                Lease a = f.pool.acquire(true);
                Lease b = f.pool.acquire(true);
                f.pool.release(a, Outcome.REUSABLE);
                f.pool.release(b, Outcome.REUSABLE);
                for (int i = 0; i < 3; i++) {
                    f.connector.failures.add(new ConnectException("refused " + i));
                    // Not replayable, so under SAFE it needs a new connection.
                    assertThatThrownBy(() -> f.pool.acquire(false)).isInstanceOf(ConnectException.class);
                }
                ServerStats down = f.pool.stats().servers().get(0);
                assertThat(down.server()).isEqualTo("backend.test:8443");
                assertThat(down.state()).isEqualTo(ServerState.DOWN);
                assertThat(down.consecutiveFailures()).isEqualTo(3);
                assertThat(down.downRemaining()).isEqualTo(Duration.ofSeconds(1));
                assertThat(down.backoff()).as("the next one, doubled").isEqualTo(Duration.ofSeconds(2));
                assertThat(f.pool.idleCount()).as("working connections kept").isEqualTo(2);
                int attempts = f.connector.attempts.get();
                for (int i = 0; i < 10; i++) {
                    Lease l = f.pool.acquire(true); // requests that can use a live connection keep flowing
                    assertThat(l.reused()).isTrue();
                    f.pool.release(l, Outcome.REUSABLE);
                }
                assertThat(f.connector.attempts.get()).isEqualTo(attempts);
                assertThat(f.pool.stats().servers().get(0).consecutiveFailures()).as("a successful exchange resets it")
                        .isZero();
            }
        }

        @Test
        void aRequestThatNeedsANewConnectionWaitsForTheBackoffWithinItsAcquireTimeout() throws Exception {
            try (PoolFixture f = new PoolFixture(b -> b.ticker(Ticker.system()).retries(0).failuresToMarkDown(1)
                    .downBackoff(Duration.ofMillis(300)).slowStart(Duration.ZERO).acquireTimeout(Duration.ofSeconds(5)))) {
                f.connector.failures.add(new ConnectException("refused"));
                long start = System.nanoTime();
                assertThatThrownBy(() -> f.pool.acquire(false)).as("its own failure: said at once")
                        .isInstanceOf(ConnectException.class);
                assertThat(f.pool.stats().servers().get(0).state()).isEqualTo(ServerState.DOWN);
                Lease l = f.pool.acquire(false); // arrives while down: waits for the end of the back-off
                long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertThat(waited).isBetween(250L, 3_000L);
                ServerStats after = f.pool.stats().servers().get(0);
                assertThat(after.state()).isEqualTo(ServerState.UP);
                assertThat(after.consecutiveFailures()).isZero();
                assertThat(after.backoff()).as("reset by the successful connect").isEqualTo(Duration.ofMillis(300));
                f.pool.release(l, Outcome.REUSABLE);
            }
        }

        @Test
        void whenNothingCanChangeBeforeTheDeadlineTheRequestFailsAtOnceNamingTheServers() throws Exception {
            try (PoolFixture f = new PoolFixture(2, b -> b.ticker(Ticker.system()).retries(1).failuresToMarkDown(1)
                    .downBackoff(Duration.ofSeconds(30)).acquireTimeout(Duration.ofSeconds(5)))) {
                f.connector.failures.add(new ConnectException("refused a"));
                f.connector.failures.add(new ConnectException("refused b"));
                assertThatThrownBy(() -> f.pool.acquire(true)).isInstanceOf(BackendUnavailableException.class);
                long start = System.nanoTime();
                assertThatThrownBy(() -> f.pool.acquire(true)).isInstanceOfSatisfying(BackendUnavailableException.class,
                        e -> assertThat(e.getMessage()).contains("no server takes requests")
                                .contains("s0.test:8443 down for").contains("s1.test:8443 down for")
                                .contains("after 1 failures"));
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1_000);
            }
        }

        @Test
        void aSuccessDuringSlowStartResetsTheBackoffAndABackoffEndsOnProbation() throws Exception {
            try (PoolFixture f = new PoolFixture(b -> b.retries(0).failuresToMarkDown(2).slowStart(Duration.ofSeconds(5))
                    .downBackoff(Duration.ofSeconds(1)).maxDownBackoff(Duration.ofSeconds(60)))) {
                for (int i = 0; i < 2; i++) {
                    f.connector.failures.add(new ConnectException("refused"));
                    assertThatThrownBy(() -> f.pool.acquire(false)).isInstanceOf(ConnectException.class);
                }
                assertThat(f.pool.stats().servers().get(0).backoff()).isEqualTo(Duration.ofSeconds(2));
                f.ticker.advance(Duration.ofSeconds(1));
                // Back from the back-off, on probation: one more failure marks it down again, doubled.
                f.connector.failures.add(new ConnectException("refused again"));
                assertThatThrownBy(() -> f.pool.acquire(false)).isInstanceOf(ConnectException.class);
                ServerStats again = f.pool.stats().servers().get(0);
                assertThat(again.state()).isEqualTo(ServerState.DOWN);
                assertThat(again.downRemaining()).isEqualTo(Duration.ofSeconds(2));
                assertThat(again.backoff()).isEqualTo(Duration.ofSeconds(4));
                f.ticker.advance(Duration.ofSeconds(2));
                Lease l = f.pool.acquire(false); // a success in slow start resets count and back-off
                ServerStats back = f.pool.stats().servers().get(0);
                assertThat(back.state()).isEqualTo(ServerState.SLOW_START);
                assertThat(back.consecutiveFailures()).isZero();
                assertThat(back.backoff()).isEqualTo(Duration.ofSeconds(1));
                assertThat(back.downCount()).isEqualTo(2);
                f.pool.release(l, Outcome.REUSABLE);
                f.connector.failures.add(new ConnectException("a late one"));
                assertThatThrownBy(() -> f.pool.acquire(false)).isInstanceOf(ConnectException.class);
                assertThat(f.pool.stats().servers().get(0).state()).as("one failure after a success")
                        .isEqualTo(ServerState.SLOW_START);
            }
        }

        @Test
        void passiveHealthOffLetsOnlyHealthChecksMarkServersDown() throws Exception {
            try (PoolFixture f = new PoolFixture(b -> b.retries(0).failuresToMarkDown(1)
                    .passiveHealth(PassiveHealth.OFF))) {
                for (int i = 0; i < 5; i++) {
                    f.connector.failures.add(new ConnectException("refused"));
                    assertThatThrownBy(() -> f.pool.acquire(false)).isInstanceOf(ConnectException.class);
                }
                assertThat(f.pool.stats().servers().get(0).state()).isEqualTo(ServerState.UP);
                assertThat(f.pool.stats().connectFailures()).isEqualTo(5);
            }
        }

        @Test
        void observingExchangesCountsBrokenOnesToo() throws Exception {
            try (PoolFixture f = new PoolFixture(b -> b.failuresToMarkDown(2)
                    .passiveHealth(PassiveHealth.CONNECTS_AND_EXCHANGES))) {
                f.pool.release(f.pool.acquire(true), Outcome.BROKEN);
                assertThat(f.pool.stats().servers().get(0).consecutiveFailures()).isEqualTo(1);
                f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
                assertThat(f.pool.stats().servers().get(0).consecutiveFailures()).isZero();
                f.pool.release(f.pool.acquire(true), Outcome.BROKEN);
                f.pool.release(f.pool.acquire(true), Outcome.BROKEN);
                assertThat(f.pool.stats().servers().get(0).state()).isEqualTo(ServerState.DOWN);
            }
            try (PoolFixture f = new PoolFixture(b -> b.failuresToMarkDown(1))) {
                f.pool.release(f.pool.acquire(true), Outcome.BROKEN);
                assertThat(f.pool.stats().servers().get(0).state()).as("by default exchanges do not count")
                        .isEqualTo(ServerState.UP);
            }
        }
    }
}
