package io.berth.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.HttpClientTransport;
import org.eclipse.jetty.client.InputStreamResponseListener;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.client.transport.HttpClientTransportOverHTTP2;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * Jetty 12 {@link HttpClient} over HTTP/1.1 ({@link HttpClientTransportOverHTTP}), or, for
 * {@code jetty-h2}, over HTTP/2 ({@link HttpClientTransportOverHTTP2} on an {@link HTTP2Client},
 * which negotiates h2 through ALPN with the JDK's {@code SSLEngine}), with the blocking
 * {@code newRequest(uri).send()}.
 *
 * <ul>
 *   <li>Closed loop: {@code maxConnectionsPerDestination} = C (its default is 64), idle timeout
 *       {@link Peer#IDLE} (default 30 s); its default thread pool, selector and connection pool
 *       (a {@code DuplexConnectionPool}). Jetty does its I/O on its own threads and hands the response
 *       back to the caller: their work and allocation are counted with the caller's.</li>
 *   <li>A new request per call from a pre-parsed {@link URI}; {@code send()} buffers the body, read
 *       with {@code ContentResponse.getContent()}.</li>
 *   <li>TLS: an {@link SslContextFactory.Client} wrapping the CA-trusting {@code SSLContext}, TLS 1.3
 *       only; endpoint identification {@code HTTPS} (its default).</li>
 *   <li>{@code jetty-h2}: the same settings over the HTTP/2 transport, whose pool is a
 *       {@code MultiplexConnectionPool}: it learns the server's stream limit from its SETTINGS before
 *       the first use of a connection, and opens another connection by itself only when requests wait
 *       beyond it (up to {@code maxConnectionsPerDestination}).</li>
 *   <li>Seed scenario: a Jetty client's connection pool cannot be shared with another instance, so
 *       each new (started) instance opens its own connection; they share the {@code SSLContext}
 *       (and so its session cache).</li>
 * </ul>
 */
final class JettyPeer extends Peer {
    /** @param h2 {@code jetty-h2}: the HTTP/2 transport, against the h2 listener */
    JettyPeer(boolean h2) {
        super(h2 ? "jetty-h2" : "jetty", h2);
    }

    private HttpClient start(SSLContext context, int maxConnections) throws Exception {
        SslContextFactory.Client ssl = new SslContextFactory.Client();
        ssl.setSslContext(context);
        ssl.setIncludeProtocols(Tls.PROTOCOL);
        ClientConnector connector = new ClientConnector();
        connector.setSslContextFactory(ssl);
        HttpClientTransport transport = h2() ? new HttpClientTransportOverHTTP2(new HTTP2Client(connector))
                : new HttpClientTransportOverHTTP(connector);
        HttpClient client = new HttpClient(transport);
        if (maxConnections > 0) {
            client.setMaxConnectionsPerDestination(maxConnections);
            client.setIdleTimeout(IDLE.toMillis());
        }
        client.start();
        return client;
    }

    @Override
    Client pooled(Target t, int connections) throws Exception {
        return new JettyCaller(start(Tls.trusting(t.caPem()).context(), connections), t);
    }

    @Override
    Client fresh(Target t) throws Exception {
        return new JettyCaller(start(Tls.trusting(t.caPem()).context(), 0), t);
    }

    @Override
    Shared shared(Target t) {
        SSLContext context = Tls.trusting(t.caPem()).context();
        return new Shared() {
            @Override
            public Client newInstance() throws Exception {
                return new JettyCaller(start(context, 0), t);
            }

            @Override
            public String sharing() {
                return "nothing but the SSLContext: a Jetty client's pool is its own, so one connection per instance";
            }

            @Override
            public void close() {
            }
        };
    }

    private static final class JettyCaller implements Client {
        private final HttpClient client;
        private final Target target;
        private final URI hot;
        private final URI cold;

        JettyCaller(HttpClient client, Target target) {
            this.client = client;
            this.target = target;
            this.hot = target.hotUri();
            this.cold = target.coldUri();
        }

        @Override
        public void get() throws Exception {
            ContentResponse r = client.newRequest(hot).send();
            target.check(r.getStatus(), r.getContent().length);
        }

        @Override
        public String getTls() throws Exception {
            ContentResponse r = client.newRequest(cold).send();
            target.check(r.getStatus(), r.getContent().length);
            return r.getHeaders().get(Target.TLS_HEADER);
        }

        @Override
        public Held hold() throws Exception {
            InputStreamResponseListener listener = new InputStreamResponseListener();
            client.newRequest(target.holdUri()).send(listener);
            Response r = listener.get(30, TimeUnit.SECONDS);
            return new Held() {
                @Override
                public String tls() {
                    return r.getHeaders().get(Target.TLS_HEADER);
                }

                @Override
                public void close() throws IOException {
                    try (InputStream in = listener.getInputStream()) {
                        Target.checkHeld(r.getStatus(), in.readAllBytes().length);
                    }
                }
            };
        }

        @Override
        public void close() throws IOException {
            try {
                client.stop();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            }
        }
    }
}
