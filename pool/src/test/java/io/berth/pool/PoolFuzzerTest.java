package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.AcquireTimeoutException;
import io.berth.BackendUnavailableException;
import io.berth.CloseReason;
import io.berth.ConnectionState;
import io.berth.ConnectionStats;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.PoolClosedException;
import io.berth.PoolStats;
import io.berth.ReusePolicy;
import io.berth.Server;
import io.berth.ServerState;
import io.berth.Session;
import io.berth.spi.Connection.Liveness;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A seeded deterministic fuzzer of the pool (after HttpCore's TestConnPoolDeterministicFuzzer), for a
 * backend of one server and of three: 7,500 random steps per run (acquire, release with every kind
 * of outcome, purge passes, clock jumps, the server closing idle connections, failed connects,
 * sessions, reconfiguration; servers added, removed, drained and resumed, re-weighted to 0 and back,
 * marked down by failed connects; callers that wait), checking the pool's invariants after every
 * step, per server and in total. A failure prints the servers, the seed, the step and the steps before
 * it; the same seed replays the same run ({@link #theSameSeedReplaysTheSameRun} checks that).
 *
 * <h2>Callers that wait</h2>
 * A step may start a background caller (at most {@value #MAX_WAITERS} at once) with a real acquire
 * timeout; the step then waits for quiescence: every background caller has finished (its lease joins
 * the held ones) or is parked in the pool's queue ({@code waitingCount()} matches and its thread is
 * TIMED_WAITING, its waiter still in the queue). To keep a run deterministic, a background caller
 * runs only while the main thread waits for quiescence, one at a time: the fake ticker and the fake
 * connector hold it at its first read or connect after it starts or wakes, until the main thread
 * hands it the baton; it keeps the baton until it is parked again or done. While anybody waits, the
 * invariants add: no server that serves requests has an idle connection the waiter's policy accepts,
 * and no server that takes new connections has room below {@code maxConnections} or an idle
 * connection it could replace (HAProxy closes one when it needs a new one at {@code maxconn}); and a
 * caller without a session only ever gets a connection of a server that serves requests.
 *
 * <h2>What stays out of real time</h2>
 * Waiters never time out during a run ({@value #WAITER_TIMEOUT_SECONDS} s), and never wake by
 * themselves: a server marked down is down for {@link #BACKOFF} of fake time, and small clock steps
 * never bring its remaining back-off below {@link #MIN_BACKOFF_LEFT} (more than the waiters' timeout,
 * so a waiter never plans to wake at its end); only a long pause (or a resume) ends it, and maintenance
 * runs after the pause, as a scheduler would. The clock moves in steps of {@link #QUANTUM}, more than the jitter of
 * {@link #LIFETIME} (2.5%), so whether a connection has expired never depends on that jitter.
 */
class PoolFuzzerTest {
    private static final int STEPS = 7_500;
    private static final int MAX_WAITERS = 2;
    private static final long WAITER_TIMEOUT_SECONDS = 60;
    private static final Duration QUANTUM = Duration.ofMillis(250);
    /** 39 quanta: its jitter (up to 1/40) stays below one quantum. */
    private static final Duration LIFETIME = QUANTUM.multipliedBy(39);
    private static final Duration BACKOFF = Duration.ofMinutes(10);
    private static final Duration MIN_BACKOFF_LEFT = Duration.ofMinutes(2);
    private static final Duration PAUSE = Duration.ofHours(1);
    private static final int FAILURES_TO_MARK_DOWN = 2;
    private static final ReusePolicy[] POLICIES = {ReusePolicy.SAFE, ReusePolicy.AGGRESSIVE, ReusePolicy.ALWAYS,
        ReusePolicy.NEVER};

    static Stream<Arguments> runs() {
        return Stream.of(1, 3).flatMap(servers -> Stream.of(1L, 2L, 3L, 4L).map(seed -> Arguments.of(servers, seed)));
    }

    @ParameterizedTest(name = "{0} server(s), seed {1}")
    @MethodSource("runs")
    @Timeout(120)
    void invariantsHoldAfterEveryStep(int servers, long seed) throws Exception {
        int violationsBefore = FakeConnection.VIOLATIONS.get();
        try (Run run = new Run(servers, seed, false)) {
            run.steps(STEPS);
            // The run must have exercised the pool, not idled through it.
            PoolStats end = run.f.pool.stats();
            assertThat(end.acquired()).as("acquired").isGreaterThan(1000);
            long reasons = java.util.Arrays.stream(CloseReason.values()).filter(r -> end.closed(r) > 0).count();
            assertThat(reasons).as("distinct close reasons seen: " + end.closed()).isGreaterThanOrEqualTo(6);
            assertThat(run.counts).as("what the run did").allSatisfy((what, n) -> assertThat(n).as(what)
                    .isGreaterThanOrEqualTo(what.startsWith("waiter") ? 10 : 3));
            run.finish();
        }
        assertThat(FakeConnection.VIOLATIONS.get()).as("connections probed or closed twice")
                .isEqualTo(violationsBefore);
    }

    @Test
    @Timeout(60)
    void theSameSeedReplaysTheSameRun() throws Exception {
        List<String> first;
        try (Run run = new Run(3, 5, true)) {
            run.steps(2_000);
            first = run.trace;
            run.finish();
        }
        try (Run run = new Run(3, 5, true)) {
            run.steps(2_000);
            assertThat(run.trace).containsExactlyElementsOf(first);
            assertThat(run.counts.get("waiter served after waiting")).as("with callers waiting").isPositive();
            run.finish();
        }
    }

    /** The waiting invariant can fail: a caller left waiting beside an idle connection it may use. */
    @Test
    @Timeout(30)
    void canaryAWaiterBesideAnIdleConnectionItMayUseIsCaught() throws Exception {
        try (PoolFixture f = new PoolFixture(b -> b.maxConnections(2).acquireTimeout(Duration.ofSeconds(10)))) {
            Lease a = f.pool.acquire(true);
            Lease b = f.pool.acquire(true);
            Thread waiter = parkedWaiter(f);
            checkInvariants(f, List.of(a, b), List.of(), List.of(true)); // a legitimate wait
            // By hand, what a release must never do: make the connection idle and pass the waiter by.
            PooledConnection c = (PooledConnection) a;
            assertThat(c.casState(PooledConnection.IN_USE, PooledConnection.IDLE)).isTrue();
            f.pool.stats.connectionNotBusy(c);
            c.entry.table.add(c.index, f.ticker.read());
            assertThatThrownBy(() -> checkInvariants(f, List.of(b), List.of(), List.of(true)))
                    .isInstanceOf(AssertionError.class)
                    .hasMessageContaining("a caller (replayable=true) waits while backend.test:8443 has idle "
                            + "connection #1, which its policy accepts");
            f.pool.close();
            waiter.join(5_000);
            assertThat(waiter.isAlive()).isFalse();
            f.pool.release(b, Outcome.REUSABLE);
        }
    }

    /** The waiting invariant can fail: a caller left waiting while a server has room for a connection. */
    @Test
    @Timeout(30)
    void canaryAWaiterBesideRoomForANewConnectionIsCaught() throws Exception {
        try (PoolFixture f = new PoolFixture(b -> b.maxConnections(1).acquireTimeout(Duration.ofSeconds(10)))) {
            Lease a = f.pool.acquire(false);
            Thread waiter = parkedWaiter(f);
            // By hand, what reconfiguring must never do: raise the limit and leave the waiter waiting.
            f.pool.settings = new Settings(f.pool.config().toBuilder().maxConnections(2).build());
            assertThatThrownBy(() -> checkInvariants(f, List.of(a), List.of(), List.of(true)))
                    .isInstanceOf(AssertionError.class)
                    .hasMessageContaining("a caller waits while backend.test:8443 takes new connections and has "
                            + "room: total 1 < maxConnections 2");
            f.pool.close();
            waiter.join(5_000);
            assertThat(waiter.isAlive()).isFalse();
            f.pool.release(a, Outcome.REUSABLE);
        }
    }

    /** @return a thread parked in the pool's queue, acquiring a replayable lease (it ends when the pool closes) */
    private static Thread parkedWaiter(PoolFixture f) {
        Thread t = new Thread(() -> {
            try {
                f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
            } catch (PoolClosedException expected) {
                // the canary closes the pool to end it
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "canary-waiter");
        t.start();
        org.awaitility.Awaitility.await().until(() -> f.pool.waitingCount() == 1
                && t.getState() == Thread.State.TIMED_WAITING);
        return t;
    }

    /** One fuzzing run: a pool, the random steps, what the callers hold, the background callers. */
    private static final class Run implements AutoCloseable {
        private static final ThreadLocal<Background> CURRENT = new ThreadLocal<>();

        final int servers;
        final long seed;
        final SplittableRandom rnd;
        final ReusePolicy policy;
        final PoolFixture f;
        final List<Lease> held = new ArrayList<>();
        final List<Session> sessions = new ArrayList<>();
        final Background[] waiters = new Background[MAX_WAITERS];
        final List<Server> removed = new ArrayList<>();
        /** The one background caller that may run now (see the class comment), or null. */
        volatile Background baton;
        /** How often each kind of event happened (a run must do each kind several times). */
        final Map<String, Integer> counts = new java.util.TreeMap<>();
        /** Every step with the pool's counts after it, when kept; else the last few steps, for a failure. */
        final List<String> trace = new ArrayList<>();
        final ArrayDeque<String> recent = new ArrayDeque<>();
        final boolean keepTrace;
        int nextServer;

        Run(int servers, long seed, boolean keepTrace) {
            this.servers = servers;
            this.seed = seed;
            this.keepTrace = keepTrace;
            this.rnd = new SplittableRandom(seed);
            this.policy = POLICIES[(int) Math.floorMod(seed, (long) POLICIES.length)];
            this.f = new PoolFixture(servers, b -> b.maxConnections(6).maxIdle(4).minIdle(1).reusePolicy(policy)
                    .purgeDelay(Duration.ofSeconds(2)).idleTimeout(Duration.ofSeconds(5)).maxUses(7)
                    .maxLifetime(LIFETIME).acquireTimeout(Duration.ZERO).retries(1)
                    .failuresToMarkDown(FAILURES_TO_MARK_DOWN).downBackoff(BACKOFF).maxDownBackoff(BACKOFF.multipliedBy(4)));
            this.nextServer = servers;
            for (String what : List.of("waiter parked", "waiter served after waiting", "server added",
                    "server removed", "server drained", "server resumed", "server weight 0", "server weight back",
                    "server marked down")) {
                counts.put(what, 0);
            }
            f.ticker.gate = Run::gate;
            f.connector.gate = Run::gate;
        }

        void steps(int n) throws Exception {
            for (int step = 0; step < n; step++) {
                String what = step();
                settle();
                collectFinished();
                PoolStats stats = f.pool.stats();
                String line = step + " " + what + " -> " + fingerprint(stats);
                recent.addLast(line);
                if (recent.size() > 12) {
                    recent.removeFirst();
                }
                if (keepTrace) {
                    trace.add(line);
                }
                try {
                    checkInvariants(f, stats, held, sessions, waitingReplayable());
                } catch (AssertionError e) {
                    throw new AssertionError(servers + " server(s), seed " + seed + ", step " + step + " (" + what
                            + "): " + e.getMessage() + "\nlast steps:\n  " + String.join("\n  ", recent), e);
                }
            }
        }

        private String fingerprint(PoolStats s) {
            return "total=" + s.total() + " idle=" + s.idle() + " inUse=" + s.inUse() + " waiting=" + s.waiting()
                    + " opened=" + s.opened() + " closed=" + s.closedTotal() + " held=" + held.size() + " servers="
                    + f.pool.entries.length;
        }

        private String step() throws IOException {
            int op = rnd.nextInt(1000);
            if (op < 330) {
                return acquire();
            } else if (op < 630) {
                return release();
            } else if (op < 700) {
                return advance();
            } else if (op < 770) {
                return maintain();
            } else if (op < 820) {
                return peerClose();
            } else if (op < 850) {
                sessions.add(f.pool.openSession());
                return "open session";
            } else if (op < 880) {
                if (sessions.isEmpty()) {
                    return "no session";
                }
                sessions.remove(rnd.nextInt(sessions.size())).close();
                return "close session";
            } else if (op < 910) {
                int max = 1 + rnd.nextInt(7);
                int maxIdle = rnd.nextInt(max + 1);
                f.pool.control().reconfigure(f.pool.config().toBuilder().maxConnections(max).maxIdle(maxIdle)
                        .minIdle(Math.min(1, maxIdle)).build());
                return "reconfigure max=" + max + " maxIdle=" + maxIdle;
            } else if (op < 950) {
                return startWaiter();
            } else if (op < 953) {
                return addServer();
            } else if (op < 956) {
                return removeServer();
            } else if (op < 959) {
                ServerEntry e = anyServer();
                f.pool.control().drainServer(e.server);
                count("server drained");
                return "drain " + e.server;
            } else if (op < 962) {
                ServerEntry e = anyServer();
                f.pool.control().reweight(e.server, 0);
                count("server weight 0");
                return "reweight " + e.server + " to 0";
            } else if (op < 966) {
                return markDown();
            } else if (op < 990) {
                return heal();
            }
            return pause();
        }

        private String acquire() throws IOException {
            boolean replayable = rnd.nextInt(4) != 0;
            Session s = !sessions.isEmpty() && rnd.nextBoolean() ? sessions.get(rnd.nextInt(sessions.size())) : null;
            if (rnd.nextInt(20) == 0) {
                f.connector.failures.add(new ConnectException("fuzz refused"));
            }
            try {
                Lease l = f.pool.acquire(replayable, s, 0, TimeUnit.NANOSECONDS);
                held.add(l);
                if (s == null) {
                    servesRequests(l, "an acquire");
                }
                return "acquire replayable=" + replayable + " session=" + (s != null);
            } catch (AcquireTimeoutException | BackendUnavailableException | ConnectException e) {
                f.connector.failures.clear();
                return "acquire failed: " + e.getClass().getSimpleName();
            }
        }

        private String release() {
            if (held.isEmpty()) {
                return "nothing to release";
            }
            Lease l = held.remove(rnd.nextInt(held.size()));
            if (rnd.nextInt(10) == 0) {
                l.makePrivate();
            }
            int kind = rnd.nextInt(10);
            Outcome o = kind < 6 ? Outcome.REUSABLE
                    : kind == 6 ? Outcome.NOT_REUSABLE
                    : kind == 7 ? Outcome.BROKEN
                    : kind == 8 ? Outcome.keepAlive(Duration.ofSeconds(rnd.nextInt(4)), -1)
                    : Outcome.keepAlive(null, rnd.nextInt(3));
            f.pool.release(l, o);
            return "release #" + l.id() + " " + o;
        }

        /** A small step of the clock; a long pause instead if it would bring a back-off near its end. */
        private String advance() {
            Duration d = QUANTUM.multipliedBy(rnd.nextInt(12));
            long now = f.ticker.read();
            for (ServerEntry e : f.pool.entries) {
                ServerHealth h = e.health;
                if (h.state() == ServerState.DOWN && !h.downByCheck()
                        && h.downUntil() - now - d.toNanos() < MIN_BACKOFF_LEFT.toNanos()) {
                    return pause();
                }
            }
            f.ticker.advance(d);
            return "advance " + d.toMillis() + " ms";
        }

        /** A long pause: back-offs end, everything idle expires, and maintenance runs as it would have. */
        private String pause() {
            f.ticker.advance(PAUSE);
            return "pause 1 h, then " + maintain();
        }

        /**
         * A maintenance pass. While callers wait, it would close the expired or dead connections of
         * sessions in the order of the pool's set of sessions (a hash order, not the same from one run
         * to the next), and each close gives its slot to a waiter: so the fuzzer first closes those, as
         * the pass would, in the order of its own list of sessions.
         */
        private String maintain() {
            if (waitingReplayable().isEmpty()) {
                f.pool.maintain(f.ticker.read());
                return "maintain";
            }
            long now = f.ticker.read();
            Settings st = f.pool.settings;
            int closed = 0;
            for (Session s : sessions) {
                for (PooledConnection c : ((PinnedSession) s).removeIf(x -> Retirement.expiry(x, now, st) != null
                        || LockFreeBackendPool.livenessProblem(x, true) != null)) {
                    CloseReason r = Retirement.expiry(c, now, st);
                    f.pool.recycler.closeConnection(c, r != null ? r : CloseReason.CLOSED_BY_PEER, false);
                    closed++;
                }
            }
            f.pool.maintain(f.ticker.read());
            return "maintain (" + closed + " session connections closed first)";
        }

        private String peerClose() {
            List<FakeConnection> open = new ArrayList<>();
            synchronized (f.connector.connections) {
                for (FakeConnection c : f.connector.connections) {
                    if (c.isOpen()) {
                        open.add(c);
                    }
                }
            }
            if (open.isEmpty()) {
                return "no connection for the peer to close";
            }
            FakeConnection c = open.get(rnd.nextInt(open.size()));
            c.liveness = rnd.nextBoolean() ? Liveness.CLOSED_BY_PEER : Liveness.UNEXPECTED_DATA;
            return "peer closed " + c.n;
        }

        private String startWaiter() {
            boolean replayable = rnd.nextInt(4) != 0;
            for (int slot = 0; slot < MAX_WAITERS; slot++) {
                if (waiters[slot] == null) {
                    waiters[slot] = new Background(slot, replayable);
                    waiters[slot].thread.start();
                    return "waiter " + slot + " replayable=" + replayable;
                }
            }
            return "no room for another waiter";
        }

        private ServerEntry anyServer() {
            ServerEntry[] es = f.pool.entries;
            return es[rnd.nextInt(es.length)];
        }

        private String addServer() {
            if (f.pool.entries.length > servers) {
                return "no server added (" + f.pool.entries.length + " already)";
            }
            Server s = !removed.isEmpty() && rnd.nextBoolean() ? removed.remove(rnd.nextInt(removed.size()))
                    : PoolFixture.server(nextServer++);
            f.pool.control().addServer(s, 1);
            count("server added");
            return "add " + s;
        }

        private String removeServer() {
            if (f.pool.entries.length == 1) {
                return "no server removed (the last one)";
            }
            ServerEntry e = anyServer();
            f.pool.control().removeServer(e.server);
            removed.add(e.server);
            count("server removed");
            return "remove " + e.server;
        }

        /** Brings one server that was drained, marked down or given weight 0 back: resumed, weight 1. */
        private String heal() {
            List<ServerEntry> sick = new ArrayList<>();
            for (ServerEntry e : f.pool.entries) {
                if (e.weight == 0 || e.state() == ServerState.DRAINING || e.state() == ServerState.DOWN) {
                    sick.add(e);
                }
            }
            if (sick.isEmpty()) {
                return "nothing to heal";
            }
            ServerEntry e = sick.get(rnd.nextInt(sick.size()));
            ServerState s = e.state();
            if (s == ServerState.DRAINING || s == ServerState.DOWN) {
                f.pool.control().resumeServer(e.server);
                count("server resumed");
            }
            if (e.weight == 0) {
                f.pool.control().reweight(e.server, 1);
                count("server weight back");
            }
            return "heal " + e.server + " (" + s + ")";
        }

        /** The server refuses connections until new connections to it marked it down (or none could be tried). */
        private String markDown() {
            ServerEntry e = anyServer();
            if (!e.takesNewConnections(f.ticker.read(), f.pool.settings.slowStartNanos)) {
                return "no mark-down: " + e.server + " is " + e.state() + " with weight " + e.weight;
            }
            f.connector.refusing.add(e.server);
            int attempts = 0;
            try {
                while (e.state() != ServerState.DOWN && attempts++ < 2 * FAILURES_TO_MARK_DOWN * f.pool.entries.length) {
                    try {
                        held.add(f.pool.acquireNew(false, null, 0, null));
                    } catch (ConnectException | BackendUnavailableException expected) {
                        // a connect to it failed (and the retry too)
                    } catch (AcquireTimeoutException full) {
                        break; // no room for a new connection anywhere
                    }
                }
            } catch (IOException unexpected) {
                throw new java.io.UncheckedIOException(unexpected);
            } finally {
                f.connector.refusing.remove(e.server);
            }
            boolean down = e.state() == ServerState.DOWN;
            if (down) {
                count("server marked down");
            }
            return "mark down " + e.server + ": " + (down ? "down" : e.state()) + " after " + attempts + " acquires";
        }

        /**
         * A caller without a session gets a connection only of a server that serves requests (not one
         * of weight 0, draining or removed): none changed in the step that served it.
         */
        private void servesRequests(Lease l, String who) {
            ServerEntry e = ((PooledConnection) l).entry;
            if (!e.servesRequests()) {
                throw new AssertionError(servers + " server(s), seed " + seed + ": " + who + " got connection #"
                        + l.id() + " of " + e.server + ", which serves no requests (weight " + e.weight + ", "
                        + e.state() + (e.removed ? ", removed" : "") + ")\nlast steps:\n  " + String.join("\n  ", recent));
            }
        }

        private void count(String what) {
            counts.merge(what, 1, Integer::sum);
        }

        /** @return the replayable flag of each caller parked in the pool's queue (after {@link #settle}) */
        private List<Boolean> waitingReplayable() {
            Set<Thread> queued = queued();
            List<Boolean> out = new ArrayList<>();
            for (Background b : waiters) {
                if (b != null && queued.contains(b.thread)) {
                    out.add(b.replayable);
                }
            }
            return out;
        }

        /**
         * Waits until every background caller has finished or is parked in the pool's queue, letting
         * those held at a gate go on one at a time, lowest slot first. A caller is parked when its
         * thread is TIMED_WAITING and its waiter is in the queue, not yet served ({@link WaitQueue#offer}
         * with a chooser that takes nothing lists those); one held at a gate may be in the queue too,
         * between its enqueue and its look at the idle connections.
         */
        void settle() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (int spins = 0; ; spins++) {
                Set<Thread> queued = queued();
                Background gated = null;
                boolean running = false;
                for (Background b : waiters) {
                    if (b == null) {
                        continue;
                    }
                    Thread.State s = b.thread.getState();
                    if (s == Thread.State.TERMINATED) {
                        continue;
                    }
                    if (b.atGate) {
                        gated = gated == null ? b : gated;
                    } else if (s != Thread.State.TIMED_WAITING || !queued.contains(b.thread)) {
                        running = true;
                    }
                }
                if (!running && f.pool.waitingCount() == queued.size()) {
                    baton = null; // its holder, if any, is parked or done
                    if (gated == null) {
                        for (Background b : waiters) {
                            if (b != null && !b.parkedOnce && queued.contains(b.thread)) {
                                b.parkedOnce = true;
                                count("waiter parked");
                            }
                        }
                        return;
                    }
                    int passes = gated.passes.get();
                    baton = gated;
                    gated.go.release();
                    while (gated.passes.get() == passes) {
                        pauseBriefly(deadline, "background caller " + gated.slot + " to pass its gate");
                    }
                    spins = 0;
                    continue;
                }
                if (spins > 50) {
                    pauseBriefly(deadline, "quiescence of the background callers");
                } else {
                    Thread.onSpinWait();
                }
            }
        }

        /** @return the threads whose waiters are in the pool's queue, not yet served */
        private Set<Thread> queued() {
            Set<Thread> queued = new HashSet<>();
            f.pool.waiters.offer(w -> {
                queued.add(w.thread);
                return null; // takes nothing: only lists
            });
            return queued;
        }

        private void pauseBriefly(long deadline, String what) {
            if (System.nanoTime() - deadline > 0) {
                StringBuilder sb = new StringBuilder("no quiescence: waited for " + what + "; waiting="
                        + f.pool.waitingCount());
                for (Background b : waiters) {
                    if (b != null) {
                        sb.append("; caller ").append(b.slot).append(' ').append(b.thread.getState())
                                .append(b.atGate ? " at its gate" : "");
                    }
                }
                throw new AssertionError(sb.toString());
            }
            LockSupport.parkNanos(20_000);
        }

        /** Background callers that finished: their leases join the held ones, in slot order. */
        private void collectFinished() throws InterruptedException {
            for (int slot = 0; slot < MAX_WAITERS; slot++) {
                Background b = waiters[slot];
                if (b == null || b.thread.getState() != Thread.State.TERMINATED) {
                    continue;
                }
                b.thread.join();
                waiters[slot] = null;
                Throwable t = b.failure;
                if (t == null) {
                    held.add(b.lease);
                    servesRequests(b.lease, "background caller " + slot);
                    if (b.parkedOnce) {
                        count("waiter served after waiting");
                    }
                } else if (t instanceof AcquireTimeoutException) {
                    throw new AssertionError(servers + " server(s), seed " + seed + ": background caller " + slot
                            + " timed out after " + WAITER_TIMEOUT_SECONDS + " s of real time (the run is far too "
                            + "slow, or a waiter was forgotten)", t);
                } else if (!(t instanceof BackendUnavailableException || t instanceof ConnectException)) {
                    throw new AssertionError(servers + " server(s), seed " + seed + ": background caller " + slot
                            + " failed", t);
                }
            }
        }

        /** Heals every server, releases everything, checks that every waiter was served, and closes the pool. */
        void finish() throws Exception {
            for (ServerEntry e : f.pool.entries) {
                if (e.state() == ServerState.DRAINING || e.state() == ServerState.DOWN) {
                    f.pool.control().resumeServer(e.server);
                }
                if (e.weight == 0) {
                    f.pool.control().reweight(e.server, 1);
                }
                settle();
            }
            pause();
            settle();
            collectFinished();
            while (!held.isEmpty()) {
                while (!held.isEmpty()) {
                    f.pool.release(held.remove(held.size() - 1), Outcome.REUSABLE);
                    settle();
                }
                collectFinished(); // a waiter served by those releases: its lease is released next
            }
            assertThat(waitingReplayable()).as("callers still waiting with nothing held").isEmpty();
            for (Session s : sessions) {
                s.close();
            }
            sessions.clear();
            checkInvariants(f, f.pool.stats(), List.of(), List.of(), List.of());
            f.pool.close();
            assertThat(f.connector.openCount()).isZero();
            assertThat(f.pool.total()).isZero();
        }

        @Override
        public void close() throws InterruptedException {
            f.close(); // wakes any caller still waiting (a failed run)
            for (Background b : waiters) {
                if (b != null) {
                    b.go.release(1_000);
                    b.thread.join(5_000);
                }
            }
        }

        /** Holds a background caller that has not the baton at a read of the clock or a connect. */
        private static void gate() {
            Background b = CURRENT.get();
            if (b != null && b.run().baton != b) {
                b.atGate = true;
                b.go.acquireUninterruptibly();
                b.atGate = false;
                b.passes.incrementAndGet();
            }
        }

        /** A caller on its own thread that may wait in the pool's queue. */
        private final class Background {
            final int slot;
            final boolean replayable;
            final Thread thread;
            final Semaphore go = new Semaphore(0);
            final AtomicInteger passes = new AtomicInteger();
            volatile boolean atGate;
            volatile Lease lease;
            volatile Throwable failure;
            /** Seen parked in the queue at the end of a step (main thread only). */
            boolean parkedOnce;

            Run run() {
                return Run.this;
            }

            Background(int slot, boolean replayable) {
                this.slot = slot;
                this.replayable = replayable;
                this.thread = new Thread(() -> {
                    CURRENT.set(this);
                    try {
                        lease = f.pool.acquire(replayable, null, WAITER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                    } catch (Throwable t) {
                        failure = t;
                    }
                }, "fuzz-caller-" + slot);
                thread.setDaemon(true);
            }
        }
    }

    /**
     * The pool's invariants, per server and in total. Everything is quiet when it runs: no thread is
     * inside the pool.
     *
     * @param held the leases callers hold
     * @param sessions the open sessions
     * @param waiting for each caller parked in the pool's queue, whether its request is replayable
     */
    static void checkInvariants(PoolFixture f, List<Lease> held, List<Session> sessions, List<Boolean> waiting) {
        checkInvariants(f, f.pool.stats(), held, sessions, waiting);
    }

    /** @param s the pool's stats, taken after the step */
    static void checkInvariants(PoolFixture f, PoolStats s, List<Lease> held, List<Session> sessions,
            List<Boolean> waiting) {
        LockFreeBackendPool pool = f.pool;
        Settings st = pool.settings;
        int idleInSessions = 0;
        for (Session x : sessions) {
            idleInSessions += x.idleConnections();
        }
        int sessionIdle = idleInSessions;
        Map<ServerEntry, Integer> heldOn = new IdentityHashMap<>();
        for (Lease l : held) {
            heldOn.merge(((PooledConnection) l).entry, 1, Integer::sum);
        }
        List<ServerEntry> all = new ArrayList<>(List.of(pool.entries));
        all.addAll(pool.leaving);
        int slots = 0;
        for (ServerEntry e : all) {
            String where = e.removed ? e.server + " (removed)" : e.server.toString();
            int total = e.total.get();
            int parked = pool.recycler.parked(e);
            int idle = e.table.size() + parked;
            int reg = e.table.registered();
            slots += reg;
            check(total == reg, () -> where + ": total " + total + " != registered " + reg);
            // A parked connection still counts in inUse (PooledConnection#counted); the stats correct for it.
            check(e.inUse.get() == heldOn.getOrDefault(e, 0) + parked, () -> where + ": inUse " + e.inUse.get()
                    + " != held on it " + heldOn.getOrDefault(e, 0) + " + parked " + parked);
            check(total <= st.maxConnections || idle == 0, () -> where + ": over maxConnections " + st.maxConnections
                    + " with idle " + idle);
            check(st.maxIdle == -1 || idle <= st.maxIdle, () -> where + ": idle " + idle + " > maxIdle " + st.maxIdle);
            check(!e.removed || idle == 0, () -> where + ": idle connections on a removed server");
        }
        int registered = slots;
        check(s.total() == registered, () -> "total " + s.total() + " != registered " + registered);
        check(s.inUse() == held.size(), () -> "inUse " + s.inUse() + " != held " + held.size());
        check(s.idle() + s.inUse() + sessionIdle == s.total(), () -> "idle " + s.idle() + " + inUse " + s.inUse()
                + " + sessionIdle " + sessionIdle + " != total " + s.total());
        check(s.opened() - s.closedTotal() == s.total(), () -> "opened " + s.opened() + " - closed " + s.closedTotal()
                + " != total " + s.total());
        check(f.connector.openCount() == s.total(), () -> "open sockets " + f.connector.openCount() + " != total "
                + s.total());
        check(s.waiting() == waiting.size(), () -> "waiting " + s.waiting() + " != callers parked " + waiting.size());
        // No connection in two places.
        Set<Long> heldIds = new HashSet<>();
        for (Lease l : held) {
            check(heldIds.add(l.id()), () -> "lease " + l.id() + " held twice");
        }
        for (ConnectionStats row : s.connections()) {
            if (row.state() == ConnectionState.CLOSED) {
                continue;
            }
            boolean isHeld = heldIds.contains(row.id());
            check(isHeld == (row.state() == ConnectionState.IN_USE), () ->
                    "connection " + row.id() + " is " + row.state() + " but held=" + isHeld);
        }
        if (waiting.isEmpty()) {
            return;
        }
        // Nobody waits for what the pool has: an idle connection the waiter may use, or room.
        long now = f.ticker.read();
        for (ServerEntry e : pool.entries) {
            if (e.servesRequests()) {
                List<PooledConnection> idle = new ArrayList<>();
                for (int slot : e.table.idleSlots()) {
                    idle.add(e.table.entry(slot));
                }
                e.table.forEachRegistered(c -> {
                    if (c.state == PooledConnection.PARKED) {
                        idle.add(c);
                    }
                });
                for (PooledConnection c : idle) {
                    for (boolean replayable : waiting) {
                        check(c == null || !st.policy.mayCarry(replayable, c), () -> "a caller (replayable=" + replayable
                                + ") waits while " + e.server + " has idle connection #" + c.id
                                + (c.state == PooledConnection.PARKED ? " (parked)" : "") + ", which its policy accepts");
                    }
                }
            }
            if (e.takesNewConnections(now, st.slowStartNanos)) {
                check(e.total.get() >= st.maxConnections, () -> "a caller waits while " + e.server + " takes new "
                        + "connections and has room: total " + e.total.get() + " < maxConnections " + st.maxConnections);
                int idle = e.table.size() + pool.recycler.parked(e);
                check(idle == 0, () -> "a caller waits while " + e.server + " takes new connections and keeps "
                        + idle + " idle connection(s) it could replace");
            }
        }
    }

    /** @param what the message, built only on failure (the checks run after every step) */
    private static void check(boolean ok, java.util.function.Supplier<String> what) {
        if (!ok) {
            throw new AssertionError(what.get());
        }
    }
}
