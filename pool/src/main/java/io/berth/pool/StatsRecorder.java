package io.berth.pool;

import io.berth.CloseReason;
import io.berth.ConnectionState;
import io.berth.ConnectionStats;
import io.berth.PoolStats;
import io.berth.ServerState;
import io.berth.ServerStats;
import io.berth.StreamStats;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A pool's counters, its backend-wide in-use count and peak, the rows of recently closed
 * connections, and the snapshots built from them. On the request path a lease writes here only when
 * it changes the in-use count (single atomics), never when its caller takes back a parked connection
 * (see {@link PooledConnection}); nothing here allocates on that path.
 *
 * <p>Thread-safe.
 */
final class StatsRecorder {
    // Leases are not counted here: each connection counts its own (PooledConnection.uses), so that a
    // lease writes nothing other cores share. A snapshot adds up the open connections' counts and
    // those of the closed ones, kept below when a connection closes, after its slot was freed.
    /** Exchanges carried by closed connections. */
    private final AtomicLong closedUses = new AtomicLong();
    /** Closed connections that carried at least one exchange (each one's first lease was a fresh one). */
    private final AtomicLong closedCarriers = new AtomicLong();
    /** The highest totals reported, so that a snapshot racing a close never reports less. */
    private final AtomicLong acquiredReported = new AtomicLong();
    private final AtomicLong reusedReported = new AtomicLong();
    /**
     * Connections counted in use over all servers (parked ones included, see
     * {@link PooledConnection#counted}; the snapshot takes those out).
     */
    final AtomicInteger inUse = new AtomicInteger();
    final AtomicInteger peakInUse = new AtomicInteger();
    final AtomicLong opened = new AtomicLong();
    final AtomicLong tlsResumed = new AtomicLong();
    final AtomicLong aborted = new AtomicLong();
    final AtomicLong acquireTimeouts = new AtomicLong();
    final AtomicLong connectFailures = new AtomicLong();
    final AtomicLong abandoned = new AtomicLong();
    private final AtomicLongArray closedBy = new AtomicLongArray(CloseReason.values().length);
    private final ArrayDeque<ConnectionStats> history = new ArrayDeque<>(); // guarded by itself
    /** HTTP/2 figures of closed connections: streams carried, resets sent, resets received, GOAWAYs. */
    private final AtomicLongArray closedStreams = new AtomicLongArray(4);
    private final long nanoBase;
    private final long wallBaseMillis;

    StatsRecorder(long nanoBase) {
        this.nanoBase = nanoBase;
        this.wallBaseMillis = System.currentTimeMillis();
    }

    /**
     * Counts a connection its caller owns as in use on its server, and raises the peaks, unless it is
     * counted already (taken back from {@link PooledConnection#PARKED}).
     */
    void connectionBusy(PooledConnection c) {
        if (!c.counted) {
            c.counted = true;
            raise(c.entry.periodPeak, c.entry.inUse.incrementAndGet());
            raise(peakInUse, inUse.incrementAndGet());
        }
    }

    /** Counts a connection its caller owns as no longer in use, if it was counted. */
    void connectionNotBusy(PooledConnection c) {
        if (c.counted) {
            c.counted = false;
            c.entry.inUse.decrementAndGet();
            inUse.decrementAndGet();
        }
    }

    /**
     * Adds a closed connection's exchanges to the totals: called once its slot is free, so that a
     * snapshot (which reads these totals before it scans the slots) never counts it twice.
     */
    void usesClosed(PooledConnection c) {
        int u = c.uses;
        if (u > 0) {
            closedUses.addAndGet(u);
            closedCarriers.incrementAndGet();
        }
    }

    void closed(PooledConnection c, CloseReason reason, boolean graceful) {
        if (!graceful) {
            aborted.incrementAndGet();
        }
        closedBy.incrementAndGet(reason.ordinal());
        ConnectionStats row = row(c);
        StreamStats st = row.streams();
        if (st != null) {
            closedStreams.addAndGet(0, st.streamsCarried());
            closedStreams.addAndGet(1, st.resetsSent());
            closedStreams.addAndGet(2, st.resetsReceived());
            closedStreams.addAndGet(3, st.goAway() != null ? 1 : 0);
        }
        synchronized (history) {
            if (history.size() == PoolStats.CLOSED_ROWS_KEPT) {
                history.removeLast();
            }
            history.addFirst(row);
        }
    }

    static void raise(AtomicInteger max, int value) {
        int m;
        while (value > (m = max.get())) {
            if (max.compareAndSet(m, value)) {
                return;
            }
        }
    }

