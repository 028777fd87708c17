package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.AcquireTimeoutException;
import io.berth.BackendPool;
import io.berth.BackendPoolConfig;
import io.berth.CloseReason;
import io.berth.ConnectionState;
import io.berth.ConnectionStats;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.PoolClosedException;
import io.berth.PoolStats;
import io.berth.ReusePolicy;
import io.berth.ServerStats;
import io.berth.Session;
import io.berth.spi.Connection.Liveness;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pool engine's rules, over in-memory connections and a fake clock, for a backend of one server
 * and of three. Limits are per server: where a test relies on one, it fills every server.
 */
@ParameterizedClass(name = "{0} server(s)")
@ValueSource(ints = {1, 3})
@Timeout(20)
class PoolEngineTest {
    private static final Duration VALIDATE_AFTER_IDLE = BackendPoolConfig.DEFAULT_VALIDATE_AFTER_IDLE;

    @Parameter
    int servers;

    PoolFixture fixture() {
        return fixture(b -> b);
    }

    PoolFixture fixture(UnaryOperator<BackendPoolConfig.Builder> config) {
        return new PoolFixture(servers, config);
    }

    /** @return the backend as the pool names it in messages and stats */
    String backendUrl() {
        return servers == 1 ? "https://backend.test:8443" : "https://[s0.test:8443,s1.test:8443,s2.test:8443]";
    }

    @Nested
    class Reuse {
        @Test
        void sequentialCallersShareOneConnection() throws Exception {
            try (PoolFixture f = fixture()) {
                for (int i = 0; i < 40; i++) {
                    Lease l = f.pool.acquire(true);
                    assertThat(l.reused()).isEqualTo(i > 0);
                    f.pool.release(l, Outcome.REUSABLE);
                }
                PoolStats s = f.pool.stats();
                assertThat(s.opened()).isEqualTo(1);
                assertThat(s.acquired()).isEqualTo(40);
                assertThat(s.reused()).isEqualTo(39);
                assertThat(s.connections()).singleElement().satisfies(row -> {
                    assertThat(row.uses()).isEqualTo(40);
                    assertThat(row.state()).isEqualTo(ConnectionState.IDLE);
                    assertThat(row.proven()).isTrue();
                });
            }
        }

        @Test
        void mostRecentlyReleasedConnectionGoesFirstAndTheColdestIsPurgedFirst() throws Exception {
            try (PoolFixture f = fixture()) {
                // The order is that of one server's idle set (with several servers the idle scan starts
                // at a rotating server): all three connections go to s0, the others have weight 0.
                f.onlyServer(0);
                Lease a = f.pool.acquire(true);
                Lease b = f.pool.acquire(true);
                Lease c = f.pool.acquire(true);
                f.pool.release(b, Outcome.REUSABLE);
                f.ticker.advance(Duration.ofMillis(1));
                f.pool.release(a, Outcome.REUSABLE);
                f.ticker.advance(Duration.ofMillis(1));
                f.pool.release(c, Outcome.REUSABLE);

                Lease next = f.pool.acquire(true);
                assertThat(next.id()).isEqualTo(c.id());
                f.pool.release(next, Outcome.REUSABLE);
                assertThat(f.pool.idleCount()).isEqualTo(3);
                // b is coldest: a purge that closes one takes b.
                PooledConnection coldest = pollColdestForTest(f);
                assertThat(coldest.id).isEqualTo(b.id());
            }
        }

        private PooledConnection pollColdestForTest(PoolFixture f) {
            return f.pool.entries[0].table.pollColdest();
        }

