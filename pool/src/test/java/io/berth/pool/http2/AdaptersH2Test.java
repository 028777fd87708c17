package io.berth.pool.http2;

import static io.berth.pool.http2.RealServers.concurrently;
import static io.berth.pool.http2.RealServers.testTls;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.berth.PoolStats;
import io.berth.pool.jdk.BerthHttpClient;
import io.berth.pool.okhttp.BerthCallFactory;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.Nginx;
import io.berth.transport.testing.TestPki;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The adapters over HTTP/2 against nginx 1.22: {@link BerthHttpClient} (whose default version is
 * {@code HTTP_2}, as the JDK's) and {@link BerthCallFactory#create(OkHttpClient)} (which offers h2 when
 * the client's protocols include it, as OkHttp's do by default) negotiate h2, say so in their
 * responses, and share one connection among concurrent callers, which nginx's access log confirms.
 * Skipped without nginx, failed then if {@code BERTH_REQUIRE_SERVERS=1}.
 */
@ExtendWith(Hygiene.class)
@Timeout(60)
class AdaptersH2Test {
    private static final Duration LOGGED = Duration.ofSeconds(10);

    @TempDir
    static Path dir;
    private static Nginx nginx;

    @BeforeAll
    static void start() throws Exception {
        nginx = Nginx.start(dir, s -> String.join("\n",
                "server {",
                "    listen 127.0.0.1:" + s.port("h2") + " ssl http2;",
                "    " + s.tls() + s.accessLog("h2"),
                "    http2_max_concurrent_streams 100;",
                "    location / { default_type text/plain; return 200 ok; }",
                "}"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (nginx != null) {
            nginx.close();
        }
    }

    private static URI uri(String path) {
        return URI.create("https://127.0.0.1:" + nginx.port("h2") + path);
    }

    /** @return the requests nginx logged for {@code prefix}, once it logged {@code n} */
    private static List<Nginx.Request> logged(String prefix, int n) {
        return await("nginx logs " + n + " requests " + prefix).atMost(LOGGED)
                .until(() -> nginx.accessLog("h2").stream().filter(r -> r.uri().startsWith(prefix)).toList(),
                        l -> l.size() >= n);
    }

    @Test
    void theJdkAdapterCarries64ConcurrentCallersOverOneHttp2Connection() throws Exception {
        try (BerthHttpClient http = BerthHttpClient.newBuilder().tls(testTls().build()).build()) {
            assertThat(http.version()).as("the default, as the JDK's").isEqualTo(HttpClient.Version.HTTP_2);
            List<HttpClient.Version> versions = concurrently(64, 256, n -> {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri("/jdk/" + n)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("ok");
                return r.version();
            });
            assertThat(versions).hasSize(256).containsOnly(HttpClient.Version.HTTP_2);
            PoolStats stats = http.pools().client(uri("/")).pool().stats();
            assertThat(stats.opened()).isEqualTo(1);
        }
        List<Nginx.Request> log = logged("/jdk/", 256);
        assertThat(log).hasSize(256).extracting(Nginx.Request::protocol).containsOnly("HTTP/2.0");
        assertThat(log.stream().map(Nginx.Request::connection).distinct()).as("nginx's connections").hasSize(1);
    }

    /**
     * {@code create(client)} builds pools trusting the JDK's trust store, as a user's would: the test
     * points that store ({@code javax.net.ssl.trustStore}) at a file holding the test CA while it runs.
     */
    @Test
    void theOkHttpAdapterOfAPlainOkHttpClientSpeaksHttp2() throws Exception {
        Path store = dir.resolve("trust.p12");
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setCertificateEntry("berth-test-ca", TestPki.CA.certificate());
        try (OutputStream out = Files.newOutputStream(store)) {
            ks.store(out, "changeit".toCharArray());
        }
        Map<String, String> saved = new HashMap<>();
        for (String p : List.of("javax.net.ssl.trustStore", "javax.net.ssl.trustStoreType",
                "javax.net.ssl.trustStorePassword")) {
            saved.put(p, System.getProperty(p));
        }
        System.setProperty("javax.net.ssl.trustStore", store.toString());
        System.setProperty("javax.net.ssl.trustStoreType", "PKCS12");
        System.setProperty("javax.net.ssl.trustStorePassword", "changeit");
        try (BerthCallFactory calls = BerthCallFactory.create(new OkHttpClient())) {
            List<Protocol> protocols = concurrently(8, 32, n -> {
                try (Response r = calls.newCall(new Request.Builder().url(uri("/okhttp/" + n).toString()).build())
                        .execute()) {
                    assertThat(r.code()).isEqualTo(200);
                    assertThat(r.body().string()).isEqualTo("ok");
                    return r.protocol();
                }
            });
            assertThat(protocols).hasSize(32).containsOnly(Protocol.HTTP_2);
            assertThat(calls.pools().client(uri("/")).pool().stats().opened()).isEqualTo(1);
        } finally {
            saved.forEach((k, v) -> {
                if (v == null) {
                    System.clearProperty(k);
                } else {
                    System.setProperty(k, v);
                }
            });
        }
        List<Nginx.Request> log = logged("/okhttp/", 32);
        assertThat(log).hasSize(32).extracting(Nginx.Request::protocol).containsOnly("HTTP/2.0");
        assertThat(log.stream().collect(Collectors.groupingBy(Nginx.Request::connection))).as("nginx's connections")
                .hasSize(1);
    }
}
