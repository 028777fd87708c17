package io.berth;

import java.io.IOException;

/**
 * Told of connection events, e.g. to feed metrics or logs. Every method does nothing by default.
 *
 * <p>Each opened connection gets exactly one {@link #connectionClosed}; each
 * {@link #connectionAcquired} is followed by one {@link #connectionReleased}. Callbacks run on the
 * caller's or the maintenance thread, some on the hot path: they must be fast, must not block and
 * must not call back into the pool. One that throws is logged once at WARNING and otherwise ignored;
 * it never breaks the pool. Implementations must be thread-safe.
 */
public interface PoolListener {
    /** A listener that does nothing. */
    PoolListener NONE = new PoolListener() {
    };

    /**
     * A connection was opened (TCP connected and, for TLS, handshaken).
     *
     * @param connection the connection
     */
    default void connectionOpened(ConnectionInfo connection) {
    }

    /**
     * A connection was handed to a caller.
     *
     * @param connection the connection
     * @param reused whether it had carried an exchange before
     */
    default void connectionAcquired(ConnectionInfo connection, boolean reused) {
    }

    /**
     * A caller released a connection.
     *
     * @param connection the connection
     * @param outcome how the exchange ended
     */
    default void connectionReleased(ConnectionInfo connection, Outcome outcome) {
    }

    /**
     * A connection was closed.
     *
     * @param connection the connection
     * @param reason why
     */
    default void connectionClosed(ConnectionInfo connection, CloseReason reason) {
    }

    /**
     * An attempt to open a connection failed.
     *
     * @param server the server
     * @param failure what went wrong
     */
    default void connectFailed(Server server, IOException failure) {
    }
}
