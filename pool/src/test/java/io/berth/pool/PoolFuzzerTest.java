package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.AcquireTimeoutException;
import io.berth.ConnectionState;
import io.berth.ConnectionStats;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.PoolStats;
import io.berth.ReusePolicy;
import io.berth.Session;
import io.berth.spi.Connection.Liveness;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A seeded deterministic fuzzer of the pool (after HttpCore's TestConnPoolDeterministicFuzzer):
 * 10,000 random steps per seed (acquire, release with every kind of outcome, purge passes, clock
 * jumps, the server closing idle connections, failed connects, sessions, reconfiguration), checking
 * the pool's invariants after every step. A failure prints the seed and the step; the same seed
 * replays the same run.
 */
class PoolFuzzerTest {
    private static final int STEPS = 10_000;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 20261125})
    void invariantsHoldAfterEveryStep(long seed) throws Exception {
        SplittableRandom rnd = new SplittableRandom(seed);
        ReusePolicy[] policies = {ReusePolicy.SAFE, ReusePolicy.AGGRESSIVE, ReusePolicy.ALWAYS, ReusePolicy.NEVER};
        ReusePolicy policy = policies[(int) (seed % policies.length)];
        int violationsBefore = FakeConnection.VIOLATIONS.get();
        try (PoolFixture f = new PoolFixture(b -> b.maxConnections(6).maxIdle(4).minIdle(1).reusePolicy(policy)
                .purgeDelay(Duration.ofSeconds(2)).idleTimeout(Duration.ofSeconds(5)).maxUses(7)
                .maxLifetime(Duration.ofSeconds(20)).acquireTimeout(Duration.ZERO).retries(1))) {
            List<Lease> held = new ArrayList<>();
            List<Session> sessions = new ArrayList<>();
            for (int step = 0; step < STEPS; step++) {
                String what = step(f, rnd, held, sessions);
                try {
                    checkInvariants(f, held, sessions);
                } catch (AssertionError e) {
                    throw new AssertionError("seed " + seed + ", step " + step + " (" + what + "): " + e.getMessage(),
                            e);
                }
            }
            // The run must have exercised the pool, not idled through it.
            PoolStats end = f.pool.stats();
            assertThat(end.acquired()).as("acquired").isGreaterThan(1000);
            long reasons = java.util.Arrays.stream(io.berth.CloseReason.values()).filter(r -> end.closed(r) > 0).count();
            assertThat(reasons).as("distinct close reasons seen: " + end.closed()).isGreaterThanOrEqualTo(6);
            for (Lease l : held) {
                f.pool.release(l, Outcome.REUSABLE);
            }
            for (Session s : sessions) {
                s.close();
            }
            checkInvariants(f, List.of(), List.of());
            f.pool.close();
            assertThat(f.connector.openCount()).isZero();
            assertThat(f.pool.total()).isZero();
        }
        assertThat(FakeConnection.VIOLATIONS.get()).as("connections probed or closed twice")
                .isEqualTo(violationsBefore);
    }

    private static String step(PoolFixture f, SplittableRandom rnd, List<Lease> held, List<Session> sessions)
            throws IOException {
        int op = rnd.nextInt(100);
        if (op < 35) {
            boolean replayable = rnd.nextInt(4) != 0;
            Session s = !sessions.isEmpty() && rnd.nextBoolean() ? sessions.get(rnd.nextInt(sessions.size())) : null;
            if (rnd.nextInt(20) == 0) {
                f.connector.failures.add(new ConnectException("fuzz refused"));
            }
            try {
                held.add(f.pool.acquire(replayable, s, 0, TimeUnit.NANOSECONDS));
                return "acquire replayable=" + replayable + " session=" + (s != null);
            } catch (AcquireTimeoutException | ConnectException e) {
                f.connector.failures.clear();
                return "acquire failed: " + e.getClass().getSimpleName();
            }
        } else if (op < 65) {
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
            return "release " + o;
        } else if (op < 73) {
            f.ticker.advance(Duration.ofMillis(rnd.nextInt(3000)));
            return "advance";
        } else if (op < 81) {
            f.pool.maintain(f.ticker.read());
            return "maintain";
        } else if (op < 87) {
            List<FakeConnection> open = new ArrayList<>();
            synchronized (f.connector.connections) {
                for (FakeConnection c : f.connector.connections) {
                    if (c.isOpen() && c.holders.get() == 0) {
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
        } else if (op < 91) {
            sessions.add(f.pool.openSession());
            return "open session";
        } else if (op < 95) {
            if (sessions.isEmpty()) {
                return "no session";
            }
            Session s = sessions.remove(rnd.nextInt(sessions.size()));
            s.close();
            return "close session";
        } else {
            int max = 2 + rnd.nextInt(6);
            int maxIdle = rnd.nextInt(max + 1);
            f.pool.control().reconfigure(f.pool.config().toBuilder().maxConnections(max).maxIdle(maxIdle)
                    .minIdle(Math.min(1, maxIdle)).build());
            return "reconfigure max=" + max + " maxIdle=" + maxIdle;
        }
    }

    private static void checkInvariants(PoolFixture f, List<Lease> held, List<Session> sessions) {
        PoolStats s = f.pool.stats();
        int sessionIdle = 0;
        for (Session x : sessions) {
            sessionIdle += x.idleConnections();
        }
        check(s.total() == f.pool.registered(), "total " + s.total() + " != registered " + f.pool.registered());
        check(s.inUse() == held.size(), "inUse " + s.inUse() + " != held " + held.size());
        check(s.idle() + s.inUse() + sessionIdle == s.total(), "idle " + s.idle() + " + inUse " + s.inUse()
                + " + sessionIdle " + sessionIdle + " != total " + s.total());
        int max = f.pool.config().maxConnections();
        check(s.total() <= max || s.idle() == 0, "over maxConnections " + max + " with idle " + s.idle());
        int maxIdle = f.pool.config().maxIdle();
        check(maxIdle == -1 || s.idle() <= maxIdle, "idle " + s.idle() + " > maxIdle " + maxIdle);
        check(s.opened() - s.closedTotal() == s.total(), "opened " + s.opened() + " - closed " + s.closedTotal()
                + " != total " + s.total());
        check(f.connector.openCount() == s.total(), "open sockets " + f.connector.openCount() + " != total "
                + s.total());
        check(s.waiting() == 0, "waiting " + s.waiting());
        // No connection in two places.
        Set<Long> heldIds = new HashSet<>();
        for (Lease l : held) {
            check(heldIds.add(l.id()), "lease " + l.id() + " held twice");
        }
        for (ConnectionStats row : s.connections()) {
            if (row.state() == ConnectionState.CLOSED) {
                continue;
            }
            boolean isHeld = heldIds.contains(row.id());
            check(isHeld == (row.state() == ConnectionState.IN_USE),
                    "connection " + row.id() + " is " + row.state() + " but held=" + isHeld);
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
