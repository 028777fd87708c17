package io.berth;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * A pool of connections to one {@link Backend}: it keeps connections warm, hands them out under its
 * {@link ReusePolicy}, takes them back after each exchange, and closes the surplus on a schedule
 * sized from measured demand.
 *
 * <p>One exchange is one {@link Lease}:
 * <pre>{@code
 * Lease lease = pool.acquire(true);            // a replayable request, e.g. a GET
 * Outcome outcome = Outcome.BROKEN;
 * try {
 *     outcome = exchange(lease.connection());  // write the request, read the whole response
 * } finally {
 *     pool.release(lease, outcome);
 * }
 * }</pre>
 *
 * <p>Every idle connection can serve every caller, on whatever thread it was released. Acquiring
 * prefers the most recently used qualifying connection, so the warm set stays warm and the surplus
 * goes cold; purges and expiry take the coldest. Before handing out an idle connection the pool asks
 * it, without blocking, whether the server has closed it.
 *
 * <p>The pool acquires and observes; {@link #control()} changes it while it runs.
 *
 * <p>Thread-safe. Acquiring and releasing an idle connection take no lock and allocate nothing.
 *
 * @since 1.0
 */
public interface BackendPool extends AutoCloseable {
    /**
     * Acquires a connection for one request, waiting up to the configured {@code acquireTimeout}.
     *
     * @param replayable whether the request may safely be sent twice (see {@link ReusePolicy})
     * @return a lease on an idle or newly opened connection
     * @throws AcquireTimeoutException if none became available in time
     * @throws PoolClosedException if the pool is closed
     * @throws java.io.InterruptedIOException if the thread was interrupted while waiting or connecting
     *     (its interrupt flag is set again)
     * @throws IOException if a new connection could not be opened, after {@code retries} attempts
     */
    default Lease acquire(boolean replayable) throws IOException {
        return acquire(replayable, null);
    }

    /**
     * Acquires a connection for one request of a session, waiting up to {@code acquireTimeout}.
     *
     * @param replayable whether the request may safely be sent twice
     * @param session the caller's session, whose own connections are used first; or {@code null}
     * @return a lease
     * @throws IllegalArgumentException if the session belongs to another pool
     * @throws IllegalStateException if the session is closed
     * @throws IOException as {@link #acquire(boolean)}
     */
    Lease acquire(boolean replayable, Session session) throws IOException;

    /**
     * Acquires a connection for one request, waiting at most {@code timeout} instead of
     * {@code acquireTimeout}.
     *
     * @param replayable whether the request may safely be sent twice
     * @param session the caller's session, or {@code null}
     * @param timeout how long to wait at most; zero or less: do not wait
     * @param unit the unit of {@code timeout}
     * @return a lease
     * @throws IOException as {@link #acquire(boolean)}
     */
    Lease acquire(boolean replayable, Session session, long timeout, TimeUnit unit) throws IOException;

    /**
     * Returns a connection after its exchange. A reusable connection goes back to the idle set (or to
     * its session) if it is within {@code maxUses}, {@code maxLifetime}, the server's keep-alive
     * hints and {@code maxIdle}; otherwise it is closed gracefully, or aborted if
     * {@linkplain Outcome#BROKEN broken}, and the reason is counted. If callers are waiting, the
     * connection (or, if it closes, its slot) goes straight to the longest waiter.
     *
     * @param lease the lease from {@code acquire}
     * @param outcome how the exchange ended
     * @throws IllegalStateException if the lease was already released
     * @throws IllegalArgumentException if the lease belongs to another pool
     */
    void release(Lease lease, Outcome outcome);

    /**
     * Opens a session: a scope whose connections are private to it.
     *
     * @return a new open session
     * @throws PoolClosedException if the pool is closed
     */
    Session openSession() throws PoolClosedException;

    /** @return a snapshot of gauges, counters and the connection table */
    PoolStats stats();

    /** @return the backend */
    Backend backend();

    /** @return the pool's name */
    String name();

    /** @return the current settings */
    BackendPoolConfig config();

    /**
     * @return the operations that change the running pool: new settings, servers added, removed,
     *     drained, resumed and re-weighted
     */
    BackendPoolControl control();

    /** @return whether {@link #close()} was called */
    boolean isClosed();

    /**
     * Closes the pool: idle connections close at once (TLS close_notify, then FIN), connections in
     * use close when released, waiting callers fail with {@link PoolClosedException}, and
     * maintenance stops. Idempotent; never throws.
     */
    @Override
    void close();
}