        @Test
        void anIdleConnectionReleasedOnOneThreadServesAnother() throws Exception {
            try (PoolFixture f = fixture()) {
                Lease l = CompletableFuture.supplyAsync(() -> {
                    try {
                        Lease x = f.pool.acquire(true);
                        f.pool.release(x, Outcome.REUSABLE);
                        return x;
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }, PoolFixture.OWN_THREAD).get();
                Lease mine = f.pool.acquire(true);
                assertThat(mine.id()).isEqualTo(l.id());
                assertThat(mine.reused()).isTrue();
                f.pool.release(mine, Outcome.REUSABLE);
            }
        }

        @Test
        void deadIdleConnectionIsDiscardedAndTheNextTried() throws Exception {
            try (PoolFixture f = fixture()) {
                // The dead one must be the one tried first: the most recent of one server's idle set
                // (with several servers the idle scan starts at a rotating server). So both go to s0.
                f.onlyServer(0);
                Lease a = f.pool.acquire(true);
                Lease b = f.pool.acquire(true);
                f.pool.release(a, Outcome.REUSABLE);
                f.ticker.advance(Duration.ofMillis(1));
                f.pool.release(b, Outcome.REUSABLE);
                f.connector.connections.get(1).liveness = Liveness.CLOSED_BY_PEER; // b, the most recent
                f.ticker.advance(VALIDATE_AFTER_IDLE);

                Lease l = f.pool.acquire(true);

                assertThat(l.id()).isEqualTo(a.id());
                assertThat(f.pool.stats().closed(CloseReason.CLOSED_BY_PEER)).isEqualTo(1);
                assertThat(f.connector.connections.get(1).isOpen()).isFalse();
                f.pool.release(l, Outcome.REUSABLE);
            }
        }

        @Test
        void strayBytesOnAnIdleConnectionDiscardIt() throws Exception {
            try (PoolFixture f = fixture()) {
                Lease a = f.pool.acquire(true);
                f.pool.release(a, Outcome.REUSABLE);
                f.connector.connections.get(0).liveness = Liveness.UNEXPECTED_DATA;
                f.ticker.advance(VALIDATE_AFTER_IDLE);
                Lease l = f.pool.acquire(true);
                assertThat(l.reused()).isFalse();
                assertThat(f.connector.opened()).isEqualTo(2);
                assertThat(f.pool.stats().closed(CloseReason.CLOSED_BY_PEER)).isEqualTo(1);
                f.pool.release(l, Outcome.REUSABLE);
            }
        }

        @Test
        void livenessIsCheckedBeforeEveryReuseAndBuffersGoBackAfterASecondIdle() throws Exception {
            try (PoolFixture f = fixture()) {
                Lease l = f.pool.acquire(true);
                FakeConnection c = f.fake(l);
                assertThat(c.livenessChecks.get()).isZero();
                f.pool.release(l, Outcome.REUSABLE);
                for (int i = 0; i < 3; i++) {
                    f.ticker.advance(VALIDATE_AFTER_IDLE);
                    f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
                }
                assertThat(c.livenessChecks.get()).isEqualTo(3);
                assertThat(c.idleCalls.get()).as("a busy connection keeps its buffers").isZero();
                f.advanceAndMaintain(Duration.ofMillis(500));
                assertThat(c.idleCalls.get()).isZero();
                f.advanceAndMaintain(Duration.ofMillis(500));
                assertThat(c.idleCalls.get()).as("told it is idle once idle for 1 s").isEqualTo(1);
            }
        }

        @Test
        void aReplayableRequestOnAConnectionReleasedMomentsAgoLooksOnlyAtWhatItHolds() throws Exception {
            try (PoolFixture f = fixture(b -> b.reusePolicy(ReusePolicy.ALWAYS))) {
                Lease l = f.pool.acquire(true);
                FakeConnection c = f.fake(l);
                f.pool.release(l, Outcome.REUSABLE);
                f.ticker.advance(VALIDATE_AFTER_IDLE.minusNanos(1));
                f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
                assertThat(c.livenessChecks.get()).as("no socket read").isZero();
                assertThat(c.bufferedChecks.get()).isEqualTo(1);

                f.ticker.advance(VALIDATE_AFTER_IDLE.minusNanos(1));
                f.pool.release(f.pool.acquire(false), Outcome.REUSABLE);
                assertThat(c.livenessChecks.get()).as("a request that is not replayable always reads").isEqualTo(1);

                f.ticker.advance(VALIDATE_AFTER_IDLE);
                f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
                assertThat(c.livenessChecks.get()).as("idle for validateAfterIdle: read").isEqualTo(2);
                assertThat(c.bufferedChecks.get()).isEqualTo(1);

                c.buffered = Liveness.UNEXPECTED_DATA; // stray bytes already held: found without a read
                Lease next = f.pool.acquire(true);
                assertThat(next.id()).isNotEqualTo(l.id());
                assertThat(c.isOpen()).isFalse();
                assertThat(f.pool.stats().closed(CloseReason.CLOSED_BY_PEER)).isEqualTo(1);
                f.pool.release(next, Outcome.REUSABLE);
            }
        }

        @Test
        void validateAfterIdleZeroReadsBeforeEveryReuse() throws Exception {
            try (PoolFixture f = fixture(b -> b.validateAfterIdle(Duration.ZERO))) {
                Lease l = f.pool.acquire(true);
                FakeConnection c = f.fake(l);
                f.pool.release(l, Outcome.REUSABLE);
                for (int i = 0; i < 3; i++) {
                    f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
                }
                assertThat(c.livenessChecks.get()).isEqualTo(3);
                assertThat(c.bufferedChecks.get()).isZero();
            }
        }

        @Test
        void brokenConnectionIsAbortedNotReused() throws Exception {
            try (PoolFixture f = fixture()) {
                Lease l = f.pool.acquire(true);
                FakeConnection c = f.fake(l);
                f.pool.release(l, Outcome.BROKEN);
                assertThat(c.aborted).isTrue();
                assertThat(f.pool.idleCount()).isZero();
                PoolStats s = f.pool.stats();
                assertThat(s.closed(CloseReason.BROKEN)).isEqualTo(1);
                assertThat(s.aborted()).isEqualTo(1);
                assertThat(s.total()).isZero();
            }
        }

        @Test
        void notReusableConnectionIsClosedGracefully() throws Exception {
            try (PoolFixture f = fixture()) {
                Lease l = f.pool.acquire(true);
                FakeConnection c = f.fake(l);
                f.pool.release(l, Outcome.NOT_REUSABLE);
                assertThat(c.closedGracefully).isTrue();
                assertThat(f.pool.stats().closed(CloseReason.NOT_REUSABLE)).isEqualTo(1);
                assertThat(f.pool.stats().aborted()).isZero();
            }
        }
    }

