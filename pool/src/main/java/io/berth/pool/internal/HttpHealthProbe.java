package io.berth.pool.internal;

import io.berth.Backend;
import io.berth.HealthCheck;
import io.berth.Server;
import io.berth.TlsConfig;
import io.berth.spi.Connection;
import io.berth.spi.ServerProbe;
import io.berth.transport.http1.HeaderFields;
import io.berth.transport.http1.Http1Codec;
import io.berth.transport.http1.ResponseBody;
import io.berth.transport.http1.ResponseHead;
import io.berth.transport.http2.Http2Connection;
import io.berth.transport.http2.Http2Headers;
import io.berth.transport.http2.Http2Stream;
import java.io.IOException;

/**
 * The HTTP health check of the pools {@code Berth} builds: the check's method and path with
 * {@code Connection: close} on the connection the pool opened for it (HTTP/1.1), or as one stream on
 * it (HTTP/2, where the server chose h2); healthy if the status is in the check's range within its
 * timeout.
 */
public final class HttpHealthProbe implements ServerProbe {
    private final boolean secure;
    private final TlsConfig tls;

    /** @param backend the backend whose servers it checks (its scheme and TLS names make the Host header) */
    public HttpHealthProbe(Backend backend) {
        this.secure = backend.isSecure();
        this.tls = secure ? backend.tls() : null;
    }

    @Override
    public boolean check(Connection connection, HealthCheck check) throws IOException {
        long timeout = check.timeout().toNanos();
        Server server = connection.server();
        if (connection instanceof Http2Connection h2) {
            return status(check, checkOverHttp2(h2, check, HostHeader.of(secure, tls, server), timeout));
        }
        Http1Codec conn = Http1Codec.of(connection);
        boolean head = check.method().equals("HEAD");
        conn.writeRequest(check.method(), check.path(), HeaderFields.of("Host", HostHeader.of(secure, tls, server),
                "Connection", "close", "User-Agent", "berth-health-check"), null, timeout);
        ResponseHead response = conn.readResponseHead(timeout, head);
        try (ResponseBody body = conn.body(response, head, timeout, outcome -> { })) {
            body.skip(Long.MAX_VALUE);
        }
        return status(check, response.statusCode());
    }

    private static boolean status(HealthCheck check, int status) {
        return status >= check.minStatus() && status <= check.maxStatus();
    }

    /** The check as one stream; the pool closes the connection afterwards (GOAWAY, then close_notify). */
    private int checkOverHttp2(Http2Connection c, HealthCheck check, String authority, long timeout)
            throws IOException {
        Http2Stream s = c.newStream(Http2Headers.builder().add(":method", check.method())
                .add(":scheme", secure ? "https" : "http").add(":authority", authority).add(":path", check.path())
                .add("user-agent", "berth-health-check").build(), true, timeout);
        try {
            int status = Integer.parseInt(s.awaitResponseHeaders(timeout).first(":status"));
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8192);
            while (s.read(b, timeout) >= 0) {
                b.clear();
            }
            return status;
        } finally {
            s.cancel(); // a no-op once the stream ended
        }
    }
}
