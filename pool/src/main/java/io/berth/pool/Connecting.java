package io.berth.pool;

import io.berth.CloseReason;
import io.berth.PassiveHealth;
import io.berth.spi.Connection;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Opening connections: a slot reserved on a server becomes a registered connection (or the
 * reservation is undone), failed connects count towards the server's passive health, and the
 * connections being opened promise room to the callers waiting for them (no connection burst).
 *
 * <p>Thread-safe: the state is the pool's atomics.
 */
final class Connecting {
    private final LockFreeBackendPool pool;

    /** Connections being opened, on all servers: orders callers racing to open (see {@link #open}). */
    private final AtomicInteger openers = new AtomicInteger();

    Connecting(LockFreeBackendPool pool) {
        this.pool = pool;
    }

    /**
     * Opens a connection in a slot of {@code e} already reserved; on failure the reservation is undone.
     * While it opens it counts in {@code e.opening} (callers may wait for what it is expected to
     * carry); on success the caller leases it or makes it idle, then calls {@link #settle}.
     */
    PooledConnection open(ServerEntry e, Settings st) throws IOException {
        return open(e, st, false);
    }

    /**
     * As {@link #open(ServerEntry, Settings)}; with {@code yieldToOthers}, for a caller that reserved
     * the slot itself (no waiter was handed it), returns {@code null} without opening, the reservation
     * undone, when connections already being opened are expected to carry every waiter and this
     * caller: it waits for them instead (no connection burst). Of callers racing here the first to
     * count itself in {@link #openers} always opens, so somebody does.
     */
    PooledConnection open(ServerEntry e, Settings st, boolean yieldToOthers) throws IOException {
        Connection conn;
        // e.opening before openers: whoever sees our count in openers also sees our promise
        e.opening.incrementAndGet();
        int before = openers.getAndIncrement();
        if (yieldToOthers && before > 0 && promised() - promiseOf(e) >= pool.waiters.waiting() + 1) {
            endOpening(e);
            pool.recycler.unreserve(e);
            return null;
        }
        try {
            conn = pool.connector.connect(e.server, st.connectTimeoutNanos);
            Objects.requireNonNull(conn, "connector returned null");
        } catch (IOException ex) {
            endOpening(e); // before the slot goes to a waiter: it no longer promises
            pool.recycler.unreserve(e);
            connectFailed(e, ex, st);
            throw ex;
        } catch (RuntimeException | Error ex) {
            endOpening(e);
            pool.stats.connectFailures.incrementAndGet();
            e.connectFailures.incrementAndGet();
            pool.recycler.unreserve(e);
            throw ex;
        }
        long now = pool.ticker.read();
        PooledConnection c = new PooledConnection(pool, e, pool.nextId(), conn, now,
                Retirement.expiresAt(now, st));
        int index = e.table.register(c, c.multiplexed);
        if (index < 0) {
            // Cannot happen: slots >= maxConnections >= total. Fail loudly rather than leak.
            conn.abort();
            endOpening(e);
            pool.recycler.unreserve(e);
            throw new IllegalStateException("pool '" + pool.name + "': no free slot on " + e);
        }
        e.expectedCapacity = c.multiplexed ? Math.max(1, conn.capacity()) : 1;
        if (c.multiplexed) {
            conn.onCapacityChange(() -> offerRoom(c));
        }
        c.index = index;
        e.opened.incrementAndGet();
        pool.stats.opened.incrementAndGet();
        if (c.tlsResumed) {
            pool.stats.tlsResumed.incrementAndGet();
        }
        if (st.passiveHealth != PassiveHealth.CONNECTS_AND_EXCHANGES) {
            e.health.succeeded(st.downBackoffNanos); // when exchanges are observed, only an exchange clears them
        }
        pool.guard.opened(c);
        if (pool.closed) {
            endOpening(e);
            pool.recycler.closeConnection(c, CloseReason.POOL_CLOSED, false);
            throw pool.closedException();
        }
        return c;
    }

    /**
     * Ends the opening of a connection its opener has leased or made idle: a multiplexed one hands its
     * remaining room to waiting callers; callers beyond what the opening connections are still expected
     * to carry get the server's free slots.
     */
    void settle(PooledConnection c) {
        if (c.multiplexed) {
            offerRoom(c);
        }
        endOpening(c.entry);
        if (pool.waiters.waiting() > promised()) {
            pool.recycler.signalFreeSlot(c.entry);
        }
    }

    /**
     * A caller took an idle multiplexed connection of {@code e}: until it has leased it nobody can
     * join it, so its room is promised as a connection being opened promises its own (callers arriving
     * meanwhile wait for it). It does not count among {@link #openers}: a caller racing to open a
     * connection still opens. Ended by {@link #endTaking}.
     */
    void beginTaking(ServerEntry e) {
        e.opening.incrementAndGet();
    }

