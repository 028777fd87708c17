package io.berth.pool.jdk;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.BackendPoolConfig;
import io.berth.PoolStats;
import io.berth.TlsConfig;
import io.berth.pool.http.BerthPools;
import io.berth.transport.testing.HttpTestServer;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.TestPki;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the adapter's tests share: real TLS (or plain) {@link HttpTestServer}s on 127.0.0.1, pools that
 * trust the test CA, and clean-up that closes clients, pools and servers and checks that the servers
 * saw no failure of their own. {@link Hygiene} then checks that no socket was left behind.
 */
@ExtendWith(Hygiene.class)
@Timeout(30)
abstract class JdkTestBase {
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final List<HttpTestServer> servers = new ArrayList<>();

    /** The first server started by the test. */
    HttpTestServer server;

    @AfterEach
    void closeEverything() throws Exception {
        Collections.reverse(toClose);
        Exception first = null;
        for (AutoCloseable c : toClose) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
        for (HttpTestServer s : servers) {
            assertThat(s.failures()).as("failures of the test server itself").isEmpty();
        }
    }

    <C extends AutoCloseable> C closeLater(C c) {
        toClose.add(c);
        return c;
    }

    /** @return a started TLS server, closed after the test */
    HttpTestServer serve(HttpTestServer.Handler handler) throws IOException {
        HttpTestServer s = closeLater(HttpTestServer.start(TestPki.server().context(), handler));
        servers.add(s);
        if (server == null) {
            server = s;
        }
        return s;
    }

    /** @return a started plain-HTTP server, closed after the test */
    HttpTestServer servePlain(HttpTestServer.Handler handler) throws IOException {
        HttpTestServer s = closeLater(HttpTestServer.start(null, handler));
        servers.add(s);
        if (server == null) {
            server = s;
        }
        return s;
    }

    static TlsConfig testTls() {
        return TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate())).build();
    }

    /** @return pools trusting the test CA, closed after the test */
    BerthPools pools(UnaryOperator<BackendPoolConfig.Builder> config) {
        return closeLater(BerthPools.builder().tls(testTls())
                .defaults(config.apply(BackendPoolConfig.builder().name("jdk-test")).build()).build());
    }

    /** @return a client owning pools that trust the test CA, closed after the test */
    BerthHttpClient client(UnaryOperator<BerthHttpClient.Builder> options) {
        return closeLater(options.apply(BerthHttpClient.newBuilder().tls(testTls())
                .defaults(BackendPoolConfig.builder().name("jdk-test").build())).build());
    }

    BerthHttpClient client() {
        return client(b -> b);
    }

    static URI uri(HttpTestServer s, String path) {
        return URI.create("https://127.0.0.1:" + s.port() + path);
    }

    static URI plainUri(HttpTestServer s, String path) {
        return URI.create("http://127.0.0.1:" + s.port() + path);
    }

    URI uri(String path) {
        return uri(server, path);
    }

    HttpRequest get(String path) {
        return HttpRequest.newBuilder(uri(path)).build();
    }

    /** @return the stats of the pool for the first server's origin */
    static PoolStats stats(BerthHttpClient client, HttpTestServer s) {
        return client.pools().client(uri(s, "/")).pool().stats();
    }

    /** @return the server-side connection index of each request, in arrival order */
    List<Integer> connectionsOfRequests() {
        List<Integer> c = new ArrayList<>();
        server.requests().forEach(r -> c.add(r.connection()));
        return c;
    }
}
