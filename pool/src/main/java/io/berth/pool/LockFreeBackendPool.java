package io.berth.pool;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.CloseReason;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.PassiveHealth;
import io.berth.PoolClosedException;
import io.berth.PoolStats;
import io.berth.ReusePolicy;
import io.berth.Server;
import io.berth.ServerState;
import io.berth.Session;
import io.berth.Ticker;
import io.berth.TlsConfig;
import io.berth.pool.internal.PoolAccess;
import io.berth.spi.Connection;
import io.berth.spi.Connector;
import io.berth.spi.ServerProbe;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger.Level;
import java.lang.ref.WeakReference;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLException;

/**
 * The pool engine: one {@link io.berth.BackendPool} for a backend of one or many servers, coded only
 * against the connector SPI. Its units: per-server state ({@link ServerEntry}: a {@link SlotTable},
 * counts, weight, {@link ServerHealth}), one {@link WaitQueue} for the backend, the slow path of
 * acquiring ({@link Acquirer}), {@link ServerSelector}, {@link Maintenance}, {@link Retirement},
 * {@link StatsRecorder}, {@link PinnedSession}s and the control operations ({@link PoolControl}).
 *
 * <h2>Fast path</h2>
 * Acquiring an idle connection is a scan of a server's {@link SlotTable} bitmap and one CAS that takes
 * the connection's idle bit (or, on a multiplexed connection with room, one CAS on its exchange
 * count); releasing is one CAS on the lease's state (which catches a double release) and one CAS that
 * sets the idle bit again. The in-use counts are single atomics, and each connection counts its own
 * leases; nothing takes a lock and, in steady state, nothing allocates. With one server (or
 * {@code preferLastServer}), a caller first tries the connection it used last, found in a small
 * table by its thread's id ({@link LastConnections}).
 *
 * <h2>Parking: the caller's own connection</h2>
 * When a caller took that last connection again, its release <em>parks</em> it (HikariCP's per-thread
 * list, on one field): the connection stays idle on its own state, out of the shared set and still
 * counted in use, and the caller's next acquire takes it back with one CAS on that state. Acquiring
 * and releasing then write only the connection's own cache line: no idle word, no in-use counter
 * that other cores share. Nothing else changes for anybody: a parked connection is idle in the
 * stats; a caller that finds no idle connection in the shared set takes a parked one before it would
 * open or wait; a release never parks while callers wait, in a session, at {@code maxIdle} or beyond
 * the limits, and looks at the queue again after parking (see {@link WaitQueue}); close, a server
 * leaving and new settings take parked connections first; each maintenance pass moves those still
 * parked to the shared set, so expiry, liveness checks and the purge see every idle connection (the
 * purge's measured demand counts a parked connection as in use until then). A caller that is a new
 * (virtual) thread each time has no last connection, and keeps the shared set's path.
 *
 * <h2>Limits and waiting</h2>
 * A connection is opened only after a CAS reserved a slot below its server's {@code maxConnections}.
 * When no server that takes new connections has room, callers wait in the one FIFO of the backend.
 * While anybody waits, new callers do not take idle connections (no barging): a released connection
 * goes to the longest waiter that may use it, or else is closed and its slot given to that waiter as
 * a permit to open a new one (when its server takes new connections); a slot freed by a close also
 * goes to the longest waiter. See {@link WaitQueue} for why no wake-up is lost.
 *
 * <h2>Closing</h2>
 * A connection is closed (gracefully, or aborted if broken) by the thread that owns it, outside any
 * critical section; its slot is freed first, then the count, then a waiter is given the slot.
 */
final class LockFreeBackendPool implements PoolAccess {
    static final System.Logger LOG = System.getLogger(LockFreeBackendPool.class.getName());
    /** How long an idle connection keeps its I/O buffers before maintenance takes them back: 1 s. */
    static final long BUFFER_KEEP_NANOS = TimeUnit.SECONDS.toNanos(1);