    @Nested
    class Limits {
        @Test
        void maxUsesRetiresTheConnection() throws Exception {
            try (PoolFixture f = fixture(b -> b.maxUses(3))) {
                for (int i = 0; i < 7; i++) {
                    f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
                }
                PoolStats s = f.pool.stats();
                assertThat(s.opened()).isEqualTo(3);
                assertThat(s.closed(CloseReason.MAX_USES)).isEqualTo(2);
                assertThat(s.connections()).filteredOn(r -> r.closeReason() == CloseReason.MAX_USES)
                        .extracting(ConnectionStats::uses).containsOnly(3);
            }
        }

        @Test
        void maxIdleClosesTheSurplusAtRelease() throws Exception {
            try (PoolFixture f = fixture(b -> b.maxIdle(2))) {
                List<Lease> held = f.acquirePerServer(4, true);
                for (Lease l : held) {
                    f.pool.release(l, Outcome.REUSABLE);
                }
                for (int i = 0; i < servers; i++) {
                    assertThat(f.idleOn(i)).as("idle on server " + i).isEqualTo(2);
                }
                assertThat(f.pool.idleCount()).isEqualTo(2 * servers);
                assertThat(f.pool.stats().closed(CloseReason.IDLE_LIMIT)).isEqualTo(2L * servers);
            }
        }

        @Test
        void maxIdleZeroKeepsNoIdleConnection() throws Exception {
            try (PoolFixture f = fixture(b -> b.maxIdle(0))) {
                f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
                assertThat(f.pool.idleCount()).isZero();
                assertThat(f.pool.stats().closed(CloseReason.IDLE_LIMIT)).isEqualTo(1);
            }
        }

        @Test
        void idleTimeoutClosesAtMaintenanceAndIsNeverHandedOut() throws Exception {
            try (PoolFixture f = fixture(b -> b.idleTimeout(Duration.ofSeconds(10)))) {
                f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
                f.advanceAndMaintain(Duration.ofMillis(9_999));
                assertThat(f.pool.idleCount()).as("not before its time").isEqualTo(1);
                f.advanceAndMaintain(Duration.ofMillis(1));
                assertThat(f.pool.idleCount()).isZero();
                assertThat(f.pool.stats().closed(CloseReason.IDLE_TIMEOUT)).isEqualTo(1);

                // And on the acquire path, without maintenance:
                f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
                f.ticker.advance(Duration.ofSeconds(10));
                Lease l = f.pool.acquire(true);
                assertThat(l.reused()).isFalse();
                assertThat(f.pool.stats().closed(CloseReason.IDLE_TIMEOUT)).isEqualTo(2);
                f.pool.release(l, Outcome.REUSABLE);
            }
        }

        @Test
        void maxLifetimeIsJitteredByUpTo2Point5Percent() throws Exception {
            int n = 200;
            try (PoolFixture f = fixture(b -> b.maxConnections(n).maxLifetime(Duration.ofSeconds(40))
                    .idleTimeout(Duration.ofHours(1)))) {
                List<Lease> all = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    all.add(f.pool.acquire(true));
                }
                long created = f.ticker.read();
                long[] lifetimes = all.stream().mapToLong(l -> ((PooledConnection) l).expiresAtNanos - created)
                        .toArray();
                for (long t : lifetimes) {
                    assertThat(t).isBetween(Duration.ofSeconds(39).toNanos(), Duration.ofSeconds(40).toNanos());
                }
                assertThat(java.util.Arrays.stream(lifetimes).distinct().count()).as("jittered").isGreaterThan(150);
                for (Lease l : all) {
                    f.pool.release(l, Outcome.REUSABLE);
                }
                f.advanceAndMaintain(Duration.ofMillis(39_000 - 1));
                assertThat(f.pool.stats().closed(CloseReason.MAX_LIFETIME)).isZero();
                f.advanceAndMaintain(Duration.ofMillis(500));
                long someExpired = f.pool.stats().closed(CloseReason.MAX_LIFETIME);
                assertThat(someExpired).isBetween(1L, (long) n - 1);
                f.advanceAndMaintain(Duration.ofMillis(501));
                assertThat(f.pool.stats().closed(CloseReason.MAX_LIFETIME)).isEqualTo(n);
            }
        }

        @Test
        void lifetimeExpiryAtReleaseClosesInsteadOfKeeping() throws Exception {
            try (PoolFixture f = fixture(b -> b.maxLifetime(Duration.ofSeconds(40)))) {
                Lease l = f.pool.acquire(true);
                f.ticker.advance(Duration.ofSeconds(41));
                f.pool.release(l, Outcome.REUSABLE);
                assertThat(f.pool.stats().closed(CloseReason.MAX_LIFETIME)).isEqualTo(1);
            }
        }

        @Test
        void serverKeepAliveTimeoutIsHonouredWithAMargin() throws Exception {
            try (PoolFixture f = fixture()) {
                Lease l = f.pool.acquire(true);
                f.pool.release(l, Outcome.keepAlive(Duration.ofSeconds(5), -1)); // keep 5 s - 1 s margin = 4 s
                f.advanceAndMaintain(Duration.ofMillis(3_999));
                assertThat(f.pool.idleCount()).isEqualTo(1);
                f.advanceAndMaintain(Duration.ofMillis(1));
                assertThat(f.pool.idleCount()).isZero();
                assertThat(f.pool.stats().closed(CloseReason.IDLE_TIMEOUT)).isEqualTo(1);
            }
        }

