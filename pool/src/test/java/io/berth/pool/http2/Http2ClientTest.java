package io.berth.pool.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.HttpProtocol;
import io.berth.HttpProtocolException;
import io.berth.RequestNotProcessedException;
import io.berth.ReusePolicy;
import io.berth.TlsConfig;
import io.berth.pool.http.BerthClient;
import io.berth.pool.http.BerthRequest;
import io.berth.pool.http.BerthResponse;
import io.berth.pool.http.Cancellation;
import io.berth.transport.http2.Http2ErrorCode;
import io.berth.transport.http2.Http2Headers;
import io.berth.transport.http2.Http2Settings;
import io.berth.transport.testing.Http2TestServer;
import io.berth.transport.testing.Http2TestServer.Frame;
import io.berth.transport.testing.Http2TestServer.Peer;
import io.berth.transport.testing.Http2TestServer.Request;
import io.berth.transport.testing.HttpTestServer;
import io.berth.transport.testing.HttpTestServer.Reply;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.TestPki;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link BerthClient} over HTTP/2 against scripted servers (our own, {@link Http2TestServer}, for the
 * faults a real server will not produce on demand): negotiation and fallback, no connection burst,
 * waiting at the stream limit, GOAWAY and REFUSED_STREAM retried whatever the method and capped, the
 * PING before a request that is not replayable, and a cancel that resets only its stream.
 */
