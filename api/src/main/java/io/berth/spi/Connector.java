package io.berth.spi;

import io.berth.Server;
import java.io.IOException;

/**
 * Opens connections to the servers of a backend. Berth's transport provides one for TLS and plain
 * TCP; tests provide in-memory ones.
 *
 * <p>Implementations must be thread-safe: pools call {@link #connect} from many threads at once.
 */
@FunctionalInterface
public interface Connector {
    /**
     * Opens a connection: TCP connect within {@code connectTimeoutNanos}, then (for TLS) the handshake
     * within its own timeout. Blocks the calling thread until the connection is ready or has failed.
     *
     * @param server the server to connect to
     * @param connectTimeoutNanos the limit on the TCP connect, positive
     * @return an open, ready connection
     * @throws io.berth.ConnectTimeoutException if the TCP connect took too long
     * @throws io.berth.HandshakeTimeoutException if the TLS handshake took too long
     * @throws javax.net.ssl.SSLHandshakeException if the server's certificate or the handshake failed,
     *     with the JDK's cause (untrusted chain, wrong host, expired)
     * @throws java.net.ConnectException if the server refused the connection
     * @throws java.io.InterruptedIOException if the thread was interrupted
     * @throws IOException for any other failure; no file descriptor is left open
     */
    Connection connect(Server server, long connectTimeoutNanos) throws IOException;

    /**
     * How many exchanges a connection to {@code server} that is being opened is expected to carry at
     * once, before the pool has seen one: e.g. HTTP/2's usual 100 when the backend offers {@code h2}.
     * Callers that find no usable connection wait for the connections being opened while these are
     * expected to carry them all, instead of each opening its own (no connection burst); the pool then
     * learns each server's real figure from the connections it opens. 1 (no waiting) by default.
     *
     * @param server a server of the backend
     * @return at least 1
     */
    default int expectedCapacity(Server server) {
        return 1;
    }
}
