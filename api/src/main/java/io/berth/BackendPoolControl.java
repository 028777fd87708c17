package io.berth;

/**
 * Changes a running pool: its settings, and its servers (HAProxy's runtime API). Get it with
 * {@link BackendPool#control()}; acquiring and observing stay on the pool.
 *
 * <p>Thread-safe. Each operation takes effect for the next acquisitions and releases; nothing in
 * flight is lost.
 *
 * @since 1.0
 */
public interface BackendPoolControl {
    /**
     * Applies new settings to the running pool: limits, timeouts, purge delay, reuse policy,
     * balancing and health settings take effect for the next acquisitions and releases; lowered
     * limits close idle connections beyond them at once and the excess in use as it comes back;
     * raised ones admit waiting callers at once.
     *
     * @param config the new settings, e.g. {@code pool.config().toBuilder().maxConnections(16).build()}
     * @throws IllegalArgumentException if it changes the name, listener, purge scheduler or ticker,
     *     which are fixed for the pool's life
     * @throws IllegalStateException if the pool is closed
     */
    void reconfigure(BackendPoolConfig config);

    /**
     * Adds a server to the running pool; it takes traffic at once, with slow start.
     *
     * @param server the server
     * @param weight its share of new connections, 0 to {@value Backend#MAX_WEIGHT}
     * @throws IllegalArgumentException if it is a server of the pool already, or the weight is out of range
     * @throws IllegalStateException if the pool is closed
     */
    void addServer(Server server, int weight);

    /**
     * Removes a server: it takes no new request, its idle connections close at once, and its
     * connections in use close when their exchanges end. Nothing in flight is lost.
     *
     * @param server a server of the pool
     * @throws IllegalArgumentException if it is not a server of the pool, or the last one
     * @throws IllegalStateException if the pool is closed
     */
    void removeServer(Server server);

    /**
     * Drains a server: it takes no new request, its idle connections close, requests in flight
     * finish. {@link #resumeServer} undoes it.
     *
     * @param server a server of the pool
     * @throws IllegalArgumentException if it is not a server of the pool
     * @throws IllegalStateException if the pool is closed
     */
    void drainServer(Server server);

    /**
     * Lets a drained server, or one marked down, take traffic again at once, with slow start; its
     * failure count and back-off start again from nothing.
     *
     * @param server a server of the pool
     * @throws IllegalArgumentException if it is not a server of the pool
     * @throws IllegalStateException if the pool is closed
     */
    void resumeServer(Server server);

    /**
     * Changes a server's weight. At 0 it takes no new request; its idle connections are kept
     * (unused, and purged as surplus) for when its weight comes back.
     *
     * @param server a server of the pool
     * @param weight its share of new connections, 0 to {@value Backend#MAX_WEIGHT}
     * @throws IllegalArgumentException if it is not a server of the pool, or the weight is out of range
     * @throws IllegalStateException if the pool is closed
     */
    void reweight(Server server, int weight);
}