        @Test
        void shortServerKeepAliveTimeoutKeepsHalfOfIt() throws Exception {
            try (PoolFixture f = fixture()) {
                f.pool.release(f.pool.acquire(true), Outcome.keepAlive(Duration.ofSeconds(1), -1));
                f.ticker.advance(Duration.ofMillis(499));
                Lease l = f.pool.acquire(true);
                assertThat(l.reused()).isTrue();
                // The hint persists on the connection even when later responses repeat none.
                f.pool.release(l, Outcome.REUSABLE);
                f.ticker.advance(Duration.ofMillis(500));
                Lease m = f.pool.acquire(true);
                assertThat(m.reused()).isFalse();
                f.pool.release(m, Outcome.REUSABLE);
            }
        }

        @Test
        void serverKeepAliveMaxIsHonoured() throws Exception {
            try (PoolFixture f = fixture()) {
                // max=2: two more requests after this response, then no more.
                Lease l = f.pool.acquire(true);
                f.pool.release(l, Outcome.keepAlive(null, 2));
                Lease l2 = f.pool.acquire(true);
                assertThat(l2.id()).isEqualTo(l.id());
                f.pool.release(l2, Outcome.REUSABLE);
                Lease l3 = f.pool.acquire(true);
                assertThat(l3.id()).isEqualTo(l.id());
                f.pool.release(l3, Outcome.REUSABLE);
                assertThat(f.pool.stats().closed(CloseReason.MAX_USES)).isEqualTo(1);
                assertThat(f.pool.idleCount()).isZero();

                Lease z = f.pool.acquire(true);
                f.pool.release(z, Outcome.keepAlive(null, 0));
                assertThat(f.pool.stats().closed(CloseReason.MAX_USES)).isEqualTo(2);
            }
        }

        @Test
        void connectFailuresAreRetriedUpToRetries() throws Exception {
            try (PoolFixture f = fixture(b -> b.retries(2))) {
                f.connector.failures.add(new ConnectException("refused 1"));
                f.connector.failures.add(new ConnectException("refused 2"));
                Lease l = f.pool.acquire(false);
                assertThat(f.connector.attempts.get()).isEqualTo(3);
                f.pool.release(l, Outcome.REUSABLE);
                assertThat(f.pool.stats().connectFailures()).isEqualTo(2);

                for (int i = 0; i < 3; i++) {
                    f.connector.failures.add(new ConnectException("refused again " + i));
                }
                assertThatThrownBy(() -> f.pool.acquire(false)).isInstanceOf(ConnectException.class)
                        .hasMessage("refused again 2");
                assertThat(f.pool.total()).as("only the idle connection from before").isEqualTo(1);
            }
        }

        @Test
        void handshakeFailuresAreNeverRetried() throws Exception {
            try (PoolFixture f = fixture(b -> b.retries(3))) {
                f.connector.failures.add(new SSLHandshakeException("untrusted"));
                assertThatThrownBy(() -> f.pool.acquire(true)).isInstanceOf(SSLHandshakeException.class);
                assertThat(f.connector.attempts.get()).isEqualTo(1);
                assertThat(f.pool.total()).isZero();
            }
        }
    }

    /** Waiting happens at the limit of every server: each test first fills them all. */
    @Nested
    class Waiting {
        @Test
        void waiterGetsTheReleasedConnectionDirectly() throws Exception {
            try (PoolFixture f = fixture(b -> b.maxConnections(1).acquireTimeout(Duration.ofSeconds(5)))) {
                List<Lease> held = f.fill();
                CompletableFuture<Lease> waiter = CompletableFuture.supplyAsync(() -> acquire(f.pool, true), PoolFixture.OWN_THREAD);
                await().until(() -> f.pool.waitingCount() == 1);
                f.pool.release(held.get(0), Outcome.REUSABLE);
                Lease got = waiter.get(5, TimeUnit.SECONDS);
                assertThat(got.id()).isEqualTo(held.get(0).id());
                assertThat(got.reused()).isTrue();
                assertThat(f.pool.stats().acquireWaits()).isEqualTo(1);
                f.pool.release(got, Outcome.REUSABLE);
                releaseAll(f, held.subList(1, held.size()));
            }
        }

        @Test
        void waitersAreServedInArrivalOrder() throws Exception {
            try (PoolFixture f = fixture(b -> b.maxConnections(1).acquireTimeout(Duration.ofSeconds(5)))) {
                List<Lease> held = f.fill();
                List<Integer> served = new CopyOnWriteArrayList<>();
                List<CompletableFuture<Void>> all = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    int me = i;
                    all.add(CompletableFuture.runAsync(() -> {
                        Lease l = acquire(f.pool, true);
                        served.add(me);
                        f.pool.release(l, Outcome.REUSABLE);
                    }, r -> new Thread(r, "waiter-" + me).start()));
                    int expected = i + 1;
                    await().until(() -> f.pool.waitingCount() == expected);
                }
                f.pool.release(held.get(0), Outcome.REUSABLE); // the one connection that goes round
                CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(5, TimeUnit.SECONDS);
                assertThat(served).containsExactly(0, 1, 2, 3, 4);
                assertThat(f.connector.opened()).isEqualTo(f.capacity());
                releaseAll(f, held.subList(1, held.size()));
            }
        }

