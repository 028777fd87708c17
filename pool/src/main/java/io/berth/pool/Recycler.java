package io.berth.pool;

import io.berth.CloseReason;
import io.berth.Outcome;
import io.berth.spi.Attachment;
import java.lang.System.Logger.Level;

/**
 * Where a connection goes when its owner is done with it: to the longest waiter that may use it, back
 * to its session, to its server's idle set, or closed (gracefully, or aborted if broken, the reason
 * counted, the slot freed and given to a waiter). Every method here is called by the connection's
 * owner (see {@link PooledConnection}), or, for an exchange of a multiplexed connection, by the holder
 * of that exchange; see {@link WaitQueue} for why no waiter is forgotten.
 *
 * <p>Thread-safe: the state is the pool's atomics and the connections' ownership.
 */
final class Recycler {
    private final LockFreeBackendPool pool;

    Recycler(LockFreeBackendPool pool) {
        this.pool = pool;
    }

    /**
     * Gives up one exchange on a multiplexed connection: its room goes to a waiter if one may use it
     * and the connection still has that room, else back to the connection; the last one out owns the
     * connection and keeps or closes it.
     */
    void leaveStream(PooledConnection c, long now, Settings st) {
        for (;;) {
            long seen = pool.waiters.arrivals();
            if (pool.waiters.waiting() > 0 && !c.draining && !pool.closed && c.entry.servesRequests()
                    && hasRoomForHandOff(c) && handOffStream(c)) {
                return;
            }
            if (c.leave()) {
                c.state = PooledConnection.OWNED;
                pool.stats.connectionNotBusy(c);
                CloseReason reason = c.draining ? c.drainReason
                        : Retirement.atRelease(c, Outcome.REUSABLE, now, st, pool.closed);
                if (reason != null) {
                    closeConnection(c, reason, false);
                } else {
                    recycle(c, st, now);
                }
                pool.maintenance.kick();
                return;
            }
            // Others still carry exchanges. A caller that began waiting as we left may have found no
            // room: take the room back and offer it again (see WaitQueue), unless somebody joined.
            if (pool.waiters.arrivals() == seen || c.draining || pool.closed || !c.tryJoin()) {
                return;
            }
        }
    }

    /** Puts a reusable connection its caller owns where it belongs: its session, the idle set, or a waiter. */
    void recycle(PooledConnection c, Settings st, long stamp) {
        if (!c.entry.keepsConnections() || pool.closed) {
            closeConnection(c, pool.closed ? CloseReason.POOL_CLOSED : CloseReason.SERVER_UNAVAILABLE, false);
            return;
        }
        PinnedSession s = c.session;
        if (s != null) {
            // A session's connection may wait long for its next request: give its buffers back now.
            if (!goIdle(c)) {
                return;
            }
            if (s.keep(c)) {
                return;
            }
        }
        if (c.privateToSession) {
            closeConnection(c, CloseReason.NOT_SHARED, false);
            return;
        }
        c.session = null;
        if (!st.policy.sharesIdleConnections()) {
            closeConnection(c, CloseReason.NOT_SHARED, false);
            return;
        }
        makeIdle(c, st, stamp);
    }

    /**
     * Parks an exclusive connection its releaser owns, reusable and counted in use (see
     * {@link PooledConnection}): idle on its own state, out of the shared set, for the caller that
     * leased it as the connection it used last to take back with one CAS on that state. Only where
     * nothing else may want it: no waiter, no session, the pool open, its server serving requests
     * within its limits, no {@code maxIdle}. A waiter, a close, a server leaving or new settings
     * that came meanwhile take it back out (the same second look as {@link #makeIdle}'s, see
     * {@link WaitQueue}); whoever else needs it takes it with the CAS ({@link #takeParked}), and each
     * maintenance pass moves what is still parked to the shared set ({@link #publishParked}).
     *
     * @return whether it is parked, or was taken from there already; false if the caller still owns
     *     it (and still counts it in use) and must put it elsewhere
     */
    boolean park(PooledConnection c, Settings st) {
        ServerEntry e = c.entry;
        long seen = pool.waiters.arrivals(); // before the look at the queue (see WaitQueue)
        if (c.session != null || c.privateToSession || st.maxIdle >= 0 || pool.waiters.waiting() > 0
                || pool.closed || !e.servesRequests() || e.total.get() > st.maxConnections
                || !st.policy.sharesIdleConnections()) {
            return false;
        }
        if (!e.mayHaveParked) {
            e.mayHaveParked = true;
        }
        c.state = PooledConnection.PARKED;
        if (pool.waiters.arrivals() == seen && !pool.closed && e.servesRequests() && pool.settings == st) {
            return true;
        }
        return !c.casState(PooledConnection.PARKED, PooledConnection.OWNED);
    }

