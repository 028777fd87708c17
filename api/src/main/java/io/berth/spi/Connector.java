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
}