@ExtendWith(Hygiene.class)
@Timeout(60)
class Http2ClientTest {
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T t) {
        closing.add(t);
        return t;
    }

    private BerthClient client(int port, UnaryOperator<BackendPoolConfig.Builder> config, HttpProtocol... protocols) {
        Backend backend = Backend.builder().server("127.0.0.1", port).protocols(protocols)
                .tls(TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate())).build()).build();
        return track(BerthClient.create(backend, config.apply(BackendPoolConfig.builder()).build()));
    }

    private BerthClient client(int port, HttpProtocol... protocols) {
        return client(port, b -> b, protocols);
    }

    @Test
    void negotiatesH2AndCarriesManyConcurrentCallersOnOneConnection() throws Exception {
        Http2TestServer server = track(Http2TestServer.tls(Http2TestServer.serving("hello")));
        BerthClient client = client(server.port(), HttpProtocol.HTTP_2, HttpProtocol.HTTP_1_1);
        ExecutorService callers = Executors.newFixedThreadPool(32);
        try {
            List<Future<String>> done = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                done.add(callers.submit(() -> {
                    StringBuilder sb = new StringBuilder();
                    for (int j = 0; j < 10; j++) {
                        try (BerthResponse r = client.send(BerthRequest.get("/x"))) {
                            assertThat(r.version()).isEqualTo("HTTP/2");
                            sb.append(r.bodyString());
                        }
                    }
                    return sb.toString();
                }));
            }
            for (Future<String> f : done) {
                assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo("hello".repeat(10));
            }
        } finally {
            callers.shutdownNow();
        }
        assertThat(server.accepted()).as("32 concurrent callers from a cold pool open one connection").isEqualTo(1);
        assertThat(client.pool().stats().opened()).isEqualTo(1);
    }

    @Test
    void aServerThatChoosesHttp11GetsHttp11OnThatConnection() throws Exception {
        HttpTestServer h1 = track(HttpTestServer.start(TestPki.server().context(), r -> Reply.ok("one")));
        BerthClient client = client(h1.port(), HttpProtocol.HTTP_2, HttpProtocol.HTTP_1_1);
        try (BerthResponse r = client.send(BerthRequest.get("/"))) {
            assertThat(r.version()).isEqualTo("HTTP/1.1");
            assertThat(r.bodyString()).isEqualTo("one");
        }
        BerthClient h2only = client(h1.port(), HttpProtocol.HTTP_2);
        assertThatThrownBy(() -> h2only.send(BerthRequest.get("/")))
                .isInstanceOf(HttpProtocolException.class).hasMessageContaining("[HTTP_2] only");
    }

    @Test
    void cleartextHttp2ByPriorKnowledge() throws Exception {
        Http2TestServer server = track(Http2TestServer.cleartext(Http2TestServer.serving("plain")));
        Backend backend = Backend.builder().secure(false).server("127.0.0.1", server.port())
                .protocols(HttpProtocol.HTTP_2).build();
        BerthClient client = track(BerthClient.create(backend, BackendPoolConfig.defaults()));
        try (BerthResponse r = client.send(BerthRequest.get("/"))) {
            assertThat(r.version()).isEqualTo("HTTP/2");
            assertThat(r.bodyString()).isEqualTo("plain");
        }
        assertThatThrownBy(() -> Backend.builder().secure(false).server("127.0.0.1", 1)
                .protocols(HttpProtocol.HTTP_2, HttpProtocol.HTTP_1_1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("prior knowledge");
    }

    @Test
    void atTheStreamLimitCallersWaitInsteadOfFailing() throws Exception {
        AtomicInteger concurrent = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        Http2TestServer server = track(Http2TestServer.tls(peer -> {
            peer.settings(Http2Settings.MAX_CONCURRENT_STREAMS, 2);
            List<Thread> answering = new ArrayList<>();
            peer.eachRequest(r -> {
                peak.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
                Thread t = new Thread(() -> {
                    try {
                        Thread.sleep(50);
                        concurrent.decrementAndGet();
                        peer.respond(r.streamId(), 200, "ok");
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
                answering.add(t);
                t.start();
            });
        }));
        BerthClient client = client(server.port(), b -> b.maxConnections(1), HttpProtocol.HTTP_2);
        ExecutorService callers = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> done = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                done.add(callers.submit(() -> {
                    try (BerthResponse r = client.send(BerthRequest.get("/slow"))) {
                        return r.bodyString();
                    }
                }));
            }
            for (Future<String> f : done) {
                assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo("ok");
            }
        } finally {
            callers.shutdownNow();
        }
        assertThat(server.accepted()).isEqualTo(1);
        assertThat(peak.get()).as("never more streams than the server allows").isLessThanOrEqualTo(2);
    }

    @Test
    void aPostAboveTheLastStreamIdOfAGoAwayIsSentAgainOnAnotherConnection() throws Exception {
        AtomicInteger connection = new AtomicInteger();
        List<String> seen = new CopyOnWriteArrayList<>();
        Http2TestServer server = track(Http2TestServer.tls(peer -> {
            int n = connection.incrementAndGet();
            peer.settings();
            Request first = peer.awaitRequest();
            seen.add(n + " " + first.headers().first(":method") + " " + first.bodyText());
            if (n == 1) {
                // the server shuts down before processing it: nothing at or below stream 0 was processed
                peer.goAway(0, Http2ErrorCode.NO_ERROR.code(), "shutting down");
                return;
            }
            peer.respond(first.streamId(), 201, "created");
            peer.awaitClientGone(Duration.ofSeconds(30));
        }));
        BerthClient client = client(server.port(), HttpProtocol.HTTP_2);
        try (BerthResponse r = client.send(BerthRequest.post("/orders", "text/plain",
                BerthRequest.Body.of("order".getBytes(StandardCharsets.UTF_8))))) {
            assertThat(r.status()).isEqualTo(201);
            assertThat(r.bodyString()).isEqualTo("created");
        }
        assertThat(seen).containsExactly("1 POST order", "2 POST order");
    }

    @Test
    void refusedStreamsAreRetriedUpToRetriesThenFailTyped() throws Exception {
        AtomicInteger refusals = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean firstTime = new java.util.concurrent.atomic.AtomicBoolean(true);
        Http2TestServer server = track(Http2TestServer.tls(peer -> {
            peer.settings();
            peer.eachRequest(r -> {
                boolean always = r.headers().first(":path").equals("/always-refused");
                if (always || firstTime.getAndSet(false)) {
                    refusals.incrementAndGet();
                    peer.rst(r.streamId(), Http2ErrorCode.REFUSED_STREAM.code());
                } else {
                    peer.respond(r.streamId(), 200, "second time");
                }
            });
        }));
        BerthClient client = client(server.port(), b -> b.retries(2), HttpProtocol.HTTP_2);
        try (BerthResponse r = client.send(BerthRequest.post("/once-refused", "text/plain",
                BerthRequest.Body.of(new byte[] {1})))) {
            assertThat(r.bodyString()).isEqualTo("second time");
        }
        int before = refusals.get();
        assertThatThrownBy(() -> client.send(BerthRequest.get("/always-refused")))
                .isInstanceOf(RequestNotProcessedException.class)
                .hasMessageContaining("not processed 3 times")
                .satisfies(e -> assertThat(((RequestNotProcessedException) e).reason())
                        .isEqualTo(RequestNotProcessedException.Reason.REFUSED_STREAM));
        assertThat(refusals.get() - before).as("the first try and 2 retries").isEqualTo(3);
    }

    @Test
    void underSafeAPostOnASilentConnectionWaitsForAPingRoundTripFirst() throws Exception {
        List<Peer> peers = new CopyOnWriteArrayList<>();
        Http2TestServer server = track(Http2TestServer.tls(peer -> {
            peers.add(peer);
            Http2TestServer.serving("ok").run(peer);
        }));
        BerthClient client = client(server.port(), b -> b.reusePolicy(ReusePolicy.SAFE)
                .validateAfterIdle(Duration.ofMillis(20)), HttpProtocol.HTTP_2);
        assertThat(client.send(BerthRequest.get("/warm")).bodyString()).isEqualTo("ok");
        Thread.sleep(100); // silent for longer than validateAfterIdle
        assertThat(client.send(BerthRequest.get("/get-needs-no-ping")).bodyString()).isEqualTo("ok");
        Thread.sleep(100);
        assertThat(client.send(BerthRequest.post("/post", "text/plain", BerthRequest.Body.of(new byte[] {1})))
                .bodyString()).isEqualTo("ok");
        assertThat(peers).hasSize(1);
        List<Frame> frames = peers.get(0).frames();
        List<String> order = new ArrayList<>();
        for (Frame f : frames) {
            if (f.type() == Frame.PING) {
                order.add("PING");
            } else if (f.type() == Frame.HEADERS) {
                order.add(f.headers().first(":path"));
            }
        }
        assertThat(order).containsExactly("/warm", "/get-needs-no-ping", "PING", "/post");
    }

    @Test
    void aPingThatIsNotAnsweredFailsTheConnectionAndThePostGoesElsewhereUnsent() throws Exception {
        AtomicInteger connection = new AtomicInteger();
        List<String> posts = new CopyOnWriteArrayList<>();
        Http2TestServer server = track(Http2TestServer.tls(peer -> {
            int n = connection.incrementAndGet();
            peer.autoAckPings(n != 1); // the first connection is dead to PINGs (a half-open path)
            peer.settings();
            peer.eachRequest(r -> {
                if (r.headers().first(":method").equals("POST")) {
                    posts.add(n + " " + r.bodyText());
                }
                peer.respond(r.streamId(), 200, "on " + n);
            });
        }));
        BerthClient client = client(server.port(), b -> b.validateAfterIdle(Duration.ofMillis(20))
                .pingTimeout(Duration.ofMillis(300)), HttpProtocol.HTTP_2);
        assertThat(client.send(BerthRequest.get("/warm")).bodyString()).isEqualTo("on 1");
        Thread.sleep(100);
        assertThat(client.send(BerthRequest.post("/pay", "text/plain", BerthRequest.Body.of("x".getBytes(
                StandardCharsets.UTF_8)))).bodyString()).isEqualTo("on 2");
        assertThat(posts).as("the POST was never written on the dead connection").containsExactly("2 x");
    }

    @Test
    void aCancelResetsItsStreamAndTheConnectionServesTheNextRequest() throws Exception {
        List<Peer> peers = new CopyOnWriteArrayList<>();
        Http2TestServer server = track(Http2TestServer.tls(peer -> {
            peers.add(peer);
            peer.settings();
            peer.eachRequest(r -> {
                if (!r.headers().first(":path").equals("/never")) {
                    peer.respond(r.streamId(), 200, "fine");
                }
            });
        }));
        BerthClient client = client(server.port(), HttpProtocol.HTTP_2);
        Cancellation cancellation = Cancellation.create();
        Thread canceller = new Thread(() -> {
            await().until(() -> !peers.isEmpty() && peers.get(0).frames().stream()
                    .anyMatch(f -> f.type() == Frame.HEADERS));
            cancellation.cancel();
        });
        canceller.start();
        assertThatThrownBy(() -> client.send(BerthRequest.get("/never"), cancellation))
                .isInstanceOf(InterruptedIOException.class);
        canceller.join();
        Frame rst = peers.get(0).awaitFrame(f -> f.type() == Frame.RST_STREAM, Duration.ofSeconds(5));
        assertThat(rst).isNotNull();
        assertThat(rst.value()).isEqualTo(Http2ErrorCode.CANCEL.code());
        try (BerthResponse r = client.send(BerthRequest.get("/next"))) {
            assertThat(r.bodyString()).isEqualTo("fine");
            assertThat(r.connectionReused()).isTrue();
        }
        assertThat(server.accepted()).isEqualTo(1);
    }

    @Test
    void aResponseClosedBeforeItsEndResetsItsStreamOnly() throws Exception {
        List<Peer> peers = new CopyOnWriteArrayList<>();
        Http2TestServer server = track(Http2TestServer.tls(peer -> {
            peers.add(peer);
            peer.settings();
            peer.eachRequest(r -> {
                if (r.headers().first(":path").equals("/big")) {
                    peer.headers(r.streamId(), Http2Headers.of(":status", "200"), false);
                    peer.data(r.streamId(), new byte[1000], false); // and the rest never comes
                } else {
                    peer.respond(r.streamId(), 200, "small");
                }
            });
        }));
        BerthClient client = client(server.port(), HttpProtocol.HTTP_2);
        BerthResponse big = client.send(BerthRequest.get("/big"));
        assertThat(big.body().read(new byte[10])).isPositive();
        big.close();
        assertThat(peers.get(0).awaitFrame(f -> f.type() == Frame.RST_STREAM, Duration.ofSeconds(5))).isNotNull();
        assertThat(client.send(BerthRequest.get("/small")).bodyString()).isEqualTo("small");
        assertThat(server.accepted()).isEqualTo(1);
        await().until(() -> client.pool().stats().connections().get(0).inFlight() == 0);
    }

    @Test
    void activeHealthChecksGoAsAStreamOnAnH2Connection() throws Exception {
        List<String> paths = new CopyOnWriteArrayList<>();
        Http2TestServer server = track(Http2TestServer.tls(peer -> {
            peer.settings();
            peer.eachRequest(r -> {
                paths.add(r.headers().first(":method") + " " + r.headers().first(":path"));
                peer.respond(r.streamId(), 204, "");
            });
        }));
        BerthClient client = client(server.port(), b -> b.healthCheck(io.berth.HealthCheck.builder().path("/health")
                .interval(Duration.ofMillis(100)).build()), HttpProtocol.HTTP_2);
        await().atMost(Duration.ofSeconds(10)).until(() -> paths.stream().filter(p -> p.endsWith(" /health")).count() >= 2);
        assertThat(client.pool().stats().servers().get(0).state()).isEqualTo(io.berth.ServerState.UP);
    }

    @Test
    void statsRowsAndMetersShowStreamsResetsAndGoAways() throws Exception {
        AtomicInteger connection = new AtomicInteger();
        Http2TestServer server = track(Http2TestServer.tls(peer -> {
            int n = connection.incrementAndGet();
            peer.settings(Http2Settings.MAX_CONCURRENT_STREAMS, 50);
            for (int i = 0; ; i++) {
                Request r = peer.awaitRequest(Duration.ofMinutes(1));
                if (r == null) {
                    return;
                }
                if (r.headers().first(":path").equals("/reset")) {
                    peer.rst(r.streamId(), Http2ErrorCode.INTERNAL_ERROR.code());
                    continue;
                }
                peer.respond(r.streamId(), 200, "ok");
                if (n == 1 && i == 2) {
                    peer.goAway(r.streamId(), Http2ErrorCode.NO_ERROR.code(), "bye");
                    peer.awaitClientGone(Duration.ofSeconds(30));
                    return;
                }
            }
        }));
        BerthClient client = client(server.port(), HttpProtocol.HTTP_2);
        io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        try (io.berth.pool.micrometer.BerthMetrics m = io.berth.pool.micrometer.BerthMetrics.bind(client.pool(), registry,
                io.micrometer.core.instrument.Tags.empty())) {
            for (int i = 0; i < 3; i++) {
                assertThat(client.send(BerthRequest.get("/" + i)).bodyString()).isEqualTo("ok");
            }
            await().until(() -> client.pool().stats().connections().stream().anyMatch(c -> c.streams() != null
                    && c.streams().goAway() != null));
            assertThatThrownBy(() -> client.send(BerthRequest.get("/reset")))
                    .isInstanceOf(io.berth.StreamResetException.class);
            io.berth.PoolStats stats = client.pool().stats();
            assertThat(stats.streamsCarried()).isEqualTo(4);
            assertThat(stats.streamResetsReceived()).isEqualTo(1);
            assertThat(stats.goAwaysReceived()).isEqualTo(1);
            io.berth.ConnectionStats first = stats.connections().stream().filter(c -> c.id() == 1).findFirst()
                    .orElseThrow();
            assertThat(first.protocol()).isEqualTo(HttpProtocol.HTTP_2);
            assertThat(first.streams().goAway()).contains("NO_ERROR").contains("bye");
            assertThat(first.streams().serverMaxConcurrentStreams()).isEqualTo(50);
            assertThat(stats.table()).contains("protocol").contains("h2").contains("GOAWAY(NO_ERROR");
            // the meters read a snapshot at most once a second
            await().until(() -> registry.get(io.berth.pool.micrometer.BerthMetrics.STREAMS).functionCounter().count()
                    == 4);
            assertThat(registry.get(io.berth.pool.micrometer.BerthMetrics.GOAWAYS).functionCounter().count())
                    .isEqualTo(1);
            assertThat(registry.get(io.berth.pool.micrometer.BerthMetrics.H2_CONNECTIONS).gauge().value())
                    .isEqualTo(1);
        }
    }

    @Test
    void requestsOfTheSameShapeShareTheirHeadYetEachGoesOutAsItselfAndEachBodyEndsAtItsEndStream() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        CountDownLatch bodyRead = new CountDownLatch(1);
        Http2TestServer server = track(Http2TestServer.tls(peer -> {
            peer.settings();
            peer.eachRequest(r -> {
                Http2Headers h = r.headers();
                seen.add(h.first(":method") + " " + h.first(":path") + (h.first("x-one") != null ? " x-one" : "")
                        + (r.body().length > 0 ? " " + r.bodyText() : ""));
                if (h.first(":path").equals("/trailers")) {
                    // every body byte first; END_STREAM only with the trailers, once the client read the bytes
                    peer.headers(r.streamId(), Http2Headers.of(":status", "200", "content-length", "5"), false);
                    peer.data(r.streamId(), "hello".getBytes(StandardCharsets.ISO_8859_1), false);
                    assertThat(bodyRead.await(10, TimeUnit.SECONDS)).isTrue();
                    peer.headers(r.streamId(), Http2Headers.of("x-checksum", "1"), true);
                } else {
                    peer.respond(r.streamId(), 200, h.first(":method") + h.first(":path"));
                }
            });
        }));
        BerthClient client = client(server.port(), HttpProtocol.HTTP_2);

        assertThat(client.send(BerthRequest.get("/a")).bodyString()).isEqualTo("GET/a");
        assertThat(client.send(BerthRequest.get("/a")).bodyString()).isEqualTo("GET/a");
        assertThat(client.send(BerthRequest.get("/b")).bodyString()).isEqualTo("GET/b");
        assertThat(client.send(BerthRequest.post("/a", "text/plain", BerthRequest.Body.of("x"))).bodyString())
                .isEqualTo("POST/a");
        assertThat(client.send(BerthRequest.newBuilder("GET", "/a").header("X-One", "1").build()).bodyString())
                .isEqualTo("GET/a");
        assertThat(client.send(BerthRequest.get("/a")).bodyString()).isEqualTo("GET/a");
        try (BerthResponse r = client.send(BerthRequest.get("/trailers"))) {
            InputStream body = r.body();
            assertThat(body.readNBytes(5)).isEqualTo("hello".getBytes(StandardCharsets.ISO_8859_1));
            bodyRead.countDown();
            assertThat(body.read()).isEqualTo(-1); // every byte of the content-length is in, yet it waits for END_STREAM
            assertThat(r.trailers()).containsEntry("x-checksum", List.of("1"));
        }

        assertThat(seen).containsExactly("GET /a", "GET /a", "GET /b", "POST /a x", "GET /a x-one", "GET /a",
                "GET /trailers");
        // Each body read to its end released its stream: one connection carried all, none is in flight.
        assertThat(server.accepted()).isEqualTo(1);
        await().until(() -> client.pool().stats().connections().get(0).inFlight() == 0);
    }
    @Test
    void aRefusedRequestWhoseOneShotBodyWasWrittenIsNotSentAgain() throws Exception {
        AtomicInteger oneShots = new AtomicInteger();
        Http2TestServer server = track(Http2TestServer.tls(peer -> {
            peer.settings();
            peer.eachRequest(r -> {
                oneShots.incrementAndGet();
                peer.rst(r.streamId(), Http2ErrorCode.REFUSED_STREAM.code());
            });
        }));
        BerthClient client = client(server.port(), HttpProtocol.HTTP_2);
        byte[] bytes = "a body read once".getBytes(StandardCharsets.UTF_8);
        BerthRequest request = BerthRequest.newBuilder("PUT", "/once")
                .body(BerthRequest.Body.ofStream(new java.io.ByteArrayInputStream(bytes), bytes.length)).build();
        assertThatThrownBy(() -> client.send(request)).isInstanceOf(RequestNotProcessedException.class);
        assertThat(oneShots.get()).as("a one-shot body is never written twice").isEqualTo(1);
    }

    @Test
    void responseHeadersAreLookedUpInAnyCaseAndListedWithoutPseudoHeaderFields() throws Exception {
        byte[] gzipped = gzip("unzipped");
        Http2TestServer server = track(Http2TestServer.tls(peer -> {
            peer.settings();
            peer.eachRequest(r -> {
                if (r.headers().first(":path").equals("/gzip")) {
                    peer.headers(r.streamId(), Http2Headers.of(":status", "200", "content-encoding", "gzip",
                            "content-length", Integer.toString(gzipped.length), "x-kept", "yes"), false);
                    peer.data(r.streamId(), gzipped, true);
                } else {
                    peer.headers(r.streamId(), Http2Headers.of(":status", "200", "content-type",
                            "text/plain; charset=ISO-8859-1", "x-multi", "1", "x-multi", "2"), false);
                    peer.data(r.streamId(), new byte[] {(byte) 0xe9}, true);
                }
            });
        }));
        BerthClient client = client(server.port(), HttpProtocol.HTTP_2);
        try (BerthResponse r = client.send(BerthRequest.get("/plain"))) {
            assertThat(r.header("Content-Type")).isEqualTo("text/plain; charset=ISO-8859-1");
            assertThat(r.header("X-MULTI")).isEqualTo("1");
            assertThat(r.header(":status")).isNull();
            assertThat(r.header("x-missing")).isNull();
            assertThat(r.headers()).containsOnlyKeys("content-type", "x-multi").containsEntry("X-Multi", List.of("1", "2"));
            assertThat(r.bodyString()).as("decoded with the charset of Content-Type").isEqualTo("\u00e9");
        }
        try (BerthResponse r = client.send(BerthRequest.get("/gzip"))) {
            assertThat(r.header("Content-Encoding")).isNull();
            assertThat(r.header("content-length")).isNull();
            assertThat(r.header("X-Kept")).isEqualTo("yes");
            assertThat(r.headers()).containsOnlyKeys("x-kept");
            assertThat(r.contentLength()).isEqualTo(-1);
            assertThat(r.bodyString()).isEqualTo("unzipped");
        }
    }

    @Test
    void aResponseThatEndedWithItsHeadFreesItsStreamBeforeSendReturnsAndIsReadFromMemory() throws Exception {
        byte[] gzipped = gzip("unzipped");
        Http2TestServer server = track(Http2TestServer.tls(peer -> {
            peer.settings(Http2Settings.MAX_CONCURRENT_STREAMS, 1);
            peer.eachRequest(r -> {
                String path = r.headers().first(":path");
                if (path.equals("/gzip")) {
                    peer.headers(r.streamId(), Http2Headers.of(":status", "200", "content-encoding", "gzip",
                            "content-length", Integer.toString(gzipped.length)), false);
                    peer.data(r.streamId(), gzipped, true); // a second write: read with the head or after it
                } else {
                    peer.respondInOneWrite(r.streamId(), 200, path.equals("/empty") ? "" : "hello " + r.streamId(),
                            "x-kept", "yes");
                }
            });
        }));
        // One connection of one stream: a response that held its stream would make the next send wait.
        BerthClient client = client(server.port(), b -> b.maxConnections(1).acquireTimeout(Duration.ofSeconds(2)),
                HttpProtocol.HTTP_2);
        List<BerthResponse> unread = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            unread.add(client.send(BerthRequest.get("/small")));
            assertThat(client.pool().stats().inUse()).as("the stream went back with response " + i).isZero();
        }
        BerthResponse empty = client.send(BerthRequest.get("/empty"));
        assertThat(client.pool().stats().inUse()).isZero();
        assertThat(empty.contentLength()).isZero();
        assertThat(empty.bodyBytes()).isEmpty();
        for (int i = 0; i < 3; i++) {
            BerthResponse r = unread.get(i);
            assertThat(r.version()).isEqualTo("HTTP/2");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("X-Kept")).isEqualTo("yes");
            assertThat(r.headers()).containsOnlyKeys("content-length", "x-kept");
            assertThat(r.contentLength()).isEqualTo(7);
            assertThat(r.trailers()).isEmpty();
            assertThat(r.bodyString()).isEqualTo("hello " + (1 + 2 * i));
            assertThatThrownBy(r::bodyBytes).isInstanceOf(java.io.IOException.class).hasMessage("response body is closed");
            r.close();
        }
        for (int i = 0; i < 3; i++) { // with its head or after it: decoded either way
            try (BerthResponse r = client.send(BerthRequest.get("/gzip"))) {
                assertThat(r.header("Content-Encoding")).isNull();
                assertThat(r.header("content-length")).isNull();
                assertThat(r.contentLength()).isEqualTo(-1);
                assertThat(r.bodyString()).isEqualTo("unzipped");
            }
        }
        assertThat(client.pool().stats().opened()).isEqualTo(1);
    }

    @Test
    void aResponseWithTrailersOrStillArrivingKeepsItsStreamASmallEndedOneNotEvenUnderACancellation() throws Exception {
        Http2TestServer server = track(Http2TestServer.tls(peer -> {
            peer.settings(Http2Settings.MAX_CONCURRENT_STREAMS, 5);
            peer.eachRequest(r -> {
                String path = r.headers().first(":path");
                if (path.equals("/trailers")) {
                    peer.headers(r.streamId(), Http2Headers.of(":status", "200"), false);
                    peer.data(r.streamId(), "body".getBytes(StandardCharsets.US_ASCII), false);
                    peer.headers(r.streamId(), Http2Headers.of("x-sum", "42"), true);
                } else if (path.equals("/later")) {
                    peer.headers(r.streamId(), Http2Headers.of(":status", "200", "content-length", "5"), false);
                    Thread.sleep(100);
                    peer.data(r.streamId(), "later".getBytes(StandardCharsets.US_ASCII), true);
                } else {
                    peer.respondInOneWrite(r.streamId(), 200, "small");
                }
            });
        }));
        BerthClient client = client(server.port(), HttpProtocol.HTTP_2);
        BerthResponse later = client.send(BerthRequest.get("/later"));
        assertThat(client.pool().stats().inUse()).as("its body is still on the way").isEqualTo(1);
        assertThat(later.bodyString()).isEqualTo("later");
        await().atMost(Duration.ofSeconds(5)).until(() -> client.pool().stats().inUse() == 0);
        Cancellation c = Cancellation.create();
        BerthResponse underCancellation = client.send(BerthRequest.get("/small"), c);
        assertThat(client.pool().stats().inUse()).as("ended: taken at once under a cancellation too").isZero();
        c.cancel(); // nothing left to reset
        assertThat(underCancellation.bodyString()).as("all of it had arrived before the cancel").isEqualTo("small");
        assertThat(client.pool().stats().connections().get(0).streams().resetsSent()).isZero();
        BerthResponse trailers = client.send(BerthRequest.get("/trailers"));
        assertThat(client.pool().stats().inUse()).as("kept for its trailers, whenever they came").isEqualTo(1);
        assertThat(trailers.bodyString()).isEqualTo("body");
        assertThat(trailers.trailers()).containsEntry("x-sum", List.of("42"));
        assertThat(client.pool().stats().inUse()).isZero();
    }

    private static byte[] gzip(String text) throws java.io.IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(bytes)) {
            gz.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return bytes.toByteArray();
    }
}