    /**
     * Takes a parked connection of {@code e} that {@code test} accepts.
     *
     * @return the connection, now owned by the caller and still counted in use, or null
     */
    PooledConnection takeParked(ServerEntry e, java.util.function.Predicate<PooledConnection> test) {
        if (!e.mayHaveParked) {
            return null;
        }
        return e.table.findRegistered(x -> x.state == PooledConnection.PARKED && test.test(x)
                && x.casState(PooledConnection.PARKED, PooledConnection.OWNED));
    }

    /** Moves the connections parked on {@code e} to the shared set (or to waiters), as releases would. */
    void publishParked(ServerEntry e, Settings st) {
        PooledConnection c;
        while ((c = takeParked(e, x -> true)) != null) {
            makeIdle(c, st, c.lastUsedNanos);
        }
    }

    /** @return the connections parked on {@code e} right now (racy; stats and tests) */
    int parked(ServerEntry e) {
        if (!e.mayHaveParked) {
            return 0;
        }
        int[] n = {0};
        e.table.forEachRegistered(c -> {
            if (c.state == PooledConnection.PARKED) {
                n[0]++;
            }
        });
        return n[0];
    }

    /** Makes a connection its caller owns idle in the shared set, or hands it to the longest waiter. */
    void makeIdle(PooledConnection c, Settings st, long stamp) {
        ServerEntry e = c.entry;
        pool.stats.connectionNotBusy(c);
        for (;;) {
            long seen = pool.waiters.arrivals();
            if (pool.waiters.waiting() > 0 && handOff(c, st)) {
                return;
            }
            if (e.total.get() > st.maxConnections) {
                closeConnection(c, CloseReason.EVICTED, false);
                return;
            }
            if (st.maxIdle >= 0 && e.table.size() >= st.maxIdle) {
                closeConnection(c, CloseReason.IDLE_LIMIT, false);
                return;
            }
            c.state = PooledConnection.IDLE;
            e.table.add(c.index, stamp);
            if (c.multiplexed) {
                pool.muxReady.incrementAndGet();
            }
            if (pool.closed || !e.keepsConnections()) {
                if (e.table.remove(c)) {
                    closeConnection(c, pool.closed ? CloseReason.POOL_CLOSED : CloseReason.SERVER_UNAVAILABLE, false);
                }
                return;
            }
            if (st.maxIdle >= 0 && e.table.size() > st.maxIdle) {
                // A concurrent release filled the set first: the one that overflows it closes.
                if (e.table.remove(c)) {
                    closeConnection(c, CloseReason.IDLE_LIMIT, false);
                }
                return;
            }
            if (pool.waiters.arrivals() == seen || !e.table.remove(c)) {
                return;
            }
            // A caller began waiting while we made it idle, and may have looked too early: take it
            // back and offer it again (see WaitQueue).
            c.state = PooledConnection.OWNED;
        }
    }

    /**
     * Hands a connection its caller owns to the longest waiter that may use it (a shared one only if
     * its server serves requests: not one of weight 0); failing that, closes it and gives its slot to
     * the longest waiter, if its server takes new connections.
     *
     * @return whether a waiter took it
     */
    private boolean handOff(PooledConnection c, Settings st) {
        ServerEntry e = c.entry;
        boolean slot = e.takesNewConnections(pool.ticker.read(), st.slowStartNanos);
        boolean serves = e.servesRequests();
        Object gift = pool.waiters.offer(w -> {
            boolean fits = !w.fresh && (c.privateToSession ? w.session != null && w.session == c.session
                    : serves && st.policy.sharesIdleConnections() && pool.accepts(st.policy, w.replayable, c));
            return fits ? c : slot ? e.permit : null;
        });
        if (gift == null) {
            return false;
        }
        if (gift != c) {
            closeConnection(c, CloseReason.EVICTED, true); // its slot now belongs to the waiter
        }
        return true;
    }

    /**
     * Says whether an exchange leaving a multiplexed connection may hand its room to a waiter: only
     * while the connection still takes that many exchanges. Its capacity falls to 0 at a GOAWAY or a
     * failure, and below the exchanges in flight when the server lowers its stream limit; a waiter
     * handed room beyond it would find its request refused (and spend a retry on it), again and again
     * as each refused exchange left and handed the same room on.
     */
    private static boolean hasRoomForHandOff(PooledConnection c) {
        return c.streams <= c.connection.capacity();
    }

