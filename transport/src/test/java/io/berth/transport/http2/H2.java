package io.berth.transport.http2;

import io.berth.Backend;
import io.berth.Server;
import io.berth.TlsConfig;
import io.berth.transport.DuplexConnection;
import io.berth.transport.NioConnector;
import io.berth.transport.testing.TestPki;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Connections for the HTTP/2 tests: real TLS (ALPN offering {@code h2} and {@code http/1.1}, trusting
 * {@link TestPki#CA}) or plain TCP to 127.0.0.1, opened by the production {@link NioConnector}; and
 * request heads. Closes what it opened ({@link #close()}: abort), for the tests' {@code @AfterEach}.
 */
final class H2 implements AutoCloseable {
    static final long TIMEOUT = TimeUnit.SECONDS.toNanos(5);
    static final long SHORT = TimeUnit.MILLISECONDS.toNanos(300);
    /** Slack on top of a bound: scheduling on a loaded 2-core machine. */
    static final long SLACK_MS = 1_500;

    private final List<Http2Connection> connections = new ArrayList<>();
    private final List<DuplexConnection> raws = new ArrayList<>();
    NioConnector connector;

    /** @return a TLS connection to the port, ALPN done, no HTTP/2 byte written */
    DuplexConnection tls(int port) throws IOException {
        TlsConfig tls = TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate()))
                .alpn(List.of("h2", "http/1.1")).build();
        connector = new NioConnector(Backend.builder().server("127.0.0.1", port).tls(tls).build());
        DuplexConnection c = (DuplexConnection) connector.connect(Server.of("127.0.0.1", port), TIMEOUT);
        raws.add(c);
        return c;
    }

    /** @return a plain TCP connection to the port */
    DuplexConnection plain(int port) throws IOException {
        connector = new NioConnector(Backend.builder().secure(false).server("127.0.0.1", port).build());
        DuplexConnection c = (DuplexConnection) connector.connect(Server.of("127.0.0.1", port), TIMEOUT);
        raws.add(c);
        return c;
    }

    /** @return an HTTP/2 connection over TLS, opened with these options */
    Http2Connection open(int port, Http2Options options) throws IOException {
        Http2Connection c = Http2Connection.open(tls(port), options);
        connections.add(c);
        return c;
    }

    Http2Connection open(int port) throws IOException {
        return open(port, Http2Options.defaults());
    }

    Http2Connection track(Http2Connection c) {
        connections.add(c);
        return c;
    }

    static Http2Headers get(String path) {
        return request("GET", path);
    }

    static Http2Headers request(String method, String path) {
        return Http2Headers.of(":method", method, ":scheme", "https", ":authority", "backend.test", ":path", path);
    }

    /** Reads a stream's body to its end, as ISO-8859-1 text. */
    static String body(Http2Stream s) throws IOException {
        StringBuilder sb = new StringBuilder();
        ByteBuffer b = ByteBuffer.allocate(8192);
        while (true) {
            b.clear();
            int n = s.read(b, TIMEOUT);
            if (n < 0) {
                return sb.toString();
            }
            sb.append(new String(b.array(), 0, n, StandardCharsets.ISO_8859_1));
        }
    }

    /** Reads and counts a stream's body to its end. */
    static long drain(Http2Stream s) throws IOException {
        long total = 0;
        ByteBuffer b = ByteBuffer.allocate(32 * 1024);
        while (true) {
            b.clear();
            int n = s.read(b, TIMEOUT);
            if (n < 0) {
                return total;
            }
            total += n;
        }
    }

    static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }

    @Override
    public void close() {
        for (Http2Connection c : connections) {
            c.abort();
        }
        for (DuplexConnection c : raws) {
            c.abort();
        }
    }
}
