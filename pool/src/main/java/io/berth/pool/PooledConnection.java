package io.berth.pool;

import io.berth.CloseReason;
import io.berth.ConnectionState;
import io.berth.Lease;
import io.berth.Server;
import io.berth.Session;
import io.berth.spi.Connection;
import io.berth.transport.http1.ExchangeListener;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A pool's record of one connection, and the {@link Lease} handed out for it: the same object for
 * every acquisition, so acquiring and releasing allocate nothing.
 *
 * <p>Fields without {@code volatile} are written only by the connection's current owner (the holder
 * of its lease, or whoever cleared its idle bit) and reach the next owner through the
 * {@link IdleSet} CAS or the waiter hand-off; stats read them racily, which is fine for a snapshot.
 * {@link #state} is volatile and guards release: only one release of a lease can win its CAS.
 */
final class PooledConnection implements Lease {
    static final int OPENING = 0;
    static final int IDLE = 1;
    static final int SESSION_IDLE = 2;
    static final int IN_USE = 3;
    static final int RELEASING = 4;
    static final int CLOSED = 5;

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(PooledConnection.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final LockFreeBackendPool pool;
    final long id;
    final Server server;
    final Connection connection;
    final long createdNanos;
    /** When {@code maxLifetime} (less jitter) retires it; {@code Long.MAX_VALUE} for never. */
    final long expiresAtNanos;
    final boolean tlsResumed;

    int slot = -1;
    int uses;
    boolean reused;
    long lastUsedNanos;
    long acquiredNanos;
    /** The server's {@code Keep-Alive: timeout=} less the margin; {@code Long.MAX_VALUE} if it gave none. */
    long serverIdleNanos = Long.MAX_VALUE;
    /** When the server's idle timeout (less the margin) runs out since the last release. */
    long keepAliveDeadlineNanos = Long.MAX_VALUE;
    boolean everReleased;
    /** From the server's {@code Keep-Alive: max=}: requests it still accepts; -1 if unknown. */
    int serverRemaining = -1;
    SessionImpl session;
    boolean privateToSession;
    /**
     * The response being read from this connection, weakly: if the caller drops it unclosed, the GC
     * clears this and maintenance reclaims the connection. Null when there is none to watch.
     */
    volatile java.lang.ref.WeakReference<Object> responseRef;
    /** The stack of the holder, when leak detection is on. */
    Throwable acquireTrace;
    boolean leakReported;
    volatile int state = OPENING;
    /** Releases this connection's lease when an exchange's response body ends; made once. */
    private ExchangeListener releaser;
    volatile CloseReason closeReason;

    PooledConnection(LockFreeBackendPool pool, long id, Connection connection, long nowNanos, long expiresAtNanos) {
        this.pool = pool;
        this.id = id;
        this.server = connection.server();
        this.connection = connection;
        this.createdNanos = nowNanos;
        this.lastUsedNanos = nowNanos;
        this.expiresAtNanos = expiresAtNanos;
        this.tlsResumed = connection.tlsSessionResumed();
    }

    /** @return the listener that releases this connection's current lease with the exchange's outcome */
    ExchangeListener releaser() {
        ExchangeListener r = releaser;
        if (r == null) {
            r = outcome -> pool.release(this, outcome);
            releaser = r;
        }
        return r;
    }

    boolean casState(int expect, int update) {
        return STATE.compareAndSet(this, expect, update);
    }

    ConnectionState publicState() {
        switch (state) {
            case IDLE:
                return ConnectionState.IDLE;
            case SESSION_IDLE:
                return ConnectionState.SESSION_IDLE;
            case CLOSED:
                return ConnectionState.CLOSED;
            default:
                return ConnectionState.IN_USE;
        }
    }

    // ---- Lease ----

    @Override
    public Connection connection() {
        if (state != IN_USE) {
            throw new IllegalStateException("lease on connection #" + id + " of pool '" + pool.name()
                    + "' is not held (it was released)");
        }
        return connection;
    }

    @Override
    public boolean reused() {
        return reused;
    }

    @Override
    public Session session() {
        return session;
    }

    @Override
    public void makePrivate() {
        if (state != IN_USE) {
            throw new IllegalStateException("lease on connection #" + id + " of pool '" + pool.name()
                    + "' is not held (it was released)");
        }
        privateToSession = true;
    }

    // ---- ConnectionInfo ----

    @Override
    public long id() {
        return id;
    }

    @Override
    public Server server() {
        return server;
    }

    @Override
    public int uses() {
        return uses;
    }

    @Override
    public long createdNanos() {
        return createdNanos;
    }

    @Override
    public long lastUsedNanos() {
        return lastUsedNanos;
    }

    @Override
    public boolean tlsSessionResumed() {
        return tlsResumed;
    }

    @Override
    public String describe() {
        return "#" + id + " " + connection.describe();
    }

    @Override
    public String toString() {
        return "PooledConnection" + describe() + "{state=" + publicState() + ", uses=" + uses + "}";
    }
}
