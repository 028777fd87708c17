package io.berth.pool;

import io.berth.CloseReason;
import io.berth.HealthCheck;
import io.berth.Outcome;
import io.berth.PurgeScheduler;
import io.berth.ServerState;
import io.berth.spi.Connection;
import io.berth.spi.ServerProbe;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.ref.WeakReference;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one maintenance task of a pool, run by its {@link PurgeScheduler} with the time as a parameter
 * ({@link #run(long)} returns the delay until the next pass, as OkHttp's {@code cleanup(now)} does):
 * expire and probe idle connections (the server's close noticed within a second, no CLOSE_WAIT
 * pile-up), report leaks and reclaim responses dropped unclosed (a connection's, or a stream's:
 * {@link StreamWatches}), purge the idle surplus of each server
 * every {@code purgeDelay} ({@link Purge}), give the free slots of servers that take new connections
 * to waiting callers (a server back from its back-off), open connections up to {@code minIdle}, and
 * run the active health checks when they are due.
 *
 * <p>A connection being checked is announced ({@link PooledConnection#checking}, and the count on its
 * server) before it is taken out of the idle set, and the announcement is withdrawn only after it went
 * back (or to a waiter, or closed): a caller that finds no idle connection looks for announced ones and
 * waits for them instead of opening a new connection.
 */
final class Maintenance {
    private final LockFreeBackendPool pool;
    private final ServerProbe probe;
    private final Scheduled task;
    private final AtomicBoolean running = new AtomicBoolean();
    /** Written by the pass and by {@link #restart}; a lost race only moves a purge by one pass. */
    private volatile long nextPurgeNanos;
    private volatile long nextCheckNanos;

    Maintenance(LockFreeBackendPool pool, ServerProbe probe, PurgeScheduler scheduler, long now) {
        this.pool = pool;
        this.probe = probe;
        Settings st = pool.settings;
        this.nextPurgeNanos = now + st.purgeDelayNanos;
        this.nextCheckNanos = now;
        this.task = new Scheduled(scheduler, pool.guard, () -> run(pool.ticker.read()), st.maintenanceIntervalNanos());
    }

    void start() {
        Settings st = pool.settings;
        task.schedule(st.minIdle > 0 || st.healthCheck != null ? 0 : st.maintenanceIntervalNanos());
    }

    /** After the settings changed: the purge period starts again from now. */
    void restart(long now, boolean soon) {
        Settings st = pool.settings;
        nextPurgeNanos = now + st.purgeDelayNanos;
        nextCheckNanos = now;
        task.schedule(soon ? 0 : st.maintenanceIntervalNanos());
    }

    /** Schedules again if the scheduler refused the last time (called on releases). */
    void kick() {
        task.kick(pool.settings.maintenanceIntervalNanos());
    }

    void stop() {
        task.stop();
    }

    /**
     * One pass at time {@code now}.
     *
     * @return nanoseconds until the next pass, or -1 if the pool is closed
     */
    long run(long now) {
        Settings st = pool.settings;
        if (!running.compareAndSet(false, true)) {
            return st.maintenanceIntervalNanos();
        }
        try {
            if (pool.closed) {
                return -1;
            }
            ServerEntry[] es = pool.entries;
            for (ServerEntry e : es) {
                // Parked connections join the shared set first, so that the pass judges every idle
                // connection: expiry, liveness, purge, and the in-use counts the purge measures.
                pool.recycler.publishParked(e, st);
                sweepIdle(e, now, st);
            }
            sweepSessions(now, st);
            reportLeaksAndReclaim(now, st, es);
            for (ServerEntry e : pool.leaving) {
                reportLeaksAndReclaim(now, st, new ServerEntry[] {e});
                if (e.total.get() == 0) {
                    pool.leaving.remove(e);
                }
            }
            pool.streamWatches.sweep(true);
            if (now - nextPurgeNanos >= 0) {
                for (ServerEntry e : es) {
                    purge(e, st);
                }
                nextPurgeNanos = now + st.purgeDelayNanos;
            }
            long next = nextPurgeNanos - now;
            for (ServerEntry e : es) {
                // A server whose back-off ended since the last pass takes new connections again, and
                // nobody else tells the callers waiting: their wait was planned while it was down.
                pool.recycler.signalFreeSlot(e);
                refill(e, st);
            }
            HealthCheck check = st.healthCheck;
            if (check != null && probe != null) {
                if (now - nextCheckNanos >= 0) {
                    checkHealth(es, check, st);
                    nextCheckNanos = now + check.interval().toNanos();
                }
                next = Math.min(next, nextCheckNanos - now);
            }
            return Math.max(0, Math.min(next, st.maintenanceIntervalNanos()));
        } finally {
            running.set(false);
        }
    }

    /** Closes idle connections that expired or that the server closed, announcing each check. */
    private void sweepIdle(ServerEntry e, long now, Settings st) {
        for (int index : e.table.idleSlots()) {
            PooledConnection c = e.table.entry(index);
            if (c == null) {
                continue;
            }
            c.checking = true;
            e.checking.incrementAndGet();
            try {
                if (!e.table.remove(c)) {
                    continue; // a caller took it meanwhile
                }
                c.state = PooledConnection.OWNED;
                CloseReason r = Retirement.expiry(c, now, st);
                if (r == null) {
                    r = LockFreeBackendPool.livenessProblem(c, true);
                }
                if (r != null) {
                    pool.recycler.closeConnection(c, r, false);
                } else if (now - c.lastUsedNanos < LockFreeBackendPool.BUFFER_KEEP_NANOS || pool.recycler.goIdle(c)) {
                    pool.recycler.makeIdle(c, st, c.lastUsedNanos);
                }
            } finally {
                c.checking = false;
                e.checking.decrementAndGet();
            }
        }
    }

    private void sweepSessions(long now, Settings st) {
        for (PinnedSession s : pool.sessions) {
            for (PooledConnection c : s.removeIf(x -> Retirement.expiry(x, now, st) != null
                    || LockFreeBackendPool.livenessProblem(x, true) != null)) {
                CloseReason r = Retirement.expiry(c, now, st);
                pool.recycler.closeConnection(c, r != null ? r : CloseReason.CLOSED_BY_PEER, false);
            }
        }
    }

    /**
     * Logs, once, the stack of a caller holding a connection beyond {@code leakDetectionThreshold};
     * reclaims (aborts) a connection whose response was garbage-collected unclosed, as OkHttp does.
     */
    private void reportLeaksAndReclaim(long now, Settings st, ServerEntry[] es) {
        for (ServerEntry e : es) {
            e.table.forEachRegistered(c -> {
                Throwable trace = c.acquireTrace;
                if (st.leakThresholdNanos > 0 && c.state == PooledConnection.IN_USE && trace != null
                        && !c.leakReported && now - c.acquiredNanos >= st.leakThresholdNanos) {
                    c.leakReported = true;
                    LockFreeBackendPool.LOG.log(Level.WARNING, "pool '" + pool.name + "': connection #" + c.id
                            + " to " + c.server + " has been held for more than " + st.config.leakDetectionThreshold()
                            + " without release; a response body may be unclosed. Holder's stack:", trace);
                }
                WeakReference<Object> ref = c.responseRef;
                if (ref != null && ref.get() == null && c.state == PooledConnection.IN_USE) {
                    try {
                        pool.release(c, Outcome.BROKEN);
                    } catch (IllegalStateException raced) {
                        return; // released meanwhile
                    }
                    pool.stats.abandoned.incrementAndGet();
                    LockFreeBackendPool.LOG.log(Level.WARNING, "pool '" + pool.name + "': a response from connection #"
                            + c.id + " to " + c.server + " was garbage-collected without being closed; the connection"
                            + " was closed. Close every BerthResponse (try-with-resources) or read its body to the end."
                            + (trace == null ? " Set leakDetectionThreshold to log where it was acquired." : ""),
                            trace);
                }
            });
        }
    }

    /** HAProxy's purge of one server ({@link Purge}): half the surplus, coldest first. */
    private void purge(ServerEntry e, Settings st) {
        int peak = e.periodPeak.get();
        int toClose = Purge.toClose(e.inUse.get(), e.table.size(), peak, e.need, st.minIdle);
        for (int i = 0; i < toClose; i++) {
            PooledConnection c = e.table.pollColdest();
            if (c == null) {
                break;
            }
            pool.recycler.closeConnection(c, CloseReason.PURGED, false);
        }
        e.need = Purge.nextNeed(e.need, peak);
        e.periodPeak.set(e.inUse.get());
    }

    /** Opens connections, off the callers' threads, until {@code minIdle} are idle on the server. */
    private void refill(ServerEntry e, Settings st) {
        if (!st.policy.sharesIdleConnections() || !e.servesRequests()) {
            return;
        }
        while (!pool.closed && e.table.size() < st.minIdle && pool.waiters.waiting() == 0
                && e.takesNewConnections(pool.ticker.read(), st.slowStartNanos) && e.tryReserve(st.maxConnections)) {
            PooledConnection c;
            try {
                c = pool.connecting.open(e, st);
            } catch (IOException ex) {
                LockFreeBackendPool.LOG.log(Level.DEBUG, () -> "pool '" + pool.name + "': opening a connection to "
                        + e.server + " for minIdle failed: " + ex);
                return;
            }
            pool.recycler.makeIdle(c, st, pool.ticker.read());
            pool.connecting.settle(c);
        }
    }

    /** The active health checks: one request on a new connection to each server. */
    private void checkHealth(ServerEntry[] es, HealthCheck check, Settings st) {
        for (ServerEntry e : es) {
            if (pool.closed) {
                return;
            }
            ServerHealth h = e.health;
            if (h.state() == ServerState.DRAINING || e.removed) {
                continue;
            }
            if (checkOnce(e, check)) {
                h.checkFailures = 0;
                h.checkSuccesses++;
                if (h.state() == ServerState.DOWN && h.downByCheck() && h.checkSuccesses >= check.rise()) {
                    h.comeBack(pool.ticker.read(), st.slowStartNanos, st.downBackoffNanos);
                    LockFreeBackendPool.LOG.log(Level.INFO, () -> "pool '" + pool.name + "': server " + e.server
                            + " passed its health check " + check.rise() + " times: up again");
                    pool.recycler.signalFreeSlot(e);
                }
            } else {
                h.checkSuccesses = 0;
                if (++h.checkFailures >= check.fall() && h.markDownByCheck(pool.ticker.read())) {
                    LockFreeBackendPool.LOG.log(Level.INFO, () -> "pool '" + pool.name + "': server " + e.server
                            + " marked down by its health check after " + h.checkFailures + " failures");
                    pool.recycler.closeIdle(e, CloseReason.SERVER_UNAVAILABLE);
                }
            }
        }
    }

    /** One check: a new connection through the pool's connector, the probe's request, closed after. */
    private boolean checkOnce(ServerEntry e, HealthCheck check) {
        Connection raw = null;
        try {
            raw = pool.connector.connect(e.server, check.timeout().toNanos());
            return probe.check(raw, check);
        } catch (IOException | RuntimeException ex) {
            LockFreeBackendPool.LOG.log(Level.DEBUG, () -> "pool '" + pool.name + "': health check of " + e.server
                    + " failed: " + ex);
            return false;
        } finally {
            if (raw != null) {
                raw.close();
            }
        }
    }
}
