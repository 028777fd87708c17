package io.berth.transport;

import io.berth.Backend;
import io.berth.ConnectTimeoutException;
import io.berth.Server;
import io.berth.spi.Connection;
import io.berth.spi.Connector;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Opens TCP connections, and for an {@code https} {@link Backend} TLS connections, to the servers of
 * one backend: a {@code SocketChannel} in blocking mode (one file descriptor per connection), driven
 * through an {@code SSLEngine} for TLS. The connect and the handshake block the calling thread (a
 * virtual thread parks); their timeouts are enforced by the {@link Watchdog}, which aborts an attempt
 * that is overdue.
 *
 * <p><b>TLS profile.</b> The connector builds its {@code SSLContext}s (and so its TLS session
 * caches) once, from the backend's {@link io.berth.TlsConfig}, and shares them with no other
 * connector. Servers that are sent different SNI names get different contexts, so a resumed session
 * never carries another server's SNI, and a backend without SNI never sends any, resumed sessions
 * included. The server's certificate is always checked against
 * {@link io.berth.TlsConfig#verifyHostnameFor(Server)} by Berth's one rule (see {@link io.berth.TlsConfig}),
 * also when no SNI is sent and when the server is an IP literal.
 *
 * <p><b>Closes.</b> {@link #gracefulCloses()} and {@link #aborts()} count how the connections this
 * connector opened were closed: gracefully (TLS close_notify and FIN written without waiting) or by a
 * TCP reset (an explicit {@link Connection#abort()}, or a {@link Connection#close()} that could not
 * write its close_notify at once). Connections that failed inside {@link #connect} are not counted.
 *
 * <p>Thread-safe.
 */
public final class NioConnector implements Connector {
    private static final System.Logger LOG = System.getLogger(NioConnector.class.getName());

    private final Backend backend;
    private final TlsProfile tls;
    private final Executor delegatedTaskExecutor;
    private final BufferPool buffers;
    /** Direct buffers of {@link BufferPool#BUFFER_SIZE} bytes, a connection's stages for channel I/O. */
    private final BufferPool stages;
    private final LongAdder gracefulCloses = new LongAdder();
    private final LongAdder aborts = new LongAdder();

    /**
     * Creates a connector for a backend. For {@code https}, {@code SSLEngine} delegated tasks
     * (certificate checks, key exchange) run on the connecting thread, which waits for the
     * handshake anyway.
     *
     * @param backend the backend whose servers this connector connects to
     * @throws IllegalArgumentException if a server's SNI name is not a valid host name
     * @throws IllegalStateException if this JDK cannot build a TLS context from the settings
     */
    public NioConnector(Backend backend) {
        this(backend, null, BufferPool.shared());
    }

    /**
     * Creates a connector for a backend whose {@code SSLEngine} delegated tasks run on an executor.
     * The connecting thread still waits for them, bounded by the handshake timeout; use this to keep
     * CPU-heavy certificate checks on threads of your choosing.
     *
     * @param backend the backend whose servers this connector connects to
     * @param delegatedTaskExecutor runs the delegated tasks of TLS handshakes
     * @throws IllegalArgumentException if a server's SNI name is not a valid host name
     * @throws IllegalStateException if this JDK cannot build a TLS context from the settings
     */
    public NioConnector(Backend backend, Executor delegatedTaskExecutor) {
        this(backend, Objects.requireNonNull(delegatedTaskExecutor, "delegatedTaskExecutor"), BufferPool.shared());
    }

    NioConnector(Backend backend, Executor delegatedTaskExecutor, BufferPool buffers) {
        this(backend, delegatedTaskExecutor, buffers, BufferPool.sharedDirect());
    }

    NioConnector(Backend backend, Executor delegatedTaskExecutor, BufferPool buffers, BufferPool stages) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.tls = backend.isSecure() ? new TlsProfile(backend) : null;
        this.delegatedTaskExecutor = delegatedTaskExecutor;
        this.buffers = buffers;
        this.stages = stages;
    }

    /** @return the backend this connector connects to */
    public Backend backend() {
        return backend;
    }

    /**
     * Opens a connection: resolves the server's host, connects within {@code connectTimeoutNanos}
     * (TCP_NODELAY and SO_KEEPALIVE on), then for {@code https} performs the TLS handshake within
     * {@link io.berth.TlsConfig#handshakeTimeout()}. On any failure the socket is closed. The host is
     * resolved by the JDK's resolver, whose time is not bounded by {@code connectTimeoutNanos}; a
     * host with several addresses is tried address by address within the one connect timeout.
     *
     * @param server the server: one of the backend's, or one added to its pool later (it connects with
     *     the backend's scheme and TLS profile)
     * @param connectTimeoutNanos the limit on the TCP connect, positive
     * @return an open connection, ready for an exchange
     * @throws ConnectTimeoutException if the TCP connect took too long
     * @throws io.berth.HandshakeTimeoutException if the TLS handshake took too long
     * @throws javax.net.ssl.SSLHandshakeException if the handshake failed (untrusted chain, wrong host,
     *     expired certificate, a key below the floor, no common protocol), with the JDK-like cause and a
     *     suppressed exception naming the server
     * @throws ConnectException if the server refused the connection
     * @throws NoRouteToHostException if the server's address is unreachable
     * @throws UnknownHostException if the host does not resolve
     * @throws InterruptedIOException if the thread was interrupted; its interrupt flag stays set
     * @throws IOException for any other failure
     * @throws IllegalArgumentException if the timeout is not positive
     */
    @Override
    public Connection connect(Server server, long connectTimeoutNanos) throws IOException {
        Objects.requireNonNull(server, "server");
        if (connectTimeoutNanos <= 0) {
            throw new IllegalArgumentException("connectTimeoutNanos must be positive but was " + connectTimeoutNanos);
        }
        long start = System.nanoTime();
        InetAddress[] addresses = resolve(server);
        SocketChannel channel = openConnected(server, addresses, start + connectTimeoutNanos, connectTimeoutNanos);
        NioConnection connection = null;
        try {
            if (tls == null) {
                connection = new PlainConnection(server, channel, this);
                connection.watch();
            } else {
                TlsConnection t = new TlsConnection(server, channel, this, tls);
                connection = t;
                connection.watch();
                t.handshake(tls, tls.config().handshakeTimeout().toNanos(), delegatedTaskExecutor);
            }
            connection.ready();
            if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
                LOG.log(System.Logger.Level.DEBUG, "{0}: connected {1} in {2} µs", backend, connection.describe(),
                        TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start));
            }
            return connection;
        } catch (IOException | RuntimeException | Error e) {
            if (connection != null) {
                connection.discard();
            } else {
                NioConnection.closeQuietly(channel);
            }
            LOG.log(System.Logger.Level.DEBUG, () -> backend + ": connecting to " + server + " failed: " + e);
            throw e;
        }
    }

    /**
     * @return how many connections of this connector closed gracefully (TLS close_notify and FIN)
     */
    public long gracefulCloses() {
        return gracefulCloses.sum();
    }

    /**
     * @return how many connections of this connector were closed with a TCP reset, by
     *     {@link Connection#abort()} or by a {@link Connection#close()} that had to abort
     */
    public long aborts() {
        return aborts.sum();
    }

    @Override
    public String toString() {
        return "NioConnector{" + backend + (tls == null ? "" : ", " + backend.tls()) + "}";
    }

    BufferPool buffers() {
        return buffers;
    }

    BufferPool stages() {
        return stages;
    }

    void countClose(boolean graceful) {
        (graceful ? gracefulCloses : aborts).increment();
    }

    private static InetAddress[] resolve(Server server) throws IOException {
        try {
            return InetAddress.getAllByName(server.host());
        } catch (UnknownHostException e) {
            UnknownHostException named = new UnknownHostException("cannot resolve the host of server " + server
                    + ": " + e.getMessage());
            named.initCause(e);
            throw named;
        }
    }

    /**
     * Connects to the addresses in turn until one accepts, all within one deadline. Each attempt uses
     * a fresh channel in blocking mode, watched by the {@link Watchdog}, which closes it if the
     * deadline passes first.
     */
    private static SocketChannel openConnected(Server server, InetAddress[] addresses, long deadline,
            long timeoutNanos) throws IOException {
        SocketException failure = null;
        for (InetAddress address : addresses) {
            InetSocketAddress target = new InetSocketAddress(address, server.port());
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                throw connectTimeout(server, target, timeoutNanos, null);
            }
            SocketChannel channel = SocketChannel.open();
            ConnectAttempt attempt = new ConnectAttempt(channel);
            attempt.watch();
            try {
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
                long armed = attempt.arm(Watchdog.READ, remaining);
                try {
                    channel.connect(target);
                } catch (IOException | RuntimeException e) {
                    if (!attempt.disarm(Watchdog.READ, armed)) {
                        throw connectTimeout(server, target, timeoutNanos, e);
                    }
                    throw e;
                }
                if (!attempt.disarm(Watchdog.READ, armed)) {
                    throw connectTimeout(server, target, timeoutNanos, null);
                }
                return channel;
            } catch (ConnectException | NoRouteToHostException e) {
                // refused or unreachable: try the next address, if any
                NioConnection.closeQuietly(channel);
                String message = "connecting to " + server + " (" + target + ") failed: " + e.getMessage();
                SocketException named = e instanceof ConnectException
                        ? new ConnectException(message) : new NoRouteToHostException(message);
                named.initCause(e);
                if (failure == null) {
                    failure = named;
                } else {
                    failure.addSuppressed(named);
                }
            } catch (ClosedByInterruptException e) {
                NioConnection.closeQuietly(channel);
                throw NioConnection.withCause(new InterruptedIOException("interrupted while connecting to " + server
                        + " (" + target + ")"), e);
            } catch (IOException | RuntimeException | Error e) {
                NioConnection.closeQuietly(channel);
                throw e;
            } finally {
                attempt.unwatch();
            }
        }
        throw failure;
    }

    private static ConnectTimeoutException connectTimeout(Server server, InetSocketAddress target, long timeoutNanos,
            Exception cause) {
        return NioConnection.withCause(new ConnectTimeoutException("connecting to " + server + " (" + target
                + ") timed out after " + NioConnection.millis(timeoutNanos) + " (connectTimeout)"), cause);
    }

    /** A connect under way, for the watchdog: an overdue one has its channel closed. */
    private static final class ConnectAttempt extends Watchdog.Watched {
        private final SocketChannel channel;

        ConnectAttempt(SocketChannel channel) {
            super(Watchdog.SHARED);
            this.channel = channel;
        }

        @Override
        void expire(int side) {
            NioConnection.closeQuietly(channel);
        }

        @Override
        public String toString() {
            return "a connect attempt";
        }
    }
}
