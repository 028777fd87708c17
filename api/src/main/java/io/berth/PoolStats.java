package io.berth;

import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of a pool, from {@link BackendPool#stats()}: gauges, counters since the pool
 * was created, one row per connection (open ones first, then the most recently closed ones, at most
 * {@link #CLOSED_ROWS_KEPT}) and one row per server.
 *
 * <p>An interface, so that it can gain figures without breaking compiled callers; only the pool
 * implements it. Immutable and thread-safe.
 *
 * @since 1.0
 */
public interface PoolStats {
    /** How many closed connections' rows a snapshot keeps, most recent first. */
    int CLOSED_ROWS_KEPT = 256;

    /** @return the pool's name */
    String pool();

    /** @return the backend, as its base URL */
    String backend();

    /** @return open connections, plus ones being opened */
    int total();

    /**
     * @return connections idle for any caller: in the shared set, or parked by the caller that used
     *     them last (taken back by it with one compare-and-set, by others when no other is idle)
     */
    int idle();

    /** @return connections idle in sessions */
    int sessionIdle();

    /** @return connections carrying at least one exchange */
    int inUse();

    /** @return callers waiting for a connection */
    int waiting();

    /**
     * @return the most connections in use at once, over all servers, since the pool was created; a
     *     connection parked by its last caller counts as in use here (as in the purge's measure of
     *     demand) until another caller takes it or a maintenance pass returns it to the shared set
     */
    int peakInUse();

    /** @return connections opened */
    long opened();

    /**
     * @return leases handed out (one per exchange); counted by each connection, so a snapshot taken
     *     while a connection closes may leave out that connection's leases until the next one, and
     *     never reports fewer than an earlier snapshot
     */
    long acquired();

    /** @return leases that got a connection which had carried an exchange before */
    long reused();

    /** @return connections whose TLS handshake resumed an earlier session */
    long tlsResumed();

    /** @return connections closed, by reason; every reason is present */
    Map<CloseReason, Long> closed();

    /**
     * @return of the closed connections, how many were aborted (TCP RST) rather than closed
     *     gracefully (TLS close_notify, then FIN)
     */
    long aborted();

    /** @return acquisitions that had to wait for a connection */
    long acquireWaits();

    /** @return acquisitions that gave up after {@code acquireTimeout} */
    long acquireTimeouts();

    /** @return attempts to open a connection that failed */
    long connectFailures();

    /** @return one row per connection: open ones by id, then the most recently closed ones */
    List<ConnectionStats> connections();

    /** @return one row per server, in the backend's order */
    List<ServerStats> servers();

    /**
     * @param reason a close reason
     * @return how many connections closed for that reason
     */
    default long closed(CloseReason reason) {
        Long n = closed().get(reason);
        return n == null ? 0 : n;
    }

    /** @return connections closed for any reason */
    default long closedTotal() {
        long sum = 0;
        for (long n : closed().values()) {
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
    default String table() {
        return StatsTable.format(this);
    }

    /** @return the share of leases that reused a connection, 0 to 1 (0 when nothing was acquired) */
    default double reuseRatio() {
        long acquired = acquired();
        return acquired == 0 ? 0 : (double) reused() / acquired;
    }

    /** @return open connections that speak HTTP/2 */
    default int http2Connections() {
        return 0;
    }

    /** @return HTTP/2 streams open now, over all connections */
    default int streamsInFlight() {
        return 0;
    }

    /** @return HTTP/2 streams opened since the pool was created */
    default long streamsCarried() {
        return 0;
    }

    /** @return RST_STREAM frames sent since the pool was created (cancels, abandoned responses) */
    default long streamResetsSent() {
        return 0;
    }

    /** @return RST_STREAM frames servers sent since the pool was created */
    default long streamResetsReceived() {
        return 0;
    }

    /** @return HTTP/2 connections that received a GOAWAY since the pool was created */
    default long goAwaysReceived() {
        return 0;
    }
}