        @Test
        void aClosedConnectionsSlotGoesToTheLongestWaiter() throws Exception {
            try (PoolFixture f = fixture(b -> b.maxConnections(1).acquireTimeout(Duration.ofSeconds(5)))) {
                List<Lease> held = f.fill();
                CompletableFuture<Lease> waiter = CompletableFuture.supplyAsync(() -> acquire(f.pool, true), PoolFixture.OWN_THREAD);
                await().until(() -> f.pool.waitingCount() == 1);
                f.pool.release(held.get(0), Outcome.BROKEN);
                Lease got = waiter.get(5, TimeUnit.SECONDS);
                assertThat(got.id()).isNotEqualTo(held.get(0).id());
                assertThat(got.reused()).isFalse();
                assertThat(got.server()).as("the slot freed").isEqualTo(held.get(0).server());
                f.pool.release(got, Outcome.REUSABLE);
                releaseAll(f, held.subList(1, held.size()));
            }
        }

        @Test
        void aWaiterThePolicyForbidsTheConnectionGetsItsSlotInstead() throws Exception {
            try (PoolFixture f = fixture(b -> b.maxConnections(1).acquireTimeout(Duration.ofSeconds(5)))) {
                List<Lease> held = f.fill();
                CompletableFuture<Lease> post = CompletableFuture.supplyAsync(() -> acquire(f.pool, false), PoolFixture.OWN_THREAD);
                await().until(() -> f.pool.waitingCount() == 1);
                f.pool.release(held.get(0), Outcome.REUSABLE); // SAFE: a POST may not use it
                Lease got = post.get(5, TimeUnit.SECONDS);
                assertThat(got.reused()).isFalse();
                assertThat(f.pool.stats().closed(CloseReason.EVICTED)).isEqualTo(1);
                assertThat(f.pool.total()).isEqualTo(f.capacity());
                f.pool.release(got, Outcome.REUSABLE);
                releaseAll(f, held.subList(1, held.size()));
            }
        }

        @Test
        void atTheLimitAnIdleConnectionThePolicyForbidsIsReplaced() throws Exception {
            try (PoolFixture f = fixture(b -> b.maxConnections(1))) {
                releaseAll(f, f.fill()); // every server at its limit, with idle connections only
                Lease post = f.pool.acquire(false);
                assertThat(post.reused()).isFalse();
                assertThat(f.pool.stats().closed(CloseReason.EVICTED)).isEqualTo(1);
                assertThat(f.pool.total()).isEqualTo(f.capacity());
                f.pool.release(post, Outcome.REUSABLE);
            }
        }

        @Test
        void acquireTimeoutMessageCarriesThePoolsCounts() throws Exception {
            try (PoolFixture f = fixture(b -> b.maxConnections(1).retries(0)
                    .acquireTimeout(Duration.ofMillis(100)))) {
                f.connector.failures.add(new ConnectException("refused earlier"));
                assertThatThrownBy(() -> f.pool.acquire(true)).isInstanceOf(ConnectException.class);
                List<Lease> held = f.fill();
                int n = f.capacity();
                long start = System.nanoTime();
                assertThatThrownBy(() -> f.pool.acquire(true))
                        .isInstanceOfSatisfying(AcquireTimeoutException.class, e -> {
                            assertThat(e.getMessage()).startsWith("pool 'test' (" + backendUrl() + "): no "
                                    + "connection available after waiting ")
                                    .contains("total=" + n + ", idle=0, inUse=" + n + ", waiting=1, maxConnections=1")
                                    .contains("last connect failure: java.net.ConnectException: refused earlier");
                            assertThat(e.getCause()).isInstanceOf(ConnectException.class);
                            assertThat(e.waited()).isGreaterThanOrEqualTo(Duration.ofMillis(100));
                            assertThat(e.inUse()).isEqualTo(n);
                        });
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
                assertThat(f.pool.waitingCount()).isZero();
                assertThat(f.pool.stats().acquireTimeouts()).isEqualTo(1);
                releaseAll(f, held);
            }
        }

        @Test
        void zeroAcquireTimeoutFailsAtOnce() throws Exception {
            try (PoolFixture f = fixture(b -> b.maxConnections(1).acquireTimeout(Duration.ZERO))) {
                List<Lease> held = f.fill();
                assertThatThrownBy(() -> f.pool.acquire(true)).isInstanceOf(AcquireTimeoutException.class);
                releaseAll(f, held);
            }
        }