    /**
     * Ends {@link #beginTaking}: a connection leased ({@code taken}) hands its remaining room to the
     * callers that waited meanwhile; then callers beyond what connections being opened still promise
     * get the server's free slots.
     */
    void endTaking(ServerEntry e, PooledConnection taken) {
        if (taken != null) {
            offerRoom(taken);
        }
        e.opening.decrementAndGet();
        if (pool.waiters.waiting() > promised()) {
            pool.recycler.signalFreeSlot(e);
        }
    }

    /**
     * A caller leased a multiplexed connection that waiting callers counted on (see {@link
     * #expected}): as {@link #endTaking}, its room goes to them, and callers it cannot carry get the
     * server's free slots.
     */
    void shareTaken(PooledConnection c) {
        offerRoom(c);
        if (pool.waiters.waiting() > promised()) {
            pool.recycler.signalFreeSlot(c.entry);
        }
    }

    /**
     * @return exchanges callers may expect without opening a connection: what the connections being
     *     opened promise ({@link #promised}), and the room of every multiplexed connection between
     *     owners (see {@link #betweenOwners}): out of the idle set but not yet carrying an exchange, so
     *     that no caller can see it idle or join it, while it is bound for a caller or back to the idle
     *     set. Callers wait for that room instead of opening a connection of their own (no burst);
     *     whoever ends such a moment hands the room on ({@link #endTaking}, {@link
     *     Recycler#makeIdle}) or frees the slot ({@link Recycler#closeConnection}).
     */
    int expected() {
        int p = promised();
        for (ServerEntry e : pool.entries) {
            if (e.table.mayHaveMultiplexed() && e.table.findMultiplexed(Connecting::betweenOwners) != null) {
                p += promiseOf(e);
            }
        }
        return p;
    }

    /**
     * A multiplexed connection a caller or the recycler holds for a moment with no exchange on it:
     * taken from the idle set (being checked before its lease, or taken back by a release that saw a
     * caller arrive), or left by its last exchange on its way back to the idle set. Not one a session
     * keeps, one the maintenance pass checks (callers wait for those already), one draining or taking
     * no new exchange, or one of a server that serves no requests.
     */
    static boolean betweenOwners(PooledConnection c) {
        int state = c.state;
        return state != PooledConnection.CLOSED && state != PooledConnection.SESSION_IDLE && c.streams == 0
                && !c.draining && !c.checking && c.session == null && !c.privateToSession
                && !c.entry.table.isIdle(c.index) && c.connection.capacity() > 0 && c.entry.servesRequests();
    }

    /**
     * @return exchanges that the connections being opened are expected to carry beyond their openers':
     *     callers wait for these rather than open connections of their own (no connection burst)
     */
    int promised() {
        int p = 0;
        for (ServerEntry e : pool.entries) {
            int o = e.opening.get();
            if (o > 0) {
                p += o * promiseOf(e);
            }
        }
        return p;
    }

    /** @return the exchanges a connection being opened to {@code e} promises beyond its opener's */
    private int promiseOf(ServerEntry e) {
        int expected = e.expectedCapacity;
        if (expected == 0) { // no connection opened yet: the connector's hint
            expected = Math.max(1, pool.connector.expectedCapacity(e.server));
        }
        return expected - 1;
    }

    private void endOpening(ServerEntry e) {
        e.opening.decrementAndGet();
        openers.decrementAndGet();
    }

    /**
     * Hands the room of a busy multiplexed connection to waiting callers: it just opened, or its
     * capacity grew (the server's SETTINGS); called by the connection's listener from any thread.
     */
    void offerRoom(PooledConnection c) {
        Settings st = pool.settings;
        while (pool.waiters.waiting() > 0 && !c.draining && !pool.closed && c.entry.servesRequests()) {
            if (!c.tryJoin()) {
                return; // no room (or idle: an idle connection is taken from the idle set)
            }
            if (!pool.recycler.handOffStream(c)) {
                pool.recycler.leaveStream(c, pool.ticker.read(), st); // nobody could use it: give it back
                return;
            }
        }
    }

    /** Counts a failed connect: stats, the listener, and the server's passive health. */
    private void connectFailed(ServerEntry e, IOException ex, Settings st) {
        pool.stats.connectFailures.incrementAndGet();
        e.connectFailures.incrementAndGet();
        pool.lastConnectFailure = ex;
        pool.guard.connectFailed(e.server, ex);
        if (st.passiveHealth != PassiveHealth.OFF && LockFreeBackendPool.retryable(ex)) {
            failure(e, ex, st, "failed connects");
        }
    }

    void failure(ServerEntry e, IOException ex, Settings st, String what) {
        Duration down = e.health.failed(ex, st.failuresToMarkDown, pool.ticker.read(), st.maxDownBackoffNanos);
        if (down != null) {
            LockFreeBackendPool.LOG.log(Level.INFO, () -> "pool '" + pool.name + "': server " + e.server
                    + " marked down for " + down
                    + " after " + e.health.consecutiveFailures() + " " + what + " in a row (last: " + ex
                    + "); next back-off " + Duration.ofNanos(e.health.backoffNanos())
                    + "; its established connections keep serving");
        }
    }
}
