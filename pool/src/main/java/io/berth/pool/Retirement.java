package io.berth.pool;

import io.berth.CloseReason;
import io.berth.Outcome;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * When a connection stops being reused: the expiry rules an idle connection is checked against
 * before it is handed out and by every maintenance pass, and the rules a released connection is
 * checked against before it may be kept. Static and pure, but for the keep-alive hints a release
 * records on the connection it owns.
 */
final class Retirement {
    /** The margin kept before a server's {@code Keep-Alive: timeout=}: at most 1 s, at most half of it. */
    static final long KEEP_ALIVE_MARGIN_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Jitter of {@code maxLifetime}: up to 2.5% (1/40) shorter, per connection. */
    static final int LIFETIME_JITTER_DIVISOR = 40;

    private Retirement() {
    }

    /** @return why an idle connection has expired at {@code now}, or null */
    static CloseReason expiry(PooledConnection c, long now, Settings st) {
        if (now - c.expiresAtNanos >= 0) {
            return CloseReason.MAX_LIFETIME;
        }
        long idleFor = now - c.lastUsedNanos;
        if (idleFor >= st.idleTimeoutNanos || now - c.keepAliveDeadlineNanos >= 0) {
            return CloseReason.IDLE_TIMEOUT;
        }
        return null;
    }

    /**
     * Applies an exchange's outcome to the connection its releaser owns (it records the server's
     * keep-alive hints), and says whether the connection must close.
     *
     * @param poolClosed whether the pool is closed
     * @return why the connection must close, or null if it may be kept
     */
    static CloseReason atRelease(PooledConnection c, Outcome outcome, long now, Settings st, boolean poolClosed) {
        if (!outcome.reusable()) {
            return outcome.closeReason();
        }
        if (poolClosed) {
            return CloseReason.POOL_CLOSED;
        }
        if (!c.connection.isOpen()) {
            return CloseReason.BROKEN;
        }
        if (c.multiplexed && c.connection.capacity() <= 0) {
            return CloseReason.NOT_REUSABLE; // it takes no new exchange (an HTTP/2 GOAWAY)
        }
        if (st.maxUses > 0 && c.uses >= st.maxUses) {
            return CloseReason.MAX_USES;
        }
        int max = outcome.keepAliveMax();
        if (max >= 0) {
            c.serverRemaining = max;
        } else if (c.serverRemaining > 0) {
            c.serverRemaining--;
        }
        if (c.serverRemaining == 0) {
            return CloseReason.MAX_USES;
        }
        Duration hint = outcome.keepAliveTimeout();
        if (hint != null) {
            long t = hint.toNanos();
            c.serverIdleNanos = t - Math.min(KEEP_ALIVE_MARGIN_NANOS, t / 2);
        }
        if (c.serverIdleNanos <= 0) {
            return CloseReason.IDLE_TIMEOUT;
        }
        c.keepAliveDeadlineNanos = c.serverIdleNanos == Long.MAX_VALUE ? Long.MAX_VALUE : now + c.serverIdleNanos;
        if (now - c.expiresAtNanos >= 0) {
            return CloseReason.MAX_LIFETIME;
        }
        return null;
    }

    /**
     * @return why a multiplexed connection may take no new exchange once this one has been counted,
     *     or null: {@code maxUses} reached, or past its lifetime (it then drains)
     */
    static CloseReason drainAfterUse(PooledConnection c, int uses, long now, Settings st) {
        if (st.maxUses > 0 && uses >= st.maxUses) {
            return CloseReason.MAX_USES;
        }
        if (now - c.expiresAtNanos >= 0) {
            return CloseReason.MAX_LIFETIME;
        }
        return null;
    }

    /** @return when a connection opened at {@code now} reaches its jittered {@code maxLifetime} */
    static long expiresAt(long now, Settings st) {
        if (st.maxLifetimeNanos <= 0) {
            return Long.MAX_VALUE;
        }
        long jitter = ThreadLocalRandom.current().nextLong(st.maxLifetimeNanos / LIFETIME_JITTER_DIVISOR + 1);
        return now + st.maxLifetimeNanos - jitter;
    }
}