    final String name;
    private final boolean secure;
    private final TlsConfig tls;
    final Connector connector;
    final Ticker ticker;
    final ListenerGuard guard;
    final StatsRecorder stats;
    final WaitQueue waiters = new WaitQueue();
    final ServerSelector selector = new ServerSelector();
    final Set<PinnedSession> sessions = ConcurrentHashMap.newKeySet();
    final Acquirer acquirer;
    final Connecting connecting;
    /**
     * Counts the moments a multiplexed connection became usable by others: leased (others may join
     * it) or made idle. A caller that found no room and no connection between owners opens one only
     * if this did not move meanwhile: else the room it missed may be there now (see {@link
     * Connecting#expected}).
     */
    final AtomicLong muxReady = new AtomicLong();
    final Recycler recycler;
    final Maintenance maintenance;
    final PoolControl control;
    /** The unfinished responses of exchanges on multiplexed connections (see {@link StreamWatches}). */
    final StreamWatches streamWatches = new StreamWatches(this);
    private final AtomicLong ids = new AtomicLong();

    /** @return a new connection id, pool-unique, from 1 */
    long nextId() {
        return ids.incrementAndGet();
    }
    /** The connection each thread used last: a hint the fast path tries first. */
    final LastConnections lastOfThread = new LastConnections();

    volatile Settings settings;
    volatile boolean closed;
    /** The servers, in the backend's order: copy on write, under {@link PoolControl}'s lock. */
    volatile ServerEntry[] entries;
    /** Removed servers whose connections are still finishing: they count in the stats until then. */
    final List<ServerEntry> leaving = new CopyOnWriteArrayList<>();
    volatile IOException lastConnectFailure;

