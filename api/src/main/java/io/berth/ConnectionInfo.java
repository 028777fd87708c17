package io.berth;

/**
 * What a pool knows of one of its connections, as shown to a {@link ReusePolicy} and a
 * {@link PoolListener}.
 *
 * <p>An instance is a live view owned by the pool, not a snapshot: read it inside the callback
 * that received it, and do not keep it. Thread-safe to read; values may change between reads.
 */
public interface ConnectionInfo {
    /** @return the pool-unique id of the connection, from 1 */
    long id();

    /** @return the server the connection goes to */
    Server server();

    /**
     * @return how many exchanges the connection has carried, counting one in progress
     */
    int uses();

    /**
     * A connection is proven once it has carried at least two exchanges (HAProxy's "safe" list):
     * the server has shown it keeps the connection open across requests.
     *
     * @return whether the connection is proven
     */
    default boolean proven() {
        return uses() >= 2;
    }

    /**
     * @return whether the connection may carry several exchanges at once (HTTP/2); fixed for its life
     */
    default boolean multiplexed() {
        return false;
    }

    /**
     * @return how many exchanges the connection carries right now: 0 or 1 for a connection that
     *     carries one at a time, up to its capacity for a multiplexed (HTTP/2) one
     */
    default int inFlight() {
        return 0;
    }

    /** @return the {@link Ticker} time at which the connection was opened, in nanoseconds */
    long createdNanos();

    /** @return the {@link Ticker} time of its last release (or opening, if never used), in nanoseconds */
    long lastUsedNanos();

    /** @return whether its TLS session was resumed from an earlier connection (an abbreviated handshake) */
    boolean tlsSessionResumed();

    /** @return a one-line description for logs, e.g. {@code #3 127.0.0.1:8443 TLSv1.3 resumed} */
    String describe();
}
