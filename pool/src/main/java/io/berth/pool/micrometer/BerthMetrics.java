package io.berth.pool.micrometer;

import io.berth.BackendPool;
import io.berth.CloseReason;
import io.berth.PoolStats;
import io.berth.ServerState;
import io.berth.ServerStats;
import io.berth.pool.http.BerthPools;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import java.util.Locale;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * Exports a {@link BackendPool}'s {@link PoolStats} as Micrometer meters, tagged {@code pool} and
 * {@code backend} (plus any tags given), and per server, tagged {@code server} as well (servers added
 * to a running pool get their meters at the next refresh). Micrometer is an optional dependency of Berth: this class
 * needs {@code io.micrometer:micrometer-core} on the class path, nothing else does.
 *
 * <p>Gauges and counters read one snapshot, refreshed at most once per second, so a scrape costs
 * one {@code stats()} call however many meters there are. The meters hold the pool strongly
 * (Micrometer keeps only weak references to gauge sources); {@link #close()} removes them.
 *
 * <pre>{@code
 * BerthMetrics metrics = BerthMetrics.bind(pool, registry, Tags.of("app", "orders"));
 * BerthPoolsMetrics all = BerthMetrics.bind(pools, registry, Tags.of("app", "orders")); // every origin's pool
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class BerthMetrics implements AutoCloseable {
    /** Gauge: open connections plus ones being opened. */
    public static final String CONNECTIONS = "berth.connections";
    /** Gauge: connections idle for any caller (in the shared set, or parked by their last caller). */
    public static final String IDLE = "berth.connections.idle";
    /** Gauge: connections idle in sessions. */
    public static final String SESSION_IDLE = "berth.connections.session.idle";
    /** Gauge: connections carrying an exchange. */
    public static final String IN_USE = "berth.connections.in.use";
    /** Gauge: callers waiting for a connection. */
    public static final String WAITING = "berth.acquire.waiting";
    /** Gauge: the most connections in use at once since the pool was created. */
    public static final String PEAK_IN_USE = "berth.connections.in.use.peak";
    /** Counter: connections opened. */
    public static final String OPENED = "berth.connections.opened";
    /** Counter: connections closed, tagged {@code reason} (lower case {@link CloseReason}). */
    public static final String CLOSED = "berth.connections.closed";
    /** Counter: closed connections that were aborted (TCP RST) rather than closed gracefully. */
    public static final String ABORTED = "berth.connections.aborted";
    /** Counter: leases handed out. */
    public static final String ACQUIRED = "berth.acquire";
    /** Counter: leases that reused a connection. */
    public static final String REUSED = "berth.acquire.reused";
    /** Counter: acquisitions that had to wait. */
    public static final String WAITS = "berth.acquire.waits";
    /** Counter: acquisitions that timed out. */
    public static final String TIMEOUTS = "berth.acquire.timeouts";
    /** Counter: failed attempts to open a connection. */
    public static final String CONNECT_FAILURES = "berth.connect.failures";
    /** Counter: connections whose TLS handshake resumed a session. */
    public static final String TLS_RESUMED = "berth.tls.resumed";
    /** Gauge, per {@code server}: 1 while the server takes traffic (up or in slow start), else 0. */
    public static final String SERVER_UP = "berth.server.up";
    /** Gauge, per {@code server}: its weight. */
    public static final String SERVER_WEIGHT = "berth.server.weight";
    /** Gauge, per {@code server}: its connections in use. */
    public static final String SERVER_IN_USE = "berth.server.connections.in.use";
    /** Gauge, per {@code server}: its idle connections. */
    public static final String SERVER_IDLE = "berth.server.connections.idle";
    /** Counter, per {@code server}: connections opened to it. */
    public static final String SERVER_OPENED = "berth.server.connections.opened";
    /** Counter, per {@code server}: failed attempts to connect to it. */
    public static final String SERVER_CONNECT_FAILURES = "berth.server.connect.failures";
    /** Counter, per {@code server}: times it was marked down. */
    public static final String SERVER_DOWN = "berth.server.down";

    /** Gauge: open connections that speak HTTP/2. */
    public static final String H2_CONNECTIONS = "berth.h2.connections";
    /** Gauge: HTTP/2 streams open now. */
    public static final String STREAMS_IN_FLIGHT = "berth.h2.streams.in.flight";
    /** Counter: HTTP/2 streams opened. */
    public static final String STREAMS = "berth.h2.streams";
    /** Counter: RST_STREAM frames sent. */
    public static final String RESETS_SENT = "berth.h2.resets.sent";
    /** Counter: RST_STREAM frames received. */
    public static final String RESETS_RECEIVED = "berth.h2.resets.received";
    /** Counter: HTTP/2 connections that received a GOAWAY. */
    public static final String GOAWAYS = "berth.h2.goaways";

    private static final long REFRESH_NANOS = 1_000_000_000L;

    private final BackendPool pool;
    private final MeterRegistry registry;
    private final Tags base;
    private final java.util.List<io.micrometer.core.instrument.Meter> meters =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.Set<String> servers = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private PoolStats last;
    private long lastNanos;

    private BerthMetrics(BackendPool pool, MeterRegistry registry, Tags base) {
        this.pool = pool;
        this.registry = registry;
        this.base = base;
    }

    /**
     * Registers the pool's meters.
     *
     * @param pool the pool
     * @param registry where to register
     * @param tags extra tags for every meter
     * @return a handle that removes the meters when closed
     */
    public static BerthMetrics bind(BackendPool pool, MeterRegistry registry, Iterable<Tag> tags) {
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(registry, "registry");
        Tags base = Tags.of("pool", pool.name(), "backend", pool.backend().toString()).and(tags);
        BerthMetrics m = new BerthMetrics(pool, registry, base);
        m.gauge(CONNECTIONS, "Open connections plus ones being opened", base, PoolStats::total);
        m.gauge(IDLE, "Connections idle for any caller (shared set or parked)", base, PoolStats::idle);
        m.gauge(SESSION_IDLE, "Connections idle in sessions", base, PoolStats::sessionIdle);
        m.gauge(IN_USE, "Connections carrying an exchange", base, PoolStats::inUse);
        m.gauge(WAITING, "Callers waiting for a connection", base, PoolStats::waiting);
        m.gauge(PEAK_IN_USE, "Most connections in use at once", base, PoolStats::peakInUse);
        m.counter(OPENED, "Connections opened", base, PoolStats::opened);
        m.counter(ABORTED, "Connections aborted with a TCP reset", base, PoolStats::aborted);
        m.counter(ACQUIRED, "Leases handed out", base, PoolStats::acquired);
        m.counter(REUSED, "Leases that reused a connection", base, PoolStats::reused);
        m.counter(WAITS, "Acquisitions that waited", base, PoolStats::acquireWaits);
        m.counter(TIMEOUTS, "Acquisitions that timed out", base, PoolStats::acquireTimeouts);
        m.counter(CONNECT_FAILURES, "Failed attempts to open a connection", base, PoolStats::connectFailures);
        m.counter(TLS_RESUMED, "TLS handshakes that resumed a session", base, PoolStats::tlsResumed);
        m.gauge(H2_CONNECTIONS, "Open connections that speak HTTP/2", base, PoolStats::http2Connections);
        m.gauge(STREAMS_IN_FLIGHT, "HTTP/2 streams open now", base, PoolStats::streamsInFlight);
        m.counter(STREAMS, "HTTP/2 streams opened", base, PoolStats::streamsCarried);
        m.counter(RESETS_SENT, "RST_STREAM frames sent", base, PoolStats::streamResetsSent);
        m.counter(RESETS_RECEIVED, "RST_STREAM frames received", base, PoolStats::streamResetsReceived);
        m.counter(GOAWAYS, "HTTP/2 connections that received a GOAWAY", base, PoolStats::goAwaysReceived);
        for (CloseReason r : CloseReason.values()) {
            m.counter(CLOSED, "Connections closed, by reason", base.and("reason", r.name().toLowerCase(Locale.ROOT)),
                    s -> s.closed(r));
        }
        m.registerServers(pool.stats());
        return m;
    }

    /**
     * Registers the meters of every pool of {@code pools}, present and future: each origin's pool
     * gets this class's meters, tagged {@code pool} and {@code backend} (its origin) plus
     * {@code tags}, as soon as it is created, before its first request. One call for a
     * {@code BerthHttpClient}, a {@code BerthInterceptor} or a {@code BerthCallFactory}:
     *
     * <pre>{@code
     * BerthPoolsMetrics metrics = BerthMetrics.bind(pools, registry, Tags.of("app", "orders"));
     * }</pre>
     *
     * @param pools the pools, e.g. {@code berthHttpClient.pools()}
     * @param registry where to register
     * @param tags extra tags for every meter
     * @return a handle that stops binding and removes every pool's meters when closed
     * @throws NullPointerException if an argument is null
     */
    public static BerthPoolsMetrics bind(BerthPools pools, MeterRegistry registry, Iterable<Tag> tags) {
        Objects.requireNonNull(pools, "pools");
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(tags, "tags");
        return new BerthPoolsMetrics(pools, registry, tags);
    }

    /** Registers the meters of servers not seen before (servers may be added to a running pool). */
    private void registerServers(PoolStats stats) {
        for (ServerStats row : stats.servers()) {
            String server = row.server();
            if (!servers.add(server)) {
                continue;
            }
            Tags t = base.and("server", server);
            gauge(SERVER_UP, "1 while the server takes traffic", t,
                    s -> server(s, server) != null && (server(s, server).state() == ServerState.UP
                            || server(s, server).state() == ServerState.SLOW_START) ? 1 : 0);
            gauge(SERVER_WEIGHT, "The server's weight", t, s -> value(s, server, ServerStats::weight));
            gauge(SERVER_IN_USE, "The server's connections in use", t, s -> value(s, server, ServerStats::inUse));
            gauge(SERVER_IDLE, "The server's idle connections", t, s -> value(s, server, ServerStats::idle));
            counter(SERVER_OPENED, "Connections opened to the server", t, s -> value(s, server, ServerStats::opened));
            counter(SERVER_CONNECT_FAILURES, "Failed connects to the server", t,
                    s -> value(s, server, ServerStats::connectFailures));
            counter(SERVER_DOWN, "Times the server was marked down", t, s -> value(s, server, ServerStats::downCount));
        }
    }

    private static ServerStats server(PoolStats s, String server) {
        for (ServerStats row : s.servers()) {
            if (row.server().equals(server)) {
                return row;
            }
        }
        return null;
    }

    private static double value(PoolStats s, String server, ToDoubleFunction<ServerStats> f) {
        ServerStats row = server(s, server);
        return row == null ? Double.NaN : f.applyAsDouble(row);
    }

    private void gauge(String name, String help, Tags tags, ToDoubleFunction<PoolStats> f) {
        meters.add(Gauge.builder(name, this, m -> f.applyAsDouble(m.snapshot())).description(help).tags(tags)
                .strongReference(true).register(registry));
    }

    private void counter(String name, String help, Tags tags, ToDoubleFunction<PoolStats> f) {
        meters.add(FunctionCounter.builder(name, this, m -> f.applyAsDouble(m.snapshot())).description(help)
                .tags(tags).register(registry));
    }

    private synchronized PoolStats snapshot() {
        long now = System.nanoTime();
        if (last == null || now - lastNanos >= REFRESH_NANOS) {
            last = pool.stats();
            lastNanos = now;
            if (!meters.isEmpty()) {
                registerServers(last);
            }
        }
        return last;
    }

    /** Removes the meters from the registry. */
    @Override
    public void close() {
        for (io.micrometer.core.instrument.Meter m : meters) {
            registry.remove(m);
        }
        meters.clear();
    }
}