    LockFreeBackendPool(Backend backend, BackendPoolConfig config, Connector connector, ServerProbe probe) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(config, "config");
        this.connector = Objects.requireNonNull(connector, "connector");
        this.name = config.name() != null ? config.name() : backend.toString();
        this.secure = backend.isSecure();
        this.tls = secure ? backend.tls() : null;
        this.ticker = config.ticker();
        this.guard = new ListenerGuard(name, config.listener());
        this.settings = new Settings(config);
        long now = ticker.read();
        this.stats = new StatsRecorder(now);
        List<Server> servers = backend.servers();
        ServerEntry[] es = new ServerEntry[servers.size()];
        for (int i = 0; i < es.length; i++) {
            es[i] = newEntry(servers.get(i), backend.weight(servers.get(i)), now);
            es[i].health.startUp(now, settings.slowStartNanos);
        }
        this.entries = es;
        this.acquirer = new Acquirer(this);
        this.connecting = new Connecting(this);
        this.recycler = new Recycler(this);
        this.control = new PoolControl(this);
        this.maintenance = new Maintenance(this, probe, config.purgeScheduler(), now);
        maintenance.start();
    }

    ServerEntry newEntry(Server server, int weight, long now) {
        Settings st = settings;
        return new ServerEntry(server, weight, st.maxConnections,
                new ServerHealth(ServerState.SLOW_START, now, st.downBackoffNanos));
    }

    // ------------------------------------------------------------------ acquire

    @Override
    public Lease acquire(boolean replayable, Session session) throws IOException {
        return acquire(replayable, session, settings.acquireTimeoutNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public Lease acquire(boolean replayable, Session session, long timeout, TimeUnit unit) throws IOException {
        PinnedSession s = own(session);
        if (closed) {
            throw closedException();
        }
        Settings st = settings;
        // The thread's last connection, looked up once for both the first try and the remembering.
        PooledConnection last = lastOfThisThread(s, st);
        Lease l = tryIdle(replayable, s, st, ticker.read(), waiters.waiting() == 0, last);
        if (l == null) {
            l = acquirer.acquire(replayable, s, Math.max(0, unit.toNanos(timeout)), false, null);
        }
        if (l == last) {
            return l; // the same one as last time: nothing to remember anew
        }
        return remember(l, s, st);
    }

    /**
     * Acquires a newly opened connection, never an idle one, on another server than {@code avoid} when
     * there is one: for the one retry of a replayable request whose reused connection failed before
     * any response byte.
     */
    @Override
    public Lease acquireNew(boolean replayable, Session session, long timeoutNanos, Server avoid) throws IOException {
        PinnedSession s = own(session);
        if (closed) {
            throw closedException();
        }
        ServerEntry avoided = null;
        for (ServerEntry e : entries) {
            if (e.server.equals(avoid)) {
                avoided = e;
            }
        }
        return remember(acquirer.acquire(replayable, s, Math.max(0, timeoutNanos), true, avoided), s, settings);
    }

    /**
     * Takes a usable connection without waiting or opening one: the session's own, then the one the
     * caller used last, then room on a busy multiplexed connection or an idle one, on any server that
     * serves requests.
     *
     * @param shared whether the shared set may be used (false while callers wait: no barging)
     * @return a lease, or null
     */
    Lease tryIdle(boolean replayable, PinnedSession s, Settings st, long now, boolean shared) {
        return tryIdle(replayable, s, st, now, shared, lastOfThisThread(s, st));
    }

    /** @return the calling thread's last connection where callers try theirs first, without a session; else null */
    private PooledConnection lastOfThisThread(PinnedSession s, Settings st) {
        return s == null && (st.preferLastServer || entries.length == 1) ? lastOfThread.get() : null;
    }

    /** @param lastOfThread the calling thread's last connection (null with a session: it has its own) */
    private Lease tryIdle(boolean replayable, PinnedSession s, Settings st, long now, boolean shared,
            PooledConnection lastOfThread) {
        if (s != null) {
            PooledConnection c;
            while ((c = s.poll()) != null) {
                if (!c.entry.keepsConnections()) {
                    recycler.closeConnection(c, CloseReason.SERVER_UNAVAILABLE, false);
                } else if (usable(c, replayable, now, st)) {
                    return lease(c, s, now, st);
                }
            }
            PooledConnection last = s.last; // the session's own busy multiplexed connection
            if (last != null && last.multiplexed && last.session == s && last.entry.servesRequests()
                    && last.tryJoin()) {
                return joinedLease(last, s, now, st);
            }
        }
        if (!shared || !st.policy.sharesIdleConnections()) {
            return null;
        }
        ServerEntry[] es = entries;
        if (st.preferLastServer || es.length == 1) {
            PooledConnection last = s != null ? s.last : lastOfThread;
            if (last != null) {
                Lease l = tryTake(last, replayable, s, now, st);
                if (l != null) {
                    return l;
                }
            }
        }
        int n = es.length;
        int start = selector.scanStart(n);
        for (int i = 0; i < n; i++) {
            ServerEntry e = es[n == 1 ? 0 : (start + i) % n];
            if (!e.servesRequests()) {
                continue;
            }
            Lease l = takeFrom(e, replayable, s, now, st);
            if (l != null) {
                return l;
            }
        }
        for (int i = 0; i < n; i++) {
            ServerEntry e = es[n == 1 ? 0 : (start + i) % n];
            if (e.servesRequests()) {
                Lease l = takeParked(e, replayable, s, now, st);
                if (l != null) {
                    return l;
                }
            }
        }
        return null;
    }

    /**
     * Takes a connection another caller left parked (see {@link PooledConnection}), when no idle one
     * was in the shared set: a parked connection is idle, and must not make anybody open or wait.
     */
    private Lease takeParked(ServerEntry e, boolean replayable, PinnedSession s, long now, Settings st) {
        PooledConnection c;
        while ((c = recycler.takeParked(e, x -> accepts(st.policy, replayable, x))) != null) {
            if (usable(c, replayable, now, st)) {
                return lease(c, s, now, st);
            }
        }
        return null;
    }

    /** Takes room on a busy multiplexed connection of {@code e}, else its most recent usable idle connection. */
    Lease takeFrom(ServerEntry e, boolean replayable, PinnedSession s, long now, Settings st) {
        if (e.table.mayHaveMultiplexed()) {
            PooledConnection m = e.table.findMultiplexed(x -> mayJoin(x, replayable, s, st) && x.tryJoin());
            if (m != null) {
                return joinedLease(m, s, now, st);
            }
        }
        PooledConnection c;
        while ((c = e.table.pollMostRecent(replayable, st.policy)) != null) {
            if (!c.multiplexed) {
                if (usable(c, replayable, now, st)) {
                    return lease(c, s, now, st);
                }
                continue;
            }
            Lease l = takeMultiplexed(c, replayable, s, now, st);
            if (l != null) {
                return l;
            }
        }
        return null;
    }

    /**
     * Leases an idle multiplexed connection its caller just took from the idle set. Until it is
     * leased nobody can join it, so meanwhile it promises its room as a connection being opened does:
     * callers arriving then wait for it rather than open another (no connection burst).
     */
    private Lease takeMultiplexed(PooledConnection c, boolean replayable, PinnedSession s, long now, Settings st) {
        connecting.beginTaking(c.entry);
        Lease l = null;
        try {
            if (usable(c, replayable, now, st)) {
                l = lease(c, s, now, st);
            }
            return l;
        } finally {
            connecting.endTaking(c.entry, l != null ? c : null);
        }
    }

    /**
     * Says whether a request may add an exchange to a busy multiplexed connection: its policy lets the
     * connection carry it, and the connection is not pinned to another session: a session's exchange
     * reserves a busy connection for that session under {@code SAFE} and {@code NEVER} (HAProxy's
     * {@code http-reuse safe}), while {@code AGGRESSIVE} and {@code ALWAYS} let sessions share it.
     * A session's own busy connection always takes its requests.
     */
    boolean mayJoin(PooledConnection c, boolean replayable, PinnedSession s, Settings st) {
        if (c.privateToSession ? c.session != s : c.session != null && c.session != s && !sharesBusy(st.policy)) {
            return false;
        }
        return (s != null && c.session == s) || accepts(st.policy, replayable, c);
    }

    private static boolean sharesBusy(ReusePolicy policy) {
        return policy == ReusePolicy.AGGRESSIVE || policy == ReusePolicy.ALWAYS;
    }

    /** Takes one particular connection, the caller's last, if it is idle (or has room), usable and allowed. */
    private Lease tryTake(PooledConnection c, boolean replayable, PinnedSession s, long now, Settings st) {
        if (c.pool != this || !c.entry.servesRequests()) {
            return null;
        }
        if (c.multiplexed && mayJoin(c, replayable, s, st) && c.tryJoin()) {
            return joinedLease(c, s, now, st);
        }
        if (c.privateToSession || !accepts(st.policy, replayable, c)) {
            return null;
        }
        if (!c.multiplexed) {
            // Parked by its last release (the fast path: a CAS on the connection's own state, no shared
            // write), or else idle in the shared set.
            if (!c.casState(PooledConnection.PARKED, PooledConnection.OWNED)) {
                if (!c.entry.table.remove(c)) {
                    return null;
                }
                c.state = PooledConnection.OWNED;
            }
            if (!usable(c, replayable, now, st)) {
                return null;
            }
            c.affine = true;
            return lease(c, s, now, st);
        }
        if (!c.entry.table.remove(c)) {
            return null;
        }
        c.state = PooledConnection.OWNED;
        return takeMultiplexed(c, replayable, s, now, st);
    }

    private Lease remember(Lease l, PinnedSession s, Settings st) {
        if (st.preferLastServer || entries.length == 1) {
            PooledConnection c = l instanceof StreamLease sl ? sl.c : (PooledConnection) l;
            if (s != null) {
                s.last = c;
            } else if (lastOfThread.get() != c) { // the same one as last time: nothing to write
                lastOfThread.set(c);
            }
        }
        return l;
    }

    /**
     * Leases an owned connection: one exchange, in use. {@link PooledConnection#affine} stays as the
     * caller set it just before (true only from {@link #tryTake}); every lease clears it at release.
     */
    Lease lease(PooledConnection c, PinnedSession s, long now, Settings st) {
        if (!c.privateToSession) {
            c.session = s;
        }
        int uses = c.countUse();
        c.reused = uses > 1;
        c.acquiredNanos = now;
        stats.connectionBusy(c);
        if (c.multiplexed) {
            c.state = PooledConnection.IN_USE;
            drainIfDue(c, uses, now, st);
            c.streams = 1; // now others may join
            muxReady.incrementAndGet();
            guard.acquired(c, c.reused);
            return new StreamLease(c, s, c.reused, now);
        }
        if (st.leakThresholdNanos > 0) {
            c.acquireTrace = new Throwable("connection #" + c.id + " acquired here by " + Thread.currentThread());
            c.leakReported = false;
        }
        c.state = PooledConnection.IN_USE;
        guard.acquired(c, c.reused);
        return c;
    }

    /** Leases an exchange the caller already holds on a busy multiplexed connection (joined or handed over). */
    Lease joinedLease(PooledConnection c, PinnedSession s, long now, Settings st) {
        int uses = c.countUse();
        drainIfDue(c, uses, now, st);
        guard.acquired(c, true);
        return new StreamLease(c, s, true, now);
    }

    private static void drainIfDue(PooledConnection c, int uses, long now, Settings st) {
        CloseReason r = Retirement.drainAfterUse(c, uses, now, st);
        if (r != null && !c.draining) {
            c.drainReason = r;
            c.draining = true;
        }
    }

    /**
     * Checks an owned idle connection before handing it out; closes it if it is no longer usable. A
     * replayable request on a connection idle for less than {@code validateAfterIdle} skips the
     * socket read: see {@link io.berth.BackendPoolConfig.Builder#validateAfterIdle}.
     */
    boolean usable(PooledConnection c, boolean replayable, long now, Settings st) {
        CloseReason r = Retirement.expiry(c, now, st);
        if (r == null && c.multiplexed && c.connection.capacity() <= 0) {
            r = CloseReason.NOT_REUSABLE; // it takes no new exchange (an HTTP/2 GOAWAY)
        }
        if (r == null) {
            r = livenessProblem(c, !replayable || now - c.lastUsedNanos >= st.validateAfterIdleNanos);
        }
        if (r != null) {
            recycler.closeConnection(c, r, false);
            return false;
        }
        return true;
    }

    /** @param read whether to read the socket, or only look at what the connection already holds */
    static CloseReason livenessProblem(PooledConnection c, boolean read) {
        try {
            Connection.Liveness l = read ? c.connection.liveness() : c.connection.bufferedLiveness();
            return l == Connection.Liveness.ALIVE ? null : CloseReason.CLOSED_BY_PEER;
        } catch (RuntimeException e) {
            return CloseReason.BROKEN;
        }
    }

    boolean accepts(ReusePolicy policy, boolean replayable, PooledConnection c) {
        try {
            return policy.mayCarry(replayable, c);
        } catch (RuntimeException | Error e) {
            guard.policyFailed(policy, e);
            return false;
        }
    }

    /**
     * @return whether a failure to connect may be retried: not a certificate or TLS failure (it would
     *     fail again), not an interrupt; but a server that closed the connection during the TLS
     *     handshake (an end of stream, not a refusal) may be tried again
     */
    static boolean retryable(IOException e) {
        if (e instanceof PoolClosedException) {
            return false;
        }
        if (e instanceof SSLException) {
            return e.getCause() instanceof java.io.EOFException;
        }
        if (e instanceof InterruptedIOException && !(e instanceof SocketTimeoutException)) {
            return false; // the caller was interrupted
        }
        return true; // refused, reset, connect or handshake timeout
    }

    /** A released exchange tells the server's passive health how it went. */
    private void observe(ServerEntry e, Outcome outcome, Settings st) {
        if (outcome.reusable()) {
            e.health.succeeded(st.downBackoffNanos);
        } else if (outcome.closeReason() == CloseReason.BROKEN
                && st.passiveHealth == PassiveHealth.CONNECTS_AND_EXCHANGES) {
            connecting.failure(e, new IOException("an exchange failed"), st, "failed exchanges or connects");
        }
    }

    // ------------------------------------------------------------------ release

    @Override
    public void release(Lease lease, Outcome outcome) {
        Objects.requireNonNull(outcome, "outcome");
        if (lease instanceof PooledConnection c && c.pool == this) {
            releaseExclusive(c, outcome);
        } else if (lease instanceof StreamLease sl && sl.c.pool == this) {
            releaseStream(sl, outcome);
        } else {
            throw new IllegalArgumentException("lease " + lease + " does not belong to pool '" + name + "'");
        }
    }

    private void releaseExclusive(PooledConnection c, Outcome outcome) {
        if (!c.casState(PooledConnection.IN_USE, PooledConnection.OWNED)) {
            throw new IllegalStateException("lease on connection #" + c.id + " of pool '" + name
                    + "' was already released");
        }
        long now = ticker.read();
        c.lastUsedNanos = now;
        c.everReleased = true;
        c.acquireTrace = null;
        if (c.responseRef != null) {
            c.responseRef = null;
        }
        guard.released(c, outcome);
        Settings st = settings;
        observe(c.entry, outcome, st);
        CloseReason reason = Retirement.atRelease(c, outcome, now, st, closed);
        boolean affine = c.affine;
        c.affine = false;
        if (reason == null && affine && recycler.park(c, st)) {
            maintenance.kick();
            return;
        }
        stats.connectionNotBusy(c);
        if (reason != null) {
            recycler.closeConnection(c, reason, false);
        } else {
            recycler.recycle(c, st, now);
        }
        maintenance.kick();
    }

    private void releaseStream(StreamLease l, Outcome outcome) {
        if (!l.markReleased()) {
            throw new IllegalStateException("lease of an exchange on connection #" + l.c.id + " of pool '" + name
                    + "' was already released");
        }
        PooledConnection c = l.c;
        long now = ticker.read();
        c.lastUsedNanos = now;
        c.everReleased = true;
        guard.released(c, outcome);
        Settings st = settings;
        observe(c.entry, outcome, st);
        if (!outcome.reusable() && !c.draining) {
            c.drainReason = outcome.closeReason();
            c.draining = true;
        }
        recycler.leaveStream(c, now, st);
    }

    @Override
    public void watch(Lease lease, Object response) {
        if (lease instanceof PooledConnection c) {
            c.responseRef = new WeakReference<>(response);
        }
    }

    @Override
    public void watch(Lease lease, Object response, Runnable abandon) {
        if (lease instanceof StreamLease sl && sl.c.pool == this) {
            streamWatches.watch(sl, response, abandon);
        } else {
            watch(lease, response);
        }
    }

    // ------------------------------------------------------------------ sessions

    @Override
    public Session openSession() throws PoolClosedException {
        if (closed) {
            throw closedException();
        }
        PinnedSession s = new PinnedSession(this);
        sessions.add(s);
        if (closed) {
            sessions.remove(s);
            throw closedException();
        }
        return s;
    }

    private PinnedSession own(Session session) {
        if (session == null) {
            return null;
        }
        if (!(session instanceof PinnedSession) || ((PinnedSession) session).owner() != this) {
            throw new IllegalArgumentException("session " + session + " does not belong to pool '" + name + "'");
        }
        if (!session.isOpen()) {
            throw new IllegalStateException("session of pool '" + name + "' is closed");
        }
        return (PinnedSession) session;
    }

    /** A session closed; its idle connections go to the shared set, or close if they may not be shared. */
    void sessionClosed(PinnedSession s, List<PooledConnection> left) {
        sessions.remove(s);
        Settings st = settings;
        for (PooledConnection c : left) {
            if (closed) {
                recycler.closeConnection(c, CloseReason.POOL_CLOSED, false);
            } else if (c.privateToSession || !st.policy.sharesIdleConnections()) {
                recycler.closeConnection(c, CloseReason.NOT_SHARED, false);
            } else if (!c.entry.keepsConnections()) {
                recycler.closeConnection(c, CloseReason.SERVER_UNAVAILABLE, false);
            } else {
                c.session = null;
                recycler.makeIdle(c, st, c.lastUsedNanos);
            }
        }
    }

    // ------------------------------------------------------------------ control, stats, identity

    @Override
    public io.berth.BackendPoolControl control() {
        return control;
    }

    /** One maintenance pass at {@code now} (see {@link Maintenance#run}). @return nanoseconds until the next */
    long maintain(long now) {
        return maintenance.run(now);
    }

    @Override
    public PoolStats stats() {
        long now = ticker.read();
        Settings st = settings;
        ServerEntry[] es = entries;
        List<ServerEntry> gone = leaving;
        ServerEntry[] all = java.util.Arrays.copyOf(es, es.length + gone.size());
        for (int i = 0; i < gone.size() && es.length + i < all.length; i++) {
            all[es.length + i] = gone.get(i);
        }
        for (ServerEntry e : es) {
            e.health.refresh(now, st.slowStartNanos); // brings states up to date: slow start over, back-off passed
        }
        int sessionIdle = 0;
        for (PinnedSession s : sessions) {
            sessionIdle += s.idleConnections();
        }
        return stats.snapshot(name, backendUrl(), all, es.length, sessionIdle, waiters.waiting(), waiters.waits(), now);
    }

    String backendUrl() {
        ServerEntry[] es = entries;
        String scheme = secure ? "https" : "http";
        if (es.length == 1) {
            return scheme + "://" + es[0].server;
        }
        StringBuilder sb = new StringBuilder(scheme).append("://[");
        for (int i = 0; i < es.length; i++) {
            sb.append(i == 0 ? "" : ",").append(es[i].server);
        }
        return sb.append(']').toString();
    }

    @Override
    public Backend backend() {
        Backend.Builder b = Backend.builder().secure(secure);
        for (ServerEntry e : entries) {
            b.server(e.server, e.weight);
        }
        if (secure) {
            b.tls(tls);
        }
        return b.build();
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
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!control.markClosed()) {
            return;
        }
        maintenance.stop();
        waiters.closeAll();
        for (ServerEntry e : entries) {
            recycler.closeIdle(e, CloseReason.POOL_CLOSED);
        }
        for (PinnedSession s : sessions) {
            for (PooledConnection sc : s.removeIf(x -> true)) {
                recycler.closeConnection(sc, CloseReason.POOL_CLOSED, false);
            }
        }
        LOG.log(Level.DEBUG, () -> "pool '" + name + "' closed; " + stats.inUse.get() + " connection(s) still in"
                + " use close when released");
    }

    PoolClosedException closedException() {
        return new PoolClosedException("pool '" + name + "' (" + backendUrl() + ") is closed");
    }

    /** For tests: connections open or being opened, over all servers. */
    int total() {
        int n = 0;
        for (ServerEntry e : entries) {
            n += e.total.get();
        }
        return n;
    }

    /** For tests: the connections idle, in the shared set or parked. */
    int idleCount() {
        int n = 0;
        for (ServerEntry e : entries) {
            n += e.table.size() + recycler.parked(e);
        }
        return n;
    }

    /** For tests: the connections parked. */
    int parkedCount() {
        int n = 0;
        for (ServerEntry e : entries) {
            n += recycler.parked(e);
        }
        return n;
    }

    /** For tests: callers waiting. */
    int waitingCount() {
        return waiters.waiting();
    }

    /** For tests: the registered slots (open connections). */
    int registered() {
        int n = 0;
        for (ServerEntry e : entries) {
            n += e.table.registered();
        }
        return n;
    }

    /** For tests: responses reclaimed after being garbage-collected unclosed. */
    long abandonedCount() {
        return stats.abandoned.get();
    }

    @Override
    public String toString() {
        return "BackendPool{" + name + ", servers=" + entries.length + ", total=" + total() + ", idle=" + idleCount()
                + ", inUse=" + stats.inUse.get() + ", waiting=" + waiters.waiting() + (closed ? ", closed" : "") + "}";
    }
}
