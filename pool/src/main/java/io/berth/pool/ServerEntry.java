package io.berth.pool;

import io.berth.Server;
import io.berth.ServerState;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One server of a pool, as passive data: its connections ({@link SlotTable}), their counts, its
 * weight and its {@link ServerHealth}. It holds no policy: the pool's units read and update it.
 *
 * <p>{@link #total} counts open connections plus slots reserved for connections being opened; a
 * connection is opened only after a CAS reserved a slot below {@code maxConnections}. {@link #inUse}
 * counts connections carrying at least one exchange, and those parked by their last caller (see
 * {@link PooledConnection#counted}); {@link #periodPeak} is its highest value since the last purge
 * pass; {@link #need} is HAProxy's decaying estimate of the connections needed, kept
 * by the maintenance pass alone.
 *
 * <p>Thread-safe: the counters are atomics, the rest volatile or confined to the maintenance pass.
 */
final class ServerEntry {
    final Server server;
    final SlotTable table;
    final ServerHealth health;
    /** What a waiter receives when a slot of this server was reserved for it: open a connection here. */
    final Permit permit = new Permit(this);
    final AtomicInteger total = new AtomicInteger();
    final AtomicInteger inUse = new AtomicInteger();
    final AtomicInteger periodPeak = new AtomicInteger();
    /** Idle connections the maintenance pass holds to check them (callers wait for those). */
    final AtomicInteger checking = new AtomicInteger();
    /** Connections being opened (a slot reserved, connecting). */
    final AtomicInteger opening = new AtomicInteger();
    final AtomicLong opened = new AtomicLong();
    final AtomicLong connectFailures = new AtomicLong();
    volatile int weight;
    /**
     * How many exchanges a connection to this server is expected to carry: what the last one opened
     * could carry (1 for HTTP/1.1), or 0 before the first (then the connector's hint applies).
     */
    volatile int expectedCapacity;
    /** Removed from the pool: it takes nothing new and leaves the stats once its last connection closed. */
    volatile boolean removed;
    int need; // maintenance pass only
    /**
     * Set once a connection of this server was parked (see {@link PooledConnection}); never cleared:
     * until then nobody scans for parked connections. Written only while false, so read-shared.
     */
    volatile boolean mayHaveParked;

    ServerEntry(Server server, int weight, int capacity, ServerHealth health) {
        this.server = server;
        this.weight = weight;
        this.table = new SlotTable(capacity);
        this.health = health;
    }

    /**
     * @return whether new requests may use this server's connections: it has a weight, and is not
     *     removed, draining or down by its health check
     */
    boolean servesRequests() {
        return weight > 0 && keepsConnections();
    }

    /**
     * @return whether its released connections may be kept: it is not removed, draining or down by its
     *     check (a server of weight 0 keeps them, unused, for when its weight comes back; purges close
     *     them meanwhile)
     */
    boolean keepsConnections() {
        return !removed && health.servesRequests();
    }

    /**
     * @return whether a new connection may be opened to it now (not down, weight above zero), after
     *     bringing its health state up to date
     */
    boolean takesNewConnections(long now, long slowStartNanos) {
        health.refresh(now, slowStartNanos);
        return !removed && weight > 0 && health.takesNewConnections();
    }

    /** @return its state for the stats */
    ServerState state() {
        return health.state();
    }

    /** Reserves a slot for a connection about to be opened. @return false at {@code max} */
    boolean tryReserve(int max) {
        for (;;) {
            int t = total.get();
            if (t >= max) {
                return false;
            }
            if (total.compareAndSet(t, t + 1)) {
                return true;
            }
        }
    }

    @Override
    public String toString() {
        return server + " (total=" + total.get() + ", idle=" + table.size() + ", inUse=" + inUse.get() + ", "
                + state() + ")";
    }

    /** A slot reserved for a waiter on one server: the waiter opens a connection there. */
    static final class Permit {
        final ServerEntry entry;

        Permit(ServerEntry entry) {
            this.entry = entry;
        }
    }
}