        @Test
        void interruptedWaiterGetsInterruptedIoExceptionWithTheFlagSet() throws Exception {
            try (PoolFixture f = fixture(b -> b.maxConnections(1).acquireTimeout(Duration.ofSeconds(10)))) {
                List<Lease> held = f.fill();
                CompletableFuture<Throwable> result = new CompletableFuture<>();
                Thread t = new Thread(() -> {
                    try {
                        f.pool.acquire(true);
                        result.complete(null);
                    } catch (Throwable e) {
                        assertThat(Thread.currentThread().isInterrupted()).isTrue();
                        result.complete(e);
                    }
                });
                t.start();
                await().until(() -> f.pool.waitingCount() == 1);
                t.interrupt();
                assertThat(result.get(5, TimeUnit.SECONDS)).isInstanceOf(InterruptedIOException.class);
                assertThat(f.pool.waitingCount()).isZero();
                f.pool.release(held.get(0), Outcome.REUSABLE);
                assertThat(f.pool.idleCount()).as("nothing handed to the waiter that left").isEqualTo(1);
                releaseAll(f, held.subList(1, held.size()));
            }
        }
    }

    @Nested
    class Sessions {
        @Test
        void sessionConnectionsServeTheSessionFirstAndNobodyElse() throws Exception {
            try (PoolFixture f = fixture()) {
                Session s = f.pool.openSession();
                Lease mine = f.pool.acquire(true, s);
                f.pool.release(mine, Outcome.REUSABLE);
                assertThat(s.idleConnections()).isEqualTo(1);
                assertThat(f.pool.idleCount()).isZero();

                Lease other = f.pool.acquire(true);
                assertThat(other.id()).isNotEqualTo(mine.id());
                f.pool.release(other, Outcome.REUSABLE);

                Lease again = f.pool.acquire(false, s); // non-replayable: still the session's own
                assertThat(again.id()).isEqualTo(mine.id());
                assertThat(again.session()).isSameAs(s);
                f.pool.release(again, Outcome.REUSABLE);

                s.close();
                assertThat(f.pool.idleCount()).as("back to the shared set").isEqualTo(2);
                assertThat(s.isOpen()).isFalse();
                assertThatThrownBy(() -> f.pool.acquire(true, s)).isInstanceOf(IllegalStateException.class);
            }
        }

        @Test
        void underNeverSessionsKeepTheirConnectionsAndOneShotsClose() throws Exception {
            try (PoolFixture f = fixture(b -> b.reusePolicy(ReusePolicy.NEVER))) {
                Session s = f.pool.openSession();
                for (int i = 0; i < 3; i++) {
                    f.pool.release(f.pool.acquire(false, s), Outcome.REUSABLE);
                }
                assertThat(f.connector.opened()).isEqualTo(1);
                f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
                assertThat(f.connector.opened()).isEqualTo(2);
                s.close();
                PoolStats st = f.pool.stats();
                assertThat(st.closed(CloseReason.NOT_SHARED)).isEqualTo(2);
                assertThat(st.total()).isZero();
            }
        }

        @Test
        void privateConnectionClosesWithItsSession() throws Exception {
            try (PoolFixture f = fixture()) {
                Session s = f.pool.openSession();
                Lease l = f.pool.acquire(true, s);
                l.makePrivate(); // e.g. it met an NTLM challenge
                f.pool.release(l, Outcome.REUSABLE);
                s.close();
                assertThat(f.pool.idleCount()).isZero();
                assertThat(f.pool.stats().closed(CloseReason.NOT_SHARED)).isEqualTo(1);
            }
        }

        @Test
        void privateConnectionWithoutSessionIsNotShared() throws Exception {
            try (PoolFixture f = fixture()) {
                Lease l = f.pool.acquire(true);
                l.makePrivate();
                f.pool.release(l, Outcome.REUSABLE);
                assertThat(f.pool.idleCount()).isZero();
                assertThat(f.pool.stats().closed(CloseReason.NOT_SHARED)).isEqualTo(1);
            }
        }

        @Test
        void sessionOfAnotherPoolIsRejected() throws Exception {
            try (PoolFixture f = fixture(); PoolFixture g = fixture()) {
                Session s = g.pool.openSession();
                assertThatThrownBy(() -> f.pool.acquire(true, s)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("does not belong to pool 'test'");
            }
        }

        @Test
        void expiredSessionConnectionsAreClosedByMaintenance() throws Exception {
            try (PoolFixture f = fixture(b -> b.idleTimeout(Duration.ofSeconds(5)))) {
                Session s = f.pool.openSession();
                f.pool.release(f.pool.acquire(true, s), Outcome.REUSABLE);
                f.advanceAndMaintain(Duration.ofSeconds(5));
                assertThat(s.idleConnections()).isZero();
                assertThat(f.pool.stats().closed(CloseReason.IDLE_TIMEOUT)).isEqualTo(1);
            }
        }
    }

    @Nested
    class Misuse {
        @Test
        void doubleReleaseIsRejected() throws Exception {
            try (PoolFixture f = fixture()) {
                Lease l = f.pool.acquire(true);
                f.pool.release(l, Outcome.REUSABLE);
                assertThatThrownBy(() -> f.pool.release(l, Outcome.REUSABLE))
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessage("lease on connection #1 of pool 'test' was already released");
                assertThatThrownBy(l::connection).isInstanceOf(IllegalStateException.class);
                assertThat(f.pool.idleCount()).isEqualTo(1);
            }
        }

        @Test
        void leaseOfAnotherPoolIsRejected() throws Exception {
            try (PoolFixture f = fixture(); PoolFixture g = fixture()) {
                Lease l = g.pool.acquire(true);
                assertThatThrownBy(() -> f.pool.release(l, Outcome.REUSABLE))
                        .isInstanceOf(IllegalArgumentException.class);
                g.pool.release(l, Outcome.REUSABLE);
            }
        }

        @Test
        void throwingListenerNeverBreaksThePool() throws Exception {
            io.berth.PoolListener bad = new io.berth.PoolListener() {
                @Override
                public void connectionAcquired(io.berth.ConnectionInfo c, boolean reused) {
                    throw new IllegalStateException("listener bug");
                }

                @Override
                public void connectionClosed(io.berth.ConnectionInfo c, CloseReason r) {
                    throw new IllegalStateException("listener bug");
                }
            };
            try (LogCapture logs = new LogCapture(LockFreeBackendPool.class);
                    PoolFixture f = fixture(b -> b.listener(bad))) {
                for (int i = 0; i < 5; i++) {
                    f.pool.release(f.pool.acquire(true), Outcome.NOT_REUSABLE);
                }
                assertThat(f.pool.stats().closed(CloseReason.NOT_REUSABLE)).isEqualTo(5);
                assertThat(logs.warnings()).as("logged once").hasSize(1);
                assertThat(logs.warnings().get(0)).contains("pool 'test'").contains("PoolListener");
            }
        }

        @Test
        void throwingPolicyIsTreatedAsNo() throws Exception {
            io.berth.ReusePolicy bad = (replayable, c) -> {
                throw new IllegalStateException("policy bug");
            };
            try (LogCapture logs = new LogCapture(LockFreeBackendPool.class);
                    PoolFixture f = fixture(b -> b.reusePolicy(bad))) {
                f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
                Lease l = f.pool.acquire(true);
                assertThat(l.reused()).isFalse();
                f.pool.release(l, Outcome.REUSABLE);
                assertThat(logs.warnings()).hasSize(1);
            }
        }

        @Test
        void throwingSchedulerIsLoggedOnceAndThePoolKeepsWorking() throws Exception {
            io.berth.PurgeScheduler bad = (task, delay, unit) -> {
                throw new java.util.concurrent.RejectedExecutionException("scheduler bug");
            };
            try (LogCapture logs = new LogCapture(LockFreeBackendPool.class)) {
                BackendPool pool = Berth.newPool(PoolFixture.backend(servers),
                        io.berth.BackendPoolConfig.builder().purgeScheduler(bad).build(), new FakeConnector());
                for (int i = 0; i < 3; i++) {
                    pool.release(pool.acquire(true), Outcome.REUSABLE);
                }
                assertThat(pool.stats().opened()).isEqualTo(1);
                pool.close();
                assertThat(logs.warnings()).hasSize(1);
                assertThat(logs.warnings().get(0)).contains("PurgeScheduler");
            }
        }
    }

    @Nested
    class Closing {
        @Test
        void closeClosesIdleNowAndInUseAtRelease() throws Exception {
            PoolFixture f = fixture(b -> b.maxConnections(2));
            Lease idle = f.pool.acquire(true);
            Lease busy = f.pool.acquire(true);
            FakeConnection idleConn = f.fake(idle);
            FakeConnection busyConn = f.fake(busy);
            f.pool.release(idle, Outcome.REUSABLE);

            f.pool.close();

            assertThat(f.pool.isClosed()).isTrue();
            assertThat(idleConn.closedGracefully).as("idle: closed at once").isTrue();
            assertThat(busyConn.isOpen()).as("in use: closes at release").isTrue();
            f.pool.release(busy, Outcome.REUSABLE);
            assertThat(busyConn.closedGracefully).isTrue();
            assertThat(f.pool.stats().closed(CloseReason.POOL_CLOSED)).isEqualTo(2);
            assertThat(f.pool.total()).isZero();
            assertThatThrownBy(() -> f.pool.acquire(true)).isInstanceOf(PoolClosedException.class)
                    .hasMessage("pool 'test' (" + backendUrl() + ") is closed");
            assertThatThrownBy(f.pool::openSession).isInstanceOf(PoolClosedException.class);
            f.pool.close(); // idempotent
            assertThat(f.pool.stats().closed(CloseReason.POOL_CLOSED)).isEqualTo(2);
        }

        @Test
        void closeFailsEveryWaiter() throws Exception {
            PoolFixture f = fixture(b -> b.maxConnections(1).acquireTimeout(Duration.ofSeconds(10)));
            List<Lease> held = f.fill();
            List<CompletableFuture<Throwable>> waiters = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                waiters.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        f.pool.acquire(true);
                        return null;
                    } catch (Throwable e) {
                        return e;
                    }
                }, r -> new Thread(r).start()));
            }
            await().until(() -> f.pool.waitingCount() == 3);
            f.pool.close();
            for (CompletableFuture<Throwable> w : waiters) {
                assertThat(w.get(5, TimeUnit.SECONDS)).isInstanceOf(PoolClosedException.class);
            }
            releaseAll(f, held);
            assertThat(f.connector.openCount()).isZero();
            assertThat(f.pool.total()).isZero();
            assertThat(f.scheduler.pending()).as("maintenance cancelled").isZero();
        }
    }

    @Nested
    class Reconfiguration {
        @Test
        void raisingMaxConnectionsAdmitsWaitersAtOnce() throws Exception {
            try (PoolFixture f = fixture(b -> b.maxConnections(1).acquireTimeout(Duration.ofSeconds(10)))) {
                List<Lease> held = f.fill();
                CompletableFuture<Lease> waiter = CompletableFuture.supplyAsync(() -> acquire(f.pool, true), PoolFixture.OWN_THREAD);
                await().until(() -> f.pool.waitingCount() == 1);
                f.pool.control().reconfigure(f.pool.config().toBuilder().maxConnections(2).build());
                Lease got = waiter.get(5, TimeUnit.SECONDS);
                assertThat(got.id()).isNotIn(held.stream().map(Lease::id).toList());
                assertThat(got.reused()).isFalse();
                f.pool.release(got, Outcome.REUSABLE);
                releaseAll(f, held);
                assertThat(f.pool.config().maxConnections()).isEqualTo(2);
            }
        }

        @Test
        void loweringLimitsClosesTheExcess() throws Exception {
            try (PoolFixture f = fixture(b -> b.maxConnections(4))) {
                List<Lease> l = f.acquirePerServer(4, true); // round by round: two rounds are two per server
                int half = 2 * servers;
                releaseAll(f, l.subList(0, half));
                f.pool.control().reconfigure(f.pool.config().toBuilder().maxConnections(2).build());
                assertThat(f.pool.total()).isEqualTo(half);
                for (ServerStats s : f.pool.stats().servers()) {
                    assertThat(s.total()).as(s.server()).isEqualTo(2);
                    assertThat(s.idle()).as(s.server()).isZero();
                }
                releaseAll(f, l.subList(half, l.size()));
                assertThat(f.pool.stats().closed(CloseReason.EVICTED)).isEqualTo(half);
                assertThat(f.pool.total()).isEqualTo(half);
            }
        }

        @Test
        void switchingToNeverClosesTheSharedIdleSet() throws Exception {
            try (PoolFixture f = fixture()) {
                f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
                f.pool.control().reconfigure(f.pool.config().toBuilder().reusePolicy(ReusePolicy.NEVER).build());
                assertThat(f.pool.idleCount()).isZero();
                Lease l = f.pool.acquire(true);
                assertThat(l.reused()).isFalse();
                f.pool.release(l, Outcome.REUSABLE);
                assertThat(f.pool.idleCount()).isZero();
            }
        }

        @Test
        void hooksCannotChangeWhileRunning() throws Exception {
            try (PoolFixture f = fixture()) {
                io.berth.BackendPoolConfig c = f.pool.config();
                f.pool.control().reconfigure(c.toBuilder().maxConnections(3).build());
                assertThatThrownBy(() -> f.pool.control().reconfigure(c.toBuilder()
                        .ticker(io.berth.Ticker.system()).build()))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessage("ticker cannot change on a running pool");
                assertThatThrownBy(() -> f.pool.control().reconfigure(c.toBuilder().name("other").build()))
                        .hasMessage("name cannot change on a running pool (test -> other)");
                assertThatThrownBy(() -> f.pool.control().reconfigure(c.toBuilder().listener(
                        new io.berth.PoolListener() { }).build()))
                        .hasMessage("listener cannot change on a running pool");
                assertThatThrownBy(() -> f.pool.control().reconfigure(c.toBuilder()
                        .purgeScheduler(new io.berth.testing.ManualPurgeScheduler()).build()))
                        .hasMessage("purgeScheduler cannot change on a running pool");
                assertThat(f.pool.config().maxConnections()).as("the failed ones changed nothing").isEqualTo(3);
            }
        }
    }

    @Nested
    class Stats {
        @Test
        void tableShowsOpenConnectionsThenRecentlyClosedOnes() throws Exception {
            try (PoolFixture f = fixture()) {
                f.connector.resumeTls = true;
                Lease a = f.pool.acquire(true);
                Lease b = f.pool.acquire(true);
                f.pool.release(a, Outcome.REUSABLE);
                f.pool.release(b, Outcome.NOT_REUSABLE);
                PoolStats s = f.pool.stats();
                assertThat(s.pool()).isEqualTo("test");
                assertThat(s.backend()).isEqualTo(backendUrl());
                assertThat(s.connections()).extracting(ConnectionStats::id, ConnectionStats::state,
                        ConnectionStats::closeReason)
                        .containsExactly(
                                org.assertj.core.groups.Tuple.tuple(1L, ConnectionState.IDLE, null),
                                org.assertj.core.groups.Tuple.tuple(2L, ConnectionState.CLOSED,
                                        CloseReason.NOT_REUSABLE));
                assertThat(s.connections().get(0).server()).isEqualTo(a.server().toString());
                assertThat(s.connections().get(1).server()).isEqualTo(b.server().toString());
                assertThat(a.server().toString()).isEqualTo(servers == 1 ? "backend.test:8443" : "s0.test:8443");
                assertThat(s.connections()).allSatisfy(r -> {
                    assertThat(r.tlsSessionResumed()).isTrue();
                    assertThat(r.lastUsed()).isNotNull();
                });
                assertThat(s.tlsResumed()).isEqualTo(2);
                assertThat(s.peakInUse()).isEqualTo(2);
                assertThat(s.closedTotal()).isEqualTo(1);
                assertThat(s.closed()).containsOnlyKeys(CloseReason.values());
                assertThat(s.reuseRatio()).isZero();
            }
        }
    }

    static void releaseAll(PoolFixture f, List<Lease> leases) {
        for (Lease l : leases) {
            f.pool.release(l, Outcome.REUSABLE);
        }
    }

    static Lease acquire(BackendPool pool, boolean replayable) {
        try {
            return pool.acquire(replayable);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
