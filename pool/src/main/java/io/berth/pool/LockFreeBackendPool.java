package io.berth.pool;

import io.berth.AcquireTimeoutException;
import io.berth.Backend;
import io.berth.BackendPool;
import io.berth.BackendPoolConfig;
import io.berth.CloseReason;
import io.berth.ConnectionStats;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.PoolClosedException;
import io.berth.PoolStats;
import io.berth.PurgeScheduler;
import io.berth.ReusePolicy;
import io.berth.Server;
import io.berth.Session;
import io.berth.Ticker;
import io.berth.spi.Connection;
import io.berth.spi.Connector;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger.Level;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLException;

/**
 * The pool engine: a {@link BackendPool} for one server, coded only against the connector SPI.
 *
 * <h2>Fast path</h2>
 * Acquiring an idle connection is one scan of the {@link IdleSet} bitmap and one CAS that takes the
 * connection's idle bit; releasing is one CAS on the lease's state (which catches a double release)
 * and one CAS that sets the idle bit again. Counters are {@link LongAdder}s and atomics; nothing
 * takes a lock and, in steady state, nothing allocates.
 *
 * <h2>Limits and waiting</h2>
 * {@code total} counts open connections plus slots reserved for connections being opened; a caller
 * opens a connection only after reserving a slot with a CAS below {@code maxConnections}. Callers
 * beyond it wait in a FIFO queue of {@link Waiter}s. While anybody waits, new callers do not take
 * idle connections (no barging): a released connection goes to the longest waiter, directly if the
 * reuse policy lets it carry that waiter's request, or else it is closed and its slot given to the
 * waiter as a permit to open a new one; a slot freed by a close also goes to the longest waiter.
 *
 * <p>No wake-up is lost: a releaser first makes the connection idle and then looks for waiters; a
 * waiter first enqueues and then looks for idle connections and free slots. With sequentially
 * consistent atomics one of the two sees the other, and whoever wins the connection's idle bit
 * serves the waiter.
 *
 * <h2>Closing</h2>
 * A connection is closed (gracefully, or aborted if broken) by the thread that owns it, outside any
 * critical section; its slot is freed first, then the count, then a waiter is signalled.
 */
final class LockFreeBackendPool implements HttpEngine {
    private static final System.Logger LOG = System.getLogger(LockFreeBackendPool.class.getName());
    /** The margin kept before a server's {@code Keep-Alive: timeout=}: at most 1 s, at most half of it. */
    static final long KEEP_ALIVE_MARGIN_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Jitter of {@code maxLifetime}: up to 2.5% (1/40) shorter, per connection. */
    static final int LIFETIME_JITTER_DIVISOR = 40;
    /** How long an idle connection keeps its I/O buffers before maintenance takes them back: 1 s. */
    static final long BUFFER_KEEP_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How many times a waiter yields before it parks. */
    static final int SPINS_BEFORE_PARK = 16;

    private final Backend backend;
    private final String name;
    private final Server server;
    private final Connector connector;
    private final Ticker ticker;
    private final PurgeScheduler scheduler;
    final ListenerGuard listenerGuard;
    private final IdleSet idle;

    private volatile Settings settings;
    private volatile boolean closed;
    /** False while the balanced pool has this server down or drained: released connections close. */
    private volatile boolean available = true;

    private final AtomicInteger total = new AtomicInteger();
    private final AtomicInteger inUse = new AtomicInteger();
    private final AtomicInteger peakInUse = new AtomicInteger();
    private final AtomicInteger periodPeak = new AtomicInteger();
    private final AtomicInteger waiting = new AtomicInteger();
    private final ConcurrentLinkedQueue<Waiter> waiters = new ConcurrentLinkedQueue<>();
    private final Set<SessionImpl> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicLong ids;
    /** The balanced pool this one is a server of, or null when used on its own (tests). */
    final BalancedBackendPool owner;

    private final LongAdder acquired = new LongAdder();
    private final LongAdder reusedCount = new LongAdder();
    private final AtomicLong opened = new AtomicLong();
    private final AtomicLong tlsResumed = new AtomicLong();
    private final AtomicLong aborted = new AtomicLong();
    private final AtomicLong acquireWaits = new AtomicLong();
    private final AtomicLong acquireTimeouts = new AtomicLong();
    private final AtomicLong connectFailures = new AtomicLong();
    private final AtomicLong abandoned = new AtomicLong();
    private final AtomicLongArray closedBy = new AtomicLongArray(CloseReason.values().length);
    private final ClosedHistory history = new ClosedHistory();
    private volatile IOException lastConnectFailure;

    private final long nanoBase;
    private final long wallBaseMillis;

    /** Guards the scheduling of maintenance; a lock, not a monitor: the scheduler may park. */
    private final ReentrantLock maintenanceLock = new ReentrantLock();
    private final AtomicBoolean maintaining = new AtomicBoolean();
    private final Runnable maintenanceTask = this::runMaintenance;
    private Future<?> scheduled; // guarded by maintenanceLock
    private volatile boolean maintenanceStalled;
    private long nextPurgeNanos; // maintenance thread only
    private int need; // maintenance thread only: HAProxy's decaying estimate of needed connections

    LockFreeBackendPool(Backend backend, BackendPoolConfig config, Connector connector) {
        this(backend, config, connector, new AtomicLong(), null);
    }