    /** Hands one exchange's room on a busy multiplexed connection (held by the caller) to a waiter. */
    boolean handOffStream(PooledConnection c) {
        Settings st = pool.settings;
        Object gift = pool.waiters.offer(w -> !w.fresh && pool.mayJoin(c, w.replayable, w.session, st)
                ? new Acquirer.Joined(c) : null);
        return gift != null;
    }

    /**
     * Closes a connection its caller owns: gracefully, or by abort if broken; counts the reason; frees
     * its slot and, unless {@code keepReservation}, the count it held (which goes to a waiter).
     */
    void closeConnection(PooledConnection c, CloseReason reason, boolean keepReservation) {
        pool.stats.connectionNotBusy(c);
        c.closeReason = reason;
        c.state = PooledConnection.CLOSED;
        boolean graceful = false;
        try {
            if (reason == CloseReason.BROKEN) {
                c.connection.abort();
            } else {
                graceful = c.connection.close();
            }
        } catch (RuntimeException ex) {
            LockFreeBackendPool.LOG.log(Level.DEBUG, () -> "pool '" + pool.name + "': closing " + c + " threw " + ex);
        }
        if (c.attachment instanceof Attachment a) {
            try {
                a.closed();
            } catch (RuntimeException ex) {
                LockFreeBackendPool.LOG.log(Level.DEBUG, () -> "pool '" + pool.name + "': the attachment of " + c
                        + " threw " + ex);
            }
        }
        pool.stats.closed(c, reason, graceful);
        if (c.index >= 0) {
            c.entry.table.unregister(c.index);
        }
        pool.stats.usesClosed(c);
        pool.guard.closed(c, reason);
        if (!keepReservation) {
            c.entry.total.decrementAndGet();
            signalFreeSlot(c.entry);
        }
    }

    /** Frees a slot reserved on {@code e} that was not used. */
    void unreserve(ServerEntry e) {
        e.total.decrementAndGet();
        signalFreeSlot(e);
    }

    /** Gives a free slot of {@code e}, if it has one and takes new connections, to the longest waiter. */
    void signalFreeSlot(ServerEntry e) {
        for (;;) {
            long seen = pool.waiters.arrivals();
            Settings st = pool.settings;
            if (pool.waiters.waiting() <= pool.connecting.expected() || pool.closed
                    || !e.takesNewConnections(pool.ticker.read(), st.slowStartNanos)
                    || !e.tryReserve(st.maxConnections)) {
                return; // nobody waits, or the connections being opened will carry the waiters
            }
            if (pool.waiters.offer(w -> e.permit) != null) {
                continue; // given: there may be more waiters
            }
            e.total.decrementAndGet();
            if (pool.waiters.arrivals() == seen) {
                return; // nobody came in while we held the slot (see WaitQueue)
            }
        }
    }

    /**
     * Tells a connection its caller owns that it is idle, so it gives its buffers back.
     *
     * @return false if the connection failed (it is then closed)
     */
    boolean goIdle(PooledConnection c) {
        try {
            c.connection.idle();
            if (c.attachment instanceof Attachment a) {
                a.idle();
            }
            return true;
        } catch (RuntimeException ex) {
            closeConnection(c, CloseReason.BROKEN, false);
            return false;
        }
    }

    /** Closes every idle connection of a server (drained, removed, down by its check), parked ones too. */
    void closeIdle(ServerEntry e, CloseReason reason) {
        PooledConnection c;
        while ((c = e.table.pollColdest()) != null || (c = takeParked(e, x -> true)) != null) {
            closeConnection(c, reason, false);
        }
        for (PinnedSession s : pool.sessions) {
            for (PooledConnection sc : s.removeIf(x -> x.entry == e)) {
                closeConnection(sc, reason, false);
            }
        }
    }

    /**
     * Offers the idle connections of a server that serves requests again (its weight came back) to the
     * callers waiting: each goes to the longest waiter that may use it, or makes room for one, as a
     * released connection would ({@link #makeIdle}).
     */
    void offerIdle(ServerEntry e) {
        Settings st = pool.settings;
        for (int slot : e.table.idleSlots()) {
            if (pool.waiters.waiting() == 0) {
                return;
            }
            PooledConnection c = e.table.entry(slot);
            if (c != null && e.table.remove(c)) {
                c.state = PooledConnection.OWNED;
                makeIdle(c, st, c.lastUsedNanos);
            }
        }
    }
}
