package io.berth.pool.jdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.CloseReason;
import io.berth.PoolStats;
import io.berth.RequestNotRetriedException;
import io.berth.ResponseTimeoutException;
import io.berth.ReusePolicy;
import io.berth.pool.http.BerthPools;
import io.berth.transport.testing.HttpTestServer.After;
import io.berth.transport.testing.HttpTestServer.End;
import io.berth.transport.testing.HttpTestServer.Reply;
import io.berth.transport.testing.HttpTestServer;
import io.berth.transport.testing.RawServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient.Redirect;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link BerthHttpClient} as an {@link HttpClient}: reuse, redirects, failures, cookies, lifecycle. */
class JdkHttpClientTest extends JdkTestBase {

    // ------------------------------------------------------------------ the seed scenario

    /** Runs {@code call} on a new thread, like a separate process, and returns its result. */
    private static <T> T onFreshThread(ThrowingSupplier<T> call) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(call.get());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        }, "fresh-caller");
        t.start();
        try {
            return f.get(15, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    @FunctionalInterface
    interface ThrowingSupplier<T> {
        T get() throws Exception;
    }

    @ParameterizedTest(name = "{0} via {1}")
    @CsvSource({"safe, send", "aggressive, send", "always, send", "safe, sendAsync", "aggressive, sendAsync",
            "always, sendAsync"})
    void seedScenarioFortySequentialGetsFromFreshCallersAndFreshClientsUseOneConnection(String policy, String via)
            throws Exception {
        serve(r -> Reply.ok("hello " + r.exchange()));
        BerthPools shared = pools(b -> b.reusePolicy(ReusePolicy.named(policy)));
        for (int i = 0; i < 40; i++) {
            HttpRequest request = HttpRequest.newBuilder(uri("/seed/" + i)).build();
            String body = onFreshThread(() -> {
                try (BerthHttpClient c = BerthHttpClient.create(shared)) {
                    HttpResponse<String> r = via.equals("send") ? c.send(request, BodyHandlers.ofString())
                            : c.sendAsync(request, BodyHandlers.ofString()).get(10, TimeUnit.SECONDS);
                    assertThat(r.statusCode()).isEqualTo(200);
                    return r.body();
                }
            });
            assertThat(body).isEqualTo("hello " + i);
        }
        assertThat(server.connections()).as("backend connections, counted by the server").isEqualTo(1);
        assertThat(server.requests()).hasSize(40).allSatisfy(r -> assertThat(r.connection()).isZero());
        PoolStats s = shared.client(uri("/")).pool().stats();
        assertThat(s.opened()).isEqualTo(1);
        assertThat(s.reused()).isEqualTo(39);
    }

    @ParameterizedTest(name = "via {0}")
    @CsvSource({"send", "sendAsync"})
    void seedScenarioUnderNeverOpensFortyConnectionsEachClosedGracefully(String via) throws Exception {
        serve(r -> Reply.ok("hello"));
        BerthPools shared = pools(b -> b.reusePolicy(ReusePolicy.NEVER));
        for (int i = 0; i < 40; i++) {
            HttpRequest request = HttpRequest.newBuilder(uri("/seed/" + i)).build();
            assertThat(onFreshThread(() -> {
                try (BerthHttpClient c = BerthHttpClient.create(shared)) {
                    return via.equals("send") ? c.send(request, BodyHandlers.ofString()).body()
                            : c.sendAsync(request, BodyHandlers.ofString()).get(10, TimeUnit.SECONDS).body();
                }
            })).isEqualTo("hello");
        }
        assertThat(server.connections()).isEqualTo(40);
        await().atMost(Duration.ofSeconds(10)).until(() -> server.ends().size() == 40);
        assertThat(server.ends().values()).as("how each connection ended, seen by the server")
                .containsOnly(End.CLIENT_CLOSED_GRACEFULLY);
        assertThat(shared.client(uri("/")).pool().stats().closed(CloseReason.NOT_SHARED)).isEqualTo(40);
    }

    // ------------------------------------------------------------------ POSTs

    @Test
    void underSafeEveryPostGetsANewConnectionWhileGetsReuse() throws Exception {
        serve(r -> Reply.ok(r.method() + " " + r.bodyText()));
        BerthHttpClient client = client();
        assertThat(client.send(get("/"), BodyHandlers.ofString()).body()).isEqualTo("GET ");
        for (int i = 0; i < 3; i++) {
            HttpRequest post = HttpRequest.newBuilder(uri("/orders")).POST(BodyPublishers.ofString("order " + i))
                    .build();
            assertThat(client.send(post, BodyHandlers.ofString()).body()).isEqualTo("POST order " + i);
        }
        assertThat(connectionsOfRequests()).containsExactly(0, 1, 2, 3);
        assertThat(client.send(get("/"), BodyHandlers.ofString()).body()).isEqualTo("GET ");
        assertThat(server.connections()).as("the last GET reused an idle connection").isEqualTo(4);
    }

    @Test
    void aPostIsNeverSentTwiceWhenTheServerDropsTheConnection() throws Exception {
        serve(r -> r.method().equals("POST") ? Reply.ok("").then(After.CLOSE_INSTEAD) : Reply.ok("ok"));
        BerthHttpClient client = client(b -> b.defaults(io.berth.BackendPoolConfig.builder()
                .reusePolicy(ReusePolicy.ALWAYS).build()));
        client.send(get("/"), BodyHandlers.discarding());
        HttpRequest post = HttpRequest.newBuilder(uri("/pay")).POST(BodyPublishers.ofString("once")).build();
        assertThatThrownBy(() -> client.send(post, BodyHandlers.ofString()))
                .isInstanceOf(RequestNotRetriedException.class)
                .hasMessageContaining("POST /pay");
        assertThat(server.requests()).filteredOn(r -> r.method().equals("POST")).hasSize(1);
        client.send(get("/"), BodyHandlers.discarding()); // a new connection, which the next POST reuses
        assertThatThrownBy(() -> client.sendAsync(post, BodyHandlers.ofString()).get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(RequestNotRetriedException.class);
        assertThat(server.requests()).filteredOn(r -> r.method().equals("POST")).hasSize(2);
        assertThat(connectionsOfRequests()).containsExactly(0, 0, 1, 1);
    }

    @Test
    void aGetWhoseReusedConnectionDiesBeforeAnyResponseByteIsRetriedOnANewConnection() throws Exception {
        serve(r -> r.connection() == 0 && r.exchange() == 1 ? Reply.ok("").then(After.RESET_INSTEAD)
                : Reply.ok("fine"));
        BerthHttpClient client = client();
        client.send(get("/"), BodyHandlers.discarding());
        assertThat(client.send(get("/again"), BodyHandlers.ofString()).body()).isEqualTo("fine");
        assertThat(connectionsOfRequests()).containsExactly(0, 0, 1);
    }

    // ------------------------------------------------------------------ headers, cookies

    @Test
    void requestHeadersAreSentAndResponseHeadersAreCaseInsensitiveAndMultiValued() throws Exception {
        serve(r -> Reply.ok("ok").header("X-Resp", "one").header("x-resp", "two").header("Content-Type",
                "text/plain"));
        BerthHttpClient client = client();
        HttpRequest request = HttpRequest.newBuilder(uri("/h?q=a%20b")).header("X-Multi", "a").header("X-Multi", "b")
                .header("Accept", "text/plain").build();
        HttpResponse<String> r = client.send(request, BodyHandlers.ofString());
        HttpTestServer.Request seen = server.requests().get(0);
        assertThat(seen.target()).isEqualTo("/h?q=a%20b");
        assertThat(seen.headers().get("X-Multi")).containsExactly("a", "b");
        assertThat(seen.header("Accept")).isEqualTo("text/plain");
        assertThat(seen.header("Host")).isEqualTo("127.0.0.1:" + server.port());
        assertThat(r.headers().allValues("X-RESP")).containsExactly("one", "two");
        assertThat(r.headers().firstValue("content-type")).hasValue("text/plain");
        assertThat(r.request()).isSameAs(request);
        assertThat(r.uri()).isEqualTo(request.uri());
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        assertThat(r.sslSession()).isEmpty();
        assertThat(r.previousResponse()).isEmpty();
    }

    @Test
    void aCookieHandlerGetsResponseCookiesAndSendsThemBackAlsoAcrossRedirects() throws Exception {
        serve(r -> switch (r.target()) {
            case "/login" -> Reply.status(302, "Found").header("Location", "/home")
                    .header("Set-Cookie", "session=abc; Path=/");
            case "/home" -> Reply.ok("home").header("Set-Cookie", "theme=dark; Path=/");
            default -> Reply.ok(String.valueOf(r.header("Cookie")));
        });
        CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
        BerthHttpClient client = client(b -> b.cookieHandler(cookies).followRedirects(Redirect.NORMAL));
        assertThat(client.cookieHandler()).containsSame(cookies);
        assertThat(client.send(get("/login"), BodyHandlers.ofString()).body()).isEqualTo("home");
        assertThat(server.requests().get(1).header("Cookie")).as("the redirect carried the new cookie")
                .isEqualTo("session=abc");
        String sent = client.send(get("/echo"), BodyHandlers.ofString()).body();
        assertThat(sent.split("; ")).containsExactlyInAnyOrder("session=abc", "theme=dark");
    }

    // ------------------------------------------------------------------ redirects

    private HttpTestServer redirecting() throws IOException {
        return serve(r -> switch (r.target()) {
            case "/a" -> Reply.status(302, "Found").header("Location", "/b").body("moved");
            case "/post303" -> Reply.status(303, "See Other").header("Location", "/b");
            case "/post307" -> Reply.status(307, "Temporary Redirect").header("Location", "/b");
            case "/head301" -> Reply.status(301, "Moved Permanently").header("Location", "/b");
            case "/loop" -> Reply.status(302, "Found").header("Location", "/loop").body("again");
            default -> r.method().equals("HEAD") ? Reply.ok("") : Reply.ok(r.method() + " " + r.target() + " ["
                    + r.bodyText() + "] " + r.header("Content-Type"));
        });
    }

    @Test
    void redirectsAreNotFollowedByDefault() throws Exception {
        redirecting();
        BerthHttpClient client = client();
        assertThat(client.followRedirects()).isEqualTo(Redirect.NEVER);
        HttpResponse<String> r = client.send(get("/a"), BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(302);
        assertThat(r.body()).isEqualTo("moved");
        assertThat(r.headers().firstValue("Location")).hasValue("/b");
        assertThat(server.requests()).hasSize(1);
    }

    @Test
    void normalFollowsARelativeLocationOnTheSameConnectionAndKeepsTheChain() throws Exception {
        redirecting();
        BerthHttpClient client = client(b -> b.followRedirects(Redirect.NORMAL));
        HttpRequest request = get("/a");
        HttpResponse<String> r = client.send(request, BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("GET /b [] null");
        assertThat(r.uri()).isEqualTo(uri("/b"));
        assertThat(r.request().uri()).isEqualTo(uri("/b"));
        HttpResponse<String> previous = r.previousResponse().orElseThrow();
        assertThat(previous.statusCode()).isEqualTo(302);
        assertThat(previous.request()).isSameAs(request);
        assertThat(previous.body()).isNull();
        assertThat(previous.previousResponse()).isEmpty();
        assertThat(server.connections()).as("the redirect's body was drained, its connection reused").isEqualTo(1);
    }

    @Test
    void see303TurnsAPostIntoAGetWithoutBody() throws Exception {
        redirecting();
        BerthHttpClient client = client(b -> b.followRedirects(Redirect.NORMAL));
        HttpRequest post = HttpRequest.newBuilder(uri("/post303")).header("Content-Type", "text/plain")
                .POST(BodyPublishers.ofString("payload")).build();
        HttpResponse<String> r = client.send(post, BodyHandlers.ofString());
        assertThat(r.body()).isEqualTo("GET /b [] null");
        assertThat(server.requests().get(1).header("Content-Length")).isNull();
        assertThat(r.request().method()).isEqualTo("GET");
        assertThat(r.request().bodyPublisher()).isEmpty();
    }

    @Test
    void temporary307KeepsThePostAndItsReplayableBody() throws Exception {
        redirecting();
        BerthHttpClient client = client(b -> b.followRedirects(Redirect.NORMAL));
        HttpRequest post = HttpRequest.newBuilder(uri("/post307")).header("Content-Type", "text/plain")
                .POST(BodyPublishers.ofString("payload")).build();
        assertThat(client.send(post, BodyHandlers.ofString()).body()).isEqualTo("POST /b [payload] text/plain");
    }

    @Test
    void temporary307SubscribesToTheBodyAgainAsTheJdkDoes() throws Exception {
        redirecting();
        BerthHttpClient client = client(b -> b.followRedirects(Redirect.NORMAL));
        java.util.concurrent.atomic.AtomicInteger opened = new java.util.concurrent.atomic.AtomicInteger();
        HttpRequest post = HttpRequest.newBuilder(uri("/post307")).POST(BodyPublishers.ofInputStream(() -> {
            opened.incrementAndGet();
            return new ByteArrayInputStream("streamed".getBytes());
        })).build();
        assertThat(client.send(post, BodyHandlers.ofString()).body()).isEqualTo("POST /b [streamed] null");
        assertThat(opened).as("the supplier was asked for a new stream for the redirected request").hasValue(2);
    }

    @Test
    void aHeadStaysAHeadThroughA301() throws Exception {
        redirecting();
        BerthHttpClient client = client(b -> b.followRedirects(Redirect.NORMAL));
        HttpRequest head = HttpRequest.newBuilder(uri("/head301")).method("HEAD", BodyPublishers.noBody()).build();
        HttpResponse<String> r = client.send(head, BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEmpty();
        assertThat(server.requests()).extracting(HttpTestServer.Request::method).containsExactly("HEAD", "HEAD");
    }

    @Test
    void aRedirectToAnotherOriginGoesThroughThatOriginsPool() throws Exception {
        HttpTestServer b = serve(r -> Reply.ok("from b " + r.target() + " auth=" + r.header("Authorization")));
        HttpTestServer a = serve(r -> Reply.status(302, "Found").header("Location", uri(b, "/there").toString()));
        BerthHttpClient client = client(o -> o.followRedirects(Redirect.NORMAL));
        HttpRequest request = HttpRequest.newBuilder(uri(a, "/here")).header("Authorization", "Bearer secret").build();
        HttpResponse<String> r = client.send(request, BodyHandlers.ofString());
        assertThat(r.body()).as("credentials are not sent to another origin").isEqualTo("from b /there auth=null");
        assertThat(r.uri()).isEqualTo(uri(b, "/there"));
        assertThat(r.previousResponse().orElseThrow().uri()).isEqualTo(uri(a, "/here"));
        assertThat(client.pools().clients()).hasSize(2);
        assertThat(a.connections()).isEqualTo(1);
        assertThat(b.connections()).isEqualTo(1);
    }

    @Test
    void normalDoesNotFollowHttpsToHttpButAlwaysDoes() throws Exception {
        HttpTestServer plain = servePlain(r -> Reply.ok("plain"));
        HttpTestServer secure = serve(r -> Reply.status(301, "Moved").header("Location",
                plainUri(plain, "/p").toString()));
        HttpRequest request = HttpRequest.newBuilder(uri(secure, "/s")).build();
        assertThat(client(b -> b.followRedirects(Redirect.NORMAL)).send(request, BodyHandlers.ofString())
                .statusCode()).isEqualTo(301);
        assertThat(plain.requests()).isEmpty();
        HttpResponse<String> r = client(b -> b.followRedirects(Redirect.ALWAYS)).send(request, BodyHandlers.ofString());
        assertThat(r.body()).isEqualTo("plain");
        assertThat(r.uri()).isEqualTo(plainUri(plain, "/p"));
    }

    @Test
    void afterFiveRedirectsTheLastRedirectResponseIsTheAnswer() throws Exception {
        redirecting();
        BerthHttpClient client = client(b -> b.followRedirects(Redirect.NORMAL));
        HttpResponse<String> r = client.send(get("/loop"), BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(302);
        assertThat(r.body()).isEqualTo("again");
        assertThat(server.requests()).as("the request and 5 redirects").hasSize(6);
        int chain = 0;
        for (Optional<HttpResponse<String>> p = r.previousResponse(); p.isPresent(); p = p.get().previousResponse()) {
            chain++;
        }
        assertThat(chain).isEqualTo(BerthHttpClient.MAX_REDIRECTS);
        assertThat(server.connections()).isEqualTo(1);
        assertThat(stats(client, server).inUse()).isZero();
    }

    // ------------------------------------------------------------------ timeouts and failures

    @Test
    void aRequestTimeoutThrowsHttpTimeoutExceptionWithBerthsCause() throws Exception {
        serve(r -> Reply.ok("late").delay(Duration.ofSeconds(3)));
        BerthHttpClient client = client();
        HttpRequest request = HttpRequest.newBuilder(uri("/slow")).timeout(Duration.ofMillis(300)).build();
        long start = System.nanoTime();
        assertThatThrownBy(() -> client.send(request, BodyHandlers.ofString()))
                .isInstanceOf(HttpTimeoutException.class)
                .isNotInstanceOf(HttpConnectTimeoutException.class)
                .hasCauseInstanceOf(ResponseTimeoutException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2500));
        CompletableFuture<HttpResponse<String>> async = client.sendAsync(request, BodyHandlers.ofString());
        assertThatThrownBy(() -> async.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(HttpTimeoutException.class);
    }

    @Test
    void aRefusedConnectionIsAConnectException() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        BerthHttpClient client = client();
        HttpRequest request = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/")).build();
        assertThatThrownBy(() -> client.send(request, BodyHandlers.ofString())).isInstanceOf(ConnectException.class);
    }

    @Test
    void aStalledTlsHandshakeIsAnHttpConnectTimeoutException() throws Exception {
        RawServer silent = closeLater(RawServer.start(raw -> {
            raw.getInputStream().read(new byte[4096]); // takes the ClientHello, answers nothing
            Thread.sleep(10_000);
        }));
        BerthHttpClient client = closeLater(BerthHttpClient.newBuilder()
                .tls(testTls().toBuilder().handshakeTimeout(Duration.ofMillis(200)).build())
                .defaults(io.berth.BackendPoolConfig.builder().retries(0).build()).build());
        HttpRequest request = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + silent.port() + "/")).build();
        long start = System.nanoTime();
        assertThatThrownBy(() -> client.send(request, BodyHandlers.ofString()))
                .isInstanceOf(HttpConnectTimeoutException.class)
                .hasCauseInstanceOf(io.berth.HandshakeTimeoutException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void anInterruptedSendThrowsInterruptedExceptionAndReleasesTheConnection() throws Exception {
        serve(r -> Reply.ok("late").delay(Duration.ofSeconds(3)));
        BerthHttpClient client = client();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                client.send(get("/slow"), BodyHandlers.ofString());
            } catch (Throwable t) {
                thrown.set(t);
            }
        });
        caller.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> server.requests().size() == 1);
        caller.interrupt();
        caller.join(5_000);
        assertThat(caller.isAlive()).isFalse();
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        assertThat(stats(client, server).inUse()).isZero();
    }

    @Test
    void cancellingAnAsyncSendAbortsTheExchange() throws Exception {
        serve(r -> r.target().equals("/slow") ? Reply.ok("late").delay(Duration.ofSeconds(3)) : Reply.ok("quick"));
        BerthHttpClient client = client();
        CompletableFuture<HttpResponse<String>> f = client.sendAsync(get("/slow"), BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).until(() -> server.requests().size() == 1);
        assertThat(f.cancel(true)).isTrue();
        assertThatThrownBy(() -> f.get(1, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            PoolStats s = stats(client, server);
            assertThat(s.inUse()).isZero();
            assertThat(s.closed(CloseReason.BROKEN)).isEqualTo(1);
        });
        long start = System.nanoTime();
        assertThat(client.sendAsync(get("/quick"), BodyHandlers.ofString()).get(10, TimeUnit.SECONDS).body())
                .isEqualTo("quick");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("not behind the cancelled exchange")
                .isLessThan(Duration.ofMillis(2500));
    }

    @Test
    void expectContinueSendsTheExpectationAndThenTheBody() throws Exception {
        serve(r -> Reply.ok(r.header("Expect") + " " + r.bodyText()));
        BerthHttpClient client = client();
        HttpRequest post = HttpRequest.newBuilder(uri("/upload")).expectContinue(true)
                .POST(BodyPublishers.ofString("the body")).build();
        assertThat(client.send(post, BodyHandlers.ofString()).body()).isEqualTo("100-continue the body");
        HttpRequest plain = HttpRequest.newBuilder(uri("/upload")).POST(BodyPublishers.ofString("x")).build();
        assertThat(client.send(plain, BodyHandlers.ofString()).body()).isEqualTo("null x");
    }

    // ------------------------------------------------------------------ what is not supported

    @Test
    void unsupportedFeaturesSaySoAndSuggestTheAlternative() throws Exception {
        serve(r -> Reply.ok("ok"));
        BerthHttpClient client = client();
        assertThatThrownBy(client::newWebSocketBuilder).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("WebSocket").hasMessageContaining("HttpClient.newHttpClient()");
        assertThatThrownBy(() -> client.sendAsync(get("/"), BodyHandlers.ofString(),
                (initiating, push, accept) -> { }))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("push promise");
        BerthHttpClient.Builder b = BerthHttpClient.newBuilder();
        assertThatThrownBy(() -> b.proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", 3128))))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("NO_PROXY");
        assertThatThrownBy(() -> b.authenticator(new java.net.Authenticator() { }))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("Authorization");
        SSLContext own = SSLContext.getInstance("TLS");
        own.init(null, null, null);
        assertThatThrownBy(() -> b.sslContext(own))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("tls(TlsConfig");
        assertThatThrownBy(() -> b.sslParameters(new SSLParameters()))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("tls(TlsConfig");
        assertThatThrownBy(() -> BerthHttpClient.newBuilder().pools(BerthPools.withDefaults())
                .connectTimeout(Duration.ofSeconds(1)).build()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("pools(..)");
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void aRequestAskingForHttp2GetsHttp11FromAServerWithoutH2AsTheJdkClientDoes() throws Exception {
        serve(r -> Reply.ok("ok"));
        BerthHttpClient client = client();
        HttpRequest h2 = HttpRequest.newBuilder(uri("/")).version(HttpClient.Version.HTTP_2).build();
        HttpResponse<String> r = client.send(h2, BodyHandlers.ofString());
        assertThat(r.body()).isEqualTo("ok");
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        assertThat(client.sendAsync(h2, BodyHandlers.ofString()).get(10, TimeUnit.SECONDS).version())
                .isEqualTo(HttpClient.Version.HTTP_1_1);
    }

    @Test
    void acceptedBuilderSettingsAreReportedAsTheJdkClientReportsThem() throws Exception {
        serve(r -> Reply.ok("ok"));
        java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            BerthHttpClient client = client(b -> b.version(HttpClient.Version.HTTP_2).priority(1)
                    .proxy(HttpClient.Builder.NO_PROXY).sslContext(defaultContext())
                    .connectTimeout(Duration.ofMillis(1500)).executor(executor));
            assertThat(client.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(client.proxy()).containsSame(HttpClient.Builder.NO_PROXY);
            assertThat(client.authenticator()).isEmpty();
            assertThat(client.connectTimeout()).hasValue(Duration.ofMillis(1500));
            assertThat(client.pools().client(uri("/")).pool().config().connectTimeout())
                    .isEqualTo(Duration.ofMillis(1500));
            assertThat(client.executor()).containsSame(executor);
            assertThat(client.sslContext()).isSameAs(SSLContext.getDefault());
            assertThat(client.sslParameters().getProtocols()).containsExactly("TLSv1.3", "TLSv1.2");
            assertThat(client.sslParameters().getApplicationProtocols()).containsExactly("h2", "http/1.1");
            assertThat(client.sendAsync(get("/"), BodyHandlers.ofString()).get(10, TimeUnit.SECONDS).body())
                    .isEqualTo("ok");
            try (BerthHttpClient plain = BerthHttpClient.newHttpClient()) {
                assertThat(plain.followRedirects()).isEqualTo(Redirect.NEVER);
                assertThat(plain.executor()).isEmpty();
                assertThat(plain.cookieHandler()).isEmpty();
            }
            try (BerthHttpClient shared = BerthHttpClient.create(BerthPools.withDefaults())) {
                assertThat(shared.connectTimeout()).as("a client over shared pools reports their default")
                        .hasValue(io.berth.BackendPoolConfig.DEFAULT_CONNECT_TIMEOUT);
            }
        } finally {
            executor.shutdownNow();
            executor.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static SSLContext defaultContext() {
        try {
            return SSLContext.getDefault();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ lifecycle

    @Test
    void closeClosesItsPoolsAndStopsItsThreads() throws Exception {
        serve(r -> Reply.ok("ok " + r.target()));
        BerthHttpClient client = closeLater(BerthHttpClient.newBuilder().tls(testTls()).build());
        List<CompletableFuture<HttpResponse<String>>> futures = new java.util.ArrayList<>();
        java.util.Set<Thread> executorThreads = java.util.concurrent.ConcurrentHashMap.newKeySet();
        for (int i = 0; i < 4; i++) {
            futures.add(client.sendAsync(get("/" + i), info -> {
                executorThreads.add(Thread.currentThread());
                return HttpResponse.BodySubscribers.ofString(java.nio.charset.StandardCharsets.UTF_8);
            }));
        }
        for (int i = 0; i < 4; i++) {
            assertThat(futures.get(i).get(10, TimeUnit.SECONDS).body()).isEqualTo("ok /" + i);
        }
        assertThat(executorThreads).isNotEmpty().allSatisfy(t -> assertThat(t.getName()).startsWith("berth-http-"));
        if (!JdkLifecycleTest.isVirtual(executorThreads.iterator().next())) {
            assertThat(threadsNamed("berth-http-")).isNotEmpty(); // platform threads (JDK 17)
        }
        client.close();
        client.close(); // idempotent
        assertThat(client.isClosed()).isTrue();
        assertThat(client.pools().clients()).isNotEmpty().allSatisfy(c -> assertThat(c.pool().isClosed()).isTrue());
        await("no berth- thread left").atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(threadsNamed("berth-")).isEmpty());
        await("the executor's threads ended (virtual ones too)").atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(executorThreads).noneMatch(Thread::isAlive));
        assertThatThrownBy(() -> client.send(get("/"), BodyHandlers.ofString()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> client.sendAsync(get("/"), BodyHandlers.ofString()))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void closingAClientOverSharedPoolsLeavesThemOpen() throws Exception {
        serve(r -> Reply.ok("ok"));
        BerthPools shared = pools(b -> b);
        BerthHttpClient first = BerthHttpClient.create(shared);
        first.send(get("/"), BodyHandlers.discarding());
        first.close();
        assertThat(shared.clients()).allSatisfy(c -> assertThat(c.pool().isClosed()).isFalse());
        try (BerthHttpClient second = BerthHttpClient.create(shared)) {
            second.send(get("/"), BodyHandlers.discarding());
        }
        assertThat(server.connections()).isEqualTo(1);
    }

    @Test
    void closeInterruptsAsyncExchangesStillRunning() throws Exception {
        serve(r -> Reply.ok("late").delay(Duration.ofSeconds(3)));
        BerthHttpClient client = closeLater(BerthHttpClient.newBuilder().tls(testTls()).build());
        CompletableFuture<HttpResponse<String>> f = client.sendAsync(get("/slow"), BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).until(() -> server.requests().size() == 1);
        long start = System.nanoTime();
        client.close();
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IOException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2500));
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(threadsNamed("berth-")).isEmpty());
    }

    private static List<String> threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith(prefix)).toList();
    }

    @Test
    void requestTargetsAreAsciiAndDefaultToSlash() {
        assertThat(Exchange.target(URI.create("https://h"))).isEqualTo("/");
        assertThat(Exchange.target(URI.create("https://h/a/b?x=1&y=%20"))).isEqualTo("/a/b?x=1&y=%20");
        assertThat(Exchange.target(URI.create("https://h/caf\u00e9?q=\u00e9"))).isEqualTo("/caf%C3%A9?q=%C3%A9");
        assertThat(Exchange.target(URI.create("https://h/p#frag"))).isEqualTo("/p");
    }
}
