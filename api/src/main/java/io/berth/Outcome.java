package io.berth;

import java.time.Duration;
import java.util.Objects;

/**
 * How an exchange ended, handed to {@link BackendPool#release(Lease, Outcome)}: whether the
 * connection may carry another exchange, and the server's keep-alive hints.
 *
 * <p>The common outcomes are constants, so releasing allocates nothing. Immutable and thread-safe.
 */
public final class Outcome {
    /** The exchange completed and the connection may be reused. */
    public static final Outcome REUSABLE = new Outcome(true, null, null, -1);
    /**
     * The exchange ended cleanly but the connection must not be reused (the server said
     * {@code Connection: close}, the body was not read to its end, ...): it is closed gracefully.
     */
    public static final Outcome NOT_REUSABLE = new Outcome(false, CloseReason.NOT_REUSABLE, null, -1);
    /** The connection failed (I/O error, protocol error, timeout): it is aborted, never reused. */
    public static final Outcome BROKEN = new Outcome(false, CloseReason.BROKEN, null, -1);

    private final boolean reusable;
    private final CloseReason closeReason;
    private final Duration keepAliveTimeout;
    private final int keepAliveMax;

    private Outcome(boolean reusable, CloseReason closeReason, Duration keepAliveTimeout, int keepAliveMax) {
        this.reusable = reusable;
        this.closeReason = closeReason;
        this.keepAliveTimeout = keepAliveTimeout;
        this.keepAliveMax = keepAliveMax;
    }

    /**
     * A reusable outcome with the hints of a {@code Keep-Alive: timeout=T, max=M} response header.
     * The pool closes the connection before it has been idle for {@code timeout} (less a margin) and
     * does not reuse it for more than {@code max} further exchanges.
     *
     * @param timeout the server's idle timeout, or {@code null} if it gave none
     * @param max how many more requests the server accepts on the connection, or -1 if it did not say
     * @return the outcome
     * @throws IllegalArgumentException if {@code timeout} is negative or {@code max} is below -1
     */
    public static Outcome keepAlive(Duration timeout, int max) {
        if (timeout != null && timeout.isNegative()) {
            throw new IllegalArgumentException("keep-alive timeout must not be negative but was " + timeout);
        }
        if (max < -1) {
            throw new IllegalArgumentException("keep-alive max must be -1 or >= 0 but was " + max);
        }
        if (timeout == null && max == -1) {
            return REUSABLE;
        }
        return new Outcome(true, null, timeout, max);
    }

    /** @return whether the connection may carry another exchange */
    public boolean reusable() {
        return reusable;
    }

    /** @return why the connection is closed if not reusable ({@code null} when reusable) */
    public CloseReason closeReason() {
        return closeReason;
    }

    /** @return the server's keep-alive timeout, or {@code null} if none was given */
    public Duration keepAliveTimeout() {
        return keepAliveTimeout;
    }

    /** @return how many more requests the server accepts, or -1 if it did not say */
    public int keepAliveMax() {
        return keepAliveMax;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Outcome x && x.reusable == reusable && x.closeReason == closeReason
                && Objects.equals(x.keepAliveTimeout, keepAliveTimeout) && x.keepAliveMax == keepAliveMax;
    }

    @Override
    public int hashCode() {
        return Objects.hash(reusable, closeReason, keepAliveTimeout, keepAliveMax);
    }

    @Override
    public String toString() {
        if (!reusable) {
            return "Outcome{" + closeReason + "}";
        }
        return "Outcome{REUSABLE" + (keepAliveTimeout == null ? "" : ", timeout=" + keepAliveTimeout)
                + (keepAliveMax == -1 ? "" : ", max=" + keepAliveMax) + "}";
    }
}
