package io.berth;

import java.time.Duration;

/**
 * No connection became available within the acquire timeout. The message carries the pool, the
 * backend, the time waited, the pool's totals and each server's counts; the cause is the last failure
 * to open a connection, if there was one.
 */
public final class AcquireTimeoutException extends BackendPoolException {
    private static final long serialVersionUID = 1L;

    private final Duration waited;
    private final int total;
    private final int idle;
    private final int inUse;
    private final int waiting;

    /**
     * @param pool the pool's name
     * @param backend the backend's URL
     * @param waited how long the caller waited
     * @param total connections open or being opened
     * @param idle idle connections (none of which the reuse policy let this request use)
     * @param inUse connections in use
     * @param waiting callers waiting, including this one
     * @param max the {@code maxConnections} in force, per server
     * @param servers the counts of each server, e.g. {@code 10.0.0.1:443 total=8 idle=0 inUse=8 UP; ...}
     * @param cause the last connect failure, or {@code null}
     */
    public AcquireTimeoutException(String pool, String backend, Duration waited, int total, int idle, int inUse,
            int waiting, int max, String servers, Throwable cause) {
        super("pool '" + pool + "' (" + backend + "): no connection available after waiting " + waited.toMillis()
                + " ms; total=" + total + ", idle=" + idle + ", inUse=" + inUse + ", waiting=" + waiting
                + ", maxConnections=" + max + " per server; servers: " + servers
                + (cause == null ? "" : "; last connect failure: " + cause), cause);
        this.waited = waited;
        this.total = total;
        this.idle = idle;
        this.inUse = inUse;
        this.waiting = waiting;
    }

    /** @return how long the caller waited */
    public Duration waited() {
        return waited;
    }

    /** @return connections open or being opened when it gave up */
    public int total() {
        return total;
    }

    /** @return idle connections when it gave up */
    public int idle() {
        return idle;
    }

    /** @return connections in use when it gave up */
    public int inUse() {
        return inUse;
    }

    /** @return callers waiting when it gave up, including this one */
    public int waiting() {
        return waiting;
    }
}
