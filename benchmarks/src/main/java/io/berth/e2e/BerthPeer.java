package io.berth.e2e;

import io.berth.Backend;
import io.berth.BackendPool;
import io.berth.BackendPoolConfig;
import io.berth.HttpProtocol;
import io.berth.TlsConfig;
import io.berth.pool.Berth;
import io.berth.pool.http.BerthClient;
import io.berth.pool.http.BerthRequest;
import io.berth.pool.http.BerthResponse;
import java.io.IOException;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Berth through its own API: a {@link BerthClient} over one pool for the backend; {@code berth-h2}
 * the same over a backend that offers HTTP/2 ({@link #offeringH2}), against the h2 listener.
 *
 * <ul>
 *   <li>Closed loop: {@code maxConnections} = C, {@code idleTimeout} = {@link Peer#IDLE}, every other
 *       setting at its default (gzip requested and decoded, SAFE reuse, purges every 5 s).</li>
 *   <li>A new {@link BerthRequest} per call. The client is bound to its backend, so the request
 *       names only the path: that is Berth's API, not a shortcut.</li>
 *   <li>The body is read with {@link BerthResponse#bodyBytes()}, which also releases the connection.</li>
 *   <li>TLS: {@link TlsConfig} trusting the CA's PEM file, TLS 1.3 only; host name verified, as always.
 *       The variant {@code berth-conscrypt} sets {@link TlsConfig.Builder#provider(java.security.Provider)}
 *       to a Conscrypt provider (BoringSSL, a native library), not installed in the JVM.</li>
 * </ul>
 */
final class BerthPeer extends Peer {
    private final UnaryOperator<BackendPoolConfig.Builder> variant;
    private final UnaryOperator<TlsConfig.Builder> tlsVariant;

    BerthPeer() {
        this("berth", b -> b);
    }

    /** A variant: settings other than the defaults, under another name. */
    BerthPeer(String name, UnaryOperator<BackendPoolConfig.Builder> variant) {
        this(name, variant, t -> t);
    }

    /** A variant: pool and TLS settings other than the defaults, under another name. */
    BerthPeer(String name, UnaryOperator<BackendPoolConfig.Builder> variant, UnaryOperator<TlsConfig.Builder> tls) {
        this(name, false, variant, tls);
    }

    /** A variant, over HTTP/2 if {@code h2} (the backend {@link #offeringH2}). */
    BerthPeer(String name, boolean h2, UnaryOperator<BackendPoolConfig.Builder> variant,
            UnaryOperator<TlsConfig.Builder> tls) {
        super(name, h2);
        this.variant = variant;
        this.tlsVariant = tls;
    }

    static Backend backend(Target t) {
        return backend(t, b -> b);
    }

    private static Backend backend(Target t, UnaryOperator<TlsConfig.Builder> tlsVariant) {
        TlsConfig tls = tlsVariant.apply(TlsConfig.builder().trustPemFile(t.caPem()).protocols(List.of(Tls.PROTOCOL)))
                .build();
        return Backend.of(t.origin()).toBuilder().tls(tls).build();
    }

    private Backend backendOf(Target t) {
        Backend b = backend(t, tlsVariant);
        return h2() ? offeringH2(b) : b;
    }

    /**
     * The backend of {@code berth-h2}: {@code backend} offering HTTP/2 first, then HTTP/1.1, through
     * ALPN ({@link Backend.Builder#protocols}), as a user turns HTTP/2 on. Each connection speaks
     * what nginx chose; that the probe exchange was really served over HTTP/2 is checked apart, from
     * nginx's own answer ({@link Target#httpVersion}).
     *
     * @param backend the backend as the HTTP/1.1 peers configure it
     * @return the same backend, offering h2 and http/1.1
     */
    static Backend offeringH2(Backend backend) {
        return backend.toBuilder().protocols(HttpProtocol.HTTP_2, HttpProtocol.HTTP_1_1).build();
    }

    @Override
    Client pooled(Target t, int connections) {
        BackendPoolConfig config = variant.apply(BackendPoolConfig.builder().maxConnections(connections)
                .idleTimeout(IDLE)).build();
        return new BerthCaller(BerthClient.create(backendOf(t), config), t);
    }

    @Override
    Client fresh(Target t) {
        // A new pool: a new connector, so a new SSLContext and an empty session cache.
        return new BerthCaller(BerthClient.create(backendOf(t), BackendPoolConfig.defaults()), t);
    }

    @Override
    Shared shared(Target t) {
        BackendPool pool = Berth.newPool(backendOf(t), BackendPoolConfig.defaults());
        return new Shared() {
            @Override
            public Client newInstance() {
                return new BerthCaller(BerthClient.over(pool), t);
            }

            @Override
            public String sharing() {
                return "one BackendPool; a new BerthClient.over(pool) per caller";
            }

            @Override
            public void close() {
                pool.close();
            }
        };
    }

    private static final class BerthCaller implements Client {
        private final BerthClient client;
        private final Target target;

        BerthCaller(BerthClient client, Target target) {
            this.client = client;
            this.target = target;
        }

        @Override
        public void get() throws Exception {
            try (BerthResponse r = client.send(BerthRequest.get(Target.HOT_PATH))) {
                target.check(r.status(), r.bodyBytes().length);
            }
        }

        @Override
        public String getTls() throws Exception {
            try (BerthResponse r = client.send(BerthRequest.get(Target.COLD_PATH))) {
                target.check(r.status(), r.bodyBytes().length);
                return r.header(Target.TLS_HEADER);
            }
        }

        @Override
        public Held hold() throws Exception {
            BerthResponse r = client.send(BerthRequest.get(Target.HOLD_PATH));
            return new Held() {
                @Override
                public String tls() {
                    return r.header(Target.TLS_HEADER);
                }

                @Override
                public void close() throws IOException {
                    try (r) {
                        Target.checkHeld(r.status(), r.bodyBytes().length);
                    }
                }
            };
        }

        @Override
        public void close() {
            client.close();
        }
    }
}
