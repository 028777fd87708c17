package io.berth.spi;

import io.berth.Server;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One connection to a server, as the pool and the HTTP layer see it: bytes in and out, a
 * non-blocking liveness check, graceful close and abort.
 *
 * <p>Reads and writes are done by one thread at a time (the lease holder). {@link #liveness()},
 * {@link #close()} and {@link #abort()} are called by the pool, only while no exchange is under way,
 * except that {@code abort()} may be called from any thread to break a stuck exchange.
 */
public interface Connection {
    /** What a non-blocking look at an idle connection found. */
    enum Liveness {
        /** Open, and nothing arrived from the server. */
        ALIVE,
        /** The server closed it: end of stream, reset, or a TLS close_notify. */
        CLOSED_BY_PEER,
        /** The server sent bytes no request asked for; they cannot belong to any response. */
        UNEXPECTED_DATA
    }

    /** @return the server this connection goes to */
    Server server();

    /**
     * Reads at least one byte into {@code dst}, waiting up to {@code timeoutNanos} for it.
     *
     * @param dst where to put the bytes; must have space remaining
     * @param timeoutNanos how long to wait for the first byte, positive
     * @return how many bytes were read (at least 1), or -1 at the end of the stream
     * @throws io.berth.ResponseTimeoutException if nothing arrived in time
     * @throws java.io.InterruptedIOException if the thread was interrupted while waiting
     * @throws IOException if the connection failed
     */
    int read(ByteBuffer dst, long timeoutNanos) throws IOException;

    /**
     * Writes all remaining bytes of {@code src}, waiting up to {@code timeoutNanos} each time the
     * socket's send buffer is full.
     *
     * @param src the bytes to write
     * @param timeoutNanos how long to wait for the send buffer to drain, positive
     * @throws IOException if the connection failed, or the peer did not read in time
     */
    void write(ByteBuffer src, long timeoutNanos) throws IOException;

    /**
     * Looks, without blocking, whether the server has closed this idle connection or sent stray
     * bytes. A TLS 1.3 post-handshake message (NewSessionTicket, KeyUpdate) is neither.
     *
     * @return what it found
     */
    Liveness liveness();

    /**
     * Looks only at what this idle connection already holds, without a system call: bytes buffered
     * beyond the last response, or a close already seen. The pool uses it instead of
     * {@link #liveness()} for a replayable request on a connection released moments ago (see
     * {@code BackendPoolConfig.validateAfterIdle()}). By default it is {@link #liveness()}.
     *
     * @return what it found; {@link Liveness#ALIVE} if nothing held says otherwise
     */
    default Liveness bufferedLiveness() {
        return liveness();
    }

    /**
     * Tells the connection it went idle, so that it can give back buffers it does not need while
     * idle. Does nothing by default.
     */
    default void idle() {
    }

    /**
     * Says whether this connection may carry several exchanges at once (HTTP/2 streams). Fixed for
     * the connection's life; {@code false} by default.
     *
     * @return whether it is multiplexed
     */
    default boolean multiplexed() {
        return false;
    }

    /**
     * How many exchanges this connection can carry at once right now: 1 for a connection that is not
     * {@linkplain #multiplexed() multiplexed}; for HTTP/2 what the server allows, which may change
     * while the connection lives; 0 once it takes no new exchange (after a GOAWAY, say). The pool
     * reads it each time it adds an exchange; it must be cheap and thread-safe.
     *
     * @return the most exchanges it can carry at once now, at least 0
     */
    default int capacity() {
        return 1;
    }

    /**
     * Registers the pool's listener for changes of {@link #capacity()}: a multiplexed connection calls
     * it (from any thread, e.g. its reader) after its capacity changed, above all when it grew (an
     * HTTP/2 server's SETTINGS raised its stream limit), so that callers waiting for room are served at
     * once. Called once, when the pool registers the connection. Does nothing by default.
     *
     * @param listener quick, never throws, may be called concurrently
     */
    default void onCapacityChange(Runnable listener) {
    }

    /** @return whether the TLS session was resumed from an earlier connection; false for plain TCP */
    default boolean tlsSessionResumed() {
        return false;
    }

    /** @return the negotiated TLS protocol, e.g. {@code TLSv1.3}, or {@code null} for plain TCP */
    default String tlsProtocol() {
        return null;
    }

    /**
     * @return the application protocol the TLS handshake negotiated through ALPN, e.g. {@code h2} or
     *     {@code http/1.1}; {@code null} if none was negotiated (no ALPN offered or the server chose
     *     none) or for plain TCP. By default {@code null}
     */
    default String applicationProtocol() {
        return null;
    }

    /** @return whether the connection is still open (neither closed nor aborted) */
    boolean isOpen();

    /**
     * Closes gracefully: a TLS close_notify, then FIN, without waiting for the peer. Bounded in time:
     * if the close_notify cannot be written at once, the connection is aborted instead.
     * Idempotent; never throws.
     *
     * @return {@code true} if it closed gracefully, {@code false} if it had to abort (or was closed
     *     already)
     */
    boolean close();

    /** Aborts: the socket is closed with a TCP reset (SO_LINGER 0). Idempotent; never throws. */
    void abort();

    /** @return a one-line description, e.g. {@code 127.0.0.1:8443 TLSv1.3 TLS_AES_128_GCM_SHA256 resumed} */
    String describe();

    /**
     * @return a snapshot of the connection's streams, for the pool's rows, if it is an HTTP/2
     *     connection; {@code null} (the default) otherwise
     */
    default io.berth.StreamStats streamStats() {
        return null;
    }
}