    ConnectionStats row(PooledConnection c) {
        return new ConnectionRow(c.id, c.server.toString(), c.publicState(), instant(c.createdNanos),
                c.everReleased ? instant(c.lastUsedNanos) : null, c.uses, c.uses >= 2, c.tlsResumed,
                c.closeReason, c.streams, c.multiplexed ? c.connection.streamStats() : null);
    }

    private Instant instant(long nanos) {
        return Instant.ofEpochMilli(wallBaseMillis).plusNanos(nanos - nanoBase);
    }

    /**
     * @param entries the servers, in the backend's order, then removed ones still closing
     * @param listed how many of {@code entries} are the pool's servers (the rest are leaving)
     */
    PoolStats snapshot(String name, String backend, ServerEntry[] entries, int listed, int sessionIdle, int waiting,
            long waits, long now) {
        // The closed connections' totals first, then the open ones: a connection that closes in
        // between is missed (never counted twice), and the reported totals never go down.
        long uses = closedUses.get();
        long carriers = closedCarriers.get();
        List<ConnectionStats> rows = new ArrayList<>();
        List<ServerStats> servers = new ArrayList<>(listed);
        int total = 0;
        int idle = 0;
        int busy = 0;
        for (int i = 0; i < entries.length; i++) {
            ServerEntry e = entries[i];
            int[] parked = {0};
            e.table.forEachRegistered(c -> {
                rows.add(row(c));
                if (c.state == PooledConnection.PARKED) {
                    parked[0]++;
                }
            });
            // A parked connection is idle, though it still counts in inUse (see PooledConnection#counted).
            int t = e.total.get();
            int id = e.table.size() + parked[0];
            int u = Math.max(0, e.inUse.get() - parked[0]);
            total += t;
            idle += id;
            busy += u;
            if (i < listed) {
                ServerHealth h = e.health;
                long down = h.state() == ServerState.DOWN && !h.downByCheck() ? Math.max(0, h.downUntil() - now) : 0;
                servers.add(new ServerRow(e.server.toString(), h.state(), e.weight, t, id, u, e.opened.get(),
                        e.connectFailures.get(), h.consecutiveFailures(), h.downCount(),
                        Duration.ofNanos(h.backoffNanos()), Duration.ofNanos(down)));
            }
        }
        for (ConnectionStats r : rows) {
            if (r.uses() > 0) {
                uses += r.uses();
                carriers++;
            }
        }
        long acquired = acquiredReported.accumulateAndGet(uses, Math::max);
        long reusedLeases = reusedReported.accumulateAndGet(uses - carriers, Math::max);
        rows.sort(Comparator.comparingLong(ConnectionStats::id));
        long[] h2 = {0, 0, closedStreams.get(0), closedStreams.get(1), closedStreams.get(2), closedStreams.get(3)};
        for (ConnectionStats r : rows) {
            StreamStats st = r.streams();
            if (st != null) {
                h2[0]++;
                h2[1] += st.streamsInFlight();
                h2[2] += st.streamsCarried();
                h2[3] += st.resetsSent();
                h2[4] += st.resetsReceived();
                h2[5] += st.goAway() != null ? 1 : 0;
            }
        }
        synchronized (history) {
            rows.addAll(history);
        }
        Map<CloseReason, Long> closedMap = new EnumMap<>(CloseReason.class);
        for (CloseReason r : CloseReason.values()) {
            closedMap.put(r, closedBy.get(r.ordinal()));
        }
        return new Snapshot(name, backend, total, idle, sessionIdle, busy, waiting, peakInUse.get(), opened.get(),
                acquired, reusedLeases, tlsResumed.get(), Map.copyOf(closedMap), aborted.get(), waits,
                acquireTimeouts.get(), connectFailures.get(), List.copyOf(rows), List.copyOf(servers), (int) h2[0],
                (int) h2[1], h2[2], h2[3], h2[4], h2[5]);
    }

    record Snapshot(String pool, String backend, int total, int idle, int sessionIdle, int inUse, int waiting,
            int peakInUse, long opened, long acquired, long reused, long tlsResumed, Map<CloseReason, Long> closed,
            long aborted, long acquireWaits, long acquireTimeouts, long connectFailures,
            List<ConnectionStats> connections, List<ServerStats> servers, int http2Connections, int streamsInFlight,
            long streamsCarried, long streamResetsSent, long streamResetsReceived, long goAwaysReceived)
            implements PoolStats {
    }

    record ServerRow(String server, ServerState state, int weight, int total, int idle, int inUse, long opened,
            long connectFailures, int consecutiveFailures, long downCount, Duration backoff, Duration downRemaining)
            implements ServerStats {
    }

    record ConnectionRow(long id, String server, ConnectionState state, Instant created, Instant lastUsed, int uses,
            boolean proven, boolean tlsSessionResumed, CloseReason closeReason, int inFlight, StreamStats streams)
            implements ConnectionStats {
    }
}
