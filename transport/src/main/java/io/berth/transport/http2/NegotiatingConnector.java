package io.berth.transport.http2;

import io.berth.Backend;
import io.berth.HttpProtocol;
import io.berth.HttpProtocolException;
import io.berth.Server;
import io.berth.spi.Connection;
import io.berth.spi.Connector;
import io.berth.transport.DuplexConnection;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link Connector} that speaks what each connection negotiated: over a transport connector that
 * offers the backend's {@linkplain Backend#protocols() protocols} through ALPN, a connection whose
 * server chose {@code h2} becomes an {@link Http2Connection} (opened once the server's SETTINGS
 * arrived, so its capacity is known); one whose server chose {@code http/1.1}, or nothing, stays a
 * plain connection for HTTP/1.1, if the backend allows HTTP/1.1, and fails with
 * {@link HttpProtocolException} otherwise. The choice is made per connection and never remembered:
 * the next connection asks again. Over plain TCP, a backend whose protocol is {@code HTTP_2} speaks
 * HTTP/2 by prior knowledge.
 *
 * <p>{@link #expectedCapacity} tells the pool how many exchanges a connection being opened to a
 * server will carry: what the last connection to that server said (its SETTINGS, or 1 for
 * HTTP/1.1), or 100 (RFC 9113's recommended minimum) before any opened, so that concurrent callers
 * wait for one connection being opened instead of each opening its own.
 *
 * <p>Thread-safe.
 */
public final class NegotiatingConnector implements Connector {
    /** What a server is expected to allow before one of its connections said: RFC 9113's recommended minimum. */
    static final int FIRST_GUESS = 100;

    private final Connector transport;
    private final Http2Options options;
    private final boolean secure;
    private final boolean http1;
    private final boolean http2;
    private final ConcurrentHashMap<Server, Integer> lastCapacity = new ConcurrentHashMap<>();

    /**
     * @param backend the backend: its scheme and protocols
     * @param transport opens the connections ({@link io.berth.transport.NioConnector}), offering the
     *     backend's ALPN ids over TLS; its connections must be {@link DuplexConnection}s
     * @param options the settings of HTTP/2 connections
     */
    public NegotiatingConnector(Backend backend, Connector transport, Http2Options options) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.options = Objects.requireNonNull(options, "options");
        this.secure = backend.isSecure();
        List<HttpProtocol> protocols = backend.protocols();
        this.http1 = protocols.contains(HttpProtocol.HTTP_1_1);
        this.http2 = secure ? backend.alpnOffered().contains(HttpProtocol.HTTP_2.alpnId())
                : protocols.contains(HttpProtocol.HTTP_2);
    }

    /**
     * Opens a connection and, where {@code h2} was negotiated (or is known), the HTTP/2 connection
     * over it.
     *
     * @throws HttpProtocolException if the server did not choose {@code h2} and the backend allows
     *     HTTP/2 only, or the server broke HTTP/2 while the connection opened
     * @throws io.berth.HandshakeTimeoutException if the server's SETTINGS did not come in time
     * @throws IOException as {@link Connector#connect}
     */
    @Override
    public Connection connect(Server server, long connectTimeoutNanos) throws IOException {
        Connection c = transport.connect(server, connectTimeoutNanos);
        boolean h2 = secure ? HttpProtocol.HTTP_2.alpnId().equals(c.applicationProtocol()) : http2;
        if (!h2) {
            if (!http1) {
                c.abort();
                throw new HttpProtocolException(server + " chose " + (c.applicationProtocol() == null
                        ? "no protocol through ALPN" : "'" + c.applicationProtocol() + "' through ALPN")
                        + ", but the backend's protocols are [HTTP_2] only");
            }
            lastCapacity.put(server, 1);
            return c;
        }
        if (!(c instanceof DuplexConnection d)) {
            c.abort();
            throw new IllegalStateException("HTTP/2 needs a duplex transport connection, but " + transport
                    + " made " + c.getClass().getName());
        }
        Http2Connection h = Http2Connection.open(d, options);
        lastCapacity.put(server, Math.max(1, h.capacity()));
        return h;
    }

    @Override
    public int expectedCapacity(Server server) {
        if (!http2) {
            return 1;
        }
        return lastCapacity.getOrDefault(server, Math.min(FIRST_GUESS, options.maxConcurrentStreams()));
    }

    @Override
    public String toString() {
        return "NegotiatingConnector{" + transport + (http2 ? ", h2" : "") + (http1 ? ", http/1.1" : "") + "}";
    }
}
