package io.berth.pool;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.BackendUnavailableException;
import io.berth.Balance;
import io.berth.CloseReason;
import io.berth.ConnectionStats;
import io.berth.HealthCheck;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.PoolClosedException;
import io.berth.PoolStats;
import io.berth.PurgeScheduler;
import io.berth.Server;
import io.berth.ServerState;
import io.berth.ServerStats;
import io.berth.Session;
import io.berth.Ticker;
import io.berth.spi.Connection;
import io.berth.spi.Connector;
import io.berth.transport.http1.HeaderFields;
import io.berth.transport.http1.Http1Connection;
import io.berth.transport.http1.ResponseBody;
import io.berth.transport.http1.ResponseHead;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link BackendPool} over the servers of a backend: one {@link LockFreeBackendPool} per server,
 * each with its own idle set, limits and stats rows, and HAProxy's backend behaviour around them.
 *
 * <ul>
 *   <li><b>Prefer warm.</b> A request first takes an idle connection it may use, on any server that
 *       takes traffic (its session's own first, and with {@code preferLastServer}, or when the
 *       backend has one server, the connection its caller used last); only then is a new
 *       connection opened, on the server the {@link Balance} picks among those with room.</li>
 *   <li><b>Redispatch.</b> A failed connect is retried on another server, up to {@code retries};
 *       {@link BerthClient} retries a replayable request whose reused connection died on a new
 *       connection to another server.</li>
 *   <li><b>Passive health.</b> {@code failuresToMarkDown} failed connects in a row mark a server
 *       down: its idle connections close and it gets no traffic for a back-off that doubles each
 *       time (up to {@code maxDownBackoff}); then it takes traffic again, its share growing over
 *       {@code slowStart}. <b>Active health</b> ({@link HealthCheck}) requests a path on every
 *       server on a schedule, off the callers' threads.</li>
 *   <li><b>Runtime changes.</b> Servers are added, removed, drained, resumed and re-weighted while
 *       the pool runs (copy-on-write of the server array); nothing in flight is lost.</li>
 * </ul>
 *
 * <p>Thread-safe; the request path takes no lock.
 */
final class BalancedBackendPool implements HttpEngine {
    private static final System.Logger LOG = System.getLogger(BalancedBackendPool.class.getName());
    private static final double SLOW_START_FLOOR = 0.05;

    private final String name;
    private final boolean secure;
    private final io.berth.TlsConfig tls;
    private final Connector connector;
    private final Ticker ticker;
    private final PurgeScheduler scheduler;
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong rr = new AtomicLong();
    /** Guards runtime changes and health-check scheduling; a lock, not a monitor: scheduling may park. */
    private final ReentrantLock lock = new ReentrantLock();
    /**
     * The connection each thread used last, weakly: a thread that outlives the pool (an application
     * server's worker, say) must not keep its connection, or Berth's classes, reachable.
     */
    private final ThreadLocal<WeakReference<PooledConnection>> lastOfThread = new ThreadLocal<>();
    /** Pools of removed servers: they finish their exchanges and count in the totals. */
    private final List<LockFreeBackendPool> retired = new java.util.concurrent.CopyOnWriteArrayList<>();

    private volatile BackendPoolConfig config;
    private volatile Slot[] slots;
    private volatile boolean closed;
    private Future<?> healthTask; // guarded by lock

    /** One server: its pool and its health. */
    static final class Slot {
        final Server server;
        final LockFreeBackendPool pool;
        volatile int weight;
        volatile ServerState state;
        volatile long downUntil;
        volatile long upSince;
        volatile long backoffNanos;
        /** Marked down by the active health check: stays down until it passes {@code rise} checks. */
        volatile boolean downByCheck;
        final AtomicInteger consecutiveFailures = new AtomicInteger();
        final AtomicLong downCount = new AtomicLong();
        volatile IOException lastFailure;
        int checkSuccesses; // health task only
        int checkFailures; // health task only

