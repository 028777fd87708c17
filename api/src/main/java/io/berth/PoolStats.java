package io.berth;

import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of a pool: gauges, counters since the pool was created, and one row per
 * connection, open ones first, then the most recently closed ones (at most
 * {@link #CLOSED_ROWS_KEPT}).
 *
 * @param pool the pool's name
 * @param backend the backend, as its base URL
 * @param total open connections, plus ones being opened
 * @param idle connections idle in the shared set
 * @param sessionIdle connections idle in sessions
 * @param inUse connections carrying an exchange
 * @param waiting callers waiting for a connection
 * @param peakInUse the most connections in use at once since the pool was created (for several
 *     servers, the sum of each server's peak: an upper bound)
 * @param opened connections opened
 * @param acquired leases handed out
 * @param reused leases that got a connection which had carried an exchange before
 * @param tlsResumed connections whose TLS handshake resumed an earlier session
 * @param closed connections closed, by reason; every reason is present
 * @param aborted of the closed connections, how many were aborted (TCP RST) rather than closed
 *     gracefully (TLS close_notify, then FIN)
 * @param acquireWaits acquisitions that had to wait for a connection
 * @param acquireTimeouts acquisitions that gave up after {@code acquireTimeout}
 * @param connectFailures attempts to open a connection that failed
 * @param connections one row per connection
 * @param servers one row per server, in the backend's order
 */
public record PoolStats(
        String pool,
        String backend,
        int total,
        int idle,
        int sessionIdle,
        int inUse,
        int waiting,
        int peakInUse,
        long opened,
        long acquired,
        long reused,
        long tlsResumed,
        Map<CloseReason, Long> closed,
        long aborted,
        long acquireWaits,
        long acquireTimeouts,
        long connectFailures,
        List<ConnectionStats> connections,
        List<ServerStats> servers) {

    /** How many closed connections' rows a snapshot keeps, most recent first. */
    public static final int CLOSED_ROWS_KEPT = 256;

    /** Copies the collections so the snapshot stays immutable. */
    public PoolStats {
        closed = Map.copyOf(closed);
        connections = List.copyOf(connections);
        servers = List.copyOf(servers);
    }

    /**
     * @param reason a close reason
     * @return how many connections closed for that reason
     */
    public long closed(CloseReason reason) {
        Long n = closed.get(reason);
        return n == null ? 0 : n;
    }

    /** @return connections closed for any reason */
    public long closedTotal() {
        long sum = 0;
        for (long n : closed.values()) {
            sum += n;
        }
        return sum;
    }

    /**
     * The connection -> uses table as text, with the reuse probe's columns, for a log line or a health
     * endpoint: see {@link StatsTable#format(PoolStats)}.
     *
     * @return the table, lines ending with {@code \n}
     */
    public String table() {
        return StatsTable.format(this);
    }

    /** @return the share of leases that reused a connection, 0 to 1 (0 when nothing was acquired) */
    public double reuseRatio() {
        return acquired == 0 ? 0 : (double) reused / acquired;
    }
}
