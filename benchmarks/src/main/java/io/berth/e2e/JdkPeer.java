package io.berth.e2e;

import io.berth.pool.http.BerthPools;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * The JDK's {@link HttpClient}, HTTP/1.1 ({@code jdk}) or HTTP/2 ({@code jdk-h2}), synchronous
 * {@code send}.
 *
 * <ul>
 *   <li>Closed loop: one client; its pool has no size limit, so C callers get C connections. The
 *       idle timeout is the JVM-wide {@code jdk.httpclient.keepalive.timeout}, which
 *       {@link E2eBenchmark} sets to {@link Peer#IDLE} (unless given) before any client exists.
 *       Everything else at its default (the default executor, no connect timeout).</li>
 *   <li>A new {@link HttpRequest} per call from a pre-parsed {@link URI}; the body is read with
 *       {@code BodyHandlers.ofByteArray()}.</li>
 *   <li>TLS: {@code sslContext} trusting the CA, {@code sslParameters} from the context's defaults
 *       with TLS 1.3 only; the client verifies the host name itself (endpoint identification
 *       {@code HTTPS}).</li>
 *   <li>{@code jdk-h2}: the same client built with {@code version(HTTP_2)} (its default), which offers
 *       h2 and http/1.1 through ALPN and keeps one h2 connection per origin (JDK 17 closes no idle h2
 *       connection; later JDKs read {@code jdk.httpclient.keepalive.timeout.h2}, which defaults to
 *       the timeout above). It opens no second
 *       connection at the server's stream limit: a request beyond it fails with
 *       {@code IOException: too many concurrent streams} (JDK-8225647), counted as a failure.</li>
 *   <li>Seed scenario: a JDK client cannot share its pool with another instance, so each new
 *       instance opens its own connection; they share the {@code SSLContext} (and so its session
 *       cache), as an application passing one context would.</li>
 * </ul>
 *
 * <p>{@link BerthJdkPeer} runs the same calls through Berth's {@code java.net.http} adapter.
 */
class JdkPeer extends Peer {
    /** @param h2 {@code jdk-h2}: over HTTP/2 */
    JdkPeer(boolean h2) {
        this(h2 ? "jdk-h2" : "jdk", h2);
    }

    JdkPeer(String name, boolean h2) {
        super(name, h2);
    }

    /** @return the version the client is built with: {@code HTTP_2} for an HTTP/2 peer */
    final HttpClient.Version version() {
        return h2() ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1;
    }

    private HttpClient.Builder builder(SSLContext context) {
        SSLParameters params = context.getDefaultSSLParameters();
        params.setProtocols(new String[] {Tls.PROTOCOL});
        return HttpClient.newBuilder()
                .version(version())
                .sslContext(context)
                .sslParameters(params);
    }

    @Override
    Client pooled(Target t, int connections) throws Exception {
        return new JdkCaller(builder(Tls.trusting(t.caPem()).context()).build(), t, null);
    }

    @Override
    Client fresh(Target t) throws Exception {
        return new JdkCaller(builder(Tls.trusting(t.caPem()).context()).build(), t, null);
    }

    @Override
    Shared shared(Target t) throws Exception {
        SSLContext context = Tls.trusting(t.caPem()).context();
        return new Shared() {
            @Override
            public Client newInstance() {
                return new JdkCaller(builder(context).build(), t, null);
            }

            @Override
            public String sharing() {
                return "nothing but the SSLContext: a JDK client's pool is its own, so one connection per instance";
            }

            @Override
            public void close() {
            }
        };
    }

    /** Calls through any {@link HttpClient}: the JDK's own, or Berth's adapter. */
    static final class JdkCaller implements Client {
        private final HttpClient client;
        private final Target target;
        private final URI hot;
        private final URI cold;
        private final BerthPools onClose;

        /**
         * @param onClose pools closed with the client (those under Berth's adapter), or {@code null}
         */
        JdkCaller(HttpClient client, Target target, BerthPools onClose) {
            this.client = client;
            this.target = target;
            this.hot = target.hotUri();
            this.cold = target.coldUri();
            this.onClose = onClose;
        }

        @Override
        public void get() throws Exception {
            HttpRequest request = HttpRequest.newBuilder(hot).build();
            HttpResponse<byte[]> r = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
            target.check(r.statusCode(), r.body().length);
        }

        @Override
        public String getTls() throws Exception {
            HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(cold).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            target.check(r.statusCode(), r.body().length);
            return r.headers().firstValue(Target.TLS_HEADER).orElse(null);
        }

        @Override
        public Held hold() throws Exception {
            HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(target.holdUri()).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            return new Held() {
                @Override
                public String tls() {
                    Optional<String> v = r.headers().firstValue(Target.TLS_HEADER);
                    return v.orElse(null);
                }

                @Override
                public void close() throws IOException {
                    try (InputStream in = r.body()) {
                        Target.checkHeld(r.statusCode(), in.readAllBytes().length);
                    }
                }
            };
        }

        @Override
        public void close() throws IOException {
            // HttpClient is AutoCloseable from JDK 21 (and Berth's adapter is); on older JDKs the JDK
            // client's selector thread ends, and its connections close, once the client is unreachable.
            Object c = client;
            try {
                if (c instanceof AutoCloseable) {
                    ((AutoCloseable) c).close();
                }
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            } finally {
                if (onClose != null) {
                    onClose.close();
                }
            }
        }
    }
}
