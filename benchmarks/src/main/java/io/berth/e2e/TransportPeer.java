package io.berth.e2e;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.Server;
import io.berth.pool.internal.HostHeader;
import io.berth.spi.Connection;
import io.berth.transport.NioConnector;
import io.berth.transport.http1.ExchangeListener;
import io.berth.transport.http1.HeaderFields;
import io.berth.transport.http1.Http1Codec;
import io.berth.transport.http1.ResponseHead;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code berth-transport}: Berth's transport and HTTP/1.1 codec without its pool and client, to price
 * them apart. Each caller owns one connection from a {@link NioConnector} shared by the peer's
 * callers (one TLS context, as a pool has), and drives an {@link Http1Codec} over it as
 * {@code BerthClient} does: the same request head (Host and {@code Accept-Encoding: gzip}), the
 * response timeout armed by the watchdog on the write and the read, the head parsed, the body taken
 * as it arrived. What it leaves out against {@code berth} is the pool (acquire, release, the liveness
 * look, the stats) and the client ({@code BerthRequest}, {@code BerthResponse}, retries).
 */
final class TransportPeer extends Peer {
    /** Berth's default response timeout, as the pool's callers have it. */
    private static final long TIMEOUT = BackendPoolConfig.DEFAULT_RESPONSE_TIMEOUT.toNanos();
    /** Berth's default connect timeout (the TCP connect and the TLS handshake). */
    private static final long CONNECT_TIMEOUT = BackendPoolConfig.DEFAULT_CONNECT_TIMEOUT.toNanos();
    /** Shared by the closed loop's callers: one TLS context, as a pool has. */
    private final AtomicReference<NioConnector> connector = new AtomicReference<>();

    TransportPeer() {
        super("berth-transport");
    }

    @Override
    boolean clientPerCaller() {
        return true;
    }

    @Override
    Client pooled(Target t, int connections) throws IOException {
        Backend b = BerthPeer.backend(t);
        Caller c = new Caller(once(connector, () -> new NioConnector(b)), b, t);
        c.get();
        return c;
    }

    @Override
    Client fresh(Target t) {
        Backend b = BerthPeer.backend(t);
        return new Caller(new NioConnector(b), b, t);
    }

    @Override
    Shared shared(Target t) {
        Backend b = BerthPeer.backend(t);
        return handedOn(new Caller(new NioConnector(b), b, t), "one connection of Berth's transport");
    }

    /** One connection, one caller at a time. Not thread-safe. */
    private static final class Caller implements Client {
        private final NioConnector connector;
        private final Server server;
        private final Target target;
        private final HeaderFields headers;
        private Connection connection;
        private Http1Codec codec;
        /** Whether the last exchange left the connection unfit for another (the pool would close it). */
        private boolean retire;
        private final ExchangeListener ended = outcome -> retire = !outcome.reusable();

        Caller(NioConnector connector, Backend backend, Target target) {
            this.connector = connector;
            this.server = backend.servers().get(0);
            this.target = target;
            this.headers = HeaderFields.builder().add("Host", HostHeader.of(true, backend.tls(), server))
                    .add("Accept-Encoding", "gzip").build();
        }

        private ResponseHead exchange(String path) throws IOException {
            if (connection == null) {
                connection = connector.connect(server, CONNECT_TIMEOUT);
                codec = Http1Codec.of(connection);
            }
            try {
                codec.writeRequest("GET", path, headers, null, TIMEOUT);
                return codec.readResponseHead(TIMEOUT, false);
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
        }

        private byte[] body(ResponseHead head) throws IOException {
            byte[] b = codec.takeArrivedBody(head, false, 16 * 1024, ended);
            if (b == null) {
                close();
                throw new IOException("the body did not arrive with its head");
            }
            if (retire) {
                close(); // the next request opens another connection
            }
            return b;
        }

        @Override
        public void get() throws IOException {
            ResponseHead h = exchange(Target.HOT_PATH);
            target.check(h.statusCode(), body(h).length);
        }

        @Override
        public String getTls() throws IOException {
            ResponseHead h = exchange(Target.COLD_PATH);
            target.check(h.statusCode(), body(h).length);
            return h.headers().first(Target.TLS_HEADER);
        }

        /** Reads the response head, checks it, and leaves the body unread on the connection. */
        @Override
        public Held hold() throws IOException {
            ResponseHead h = exchange(Target.HOLD_PATH);
            String length = h.headers().first("Content-Length");
            Target.checkHeld(h.statusCode(), length == null ? -1 : Integer.parseInt(length));
            Connection busy = connection;
            connection = null; // the next request opens another connection
            String tls = h.headers().first(Target.TLS_HEADER);
            return new Held() {
                @Override
                public String tls() {
                    return tls;
                }

                @Override
                public void close() {
                    busy.close(); // the body unread: nothing else will use this connection
                }
            };
        }

        @Override
        public void close() {
            Connection c = connection;
            connection = null;
            retire = false;
            if (c != null) {
                c.close();
            }
        }
    }
}
