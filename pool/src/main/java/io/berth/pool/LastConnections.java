package io.berth.pool;

import java.lang.ref.WeakReference;

/**
 * The connection each thread used last, for a pool's fast path: a fixed table of slots indexed by
 * the thread's id, each holding a thread id and, weakly, that thread's connection.
 *
 * <p>Why not a {@code ThreadLocal}: a lookup there goes from the thread to its map, the map's
 * table and the entry before it reaches the value, dependent loads that miss the cache when the
 * caller comes back from a blocking read after other threads ran, and the first use on each thread
 * allocates the map (with a new virtual thread per request, every request). Here it is the slot's
 * id and reference. Nothing here is referred to by a thread, so a thread that outlives the pool
 * keeps nothing of it; the connections are held weakly (through {@link PooledConnection#weakSelf},
 * made once per connection), so a closed one is not kept reachable by a thread that stopped
 * calling.
 *
 * <p><b>A hint, never an ownership.</b> Two threads whose ids meet in one slot take turns in it:
 * each finds the other's id there and has no last connection until it writes its own. Slots are
 * read and written without synchronization, so a racing read may pair one thread's id with another
 * thread's connection. That is harmless: the caller only tries the connection it found, and takes it
 * only with the CAS on its state that any caller may win ({@code LockFreeBackendPool.tryTake}); a
 * connection found here that is closed, busy or another's is simply not taken.
 *
 * <p>Thread-safe in that sense.
 */
final class LastConnections {
    /** Slots per pool: a power of two; threads with consecutive ids get distinct slots. */
    static final int SLOTS = 512;

    private final long[] threads = new long[SLOTS];
    @SuppressWarnings("unchecked")
    private final WeakReference<PooledConnection>[] connections = new WeakReference[SLOTS];

    /** @return the calling thread's last connection, or null */
    PooledConnection get() {
        long t = Thread.currentThread().getId();
        int i = (int) t & (SLOTS - 1);
        if (threads[i] != t) {
            return null;
        }
        WeakReference<PooledConnection> w = connections[i];
        return w == null ? null : w.get();
    }

    /** Remembers {@code c} as the calling thread's last connection. */
    void set(PooledConnection c) {
        long t = Thread.currentThread().getId();
        int i = (int) t & (SLOTS - 1);
        connections[i] = c.weakSelf;
        threads[i] = t;
    }
}