        Slot(Server server, LockFreeBackendPool pool, int weight, ServerState state, long now, long backoff) {
            this.server = server;
            this.pool = pool;
            this.weight = weight;
            this.state = state;
            this.upSince = now;
            this.backoffNanos = backoff;
        }
    }

    BalancedBackendPool(Backend backend, BackendPoolConfig config, Connector connector) {
        this.config = Objects.requireNonNull(config, "config");
        this.connector = Objects.requireNonNull(connector, "connector");
        this.name = config.name() != null ? config.name() : backend.toString();
        this.secure = backend.isSecure();
        this.tls = secure ? backend.tls() : null;
        this.ticker = config.ticker();
        this.scheduler = config.purgeScheduler();
        long now = ticker.read();
        List<Slot> list = new ArrayList<>();
        for (Server s : backend.servers()) {
            // Servers present from the start take their full share at once; slow start is for returns.
            Slot slot = newSlot(s, backend.weight(s), ServerState.UP, now);
            slot.upSince = now - config.slowStart().toNanos() - 1;
            list.add(slot);
        }
        this.slots = list.toArray(new Slot[0]);
        scheduleHealthChecks(config.healthCheck(), true);
    }

    private Slot newSlot(Server server, int weight, ServerState state, long now) {
        Backend single = secure ? Backend.builder().server(server).tls(tls).build()
                : Backend.builder().secure(false).server(server).build();
        LockFreeBackendPool pool = new LockFreeBackendPool(single, serverConfig(config, server), connector, ids, this);
        return new Slot(server, pool, weight, state, now, config.downBackoff().toNanos());
    }

    /** A server's pool: the backend's settings, but connect retries are the balanced pool's (redispatch). */
    private BackendPoolConfig serverConfig(BackendPoolConfig c, Server server) {
        return c.toBuilder().name(name + "/" + server).retries(0).build();
    }

    // ------------------------------------------------------------------ acquire

