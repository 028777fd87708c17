package io.berth.pool;

import io.berth.AcquireTimeoutException;
import io.berth.BackendUnavailableException;
import io.berth.CloseReason;
import io.berth.Lease;
import io.berth.ServerState;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The slow path of acquiring: no usable connection was idle, so open one on the server the
 * {@link ServerSelector} picks (retrying a failed connect on another server, up to {@code retries}),
 * or wait in the backend's {@link WaitQueue} when no server that takes new connections has room.
 *
 * <p>A caller does not open a connection while an idle one it may use is only being checked by the
 * maintenance pass: it waits for the check (at most {@link #CHECK_WAIT_NANOS}, and at most half its
 * acquire timeout), which hands it that
 * connection, or its slot if the check found it dead. A caller whose servers are all down by failures
 * waits for the end of a back-off that falls within its acquire timeout, or for a connection it may
 * use to come back; it fails at once with {@link BackendUnavailableException} only when nothing can
 * change before its deadline.
 */
final class Acquirer {
    /**
     * How often a caller about to open a connection looks again because a multiplexed connection
     * became usable since its last look, before it opens anyway (connections that others keep
     * leasing and idling must not hold it in a loop).
     */
    private static final int MAX_RELOOKS = 8;

    /** How many times a waiter yields before it parks. */
    static final int SPINS_BEFORE_PARK = 16;
    /** The longest a caller waits for the check of an idle connection it may use: 500 ms. */
    static final long CHECK_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    /** What a waiter gets when it should look again: a check it waited for ended, or a back-off. */
    private static final Object LOOK_AGAIN = new Object();

    private final LockFreeBackendPool pool;

    Acquirer(LockFreeBackendPool pool) {
        this.pool = pool;
    }

    /** What a waiter receives on a multiplexed connection: one exchange, already counted for it. */
    static final class Joined {
        final PooledConnection c;

        Joined(PooledConnection c) {
            this.c = c;
        }
    }

    /**
     * @param fresh only a newly opened connection will do (the retry of a request whose reused
     *     connection died)
     * @param avoid a server to open on only if no other takes new connections, or null
     */
    Lease acquire(boolean replayable, PinnedSession s, long timeoutNanos, boolean fresh, ServerEntry avoid)
            throws IOException {
        final long start = System.nanoTime();
        final long deadline = start + timeoutNanos;
        int failures = 0;
        int relooks = 0;
        boolean waited = false;
        boolean ignoreChecks = false;
        IOException lastFailure = null;
        List<ServerEntry> failed = new ArrayList<>(0);
        for (;;) {
            if (pool.closed) {
                throw pool.closedException();
            }
            Settings st = pool.settings;
            long now = pool.ticker.read();
            // One look at the queue for both decisions: a caller that did not look at the shared
            // connections because others waited must not open one because they are served by now.
            boolean alone = pool.waiters.waiting() == 0;
            long ready = pool.muxReady.get();
            if (!fresh) {
                Lease l = pool.tryIdle(replayable, s, st, now, alone);
                if (l != null) {
                    return l;
                }
            }
            ServerEntry e = null;
            boolean reservedHere = false;
            if (alone && (fresh || ignoreChecks || !usableUnderCheck(replayable, st))
                    && (fresh || pool.connecting.expected() == 0)) {
                if (!fresh && pool.muxReady.get() != ready && relooks++ < MAX_RELOOKS) {
                    continue; // a multiplexed connection became usable since the look: look again
                }
                e = reserve(st, now, failed, avoid, fresh);
                reservedHere = e != null;
            }
            if (e == null) {
                if (lastFailure != null && !anyTakesNewConnections(st)) {
                    // This request's own failed connects marked the servers down: say so now, rather
                    // than wait for their back-off.
                    throw pool.entries.length == 1 ? lastFailure : unavailable(lastFailure);
                }
                long wakeAt = wakeAt(replayable, st, now, deadline, fresh || ignoreChecks);
                if (wakeAt == Long.MIN_VALUE) {
                    throw unavailable(null);
                }
                Object r = await(replayable, s, st, deadline, wakeAt, waited, fresh, failed, avoid, ignoreChecks);
                waited = true;
                if (r == null) {
                    throw timeout(start, st);
                }
                if (r == LOOK_AGAIN) {
                    ignoreChecks = true; // a check outlasted its wait: do not wait for it twice
                    continue;
                }
                if (r instanceof Joined j) {
                    return pool.joinedLease(j.c, s, pool.ticker.read(), st);
                }
                if (r instanceof PooledConnection c) {
                    if (fresh) {
                        pool.recycler.closeConnection(c, CloseReason.EVICTED, true); // keep its slot: open a new one
                        e = c.entry;
                    } else if (pool.usable(c, replayable, pool.ticker.read(), st)) {
                        Lease l = pool.lease(c, s, pool.ticker.read(), st);
                        if (c.multiplexed) {
                            pool.connecting.shareTaken(c); // with the callers that waited for it too
                        }
                        return l;
                    } else {
                        continue;
                    }
                } else {
                    e = ((ServerEntry.Permit) r).entry;
                }
            }
            try {
                PooledConnection c = pool.connecting.open(e, st, reservedHere && !fresh);
                if (c == null) {
                    continue; // another caller is opening a connection expected to carry us too: wait for it
                }
                Lease l = pool.lease(c, s, pool.ticker.read(), st);
                pool.connecting.settle(c);
                return l;
            } catch (IOException ex) {
                if (!LockFreeBackendPool.retryable(ex)) {
                    throw ex;
                }
                lastFailure = ex;
                if (++failures > st.retries) {
                    throw pool.entries.length > 1 && !anyTakesNewConnections(st) ? unavailable(ex) : ex;
                }
                failed.add(e);
                ServerEntry failedOn = e;
                LockFreeBackendPool.LOG.log(Level.DEBUG, () -> "pool '" + pool.name + "': connecting to "
                        + failedOn.server + " failed, retrying: " + ex);
            }
        }
    }

    /**
     * Reserves a slot for a new connection: on a server the selector picks among those that take new
     * connections and have room (servers that failed this request only when no other is left); or,
     * at the limit, in place of the coldest idle connection the request may not use.
     *
     * @return the server whose slot is reserved, or null
     */
    private ServerEntry reserve(Settings st, long now, List<ServerEntry> failed, ServerEntry avoid, boolean fresh) {
        ServerEntry[] es = pool.entries;
        for (int attempt = 0; attempt < 2 * es.length + 2; attempt++) {
            ServerEntry e = pool.selector.choose(es, st.balance, now, st.slowStartNanos, failed, avoid,
                    st.maxConnections);
            if (e == null && !failed.isEmpty() && !(fresh && anotherTakesConnections(es, failed, now, st))) {
                failed.clear(); // every other server failed too: try them again
                e = pool.selector.choose(es, st.balance, now, st.slowStartNanos, failed, avoid, st.maxConnections);
            }
            if (e == null) {
                break;
            }
            if (e.tryReserve(st.maxConnections)) {
                return e;
            }
        }
        if (!st.policy.sharesIdleConnections()) {
            return null;
        }
        // At the limit with idle connections this request may not use: close the coldest and take its
        // slot (HAProxy kills an idle connection when it needs a new one at maxconn).
        for (ServerEntry e : es) {
            if (e.takesNewConnections(now, st.slowStartNanos) && !failed.contains(e)) {
                PooledConnection victim = e.table.pollColdest();
                if (victim == null) {
                    victim = pool.recycler.takeParked(e, x -> true);
                }
                if (victim != null) {
                    pool.recycler.closeConnection(victim, CloseReason.EVICTED, true);
                    return e;
                }
            }
        }
        return null;
    }

    /**
     * @return whether a server this request's connects did not fail on takes new connections, though it
     *     is at its limit now. A request that needs a new connection (its own failed: a server that went
     *     away with it) then waits for that server's connection or slot rather than connect again to
     *     the server that just refused it and spend its retries there: that server is not down yet only
     *     because passive health has not counted enough failures.
     */
    private static boolean anotherTakesConnections(ServerEntry[] es, List<ServerEntry> failed, long now, Settings st) {
        for (ServerEntry e : es) {
            if (!failed.contains(e) && e.takesNewConnections(now, st.slowStartNanos)) {
                return true;
            }
        }
        return false;
    }

    /** @return whether an idle connection this request may use is being checked by the maintenance pass */
    private boolean usableUnderCheck(boolean replayable, Settings st) {
        for (ServerEntry e : pool.entries) {
            if (e.checking.get() > 0 && e.servesRequests() && st.policy.sharesIdleConnections()
                    && e.table.findRegistered(c -> c.checking && pool.accepts(st.policy, replayable, c)) != null) {
                return true;
            }
        }
        return false;
    }

    private boolean anyTakesNewConnections(Settings st) {
        long now = pool.ticker.read();
        for (ServerEntry e : pool.entries) {
            if (e.takesNewConnections(now, st.slowStartNanos)) {
                return true;
            }
        }
        return false;
    }

    /**
     * @return when a waiter should look again by itself (the end of a check it waits for, or of a
     *     back-off within the deadline), the deadline if only a release or a close can help it, or
     *     {@link Long#MIN_VALUE} if nothing can change for it before the deadline
     */
    private long wakeAt(boolean replayable, Settings st, long now, long deadline, boolean ignoreChecks) {
        long nanoNow = System.nanoTime();
        // Wait for a check at most CHECK_WAIT_NANOS, and at most half the time left, so that a new
        // connection can still be opened in time; then look again, ignoring the check.
        long checkWait = Math.min(CHECK_WAIT_NANOS, (deadline - nanoNow) / 2);
        if (!ignoreChecks && checkWait > 0 && usableUnderCheck(replayable, st)) {
            return nanoNow + checkWait;
        }
        if (pool.connecting.expected() > 0) {
            return deadline; // a connection being opened or taken will hand us room, or its slot goes to us
        }
        long wake = Long.MIN_VALUE;
        for (ServerEntry e : pool.entries) {
            if (!e.servesRequests()) {
                continue;
            }
            if (e.takesNewConnections(now, st.slowStartNanos) || e.inUse.get() > 0) {
                return deadline; // a slot or a connection will come back
            }
            if (e.state() == ServerState.DOWN) {
                long ends = nanoNow + (e.health.downUntil() - now);
                if (ends - deadline < 0) {
                    wake = wake == Long.MIN_VALUE || ends - wake < 0 ? ends : wake;
                }
            }
        }
        return wake;
    }

    /**
     * Waits in FIFO order for a connection, an exchange, or a permit.
     *
     * @return a {@link PooledConnection}, a {@link Joined}, a {@link ServerEntry.Permit},
     *     {@link #LOOK_AGAIN} at {@code wakeAt}, or null at the deadline
     */
    private Object await(boolean replayable, PinnedSession s, Settings st, long deadline, long wakeAt,
            boolean counted, boolean fresh, List<ServerEntry> failed, ServerEntry avoid, boolean ignoreChecks)
            throws IOException {
        Waiter w = new Waiter(replayable, s, fresh, Thread.currentThread());
        pool.waiters.enqueue(w, !counted);
        // Look again now that we are visible to releasers: a connection or slot freed between our
        // last look and the enqueue would otherwise be missed.
        if (pool.closed) {
            if (pool.waiters.cancel(w)) {
                throw pool.closedException();
            }
            return received(w);
        }
        long now = pool.ticker.read();
        Object mine = null;
        for (int relooks = 0; ; relooks++) {
            long ready = pool.muxReady.get();
            mine = fresh ? null : takeShared(replayable, s, st, now);
            if (mine != null || !(fresh || ignoreChecks || !usableUnderCheck(replayable, st))
                    || !(fresh || pool.waiters.waiting() > pool.connecting.expected())) {
                break;
            }
            if (fresh || pool.muxReady.get() == ready || relooks >= MAX_RELOOKS) {
                ServerEntry e = reserve(st, now, failed, avoid, fresh);
                mine = e == null ? null : e.permit;
                break;
            }
            // a multiplexed connection became usable since the look: look again
        }
        if (mine != null) {
            if (pool.waiters.cancel(w)) {
                return mine;
            }
            giveBack(mine, st); // something was handed to us meanwhile
            return received(w);
        }
        for (int spins = 0; ; spins++) {
            if (w.result != null) {
                return received(w);
            }
            long remaining = wakeAt - System.nanoTime();
            if (remaining <= 0) {
                if (pool.waiters.cancel(w)) {
                    return wakeAt == deadline ? null : LOOK_AGAIN;
                }
                continue;
            }
            if (spins < SPINS_BEFORE_PARK) {
                // Connections are usually held briefly: yielding lets a holder run and release to us
                // without the cost of parking and unparking.
                Thread.yield();
                continue;
            }
            LockSupport.parkNanos(this, remaining);
            if (Thread.interrupted()) {
                Object r = pool.waiters.cancel(w) ? null : w.result;
                if (r != null && r != Waiter.CLOSED) {
                    giveBack(r, pool.settings);
                }
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("pool '" + pool.name + "' (" + pool.backendUrl()
                        + "): interrupted while waiting for a connection");
            }
        }
    }

    /** Takes an idle connection or room on a multiplexed one, ignoring waiters (the caller is one). */
    private Object takeShared(boolean replayable, PinnedSession s, Settings st, long now) {
        if (!st.policy.sharesIdleConnections()) {
            return null;
        }
        for (ServerEntry e : pool.entries) {
            if (!e.servesRequests()) {
                continue;
            }
            if (e.table.mayHaveMultiplexed()) {
                PooledConnection m = e.table.findMultiplexed(x -> pool.mayJoin(x, replayable, s, st)
                        && x.tryJoin());
                if (m != null) {
                    return new Joined(m);
                }
            }
            PooledConnection c = e.table.pollMostRecent(replayable, st.policy);
            if (c != null) {
                c.state = PooledConnection.OWNED;
                return c;
            }
        }
        for (ServerEntry e : pool.entries) {
            if (e.servesRequests()) {
                PooledConnection c = pool.recycler.takeParked(e, x -> pool.accepts(st.policy, replayable, x));
                if (c != null) {
                    return c;
                }
            }
        }
        return null;
    }

    private Object received(Waiter w) throws IOException {
        Object r = w.result;
        if (r == Waiter.CLOSED) {
            throw pool.closedException();
        }
        return r;
    }

    /** Returns what a waiter took or received but will not use. */
    private void giveBack(Object r, Settings st) {
        if (r instanceof PooledConnection c) {
            pool.recycler.makeIdle(c, st, c.lastUsedNanos);
        } else if (r instanceof Joined j) {
            pool.recycler.leaveStream(j.c, pool.ticker.read(), st);
        } else if (r instanceof ServerEntry.Permit p) {
            pool.recycler.unreserve(p.entry);
        }
    }

    private AcquireTimeoutException timeout(long startNanos, Settings st) throws BackendUnavailableException {
        pool.stats.acquireTimeouts.incrementAndGet();
        if (!anyTakesNewConnections(st) && pool.stats.inUse.get() == 0) {
            throw unavailable(pool.lastConnectFailure);
        }
        int total = 0;
        int idle = 0;
        int inUse = 0;
        StringBuilder servers = new StringBuilder();
        for (ServerEntry e : pool.entries) {
            int t = e.total.get();
            int p = pool.recycler.parked(e);
            int i = e.table.size() + p;
            int u = Math.max(0, e.inUse.get() - p);
            total += t;
            idle += i;
            inUse += u;
            servers.append(servers.length() == 0 ? "" : "; ").append(e.server).append(" total=").append(t)
                    .append(" idle=").append(i).append(" inUse=").append(u).append(' ').append(e.state());
        }
        return new AcquireTimeoutException(pool.name, pool.backendUrl(),
                Duration.ofNanos(System.nanoTime() - startNanos), total, idle, inUse, pool.waiters.waiting() + 1,
                st.maxConnections, servers.toString(), pool.lastConnectFailure);
    }

    /** @return the exception for "no server takes requests", naming each server and why */
    BackendUnavailableException unavailable(IOException lastFailure) {
        IOException cause = lastFailure != null ? lastFailure : pool.lastConnectFailure;
        StringBuilder sb = new StringBuilder("pool '").append(pool.name).append("' (").append(pool.backendUrl())
                .append("): no server takes requests:");
        long now = pool.ticker.read();
        for (ServerEntry e : pool.entries) {
            ServerHealth h = e.health;
            sb.append(' ').append(e.server).append(' ');
            switch (h.state()) {
                case DOWN:
                    sb.append(h.downByCheck() ? "down (health check)"
                            : "down for " + Math.max(0, (h.downUntil() - now) / 1_000_000) + " ms more after "
                            + h.consecutiveFailures() + " failures");
                    if (h.lastFailure() != null) {
                        sb.append(" (last: ").append(h.lastFailure()).append(')');
                    }
                    break;
                case DRAINING:
                    sb.append("draining");
                    break;
                default:
                    sb.append("weight ").append(e.weight);
            }
            sb.append(';');
        }
        sb.setLength(sb.length() - 1);
        return new BackendUnavailableException(sb.toString(), cause);
    }
}
