package io.berth.e2e;

import java.io.IOException;
import java.net.URI;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.ClientTlsStrategyBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.io.HttpClientResponseHandler;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.ssl.TLS;

/**
 * Apache HttpClient 5.6, classic (blocking) API, over a {@link PoolingHttpClientConnectionManager}.
 *
 * <ul>
 *   <li>Closed loop: {@code maxConnTotal} = {@code maxConnPerRoute} = C (the defaults, 25 and 5,
 *       would queue callers); the pool's concurrency and reuse policies at their defaults (STRICT,
 *       LIFO); everything else default (automatic retries, content decompression, no idle eviction:
 *       idle connections live until the server's keep-alive runs out or they are found stale).</li>
 *   <li>A new {@link HttpGet} per call from a pre-parsed {@link URI}, executed with a response
 *       handler (the API the 5.x docs recommend: it consumes the entity and releases the connection
 *       even on failure); the body is read with {@code EntityUtils.toByteArray}.</li>
 *   <li>TLS: a {@code TlsSocketStrategy} from {@link ClientTlsStrategyBuilder} with the CA-trusting
 *       {@code SSLContext}, TLS 1.3 only; host name verification at its default.</li>
 *   <li>Seed scenario: one connection manager; a new {@code CloseableHttpClient} per caller with
 *       {@code setConnectionManagerShared(true)}, as the docs say for a shared manager.</li>
 * </ul>
 */
final class ApachePeer extends Peer {
    ApachePeer() {
        super("apache");
    }

    private static PoolingHttpClientConnectionManagerBuilder manager(Target t) {
        return PoolingHttpClientConnectionManagerBuilder.create()
                .setTlsSocketStrategy(ClientTlsStrategyBuilder.create()
                        .setSslContext(Tls.trusting(t.caPem()).context())
                        .setTlsVersions(TLS.V_1_3)
                        .buildClassic());
    }

    @Override
    Client pooled(Target t, int connections) {
        PoolingHttpClientConnectionManager cm = manager(t).setMaxConnTotal(connections).setMaxConnPerRoute(connections)
                .build();
        return new ApacheCaller(HttpClients.custom().setConnectionManager(cm).build(), t);
    }

    @Override
    Client fresh(Target t) {
        return new ApacheCaller(HttpClients.custom().setConnectionManager(manager(t).build()).build(), t);
    }

    @Override
    Shared shared(Target t) {
        PoolingHttpClientConnectionManager cm = manager(t).build();
        return new Shared() {
            @Override
            public Client newInstance() {
                return new ApacheCaller(HttpClients.custom().setConnectionManager(cm).setConnectionManagerShared(true)
                        .build(), t);
            }

            @Override
            public String sharing() {
                return "one PoolingHttpClientConnectionManager (defaults); a new client per caller,"
                        + " setConnectionManagerShared(true)";
            }

            @Override
            public void close() {
                cm.close();
            }
        };
    }

    private static final class ApacheCaller implements Client {
        private final CloseableHttpClient client;
        private final Target target;
        private final URI hot;
        private final URI cold;
        /** Check the response; made once per client rather than per call. */
        private final HttpClientResponseHandler<Void> check;
        private final HttpClientResponseHandler<String> checkTls;

        ApacheCaller(CloseableHttpClient client, Target target) {
            this.client = client;
            this.target = target;
            this.hot = target.hotUri();
            this.cold = target.coldUri();
            this.check = response -> {
                target.check(response.getCode(), EntityUtils.toByteArray(response.getEntity()).length);
                return null;
            };
            this.checkTls = response -> {
                target.check(response.getCode(), EntityUtils.toByteArray(response.getEntity()).length);
                Header h = response.getFirstHeader(Target.TLS_HEADER);
                return h == null ? null : h.getValue();
            };
        }

        @Override
        public void get() throws Exception {
            client.execute(new HttpGet(hot), check);
        }

        @Override
        public String getTls() throws Exception {
            return client.execute(new HttpGet(cold), checkTls);
        }

        @Override
        public Held hold() throws Exception {
            ClassicHttpResponse r = client.executeOpen(null, new HttpGet(target.holdUri()), null);
            return new Held() {
                @Override
                public String tls() {
                    Header h = r.getFirstHeader(Target.TLS_HEADER);
                    return h == null ? null : h.getValue();
                }

                @Override
                public void close() throws IOException {
                    try (r) {
                        Target.checkHeld(r.getCode(), EntityUtils.toByteArray(r.getEntity()).length);
                    }
                }
            };
        }

        @Override
        public void close() throws IOException {
            client.close();
        }
    }
}
