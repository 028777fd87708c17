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
import java.io.IOException;

/**
 * The HTTP/1.1 health check of the pools {@code Berth} builds: the check's method and path with
 * {@code Connection: close} on the connection the pool opened for it; healthy if the status is in
 * the check's range within its timeout.
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
        Http1Codec conn = Http1Codec.of(connection);
        boolean head = check.method().equals("HEAD");
        conn.writeRequest(check.method(), check.path(), HeaderFields.of("Host", HostHeader.of(secure, tls, server),
                "Connection", "close", "User-Agent", "berth-health-check"), null, timeout);
        ResponseHead response = conn.readResponseHead(timeout, head);
        try (ResponseBody body = conn.body(response, head, timeout, outcome -> { })) {
            body.skip(Long.MAX_VALUE);
        }
        int status = response.statusCode();
        return status >= check.minStatus() && status <= check.maxStatus();
    }
}
