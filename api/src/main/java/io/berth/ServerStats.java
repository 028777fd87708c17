package io.berth;

import java.time.Duration;

/**
 * One row of {@link PoolStats#servers()}: a server of the pool, its share of the connections and its
 * health. Immutable; only the pool implements it.
 *
 * @since 1.0
 */
public interface ServerStats {
    /** @return the server, {@code host:port} */
    String server();

    /** @return its state */
    ServerState state();

    /** @return its configured weight (0 takes no new connections) */
    int weight();

    /** @return its open connections plus ones being opened */
    int total();

    /** @return its idle connections: in the shared set, or parked by the caller that used them last */
    int idle();

    /** @return its connections carrying an exchange */
    int inUse();

    /** @return connections opened to it */
    long opened();

    /** @return failed attempts to connect to it */
    long connectFailures();

    /**
     * @return failures in a row since its last success (a connect, or an exchange that ended
     *     reusable), or health checks failed in a row
     */
    int consecutiveFailures();

    /** @return how many times it was marked down */
    long downCount();

    /**
     * @return how long the server stays down the next time it is marked down: {@code downBackoff}
     *     after a success, doubling with each mark-down up to {@code maxDownBackoff}
     */
    Duration backoff();

    /** @return how long it stays down from now, or zero if it is not down by failures */
    Duration downRemaining();
}
