package io.berth.pool.internal;

import io.berth.BackendPool;
import io.berth.Lease;
import io.berth.Server;
import io.berth.Session;
import java.io.IOException;

/**
 * What Berth's HTTP layer needs of a pool beyond {@link BackendPool}: implemented by the engine that
 * {@code Berth.newPool} builds. Internal (OkHttp's {@code Internal} pattern): the package is not
 * exported, so only Berth's own packages reach it.
 */
public interface PoolAccess extends BackendPool {
    /**
     * Acquires a newly opened connection, never an idle one, on another server than {@code avoid} when
     * there is one: for the one retry of a replayable request whose reused connection failed before
     * any response byte.
     *
     * @param timeoutNanos how long to wait at most
     * @param avoid the server whose connection failed, or null
     * @return a lease on a new connection
     * @throws IOException as {@link BackendPool#acquire(boolean)}
     */
    Lease acquireNew(boolean replayable, Session session, long timeoutNanos, Server avoid) throws IOException;

    /**
     * Watches a lease's unfinished response: if the caller drops it unclosed, the pool reclaims the
     * connection and reports it once.
     *
     * @param lease a lease held now
     * @param response the object whose garbage collection means the response was dropped
     */
    void watch(Lease lease, Object response);

    /**
     * Watches an unfinished response of any lease, also one of several exchanges on a multiplexed
     * connection: if the caller drops it unclosed, the pool runs {@code abandon} (which resets the
     * exchange's stream), releases the lease and reports it once. On a connection of capacity one it
     * is {@link #watch(Lease, Object)}, and {@code abandon} is not run (the connection is closed).
     *
     * @param lease a lease held now
     * @param response the object whose garbage collection means the response was dropped; nothing the
     *     pool keeps may reach it: neither {@code lease} nor {@code abandon} may hold it
     * @param abandon ends the exchange on the connection; run once, by the pool's maintenance, and
     *     only while the lease is still held
     */
    void watch(Lease lease, Object response, Runnable abandon);

    /**
     * @param pool a pool
     * @return its access, if Berth built it
     * @throws IllegalArgumentException if another implementation of {@link BackendPool} was given
     */
    static PoolAccess of(BackendPool pool) {
        if (pool instanceof PoolAccess access) {
            return access;
        }
        throw new IllegalArgumentException("pool must be built by Berth.newPool but was " + pool);
    }
}