    @Override
    public Lease acquire(boolean replayable, Session session) throws IOException {
        return acquire(replayable, session, config.acquireTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public Lease acquire(boolean replayable, Session session, long timeout, TimeUnit unit) throws IOException {
        BalancedSession bs = own(session);
        if (closed) {
            throw closedException();
        }
        BackendPoolConfig c = config;
        long now = ticker.read();
        Slot[] ss = slots;
        if (prefersLast(c, ss)) {
            PooledConnection last = bs != null ? bs.last : lastOfThisThread();
            if (last != null) {
                Slot s = slotOf(ss, last.pool);
                if (s != null && takesTraffic(s, now, c)) {
                    Lease l = s.pool.tryTake(last, replayable, sub(bs, s));
                    if (l != null) {
                        return remember(l, bs, c);
                    }
                }
            }
        }
        // Prefer warm: an idle connection the request may use, on any server that takes traffic.
        int n = ss.length;
        int start = n == 1 ? 0 : (int) Long.remainderUnsigned(rr.get(), n);
        for (int i = 0; i < n; i++) {
            Slot s = ss[(start + i) % n];
            if (takesTraffic(s, now, c) && !s.pool.isClosed()) {
                Lease l;
                try {
                    l = s.pool.tryIdle(replayable, sub(bs, s));
                } catch (PoolClosedException removedMeanwhile) {
                    continue;
                }
                if (l != null) {
                    return remember(l, bs, c);
                }
            }
        }
        return remember(acquireNewConnection(replayable, bs, Math.max(0, unit.toNanos(timeout)), null, c), bs, c);
    }

    @Override
    public Lease acquireNew(boolean replayable, Session session, long timeoutNanos, Server avoid) throws IOException {
        BalancedSession bs = own(session);
        if (closed) {
            throw closedException();
        }
        BackendPoolConfig c = config;
        return remember(acquireNewConnection(replayable, bs, Math.max(0, timeoutNanos), avoid, c), bs, c);
    }

    /**
     * Opens a connection on the server the balance picks among those with room, redispatching failed
     * connects to other servers; if every server is at its limit, waits on one.
     */
    private Lease acquireNewConnection(boolean replayable, BalancedSession bs, long timeoutNanos, Server avoid,
            BackendPoolConfig c) throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        int failures = 0;
        IOException lastFailure = null;
        List<Slot> failed = new ArrayList<>(2);
        for (;;) {
            if (closed) {
                throw closedException();
            }
            long now = ticker.read();
            // A server with room; else wait on one that is full but healthy, rather than retrying a
            // server that just failed; only when no other server is left are failed ones tried again.
            Slot s = choose(now, c, failed, avoid, true);
            boolean wait = false;
            if (s == null) {
                s = choose(now, c, failed, avoid, false);
                wait = s != null;
            }
            if (s == null && !failed.isEmpty()) {
                failed.clear();
                continue;
            }
            if (s == null) {
                if (lastFailure != null && slots.length == 1) {
                    throw lastFailure; // this request's own attempts marked the only server down
                }
                throw unavailable(lastFailure);
            }
            Lease lease;
            try {
                if (wait) {
                    lease = s.pool.acquire(replayable, sub(bs, s), Math.max(0, deadline - System.nanoTime()),
                            TimeUnit.NANOSECONDS);
                } else {
                    lease = s.pool.tryOpen(replayable, sub(bs, s));
                    if (lease == null) {
                        continue; // it filled up meanwhile: choose again
                    }
                }
            } catch (PoolClosedException e) {
                if (closed) {
                    throw e;
                }
                continue; // the server was removed meanwhile: choose again
            } catch (io.berth.AcquireTimeoutException e) {
                throw e;
            } catch (IOException e) {
                failure(s, e, c);
                if (!LockFreeBackendPool.retryable(e)) {
                    throw e;
                }
                lastFailure = e;
                if (++failures > c.retries()) {
                    throw slots.length > 1 && !anyTakesTraffic(c) ? unavailable(e) : e;
                }
                failed.add(s);
                Slot failedSlot = s;
                LOG.log(Level.DEBUG, () -> "pool '" + name + "': connecting to " + failedSlot.server
                        + " failed, redispatching: " + e);
                continue;
            }
            if (!lease.reused()) {
                success(s);
            }
            return lease;
        }
    }

    private boolean anyTakesTraffic(BackendPoolConfig c) {
        long now = ticker.read();
        for (Slot s : slots) {
            if (takesTraffic(s, now, c)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Picks the server for a new connection among those that take traffic and were not excluded.
     *
     * @param needRoom only servers below their connection limit
     */
    private Slot choose(long now, BackendPoolConfig c, List<Slot> excluded, Server avoid, boolean needRoom) {
        Slot[] ss = slots;
        int n = ss.length;
        double total = 0;
        double[] weights = null;
        int candidates = 0;
        for (int i = 0; i < n; i++) {
            Slot s = ss[i];
            if (!takesTraffic(s, now, c) || excluded.contains(s) || (needRoom && !s.pool.hasRoom())
                    || (avoid != null && n > 1 && s.server.equals(avoid) && othersAvailable(ss, now, c, s))) {
                continue;
            }
            double w = effectiveWeight(s, now, c);
            if (w <= 0) {
                continue;
            }
            if (weights == null) {
                weights = new double[n];
            }
            weights[i] = w;
            total += w;
            candidates++;
        }
        if (candidates == 0) {
            return null;
        }
        switch (c.balance()) {
            case LEAST_CONNECTIONS: {
                Slot best = null;
                double bestLoad = Double.MAX_VALUE;
                int start = (int) Long.remainderUnsigned(rr.getAndIncrement(), n);
                for (int k = 0; k < n; k++) {
                    int i = (start + k) % n;
                    if (weights[i] > 0) {
                        double load = (ss[i].pool.inUse() + 1) / weights[i];
                        if (load < bestLoad) {
                            bestLoad = load;
                            best = ss[i];
                        }
                    }
                }
                return best;
            }
            case RANDOM_TWO_CHOICES: {
                Slot a = weightedPick(ss, weights, total * ThreadLocalRandom.current().nextDouble());
                Slot b = weightedPick(ss, weights, total * ThreadLocalRandom.current().nextDouble());
                double la = (a.pool.inUse() + 1) / weights[indexOf(ss, a)];
                double lb = (b.pool.inUse() + 1) / weights[indexOf(ss, b)];
                return la <= lb ? a : b;
            }
            default: {
                // Weighted round robin: a shared counter walks the cumulative weights.
                long scale = 1000;
                long span = 0;
                for (double w : weights) {
                    span += Math.round(w * scale);
                }
                long pos = Long.remainderUnsigned(rr.getAndIncrement() * scale, Math.max(1, span));
                return weightedPick(ss, weights, (double) pos / scale);
            }
        }
    }

    private static Slot weightedPick(Slot[] ss, double[] weights, double point) {
        double acc = 0;
        Slot last = null;
        for (int i = 0; i < ss.length; i++) {
            if (weights[i] > 0) {
                acc += weights[i];
                last = ss[i];
                if (point < acc) {
                    return ss[i];
                }
            }
        }
        return last;
    }

    private static int indexOf(Slot[] ss, Slot s) {
        for (int i = 0; i < ss.length; i++) {
            if (ss[i] == s) {
                return i;
            }
        }
        return -1;
    }

    private boolean othersAvailable(Slot[] ss, long now, BackendPoolConfig c, Slot self) {
        for (Slot s : ss) {
            if (s != self && takesTraffic(s, now, c) && s.weight > 0) {
                return true;
            }
        }
        return false;
    }

    /** @return whether a server takes requests now; a down server whose back-off has passed comes back */
    private boolean takesTraffic(Slot s, long now, BackendPoolConfig c) {
        switch (s.state) {
            case UP:
                return s.weight > 0;
            case SLOW_START:
                if (now - s.upSince >= c.slowStart().toNanos()) {
                    s.state = ServerState.UP;
                }
                return s.weight > 0;
            case DOWN:
                if (!s.downByCheck && now - s.downUntil >= 0) {
                    lock.lock();
                    try {
                        if (s.state == ServerState.DOWN && !s.downByCheck) {
                            s.upSince = now;
                            s.state = ServerState.SLOW_START;
                            s.pool.available(true);
                            LOG.log(Level.INFO, () -> "pool '" + name + "': server " + s.server
                                    + " takes traffic again after its back-off (slow start)");
                        }
                    } finally {
                        lock.unlock();
                    }
                    return s.state != ServerState.DOWN && s.weight > 0;
                }
                return false;
            default:
                return false;
        }
    }

    private static double effectiveWeight(Slot s, long now, BackendPoolConfig c) {
        if (s.state != ServerState.SLOW_START) {
            return s.weight;
        }
        long slow = c.slowStart().toNanos();
        double share = slow <= 0 ? 1 : Math.max(SLOW_START_FLOOR, Math.min(1, (double) (now - s.upSince) / slow));
        return s.weight * share;
    }

    private void success(Slot s) {
        if (s.consecutiveFailures.get() != 0) {
            s.consecutiveFailures.set(0);
        }
        long initial = config.downBackoff().toNanos();
        if (s.backoffNanos != initial && s.state == ServerState.UP) {
            s.backoffNanos = initial;
        }
    }

    private void failure(Slot s, IOException e, BackendPoolConfig c) {
        s.lastFailure = e;
        if (s.consecutiveFailures.incrementAndGet() >= c.failuresToMarkDown()) {
            markDown(s, false, "after " + s.consecutiveFailures.get() + " failed connects (last: " + e + ")");
        }
    }

    private void markDown(Slot s, boolean byCheck, String why) {
        long backoff;
        lock.lock();
        try {
            if (s.state == ServerState.DOWN || s.state == ServerState.DRAINING) {
                return;
            }
            backoff = s.backoffNanos;
            s.downUntil = ticker.read() + backoff;
            s.backoffNanos = Math.min(backoff * 2, config.maxDownBackoff().toNanos());
            s.downByCheck = byCheck;
            s.state = ServerState.DOWN;
            s.downCount.incrementAndGet();
        } finally {
            lock.unlock();
        }
        LOG.log(Level.INFO, () -> "pool '" + name + "': server " + s.server + " marked down "
                + (byCheck ? "by its health check " : "for " + Duration.ofNanos(backoff) + " ") + why);
        s.pool.available(false);
    }

    private BackendUnavailableException unavailable(IOException lastFailure) {
        StringBuilder sb = new StringBuilder("pool '").append(name).append("' (").append(backendUrl())
                .append("): no server takes requests:");
        long now = ticker.read();
        for (Slot s : slots) {
            sb.append(' ').append(s.server).append(' ');
            switch (s.state) {
                case DOWN:
                    sb.append(s.downByCheck ? "down (health check)"
                            : "down for " + Math.max(0, (s.downUntil - now) / 1_000_000) + " ms more");
                    if (s.lastFailure != null) {
                        sb.append(" (last: ").append(s.lastFailure).append(')');
                    }
                    break;
                case DRAINING:
                    sb.append("draining");
                    break;
                default:
                    sb.append("weight ").append(s.weight);
            }
            sb.append(';');
        }
        sb.setLength(sb.length() - 1);
        return new BackendUnavailableException(sb.toString(), lastFailure);
    }

    /**
     * Whether a caller first tries the connection it used last: with {@code preferLastServer}, and
     * always for a backend of one server, where it cannot skew the balance and keeps a caller's
     * connection (its TLS state and buffers) on the caller's core instead of trading connections
     * between threads.
     */
    private static boolean prefersLast(BackendPoolConfig c, Slot[] ss) {
        return c.preferLastServer() || ss.length == 1;
    }

    private Lease remember(Lease l, BalancedSession bs, BackendPoolConfig c) {
        if (prefersLast(c, slots)) {
            if (bs != null) {
                bs.last = (PooledConnection) l;
            } else if (lastOfThisThread() != l) { // the same one as last time: nothing to allocate
                lastOfThread.set(new WeakReference<>((PooledConnection) l));
            }
        }
        return l;
    }

    private PooledConnection lastOfThisThread() {
        WeakReference<PooledConnection> w = lastOfThread.get();
        return w == null ? null : w.get();
    }

    private static Slot slotOf(Slot[] ss, LockFreeBackendPool pool) {
        for (Slot s : ss) {
            if (s.pool == pool) {
                return s;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ release, sessions, watch

    @Override
    public void release(Lease lease, Outcome outcome) {
        if (!(lease instanceof PooledConnection) || ((PooledConnection) lease).pool.owner != this) {
            throw new IllegalArgumentException("lease " + lease + " does not belong to pool '" + name + "'");
        }
        ((PooledConnection) lease).pool.release(lease, outcome);
    }

    @Override
    public void watch(Lease lease, Object response) {
        ((PooledConnection) lease).pool.watch(lease, response);
    }

    @Override
    public Session openSession() throws PoolClosedException {
        if (closed) {
            throw closedException();
        }
        return new BalancedSession(this);
    }

    private BalancedSession own(Session session) {
        if (session == null) {
            return null;
        }
        if (!(session instanceof BalancedSession) || ((BalancedSession) session).pool != this) {
            throw new IllegalArgumentException("session " + session + " does not belong to pool '" + name + "'");
        }
        if (!session.isOpen()) {
            throw new IllegalStateException("session of pool '" + name + "' is closed");
        }
        return (BalancedSession) session;
    }

    private static SessionImpl sub(BalancedSession bs, Slot s) throws PoolClosedException {
        return bs == null ? null : bs.of(s);
    }

    /** A session over several servers: one session of each server's pool, opened when first needed. */
    static final class BalancedSession implements Session {
        final BalancedBackendPool pool;
        private final Map<Slot, SessionImpl> subs = new ConcurrentHashMap<>();
        private volatile boolean open = true;
        volatile PooledConnection last;

        BalancedSession(BalancedBackendPool pool) {
            this.pool = pool;
        }

        SessionImpl of(Slot s) throws PoolClosedException {
            SessionImpl sub = subs.get(s);
            if (sub == null) {
                sub = s.pool.newSession();
                SessionImpl raced = subs.putIfAbsent(s, sub);
                if (raced != null) {
                    sub.close();
                    sub = raced;
                }
                if (!open) {
                    sub.close();
                }
            }
            return sub;
        }

        @Override
        public io.berth.BackendPool pool() {
            return pool;
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public int idleConnections() {
            int n = 0;
            for (SessionImpl s : subs.values()) {
                n += s.idleConnections();
            }
            return n;
        }

        @Override
        public void close() {
            open = false;
            last = null;
            for (SessionImpl s : subs.values()) {
                s.close();
            }
        }
    }

    // ------------------------------------------------------------------ runtime changes

    @Override
    public void addServer(Server server, int weight) {
        Objects.requireNonNull(server, "server");
        Backend.checkWeight(server, weight);
        lock.lock();
        try {
            requireOpen();
            for (Slot s : slots) {
                if (s.server.equals(server)) {
                    throw new IllegalArgumentException(server + " is a server of pool '" + name + "' already");
                }
            }
            Slot[] next = Arrays.copyOf(slots, slots.length + 1);
            next[slots.length] = newSlot(server, weight, ServerState.SLOW_START, ticker.read());
            slots = next;
        } finally {
            lock.unlock();
        }
        LOG.log(Level.INFO, () -> "pool '" + name + "': server " + server + " added with weight " + weight);
    }

    @Override
    public void removeServer(Server server) {
        Slot gone;
        lock.lock();
        try {
            requireOpen();
            gone = find(server);
            if (slots.length == 1) {
                throw new IllegalArgumentException(server + " is the last server of pool '" + name
                        + "': a pool needs one");
            }
            List<Slot> next = new ArrayList<>(Arrays.asList(slots));
            next.remove(gone);
            slots = next.toArray(new Slot[0]);
            retired.add(gone.pool);
        } finally {
            lock.unlock();
        }
        // Idle connections close now; connections in use close when released.
        gone.pool.available(false);
        gone.pool.close();
        LOG.log(Level.INFO, () -> "pool '" + name + "': server " + server + " removed");
    }

    @Override
    public void drainServer(Server server) {
        Slot s;
        lock.lock();
        try {
            requireOpen();
            s = find(server);
            s.state = ServerState.DRAINING;
        } finally {
            lock.unlock();
        }
        s.pool.available(false);
        LOG.log(Level.INFO, () -> "pool '" + name + "': server " + server + " draining");
    }

    @Override
    public void resumeServer(Server server) {
        lock.lock();
        try {
            requireOpen();
            Slot s = find(server);
            if (s.state == ServerState.DRAINING || s.state == ServerState.DOWN) {
                s.upSince = ticker.read();
                s.downByCheck = false;
                s.consecutiveFailures.set(0);
                s.state = ServerState.SLOW_START;
                s.pool.available(true);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void weight(Server server, int weight) {
        Backend.checkWeight(server, weight);
        lock.lock();
        try {
            requireOpen();
            find(server).weight = weight;
        } finally {
            lock.unlock();
        }
    }

    private Slot find(Server server) {
        Objects.requireNonNull(server, "server");
        for (Slot s : slots) {
            if (s.server.equals(server)) {
                return s;
            }
        }
        throw new IllegalArgumentException(server + " is not a server of pool '" + name + "'");
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("pool '" + name + "' is closed");
        }
    }

    @Override
    public void reconfigure(BackendPoolConfig next) {
        Objects.requireNonNull(next, "config");
        lock.lock();
        try {
            requireOpen();
            config.requireReconfigurableTo(next);
            HealthCheck before = config.healthCheck();
            config = next;
            for (Slot s : slots) {
                s.pool.reconfigure(serverConfig(next, s.server));
            }
            if (!Objects.equals(before, next.healthCheck())) {
                scheduleHealthChecks(next.healthCheck(), false);
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ active health checks

    private void scheduleHealthChecks(HealthCheck check, boolean first) {
        lock.lock();
        try {
            if (healthTask != null) {
                healthTask.cancel(false);
                healthTask = null;
            }
            if (check == null || closed) {
                return;
            }
            try {
                healthTask = scheduler.schedule(this::runHealthChecks, first ? 0 : check.interval().toNanos(),
                        TimeUnit.NANOSECONDS);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "pool '" + name + "': could not schedule health checks", e);
            }
        } finally {
            lock.unlock();
        }
    }

    private void runHealthChecks() {
        HealthCheck check = config.healthCheck();
        if (check == null || closed) {
            return;
        }
        for (Slot s : slots) {
            if (closed) {
                return;
            }
            if (s.state == ServerState.DRAINING) {
                continue;
            }
            boolean ok = checkOnce(s, check);
            if (ok) {
                s.checkFailures = 0;
                s.checkSuccesses++;
                if (s.state == ServerState.DOWN && s.downByCheck && s.checkSuccesses >= check.rise()) {
                    lock.lock();
                    try {
                        s.downByCheck = false;
                        s.upSince = ticker.read();
                        s.consecutiveFailures.set(0);
                        s.state = ServerState.SLOW_START;
                        s.pool.available(true);
                    } finally {
                        lock.unlock();
                    }
                    LOG.log(Level.INFO, () -> "pool '" + name + "': server " + s.server
                            + " passed its health check " + check.rise() + " times: up again (slow start)");
                }
            } else {
                s.checkSuccesses = 0;
                if (++s.checkFailures >= check.fall()) {
                    markDown(s, true, "after " + s.checkFailures + " failed health checks");
                }
            }
        }
        lock.lock();
        try {
            if (!closed && config.healthCheck() == check) {
                try {
                    healthTask = scheduler.schedule(this::runHealthChecks, check.interval().toNanos(),
                            TimeUnit.NANOSECONDS);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "pool '" + name + "': could not schedule health checks", e);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** One check: a new connection through the pool's TLS profile, one request, closed after. */
    private boolean checkOnce(Slot s, HealthCheck check) {
        long timeout = check.timeout().toNanos();
        Connection raw = null;
        try {
            raw = connector.connect(s.server, timeout);
            Http1Connection conn = raw instanceof Http1Connection ? (Http1Connection) raw : Http1Connection.of(raw);
            boolean head = check.method().equals("HEAD");
            conn.writeRequest(check.method(), check.path(),
                    HeaderFields.of("Host", BerthClient.hostHeader(secure, tls, s.server), "Connection", "close",
                            "User-Agent", "berth-health-check"), null, timeout);
            ResponseHead response = conn.readResponseHead(timeout, head);
            try (ResponseBody body = conn.body(response, head, timeout, outcome -> { })) {
                body.skip(Long.MAX_VALUE);
            }
            int status = response.statusCode();
            return status >= check.minStatus() && status <= check.maxStatus();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.DEBUG, () -> "pool '" + name + "': health check of " + s.server + " failed: " + e);
            return false;
        } finally {
            if (raw != null) {
                raw.close();
            }
        }
    }

    // ------------------------------------------------------------------ stats and lifecycle

    @Override
    public PoolStats stats() {
        Slot[] ss = slots;
        List<PoolStats> parts = new ArrayList<>();
        List<ServerStats> servers = new ArrayList<>();
        long now = ticker.read();
        BackendPoolConfig c = config;
        for (Slot s : ss) {
            takesTraffic(s, now, c); // brings states up to date: slow start over, back-off passed
            parts.add(s.pool.stats());
            servers.add(s.pool.serverStats(s.state, s.weight, s.consecutiveFailures.get(), s.downCount.get()));
        }
        for (LockFreeBackendPool p : retired) {
            parts.add(p.stats());
        }
        int total = 0;
        int idle = 0;
        int sessionIdle = 0;
        int inUse = 0;
        int waiting = 0;
        int peak = 0;
        long opened = 0;
        long acquired = 0;
        long reused = 0;
        long resumed = 0;
        long aborted = 0;
        long waits = 0;
        long timeouts = 0;
        long failures = 0;
        Map<CloseReason, Long> closed = new EnumMap<>(CloseReason.class);
        List<ConnectionStats> open = new ArrayList<>();
        List<ConnectionStats> gone = new ArrayList<>();
        for (PoolStats p : parts) {
            total += p.total();
            idle += p.idle();
            sessionIdle += p.sessionIdle();
            inUse += p.inUse();
            waiting += p.waiting();
            peak += p.peakInUse();
            opened += p.opened();
            acquired += p.acquired();
            reused += p.reused();
            resumed += p.tlsResumed();
            aborted += p.aborted();
            waits += p.acquireWaits();
            timeouts += p.acquireTimeouts();
            failures += p.connectFailures();
            for (CloseReason r : CloseReason.values()) {
                closed.merge(r, p.closed(r), Long::sum);
            }
            for (ConnectionStats row : p.connections()) {
                (row.closeReason() == null ? open : gone).add(row);
            }
        }
        open.sort(Comparator.comparingLong(ConnectionStats::id));
        gone.sort(Comparator.comparingLong(ConnectionStats::id).reversed());
        List<ConnectionStats> rows = new ArrayList<>(open);
        rows.addAll(gone.subList(0, Math.min(gone.size(), PoolStats.CLOSED_ROWS_KEPT)));
        return new PoolStats(name, backendUrl(), total, idle, sessionIdle, inUse, waiting, peak, opened, acquired,
                reused, resumed, closed, aborted, waits, timeouts, failures, rows, servers);
    }

    private String backendUrl() {
        Slot[] ss = slots;
        String scheme = secure ? "https" : "http";
        if (ss.length == 1) {
            return scheme + "://" + ss[0].server;
        }
        StringBuilder sb = new StringBuilder(scheme).append("://[");
        for (int i = 0; i < ss.length; i++) {
            sb.append(i == 0 ? "" : ",").append(ss[i].server);
        }
        return sb.append(']').toString();
    }

    @Override
    public Backend backend() {
        Backend.Builder b = Backend.builder().secure(secure);
        for (Slot s : slots) {
            b.server(s.server, s.weight);
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
        return config;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (healthTask != null) {
                healthTask.cancel(false);
                healthTask = null;
            }
        } finally {
            lock.unlock();
        }
        for (Slot s : slots) {
            s.pool.close();
        }
        for (LockFreeBackendPool p : retired) {
            p.close();
        }
    }

    /** For tests: the pool of one server. */
    LockFreeBackendPool poolOf(Server server) {
        return find(server).pool;
    }

    private PoolClosedException closedException() {
        return new PoolClosedException("pool '" + name + "' (" + backendUrl() + ") is closed");
    }

    @Override
    public String toString() {
        return "BackendPool{" + name + ", servers=" + slots.length + (closed ? ", closed" : "") + "}";
    }
}
