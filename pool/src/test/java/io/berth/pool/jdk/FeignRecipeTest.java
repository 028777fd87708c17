package io.berth.pool.jdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import feign.Feign;
import feign.Param;
import feign.Request;
import feign.RequestLine;
import feign.RetryableException;
import feign.Retryer;
import feign.http2client.Http2Client;
import io.berth.PoolStats;
import io.berth.pool.http.BerthPools;
import io.berth.transport.testing.HttpTestServer.Reply;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/**
 * The README's Feign recipe, as it runs: Feign 13's {@code Http2Client} over a {@link BerthHttpClient},
 * against a real TLS server on 127.0.0.1 whose CA only Berth's pools trust. {@code Http2Client} keeps
 * the client it was given only while the call's {@code Request.Options} match it: its redirect policy
 * ({@code Redirect.ALWAYS} or not, against {@code isFollowRedirects()}) and its connect timeout;
 * otherwise it builds a plain JDK client with the JDK's default trust, silently. The recipe derives
 * the options from the client; a second test shows what happens without that, so that the first
 * cannot pass with Berth replaced.
 */
class FeignRecipeTest extends JdkTestBase {
    /** The application's API, as Feign users declare it. */
    interface Items {
        @RequestLine("GET /v1/items/{id}")
        String item(@Param("id") String id);

        @RequestLine("POST /v1/orders")
        String order(String json);
    }

    @Test
    void http2ClientKeepsBerthWhenItsOptionsMatchTheClient() throws Exception {
        serve(r -> Reply.ok(r.method() + " " + r.target()));
        BerthPools pools = pools(b -> b);
        // --- the recipe
        BerthHttpClient http = BerthHttpClient.newBuilder().pools(pools).build();
        // Feign's Http2Client replaces a client whose redirect policy or connect timeout differ from
        // the call's Options: derive them from the client.
        Request.Options options = new Request.Options(
                http.connectTimeout().orElseThrow().toMillis(), TimeUnit.MILLISECONDS,
                30, TimeUnit.SECONDS,
                http.followRedirects() == HttpClient.Redirect.ALWAYS);
        Items items = Feign.builder()
                .client(new Http2Client(http))
                .options(options)
                .target(Items.class, "https://127.0.0.1:" + server.port());
        // ---
        closeLater(http);
        for (int i = 0; i < 10; i++) {
            assertThat(items.item("a-" + i)).isEqualTo("GET /v1/items/a-" + i);
        }
        assertThat(items.order("{\"sku\":\"a-1\"}")).isEqualTo("POST /v1/orders");

        PoolStats stats = stats(http, server);
        assertThat(stats.acquired()).as("every call went through Berth").isEqualTo(11);
        assertThat(server.requests()).hasSize(11);
        // Under SAFE the POST (not replayable) opened a connection of its own.
        assertThat(server.connections()).as("the server's own count").isEqualTo(2).isEqualTo((int) stats.opened());
    }

    /** The trap the recipe avoids: with Feign's default Options (follow redirects) Berth is replaced. */
    @Test
    void withFeignsDefaultOptionsHttp2ClientReplacesBerthByAPlainJdkClient() throws Exception {
        serve(r -> Reply.ok("never reached"));
        BerthPools pools = pools(b -> b);
        Throwable failure = callWithFeignsDefaultOptions(pools);
        assertThat(failure).isInstanceOf(RetryableException.class).hasCauseInstanceOf(SSLHandshakeException.class)
                .hasRootCauseInstanceOf(java.security.cert.CertPathBuilderException.class);
        assertThat(pools.clients()).as("Berth was never asked").isEmpty();
        assertThat(server.requests()).isEmpty();
        // The JDK client Feign made keeps a selector (epoll and eventfd descriptors and a thread) until it
        // is collected; JDK 17 has no way to close it. Nothing refers to it any more: let it go.
        await("the JDK client Feign made is collected").atMost(Duration.ofSeconds(20)).until(() -> {
            System.gc();
            return Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.isAlive() && t.getName().endsWith("-SelectorManager"));
        });
    }

    /** @return what a call with Feign's default options threw; nothing of Feign's is reachable after */
    private Throwable callWithFeignsDefaultOptions(BerthPools pools) {
        BerthHttpClient http = closeLater(BerthHttpClient.newBuilder().pools(pools).build());
        Items items = Feign.builder().client(new Http2Client(http)).retryer(Retryer.NEVER_RETRY)
                .target(Items.class, "https://127.0.0.1:" + server.port());
        try {
            items.item("x");
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }
}
