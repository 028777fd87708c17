package io.berth.pool;

import io.berth.BackendPool;
import io.berth.Session;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A {@link Session}: a small most-recently-used stack of the connections it holds idle, on any server
 * of the pool, and the connection it used last. Guarded by its own monitor, which only the session's
 * own requests (and its close, and the maintenance pass) take, never across I/O.
 */
final class PinnedSession implements Session {
    private final LockFreeBackendPool pool;
    private final ArrayDeque<PooledConnection> idle = new ArrayDeque<>(4);
    private boolean open = true;
    /** The connection the session used last, for prefer-last-server. */
    volatile PooledConnection last;

    PinnedSession(LockFreeBackendPool pool) {
        this.pool = pool;
    }

    LockFreeBackendPool owner() {
        return pool;
    }

    /** Keeps a released connection, which the caller owns, for this session; false if it has closed. */
    synchronized boolean keep(PooledConnection c) {
        if (!open) {
            return false;
        }
        c.state = PooledConnection.SESSION_IDLE;
        idle.push(c);
        return true;
    }

    /** @return the most recently used idle connection of the session, now owned by the caller, or null */
    synchronized PooledConnection poll() {
        return idle.poll();
    }

    /** Removes and returns idle connections matching the test (for expiry), now owned by the caller. */
    synchronized List<PooledConnection> removeIf(Predicate<PooledConnection> test) {
        List<PooledConnection> out = null;
        for (var it = idle.iterator(); it.hasNext(); ) {
            PooledConnection c = it.next();
            if (test.test(c)) {
                it.remove();
                if (out == null) {
                    out = new ArrayList<>(2);
                }
                out.add(c);
            }
        }
        return out == null ? List.of() : out;
    }

    @Override
    public BackendPool pool() {
        return pool;
    }

    @Override
    public synchronized boolean isOpen() {
        return open;
    }

    @Override
    public synchronized int idleConnections() {
        return idle.size();
    }

    @Override
    public void close() {
        List<PooledConnection> left;
        synchronized (this) {
            if (!open) {
                return;
            }
            open = false;
            left = new ArrayList<>(idle);
            idle.clear();
        }
        last = null;
        pool.sessionClosed(this, left);
    }

    @Override
    public String toString() {
        return "Session{pool=" + pool.name() + ", open=" + isOpen() + ", idle=" + idleConnections() + "}";
    }
}