    /**
     * @param ids connection ids, shared by the pools of one backend's servers so ids stay unique
     * @param owner the balanced pool this one serves one server of, or null
     */
    LockFreeBackendPool(Backend backend, BackendPoolConfig config, Connector connector, AtomicLong ids,
            BalancedBackendPool owner) {
        this.ids = ids;
        this.owner = owner;
        this.backend = Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(config, "config");
        this.connector = Objects.requireNonNull(connector, "connector");
        if (backend.servers().size() != 1) {
            throw new IllegalArgumentException("backend must have exactly one server for this pool but had "
                    + backend.servers().size() + ": " + backend);
        }
        this.server = backend.server();
        this.name = config.name() != null ? config.name() : backend.toString();
        this.ticker = config.ticker();
        this.scheduler = config.purgeScheduler();
        this.listenerGuard = new ListenerGuard(name, config.listener());
        this.settings = new Settings(config);
        this.idle = new IdleSet(config.maxConnections());
        this.nanoBase = ticker.read();
        this.wallBaseMillis = System.currentTimeMillis();
        this.nextPurgeNanos = nanoBase + settings.purgeDelayNanos;
        scheduleMaintenance(config.minIdle() > 0 ? 0 : settings.maintenanceIntervalNanos());
    }

    // ------------------------------------------------------------------ acquire

