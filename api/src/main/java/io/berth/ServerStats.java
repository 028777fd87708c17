package io.berth;

/**
 * One row of {@link PoolStats#servers()}: a server of the pool and its share of the connections.
 *
 * @param server {@code host:port}
 * @param state its state
 * @param weight its configured weight (0 takes no new connections)
 * @param total its open connections plus ones being opened
 * @param idle its idle connections in the shared set
 * @param inUse its connections carrying an exchange
 * @param opened connections opened to it
 * @param connectFailures failed attempts to connect to it
 * @param consecutiveFailures failures since its last success (connects, or health checks)
 * @param downCount how many times it was marked down
 */
public record ServerStats(
        String server,
        ServerState state,
        int weight,
        int total,
        int idle,
        int inUse,
        long opened,
        long connectFailures,
        int consecutiveFailures,
        long downCount) {
}
