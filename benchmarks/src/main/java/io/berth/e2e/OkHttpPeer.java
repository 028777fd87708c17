package io.berth.e2e;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.ConnectionPool;
import okhttp3.ConnectionSpec;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.TlsVersion;

/**
 * OkHttp 5 ({@code okhttp-jvm}), synchronous calls ({@code Call.execute()} on the caller's thread).
 *
 * <ul>
 *   <li>Closed loop: {@code new ConnectionPool(C, 5, MINUTES)}, so all C connections stay idle in
 *       the pool between calls (the default keeps 5). The {@code Dispatcher} limits only asynchronous
 *       calls, so it does not apply. Everything else at its default (retry on connection failure,
 *       10 s timeouts, transparent gzip).</li>
 *   <li>A new {@link Request} per call from a pre-parsed {@link HttpUrl}; the body is read with
 *       {@code body().bytes()} and the response closed.</li>
 *   <li>TLS: the CA-trusting {@code SSLSocketFactory} and trust manager; a {@link ConnectionSpec}
 *       derived from {@code MODERN_TLS} with TLS 1.3 only; HTTP/1.1 only; OkHttp's host name
 *       verifier (its default).</li>
 *   <li>{@code okhttp-h2}: the same with {@code protocols(HTTP_2, HTTP_1_1)} (OkHttp's default), so h2
 *       through ALPN. Calls share one h2 connection; OkHttp opens another by itself when a call finds
 *       every connection at the server's stream limit, and nothing else differs.</li>
 *   <li>Seed scenario: new instances made with {@code base.newBuilder().build()}, OkHttp's documented
 *       way to derive clients that share the connection pool (and dispatcher and TLS setup).</li>
 * </ul>
 */
final class OkHttpPeer extends Peer {
    /** @param h2 {@code okhttp-h2}: h2 offered first, against the h2 listener */
    OkHttpPeer(boolean h2) {
        super(h2 ? "okhttp-h2" : "okhttp", h2);
    }

    private OkHttpClient.Builder builder(Tls.Context tls) {
        ConnectionSpec tls13 = new ConnectionSpec.Builder(ConnectionSpec.MODERN_TLS)
                .tlsVersions(TlsVersion.TLS_1_3)
                .build();
        return new OkHttpClient.Builder()
                .sslSocketFactory(tls.context().getSocketFactory(), tls.trustManager())
                .connectionSpecs(List.of(tls13))
                .protocols(h2() ? List.of(Protocol.HTTP_2, Protocol.HTTP_1_1) : List.of(Protocol.HTTP_1_1));
    }

    @Override
    Client pooled(Target t, int connections) {
        OkHttpClient client = builder(Tls.trusting(t.caPem()))
                .connectionPool(new ConnectionPool(connections, IDLE.toMinutes(), TimeUnit.MINUTES))
                .build();
        return new OkCaller(client, t, true);
    }

    @Override
    Client fresh(Target t) {
        return new OkCaller(builder(Tls.trusting(t.caPem())).build(), t, true);
    }

    @Override
    Shared shared(Target t) {
        OkHttpClient base = builder(Tls.trusting(t.caPem())).build();
        return new Shared() {
            @Override
            public Client newInstance() {
                return new OkCaller(base.newBuilder().build(), t, false);
            }

            @Override
            public String sharing() {
                return "one ConnectionPool (default: 5 idle, 5 min); a new client per caller by base.newBuilder().build()";
            }

            @Override
            public void close() {
                shutdown(base);
            }
        };
    }

    static void shutdown(OkHttpClient client) {
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }

    private static final class OkCaller implements Client {
        private final OkHttpClient client;
        private final Target target;
        private final HttpUrl hot;
        private final HttpUrl cold;
        private final HttpUrl held;
        private final boolean owns;

        OkCaller(OkHttpClient client, Target target, boolean owns) {
            this.client = client;
            this.target = target;
            this.hot = HttpUrl.get(target.hotUri().toString());
            this.cold = HttpUrl.get(target.coldUri().toString());
            this.held = HttpUrl.get(target.holdUri().toString());
            this.owns = owns;
        }

        @Override
        public void get() throws Exception {
            Request request = new Request.Builder().url(hot).build();
            try (Response r = client.newCall(request).execute()) {
                target.check(r.code(), r.body().bytes().length);
            }
        }

        @Override
        public String getTls() throws Exception {
            try (Response r = client.newCall(new Request.Builder().url(cold).build()).execute()) {
                target.check(r.code(), r.body().bytes().length);
                return r.header(Target.TLS_HEADER);
            }
        }

        @Override
        public Held hold() throws Exception {
            Response r = client.newCall(new Request.Builder().url(held).build()).execute();
            return new Held() {
                @Override
                public String tls() {
                    return r.header(Target.TLS_HEADER);
                }

                @Override
                public void close() throws IOException {
                    try (r) {
                        Target.checkHeld(r.code(), r.body().bytes().length);
                    }
                }
            };
        }

        @Override
        public void close() {
            if (owns) {
                shutdown(client);
            }
        }
    }
}