    @Override
    public Lease acquire(boolean replayable, Session session) throws IOException {
        return acquire(replayable, session, settings.acquireTimeoutNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public Lease acquire(boolean replayable, Session session, long timeout, TimeUnit unit) throws IOException {
        SessionImpl s = own(session);
        if (closed) {
            throw closedException();
        }
        Settings st = settings;
        long now = ticker.read();
        PooledConnection c = takeUsable(replayable, s, st, now);
        if (c != null) {
            return lease(c, s, now, st);
        }
        return acquireSlow(replayable, s, Math.max(0, unit.toNanos(timeout)), false);
    }

    /**
     * Acquires a newly opened connection, never an idle one: for the one retry of a replayable
     * request whose reused connection failed before any response byte.
     */
    @Override
    public Lease acquireNew(boolean replayable, Session session, long timeoutNanos, Server avoid) throws IOException {
        return acquireNew(replayable, session, timeoutNanos);
    }

    Lease acquireNew(boolean replayable, Session session, long timeoutNanos) throws IOException {
        SessionImpl s = own(session);
        if (closed) {
            throw closedException();
        }
        return acquireSlow(replayable, s, Math.max(0, timeoutNanos), true);
    }

    /** Takes a usable idle connection: the session's own first, then the shared set (unless callers wait). */
    private PooledConnection takeUsable(boolean replayable, SessionImpl s, Settings st, long now) {
        PooledConnection c;
        if (s != null) {
            while ((c = s.poll()) != null) {
                if (usable(c, replayable, now, st)) {
                    return c;
                }
            }
        }
        if (st.policy.sharesIdleConnections() && waiting.get() == 0) {
            while ((c = idle.pollMostRecent(replayable, st.policy)) != null) {
                if (usable(c, replayable, now, st)) {
                    return c;
                }
            }
        }
        return null;
    }

    private Lease acquireSlow(boolean replayable, SessionImpl s, long timeoutNanos, boolean fresh)
            throws IOException {
        final long start = System.nanoTime();
        final long deadline = start + timeoutNanos;
        int failures = 0;
        boolean waited = false;
        for (;;) {
            if (closed) {
                throw closedException();
            }
            Settings st = settings;
            PooledConnection c = fresh ? null : takeUsable(replayable, s, st, ticker.read());
            if (c != null) {
                return lease(c, s, ticker.read(), st);
            }
            boolean reserved = tryReserve(st);
            if (!reserved && waiting.get() == 0 && st.policy.sharesIdleConnections()) {
                // At the limit with idle connections this request may not use: close the coldest and
                // take its slot (HAProxy kills an idle connection when it needs a new one at maxconn).
                PooledConnection victim = idle.pollColdest();
                if (victim != null) {
                    closeConnection(victim, CloseReason.EVICTED, true);
                    reserved = true;
                }
            }
            if (!reserved) {
                Object r = await(replayable, s, st, deadline, waited, fresh);
                waited = true;
                if (r == null) {
                    throw timeoutException(start, st);
                }
                if (r instanceof PooledConnection) {
                    PooledConnection given = (PooledConnection) r;
                    if (fresh) {
                        closeConnection(given, CloseReason.EVICTED, true); // keep its slot: open a new one
                    } else if (usable(given, replayable, ticker.read(), st)) {
                        return lease(given, s, ticker.read(), st);
                    } else {
                        continue;
                    }
                }
                // r == PERMIT: a slot was reserved for us
            }
            try {
                PooledConnection opened = openReserved(st);
                return lease(opened, s, ticker.read(), st);
            } catch (IOException e) {
                if (!retryable(e) || ++failures > st.retries) {
                    throw e;
                }
                LOG.log(Level.DEBUG, () -> "pool '" + name + "': connecting to " + server + " failed, retrying: " + e);
            }
        }
    }

    /**
     * Waits in FIFO order for a connection or a permit.
     *
     * @return a connection, {@link Waiter#PERMIT}, or null on timeout
     */
    private Object await(boolean replayable, SessionImpl s, Settings st, long deadline, boolean counted,
            boolean fresh) throws IOException {
        Waiter w = new Waiter(replayable, s, Thread.currentThread());
        waiting.incrementAndGet();
        waiters.offer(w);
        if (!counted) {
            acquireWaits.incrementAndGet();
        }
        // Look again now that we are visible to releasers: a connection or slot freed between our
        // last look and the enqueue would otherwise be missed.
        if (closed) {
            return abandon(w, closedException());
        }
        PooledConnection grabbed = !fresh && st.policy.sharesIdleConnections()
                ? idle.pollMostRecent(replayable, st.policy) : null;
        boolean reserved = grabbed == null && tryReserve(st);
        if (grabbed != null || reserved) {
            if (cancel(w)) {
                return grabbed != null ? grabbed : Waiter.PERMIT;
            }
            // Something was handed to us meanwhile: give back what we took ourselves.
            if (grabbed != null) {
                makeIdle(grabbed, settings, grabbed.lastUsedNanos);
            } else {
                unreserve();
            }
            return received(w);
        }
        for (int spins = 0; ; spins++) {
            if (w.result != null) {
                return received(w);
            }
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                if (cancel(w)) {
                    return null;
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
                Object r = cancel(w) ? null : w.result;
                giveBack(r);
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("pool '" + name + "' (" + backend
                        + "): interrupted while waiting for a connection");
            }
        }
    }

    private Object received(Waiter w) throws IOException {
        Object r = w.result;
        if (r == Waiter.CLOSED) {
            throw closedException();
        }
        return r;
    }

    private Object abandon(Waiter w, IOException e) throws IOException {
        if (cancel(w)) {
            throw e;
        }
        return received(w);
    }

    private boolean cancel(Waiter w) {
        if (w.cancel()) {
            waiting.decrementAndGet();
            waiters.remove(w);
            return true;
        }
        return false;
    }

    /** Returns what a waiter received but will not use. */
    private void giveBack(Object r) {
        if (r instanceof PooledConnection) {
            PooledConnection c = (PooledConnection) r;
            makeIdle(c, settings, c.lastUsedNanos);
        } else if (r == Waiter.PERMIT) {
            unreserve();
        }
    }

    private Lease lease(PooledConnection c, SessionImpl s, long now, Settings st) {
        if (!c.privateToSession) {
            c.session = s;
        }
        c.uses++;
        c.reused = c.uses > 1;
        c.acquiredNanos = now;
        if (st.leakThresholdNanos > 0) {
            c.acquireTrace = new Throwable("connection #" + c.id + " acquired here by " + Thread.currentThread());
            c.leakReported = false;
        }
        c.state = PooledConnection.IN_USE;
        int n = inUse.incrementAndGet();
        raise(periodPeak, n);
        raise(peakInUse, n);
        acquired.increment();
        if (c.reused) {
            reusedCount.increment();
        }
        listenerGuard.acquired(c, c.reused);
        return c;
    }

    private static void raise(AtomicInteger max, int value) {
        int m;
        while (value > (m = max.get())) {
            if (max.compareAndSet(m, value)) {
                return;
            }
        }
    }

    /**
     * Checks an owned idle connection before handing it out; closes it if it is no longer usable. A
     * replayable request on a connection idle for less than {@code validateAfterIdle} skips the
     * socket read: see {@link io.berth.BackendPoolConfig.Builder#validateAfterIdle}.
     */
    private boolean usable(PooledConnection c, boolean replayable, long now, Settings st) {
        CloseReason r = expiry(c, now, st);
        if (r == null) {
            r = livenessProblem(c, !replayable || now - c.lastUsedNanos >= st.validateAfterIdleNanos);
        }
        if (r != null) {
            closeConnection(c, r, false);
            return false;
        }
        return true;
    }

    /** @return why an idle connection has expired, or null */
    private static CloseReason expiry(PooledConnection c, long now, Settings st) {
        if (now - c.expiresAtNanos >= 0) {
            return CloseReason.MAX_LIFETIME;
        }
        long idleFor = now - c.lastUsedNanos;
        if (idleFor >= st.idleTimeoutNanos || now - c.keepAliveDeadlineNanos >= 0) {
            return CloseReason.IDLE_TIMEOUT;
        }
        return null;
    }

    private static CloseReason livenessProblem(PooledConnection c) {
        return livenessProblem(c, true);
    }

    /** @param read whether to read the socket, or only look at what the connection already holds */
    private static CloseReason livenessProblem(PooledConnection c, boolean read) {
        try {
            Connection.Liveness l = read ? c.connection.liveness() : c.connection.bufferedLiveness();
            return l == Connection.Liveness.ALIVE ? null : CloseReason.CLOSED_BY_PEER;
        } catch (RuntimeException e) {
            return CloseReason.BROKEN;
        }
    }

    /** @return whether a failure to connect may be retried: not a certificate failure, not an interrupt */
    static boolean retryable(IOException e) {
        if (e instanceof PoolClosedException || e instanceof SSLException) {
            return false; // a certificate or handshake failure will fail again
        }
        if (e instanceof InterruptedIOException && !(e instanceof SocketTimeoutException)) {
            return false; // the caller was interrupted
        }
        return true; // refused, reset, connect or handshake timeout
    }

    // ------------------------------------------------------------------ slots and opening

    private boolean tryReserve(Settings st) {
        for (;;) {
            int t = total.get();
            if (t >= st.maxConnections) {
                return false;
            }
            if (total.compareAndSet(t, t + 1)) {
                return true;
            }
        }
    }

    private void unreserve() {
        total.decrementAndGet();
        signalFreeSlot();
    }

    /** Gives a free slot, if there is one, to the longest waiter as a permit to open a connection. */
    private void signalFreeSlot() {
        while (waiting.get() > 0 && !closed) {
            if (!tryReserve(settings)) {
                return;
            }
            Waiter w;
            boolean given = false;
            while ((w = waiters.poll()) != null) {
                if (w.offer(Waiter.PERMIT)) {
                    waiting.decrementAndGet();
                    given = true;
                    break;
                }
            }
            if (!given) {
                total.decrementAndGet();
                return;
            }
        }
    }

    /** Opens a connection in a slot already reserved; on failure the reservation is undone. */
    private PooledConnection openReserved(Settings st) throws IOException {
        Connection conn;
        try {
            conn = connector.connect(server, st.connectTimeoutNanos);
            Objects.requireNonNull(conn, "connector returned null");
        } catch (IOException e) {
            connectFailures.incrementAndGet();
            lastConnectFailure = e;
            unreserve();
            listenerGuard.connectFailed(server, e);
            throw e;
        } catch (RuntimeException | Error e) {
            connectFailures.incrementAndGet();
            unreserve();
            throw e;
        }
        long now = ticker.read();
        long expires = Long.MAX_VALUE;
        if (st.maxLifetimeNanos > 0) {
            long jitter = ThreadLocalRandom.current().nextLong(st.maxLifetimeNanos / LIFETIME_JITTER_DIVISOR + 1);
            expires = now + st.maxLifetimeNanos - jitter;
        }
        PooledConnection c = new PooledConnection(this, ids.incrementAndGet(), conn, now, expires);
        int slot = idle.register(c);
        if (slot < 0) {
            // Cannot happen: slots >= maxConnections >= total. Fail loudly rather than leak.
            conn.abort();
            unreserve();
            throw new IllegalStateException("pool '" + name + "': no free slot with total=" + total.get());
        }
        c.slot = slot;
        opened.incrementAndGet();
        if (c.tlsResumed) {
            tlsResumed.incrementAndGet();
        }
        listenerGuard.opened(c);
        if (closed) {
            closeConnection(c, CloseReason.POOL_CLOSED, false);
            throw closedException();
        }
        return c;
    }

    // ------------------------------------------------------------------ release

    @Override
    public void release(Lease lease, Outcome outcome) {
        Objects.requireNonNull(outcome, "outcome");
        if (!(lease instanceof PooledConnection) || ((PooledConnection) lease).pool != this) {
            throw new IllegalArgumentException("lease " + lease + " does not belong to pool '" + name + "'");
        }
        PooledConnection c = (PooledConnection) lease;
        if (!c.casState(PooledConnection.IN_USE, PooledConnection.RELEASING)) {
            throw new IllegalStateException("lease on connection #" + c.id + " of pool '" + name
                    + "' was already released");
        }
        inUse.decrementAndGet();
        long now = ticker.read();
        c.lastUsedNanos = now;
        c.everReleased = true;
        c.acquireTrace = null;
        if (c.responseRef != null) {
            c.responseRef = null;
        }
        listenerGuard.released(c, outcome);
        Settings st = settings;
        CloseReason reason = retirement(c, outcome, now, st);
        if (reason != null) {
            closeConnection(c, reason, false);
        } else {
            recycle(c, st, now);
        }
        if (maintenanceStalled) {
            scheduleMaintenance(st.maintenanceIntervalNanos());
        }
    }

    /** @return why a released connection must close, or null if it may be kept */
    private CloseReason retirement(PooledConnection c, Outcome outcome, long now, Settings st) {
        if (!outcome.reusable()) {
            return outcome.closeReason();
        }
        if (closed) {
            return CloseReason.POOL_CLOSED;
        }
        if (!c.connection.isOpen()) {
            return CloseReason.BROKEN;
        }
        if (st.maxUses > 0 && c.uses >= st.maxUses) {
            return CloseReason.MAX_USES;
        }
        int max = outcome.keepAliveMax();
        if (max >= 0) {
            c.serverRemaining = max;
        } else if (c.serverRemaining > 0) {
            c.serverRemaining--;
        }
        if (c.serverRemaining == 0) {
            return CloseReason.MAX_USES;
        }
        Duration hint = outcome.keepAliveTimeout();
        if (hint != null) {
            long t = hint.toNanos();
            c.serverIdleNanos = t - Math.min(KEEP_ALIVE_MARGIN_NANOS, t / 2);
        }
        if (c.serverIdleNanos <= 0) {
            return CloseReason.IDLE_TIMEOUT;
        }
        c.keepAliveDeadlineNanos = c.serverIdleNanos == Long.MAX_VALUE ? Long.MAX_VALUE : now + c.serverIdleNanos;
        if (now - c.expiresAtNanos >= 0) {
            return CloseReason.MAX_LIFETIME;
        }
        return null;
    }

    /** Puts a reusable released connection where it belongs: its session, the idle set, or a waiter. */
    private void recycle(PooledConnection c, Settings st, long stamp) {
        if (!available) {
            closeConnection(c, CloseReason.SERVER_UNAVAILABLE, false);
            return;
        }
        SessionImpl s = c.session;
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

    /** Makes an owned connection idle in the shared set, or hands it to the longest waiter. */
    private void makeIdle(PooledConnection c, Settings st, long stamp) {
        for (;;) {
            if (waiting.get() > 0 && handOff(c)) {
                return;
            }
            if (total.get() > st.maxConnections) {
                closeConnection(c, CloseReason.EVICTED, false);
                return;
            }
            if (st.maxIdle >= 0 && idle.size() >= st.maxIdle) {
                closeConnection(c, CloseReason.IDLE_LIMIT, false);
                return;
            }
            c.state = PooledConnection.IDLE;
            idle.add(c.slot, stamp);
            if (closed || !available) {
                if (idle.remove(c)) {
                    closeConnection(c, closed ? CloseReason.POOL_CLOSED : CloseReason.SERVER_UNAVAILABLE, false);
                }
                return;
            }
            if (st.maxIdle >= 0 && idle.size() > st.maxIdle) {
                // A concurrent release filled the set first: the one that overflows it closes.
                if (idle.remove(c)) {
                    closeConnection(c, CloseReason.IDLE_LIMIT, false);
                }
                return;
            }
            if (waiting.get() == 0 || !idle.remove(c)) {
                return;
            }
            // A caller started waiting while we made it idle: take it back and try the hand-off.
        }
    }

    /**
     * Hands an owned connection to the longest waiter: the connection itself if the waiter may use
     * it, or else its slot (the connection is closed and the waiter opens a new one).
     *
     * @return whether a waiter took it
     */
    private boolean handOff(PooledConnection c) {
        Settings st = settings;
        Waiter w;
        while ((w = waiters.poll()) != null) {
            if (w.result != null) {
                continue; // gave up already
            }
            boolean fits = c.privateToSession
                    ? w.session != null && w.session == c.session
                    : st.policy.sharesIdleConnections() && accepts(st.policy, w.replayable, c);
            if (w.offer(fits ? c : Waiter.PERMIT)) {
                waiting.decrementAndGet();
                if (!fits) {
                    closeConnection(c, CloseReason.EVICTED, true);
                }
                return true;
            }
        }
        return false;
    }

    private boolean accepts(ReusePolicy policy, boolean replayable, PooledConnection c) {
        try {
            return policy.mayCarry(replayable, c);
        } catch (RuntimeException | Error e) {
            listenerGuard.policyFailed(policy, e);
            return false;
        }
    }

    /**
     * Closes an owned connection: gracefully, or by abort if broken; counts the reason; frees its
     * slot and, unless {@code keepReservation}, the count it held (which goes to a waiter).
     */
    void closeConnection(PooledConnection c, CloseReason reason, boolean keepReservation) {
        c.closeReason = reason;
        c.state = PooledConnection.CLOSED;
        boolean graceful = false;
        try {
            if (reason == CloseReason.BROKEN) {
                c.connection.abort();
            } else {
                graceful = c.connection.close();
            }
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, () -> "pool '" + name + "': closing " + c + " threw " + e);
        }
        if (!graceful) {
            aborted.incrementAndGet();
        }
        closedBy.incrementAndGet(reason.ordinal());
        history.add(row(c));
        if (c.slot >= 0) {
            idle.unregister(c.slot);
        }
        listenerGuard.closed(c, reason);
        if (!keepReservation) {
            total.decrementAndGet();
            signalFreeSlot();
        }
    }

    // ------------------------------------------------------------------ sessions

    @Override
    public Session openSession() throws PoolClosedException {
        if (closed) {
            throw closedException();
        }
        SessionImpl s = new SessionImpl(this);
        sessions.add(s);
        if (closed) {
            sessions.remove(s);
            throw closedException();
        }
        return s;
    }

    private SessionImpl own(Session session) {
        if (session == null) {
            return null;
        }
        if (!(session instanceof SessionImpl) || ((SessionImpl) session).owner() != this) {
            throw new IllegalArgumentException("session " + session + " does not belong to pool '" + name + "'");
        }
        if (!session.isOpen()) {
            throw new IllegalStateException("session of pool '" + name + "' is closed");
        }
        return (SessionImpl) session;
    }

    /** A session closed; its idle connections go to the shared set, or close if they may not be shared. */
    void sessionClosed(SessionImpl s, List<PooledConnection> left) {
        sessions.remove(s);
        Settings st = settings;
        for (PooledConnection c : left) {
            if (closed) {
                closeConnection(c, CloseReason.POOL_CLOSED, false);
            } else if (c.privateToSession || !st.policy.sharesIdleConnections()) {
                closeConnection(c, CloseReason.NOT_SHARED, false);
            } else {
                c.session = null;
                makeIdle(c, st, c.lastUsedNanos);
            }
        }
    }

    // ------------------------------------------------------------------ maintenance

    private void scheduleMaintenance(long delayNanos) {
        maintenanceLock.lock();
        try {
            if (closed) {
                return;
            }
            if (scheduled != null && !scheduled.isDone()) {
                scheduled.cancel(false);
            }
            try {
                scheduled = scheduler.schedule(maintenanceTask, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
                maintenanceStalled = false;
            } catch (RuntimeException e) {
                maintenanceStalled = true;
                listenerGuard.schedulerFailed(e);
            }
        } finally {
            maintenanceLock.unlock();
        }
    }

    private void runMaintenance() {
        maintenanceLock.lock();
        try {
            scheduled = null; // this pass is running: rescheduling must not cancel it
        } finally {
            maintenanceLock.unlock();
        }
        long next;
        try {
            next = maintain(ticker.read());
        } catch (RuntimeException | Error e) {
            listenerGuard.maintenanceFailed(e);
            next = settings.maintenanceIntervalNanos();
        }
        if (next >= 0) {
            scheduleMaintenance(next);
        }
    }

    /**
     * One maintenance pass at time {@code now}: expire and probe idle connections, run the purge if
     * {@code purgeDelay} has passed, and open connections up to {@code minIdle}.
     *
     * @return nanoseconds until the next pass, or -1 if the pool is closed
     */
    long maintain(long now) {
        if (!maintaining.compareAndSet(false, true)) {
            return settings.maintenanceIntervalNanos();
        }
        try {
            if (closed) {
                return -1;
            }
            Settings st = settings;
            sweepIdle(now, st);
            sweepSessions(now, st);
            reportLeaks(now, st);
            reclaimAbandoned();
            if (now - nextPurgeNanos >= 0) {
                purge(st);
                nextPurgeNanos = now + st.purgeDelayNanos;
            }
            refill(st);
            return Math.max(0, Math.min(nextPurgeNanos - now, st.maintenanceIntervalNanos()));
        } finally {
            maintaining.set(false);
        }
    }

    /** Closes idle connections that expired or that the server closed (no CLOSE_WAIT pile-up). */
    private void sweepIdle(long now, Settings st) {
        for (int slot : idle.idleSlots()) {
            if (!idle.remove(slot)) {
                continue;
            }
            PooledConnection c = idle.entry(slot);
            CloseReason r = expiry(c, now, st);
            if (r == null) {
                r = livenessProblem(c);
            }
            if (r != null) {
                closeConnection(c, r, false);
            } else if (now - c.lastUsedNanos < BUFFER_KEEP_NANOS || goIdle(c)) {
                makeIdle(c, st, c.lastUsedNanos);
            }
        }
    }

    /**
     * Tells an owned connection it is idle, so it gives its buffers back. Connections in the shared
     * set are told by maintenance once idle for {@link #BUFFER_KEEP_NANOS}, not at every release: a
     * busy connection keeps its buffers instead of returning and retaking them for every exchange.
     *
     * @return false if the connection failed (it is then closed)
     */
    private boolean goIdle(PooledConnection c) {
        try {
            c.connection.idle();
            return true;
        } catch (RuntimeException e) {
            closeConnection(c, CloseReason.BROKEN, false);
            return false;
        }
    }

    private void sweepSessions(long now, Settings st) {
        for (SessionImpl s : sessions) {
            for (PooledConnection c : s.removeIf(x -> expiry(x, now, st) != null || livenessProblem(x) != null)) {
                CloseReason r = expiry(c, now, st);
                closeConnection(c, r != null ? r : CloseReason.CLOSED_BY_PEER, false);
            }
        }
    }

    private void reportLeaks(long now, Settings st) {
        if (st.leakThresholdNanos <= 0) {
            return;
        }
        idle.forEachRegistered(c -> {
            Throwable trace = c.acquireTrace;
            if (c.state == PooledConnection.IN_USE && trace != null && !c.leakReported
                    && now - c.acquiredNanos >= st.leakThresholdNanos) {
                c.leakReported = true;
                LOG.log(Level.WARNING, "pool '" + name + "': connection #" + c.id + " to " + server
                        + " has been held for more than " + st.config.leakDetectionThreshold()
                        + " without release; a response body may be unclosed. Holder's stack:", trace);
            }
        });
    }

    /**
     * Watches a lease's response: if the caller drops it without closing it, the connection is
     * reclaimed (aborted) by the next maintenance pass instead of leaking. Call only while the lease
     * is held and its response body is unfinished.
     */
    @Override
    public void watch(Lease lease, Object response) {
        ((PooledConnection) lease).responseRef = new java.lang.ref.WeakReference<>(response);
    }

    /** Reclaims connections whose response was garbage-collected unclosed (OkHttp reports the same). */
    private void reclaimAbandoned() {
        idle.forEachRegistered(c -> {
            java.lang.ref.WeakReference<Object> ref = c.responseRef;
            if (ref != null && ref.get() == null && c.state == PooledConnection.IN_USE) {
                Throwable trace = c.acquireTrace;
                try {
                    release(c, Outcome.BROKEN);
                } catch (IllegalStateException raced) {
                    return; // released meanwhile
                }
                abandoned.incrementAndGet();
                LOG.log(Level.WARNING, "pool '" + name + "': a response from connection #" + c.id + " to " + server
                        + " was garbage-collected without being closed; the connection was closed. Close every"
                        + " BerthResponse (try-with-resources) or read its body to the end."
                        + (trace == null ? " Set leakDetectionThreshold to log where it was acquired." : ""), trace);
            }
        });
    }

    /** @return responses reclaimed after being garbage-collected unclosed (for tests) */
    long abandonedCount() {
        return abandoned.get();
    }

    /**
     * HAProxy's purge (2.2+, coldest first as in 2.9): close half of the surplus over
     * {@code max(peak, need)}, never below {@code minIdle}; then let {@code need} decay towards the
     * last period's peak.
     */
    private void purge(Settings st) {
        int inUseNow = inUse.get();
        int idleNow = idle.size();
        int peak = periodPeak.get();
        int surplus = inUseNow + idleNow - Math.max(peak, need);
        int toClose = Math.min(surplus > 0 ? (surplus + 1) / 2 : 0, idleNow - st.minIdle);
        for (int i = 0; i < toClose; i++) {
            PooledConnection c = idle.pollColdest();
            if (c == null) {
                break;
            }
            closeConnection(c, CloseReason.PURGED, false);
        }
        need = Math.max((need + peak) / 2, peak);
        periodPeak.set(inUse.get());
    }

    /** Opens connections, off the callers' threads, until {@code minIdle} are idle. */
    private void refill(Settings st) {
        if (!st.policy.sharesIdleConnections()) {
            return;
        }
        while (!closed && idle.size() < st.minIdle && waiting.get() == 0 && tryReserve(st)) {
            PooledConnection c;
            try {
                c = openReserved(st);
            } catch (IOException e) {
                LOG.log(Level.DEBUG, () -> "pool '" + name + "': opening a connection for minIdle failed: " + e);
                return;
            }
            c.state = PooledConnection.IDLE;
            makeIdle(c, st, ticker.read());
        }
    }

    // ------------------------------------------------------------------ control and stats

    @Override
    public void reconfigure(BackendPoolConfig config) {
        Objects.requireNonNull(config, "config");
        maintenanceLock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("pool '" + name + "' is closed");
            }
            settings.config.requireReconfigurableTo(config);
            idle.ensureCapacity(config.maxConnections());
            Settings old = settings;
            settings = new Settings(config);
            if (old.purgeDelayNanos != settings.purgeDelayNanos || old.minIdle != settings.minIdle) {
                long now = ticker.read();
                nextPurgeNanos = now + settings.purgeDelayNanos;
                scheduleMaintenance(settings.minIdle > old.minIdle ? 0 : settings.maintenanceIntervalNanos());
            }
        } finally {
            maintenanceLock.unlock();
        }
        Settings st = settings;
        // Lowered limits: close idle connections beyond them now (in-use ones close at release).
        PooledConnection c;
        while (total.get() > st.maxConnections && (c = idle.pollColdest()) != null) {
            closeConnection(c, CloseReason.EVICTED, false);
        }
        while (st.maxIdle >= 0 && idle.size() > st.maxIdle && (c = idle.pollColdest()) != null) {
            closeConnection(c, CloseReason.IDLE_LIMIT, false);
        }
        if (!st.policy.sharesIdleConnections()) {
            while ((c = idle.pollColdest()) != null) {
                closeConnection(c, CloseReason.NOT_SHARED, false);
            }
        }
        // Raised limits: admit waiters at once.
        signalFreeSlot();
    }

    @Override
    public PoolStats stats() {
        List<ConnectionStats> rows = new ArrayList<>();
        idle.forEachRegistered(c -> rows.add(row(c)));
        rows.sort(Comparator.comparingLong(ConnectionStats::id));
        rows.addAll(history.snapshot());
        Map<CloseReason, Long> closedMap = new EnumMap<>(CloseReason.class);
        for (CloseReason r : CloseReason.values()) {
            closedMap.put(r, closedBy.get(r.ordinal()));
        }
        int sessionIdle = 0;
        for (SessionImpl s : sessions) {
            sessionIdle += s.idleConnections();
        }
        return new PoolStats(name, backend.toString(), total.get(), idle.size(), sessionIdle, inUse.get(),
                waiting.get(), peakInUse.get(), opened.get(), acquired.sum(), reusedCount.sum(), tlsResumed.get(),
                closedMap, aborted.get(), acquireWaits.get(), acquireTimeouts.get(), connectFailures.get(), rows,
                List.of(serverStats(io.berth.ServerState.UP, 1, 0, 0)));
    }

    /** @return this pool's row in a backend's server table */
    io.berth.ServerStats serverStats(io.berth.ServerState state, int weight, int consecutiveFailures, long downCount) {
        return new io.berth.ServerStats(server.toString(), state, weight, total.get(), idle.size(), inUse.get(),
                opened.get(), connectFailures.get(), consecutiveFailures, downCount);
    }

    private ConnectionStats row(PooledConnection c) {
        return new ConnectionStats(c.id, c.server.toString(), c.publicState(), instant(c.createdNanos),
                c.everReleased ? instant(c.lastUsedNanos) : null, c.uses, c.proven(), c.tlsResumed, c.closeReason);
    }

    private Instant instant(long nanos) {
        return Instant.ofEpochMilli(wallBaseMillis).plusNanos(nanos - nanoBase);
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public BackendPoolConfig config() {
        return settings.config;
    }

    @Override
    public void addServer(Server server, int weight) {
        throw new UnsupportedOperationException("pool '" + name + "' serves one server; build it with Berth.newPool");
    }

    @Override
    public void removeServer(Server server) {
        throw new UnsupportedOperationException("pool '" + name + "' serves one server; build it with Berth.newPool");
    }

    @Override
    public void drainServer(Server server) {
        throw new UnsupportedOperationException("pool '" + name + "' serves one server; build it with Berth.newPool");
    }

    @Override
    public void resumeServer(Server server) {
        throw new UnsupportedOperationException("pool '" + name + "' serves one server; build it with Berth.newPool");
    }

    @Override
    public void weight(Server server, int weight) {
        throw new UnsupportedOperationException("pool '" + name + "' serves one server; build it with Berth.newPool");
    }

    // ------------------------------------------------------------------ for the balanced pool

    /** @return the server this pool connects to */
    Server server() {
        return server;
    }

    /**
     * Takes a usable idle connection this request may use (the session's own first), without waiting
     * and without opening one.
     *
     * @return a lease, or null
     */
    Lease tryIdle(boolean replayable, SessionImpl s) throws PoolClosedException {
        if (closed) {
            throw closedException();
        }
        Settings st = settings;
        long now = ticker.read();
        PooledConnection c = takeUsable(replayable, s, st, now);
        return c == null ? null : lease(c, s, now, st);
    }

    /**
     * Takes one particular idle connection, if it is still idle, usable and allowed for the request
     * (for prefer-last-server).
     *
     * @return a lease, or null
     */
    Lease tryTake(PooledConnection c, boolean replayable, SessionImpl s) {
        Settings st = settings;
        if (closed || c.pool != this || c.privateToSession || waiting.get() > 0
                || !st.policy.sharesIdleConnections() || !accepts(st.policy, replayable, c) || !idle.remove(c)) {
            return null;
        }
        long now = ticker.read();
        return usable(c, replayable, now, st) ? lease(c, s, now, st) : null;
    }

    /**
     * Opens a new connection if there is room (or an idle one the request may not use can make room),
     * without waiting. A failure to connect is thrown, not retried.
     *
     * @return a lease on a new connection, or null if the server is at its limit
     */
    Lease tryOpen(boolean replayable, SessionImpl s) throws IOException {
        if (closed) {
            throw closedException();
        }
        Settings st = settings;
        boolean reserved = tryReserve(st);
        if (!reserved && waiting.get() == 0 && st.policy.sharesIdleConnections()) {
            PooledConnection victim = idle.pollColdest();
            if (victim != null) {
                closeConnection(victim, CloseReason.EVICTED, true);
                reserved = true;
            }
        }
        if (!reserved) {
            return null;
        }
        PooledConnection c = openReserved(st);
        return lease(c, s, ticker.read(), st);
    }

    /** @return whether a new connection could be opened now without waiting */
    boolean hasRoom() {
        return total.get() < settings.maxConnections;
    }

    /** @return connections in use now */
    int inUse() {
        return inUse.get();
    }

    /**
     * Marks the server available or not: while not, released connections close instead of going idle,
     * and its idle ones are closed now.
     */
    void available(boolean on) {
        available = on;
        if (!on) {
            closeIdle(CloseReason.SERVER_UNAVAILABLE);
        }
    }

    /** Closes every idle connection (the server went down or is drained), counted with {@code reason}. */
    void closeIdle(CloseReason reason) {
        PooledConnection c;
        while ((c = idle.pollColdest()) != null) {
            closeConnection(c, reason, false);
        }
        for (SessionImpl s : sessions) {
            for (PooledConnection sc : s.removeIf(x -> true)) {
                closeConnection(sc, reason, false);
            }
        }
    }

    /** @return the session of this server's pool for a balanced session, opened on demand */
    SessionImpl newSession() throws PoolClosedException {
        return (SessionImpl) openSession();
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        maintenanceLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (scheduled != null) {
                scheduled.cancel(false);
                scheduled = null;
            }
        } finally {
            maintenanceLock.unlock();
        }
        Waiter w;
        while ((w = waiters.poll()) != null) {
            if (w.offer(Waiter.CLOSED)) {
                waiting.decrementAndGet();
            }
        }
        PooledConnection c;
        while ((c = idle.pollColdest()) != null) {
            closeConnection(c, CloseReason.POOL_CLOSED, false);
        }
        for (SessionImpl s : sessions) {
            for (PooledConnection sc : s.removeIf(x -> true)) {
                closeConnection(sc, CloseReason.POOL_CLOSED, false);
            }
        }
        LOG.log(Level.DEBUG, () -> "pool '" + name + "' closed; " + inUse.get() + " connection(s) still in use"
                + " close when released");
    }

    // ------------------------------------------------------------------ helpers

    private PoolClosedException closedException() {
        return new PoolClosedException("pool '" + name + "' (" + backend + ") is closed");
    }

    private AcquireTimeoutException timeoutException(long startNanos, Settings st) {
        acquireTimeouts.incrementAndGet();
        return new AcquireTimeoutException(name, backend.toString(), Duration.ofNanos(System.nanoTime() - startNanos),
                total.get(), idle.size(), inUse.get(), waiting.get() + 1, st.maxConnections, lastConnectFailure);
    }

    /** For tests: connections open or being opened. */
    int total() {
        return total.get();
    }

    /** For tests: the connections idle in the shared set. */
    int idleCount() {
        return idle.size();
    }

    /** For tests: callers waiting. */
    int waitingCount() {
        return waiting.get();
    }

    /** For tests: the registered slots (open connections). */
    int registered() {
        return idle.registered();
    }

    @Override
    public String toString() {
        return "BackendPool{" + name + ", total=" + total.get() + ", idle=" + idle.size() + ", inUse=" + inUse.get()
                + ", waiting=" + waiting.get() + (closed ? ", closed" : "") + "}";
    }
}
