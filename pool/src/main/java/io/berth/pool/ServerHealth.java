package io.berth.pool;

import io.berth.ServerState;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The health of one server: its {@link ServerState}, the failures in a row since its last success,
 * its current back-off and how it got there. Passive data with small rules; the pool decides what
 * follows from them (which requests it takes, when idle connections close).
 *
 * <ul>
 *   <li><b>Down by failures</b> (failed connects, and failed exchanges where configured): the server
 *       gets no <em>new connections</em> until its back-off has passed; its established connections
 *       keep serving, because a failed connect says nothing about them. The back-off doubles each
 *       time the server is marked down again, up to its maximum.</li>
 *   <li><b>Down by its health check</b>: it gets no request at all until the check passes
 *       {@code rise} times.</li>
 *   <li><b>Draining</b>: no new requests; those in flight finish.</li>
 *   <li>A <b>success</b> (a connect, or an exchange that ended reusable) resets the failure count and
 *       the back-off, also during slow start. A server back from its back-off keeps its count until
 *       then: it is on probation, and one more failure marks it down again (for the doubled
 *       back-off), as a circuit breaker's half-open state does. Failures of attempts begun before
 *       it went down are not counted again while it is down.</li>
 * </ul>
 *
 * <p>Thread-safe: transitions take the object's monitor (never across I/O); reads are volatile.
 */
final class ServerHealth {
    private volatile ServerState state;
    /** Marked down by the active health check: stays down until it passes {@code rise} checks. */
    private volatile boolean downByCheck;
    private volatile long downUntil;
    private volatile long upSince;
    private volatile long backoffNanos;
    private volatile int consecutiveFailures;
    private volatile IOException lastFailure;
    private final AtomicLong downCount = new AtomicLong();
    int checkSuccesses; // health-check pass only
    int checkFailures; // health-check pass only

    ServerHealth(ServerState state, long now, long initialBackoffNanos) {
        this.state = state;
        this.upSince = now;
        this.backoffNanos = initialBackoffNanos;
    }

    ServerState state() {
        return state;
    }

    boolean downByCheck() {
        return downByCheck;
    }

    long downUntil() {
        return downUntil;
    }

    long upSince() {
        return upSince;
    }

    long backoffNanos() {
        return backoffNanos;
    }

    int consecutiveFailures() {
        return consecutiveFailures;
    }

    long downCount() {
        return downCount.get();
    }

    IOException lastFailure() {
        return lastFailure;
    }

    /**
     * Brings the state up to date with the time: a slow start that has run its course is over, and a
     * server down by failures whose back-off has passed takes new connections again (slow start).
     *
     * @return whether the server just came back from a back-off (for a log line)
     */
    boolean refresh(long now, long slowStartNanos) {
        ServerState s = state;
        if (s == ServerState.SLOW_START && now - upSince >= slowStartNanos) {
            synchronized (this) {
                if (state == ServerState.SLOW_START && now - upSince >= slowStartNanos) {
                    state = ServerState.UP;
                }
            }
        } else if (s == ServerState.DOWN && !downByCheck && now - downUntil >= 0) {
            synchronized (this) {
                if (state == ServerState.DOWN && !downByCheck && now - downUntil >= 0) {
                    upSince = now;
                    state = slowStartNanos > 0 ? ServerState.SLOW_START : ServerState.UP;
                    return true;
                }
            }
        }
        return false;
    }

    /** @return whether requests may use its connections (it is neither draining nor down by its check) */
    boolean servesRequests() {
        ServerState s = state;
        return s != ServerState.DRAINING && !(s == ServerState.DOWN && downByCheck);
    }

    /** @return whether new connections may be opened to it (call {@link #refresh} first) */
    boolean takesNewConnections() {
        ServerState s = state;
        return s == ServerState.UP || s == ServerState.SLOW_START;
    }

    /**
     * @return its share of new connections, 0 to {@code weight}: the full weight, or during slow
     *     start a share growing with the time since it came back (never below 5%)
     */
    double effectiveWeight(int weight, long now, long slowStartNanos) {
        if (state != ServerState.SLOW_START || slowStartNanos <= 0) {
            return weight;
        }
        double share = Math.max(0.05, Math.min(1, (double) (now - upSince) / slowStartNanos));
        return weight * share;
    }

    /**
     * Counts a failure (a failed connect, or a failed exchange where configured).
     *
     * @return the back-off if this failure marked the server down, else {@code null}
     */
    Duration failed(IOException e, int failuresToMarkDown, long now, long maxBackoffNanos) {
        lastFailure = e;
        synchronized (this) {
            ServerState s = state;
            if (s == ServerState.DOWN || s == ServerState.DRAINING) {
                return null; // an attempt begun before it went down: nothing new
            }
            if (++consecutiveFailures < failuresToMarkDown) {
                return null;
            }
            long backoff = backoffNanos;
            downUntil = now + backoff;
            backoffNanos = Math.min(backoff * 2, maxBackoffNanos);
            downByCheck = false;
            state = ServerState.DOWN;
            downCount.incrementAndGet();
            return Duration.ofNanos(backoff);
        }
    }

    /**
     * Counts a success: the failure count and the back-off start again from nothing.
     *
     * @param initialBackoffNanos the configured first back-off
     */
    void succeeded(long initialBackoffNanos) {
        if (consecutiveFailures == 0 && backoffNanos == initialBackoffNanos) {
            return; // the common case: no write, no monitor
        }
        synchronized (this) {
            consecutiveFailures = 0;
            backoffNanos = initialBackoffNanos;
        }
    }

    /** @return whether this call marked it down (false if it was down or draining already) */
    synchronized boolean markDownByCheck(long now) {
        if (state == ServerState.DRAINING || (state == ServerState.DOWN && downByCheck)) {
            return false;
        }
        downByCheck = true;
        downUntil = now;
        state = ServerState.DOWN;
        downCount.incrementAndGet();
        return true;
    }

    /** Up again after a health check passed, or a resume: slow start, counts reset. */
    synchronized void comeBack(long now, long slowStartNanos, long initialBackoffNanos) {
        downByCheck = false;
        consecutiveFailures = 0;
        backoffNanos = initialBackoffNanos;
        upSince = now;
        state = slowStartNanos > 0 ? ServerState.SLOW_START : ServerState.UP;
    }

    synchronized void drain() {
        state = ServerState.DRAINING;
    }

    /** Present from the start: takes its full share at once (slow start is for servers coming back). */
    synchronized void startUp(long now, long slowStartNanos) {
        upSince = now - slowStartNanos - 1;
        state = ServerState.UP;
    }
}
