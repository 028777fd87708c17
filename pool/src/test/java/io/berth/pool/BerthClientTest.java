package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.CloseReason;
import io.berth.PoolStats;
import io.berth.RequestNotRetriedException;
import io.berth.ResponseTimeoutException;
import io.berth.ReusePolicy;
import io.berth.Session;
import io.berth.TlsConfig;
import io.berth.TruncatedBodyException;
import io.berth.pool.http.BerthClient;
import io.berth.pool.http.BerthRequest;
import io.berth.pool.http.BerthResponse;
import io.berth.pool.http.Cancellation;
import io.berth.transport.testing.HttpTestServer.After;
import io.berth.transport.testing.HttpTestServer.End;
import io.berth.transport.testing.HttpTestServer.Reply;
import io.berth.transport.testing.HttpTestServer;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.TestPki;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The client over real TLS connections to a real server on 127.0.0.1. */
@ExtendWith(Hygiene.class)
@Timeout(30)
class BerthClientTest {
    private HttpTestServer server;
    private BerthClient client;

    @AfterEach
    void stop() throws IOException {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
            assertThat(server.failures()).isEmpty();
        }
    }

    private HttpTestServer serve(HttpTestServer.Handler handler) throws IOException {
        server = HttpTestServer.start(TestPki.server().context(), handler);
        return server;
    }

    private BerthClient connect(UnaryOperator<BackendPoolConfig.Builder> config) {
        Backend backend = Backend.builder().server("127.0.0.1", server.port())
                .tls(TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate())).build()).build();
        client = BerthClient.create(backend, config.apply(BackendPoolConfig.builder().name("test")).build());
        return client;
    }

    private static String get(BerthClient c, String target) throws IOException {
        try (BerthResponse r = c.send(BerthRequest.get(target))) {
            return r.bodyString();
        }
    }

    private static String post(BerthClient c, String target, String body) throws IOException {
        try (BerthResponse r = c.send(BerthRequest.newBuilder("POST", target).body(BerthRequest.Body.of(body))
                .build())) {
            return r.bodyString();
        }
    }

    /** Each request from a new thread, like separate curl processes. */
    private static String getFromFreshCaller(BerthClient c, String target) throws Exception {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(get(c, target));
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        t.start();
        return f.get(10, TimeUnit.SECONDS);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"safe", "aggressive", "always"})
    void seedScenarioFortySequentialGetsFromFreshCallersUseOneConnection(String policy) throws Exception {
        serve(r -> Reply.ok("hello " + r.exchange()));
        connect(b -> b.reusePolicy(ReusePolicy.named(policy)));
        for (int i = 0; i < 40; i++) {
            assertThat(getFromFreshCaller(client, "/seed/" + i)).isEqualTo("hello " + i);
            Thread.sleep(20);
        }
        assertThat(server.connections()).as("backend connections, counted by the server").isEqualTo(1);
        assertThat(server.requests()).hasSize(40).allSatisfy(r -> assertThat(r.connection()).isZero());
        PoolStats s = client.pool().stats();
        assertThat(s.opened()).isEqualTo(1);
        assertThat(s.reused()).isEqualTo(39);
        assertThat(s.connections()).singleElement().satisfies(row -> assertThat(row.uses()).isEqualTo(40));
    }

    @Test
    void seedScenarioUnderNeverOpensFortyConnectionsEachClosedWithCloseNotifyAndFin() throws Exception {
        serve(r -> Reply.ok("hello"));
        connect(b -> b.reusePolicy(ReusePolicy.NEVER));
        for (int i = 0; i < 40; i++) {
            assertThat(getFromFreshCaller(client, "/seed/" + i)).isEqualTo("hello");
        }
        assertThat(server.connections()).isEqualTo(40);
        await().atMost(Duration.ofSeconds(5)).until(() -> server.ends().size() == 40);
        assertThat(server.ends().values()).as("how each connection ended, seen by the server")
                .containsOnly(End.CLIENT_CLOSED_GRACEFULLY);
        PoolStats s = client.pool().stats();
        assertThat(s.closed(CloseReason.NOT_SHARED)).isEqualTo(40);
        assertThat(s.aborted()).isZero();
    }

    @Test
    void underSafeEveryPostGetsANewConnectionAndGetsReuse() throws Exception {
        serve(r -> Reply.ok(r.method() + " " + r.bodyText()));
        connect(b -> b.reusePolicy(ReusePolicy.SAFE));
        assertThat(get(client, "/")).isEqualTo("GET ");
        for (int i = 0; i < 3; i++) {
            assertThat(post(client, "/orders", "order " + i)).isEqualTo("POST order " + i);
        }
        assertThat(server.requests()).extracting(HttpTestServer.Request::connection).containsExactly(0, 1, 2, 3);
        assertThat(server.requests()).extracting(HttpTestServer.Request::exchange).containsOnly(0);
        assertThat(get(client, "/")).isEqualTo("GET ");
        assertThat(server.connections()).as("the GET reused an idle connection").isEqualTo(4);
    }

    @Test
    void underAggressiveAPostUsesOnlyAProvenConnection() throws Exception {
        serve(r -> Reply.ok("ok"));
        connect(b -> b.reusePolicy(ReusePolicy.AGGRESSIVE));
        get(client, "/"); // connection 0 carried one exchange: unproven
        post(client, "/a", "x");
        assertThat(server.requests().get(1).connection()).as("unproven: a new connection").isEqualTo(1);
        get(client, "/"); // the most recent, connection 1, carries its second exchange: proven
        post(client, "/b", "y");
        assertThat(server.requests().get(3).connection()).as("proven: reused").isEqualTo(1);
        assertThat(server.connections()).isEqualTo(2);
    }

    @Test
    void underAlwaysAPostReusesAnIdleConnection() throws Exception {
        serve(r -> Reply.ok("ok"));
        connect(b -> b.reusePolicy(ReusePolicy.ALWAYS));
        get(client, "/");
        post(client, "/a", "x");
        assertThat(server.connections()).isEqualTo(1);
    }

    @Test
    void aPostIsNeverSentTwiceWhenTheServerDropsTheConnection() throws Exception {
        serve(r -> r.exchange() == 1 ? Reply.ok("").then(After.CLOSE_INSTEAD) : Reply.ok("ok"));
        connect(b -> b.reusePolicy(ReusePolicy.ALWAYS));
        get(client, "/");
        assertThatThrownBy(() -> post(client, "/pay", "once"))
                .isInstanceOf(RequestNotRetriedException.class)
                .hasMessageContaining("POST /pay")
                .hasMessageContaining("not sent again");
        assertThat(server.requests()).filteredOn(r -> r.method().equals("POST")).hasSize(1);
        assertThat(client.pool().stats().closed(CloseReason.BROKEN)).isEqualTo(1);
    }

    @Test
    void aGetWhoseReusedConnectionDiesBeforeAnyResponseByteIsRetriedOnceOnANewConnection() throws Exception {
        serve(r -> r.connection() == 0 && r.exchange() == 1 ? Reply.ok("").then(After.RESET_INSTEAD)
                : Reply.ok("fine"));
        connect(b -> b);
        get(client, "/");
        assertThat(get(client, "/again")).isEqualTo("fine");
        assertThat(server.requests()).extracting(HttpTestServer.Request::target, HttpTestServer.Request::connection)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("/", 0),
                        org.assertj.core.groups.Tuple.tuple("/again", 0),
                        org.assertj.core.groups.Tuple.tuple("/again", 1));
    }

    @Test
    void serverClosingIdleConnectionsAfterOneSecondWithGapsOfOneAndAHalfLosesNoGet() throws Exception {
        server = HttpTestServer.start(TestPki.server().context(), r -> Reply.ok("ok"), Duration.ofSeconds(1));
        connect(b -> b);
        for (int i = 0; i < 3; i++) {
            if (i > 0) {
                Thread.sleep(1500);
            }
            assertThat(get(client, "/" + i)).isEqualTo("ok");
        }
        assertThat(server.connections()).isEqualTo(3);
        assertThat(server.requests()).hasSize(3);
        assertThat(client.pool().stats().closed(CloseReason.CLOSED_BY_PEER)).isEqualTo(2);
    }

    @Test
    void keepAliveTimeoutIsHonouredWithAMargin() throws Exception {
        serve(r -> Reply.ok("ok").header("Keep-Alive", "timeout=1"));
        connect(b -> b);
        get(client, "/");
        Thread.sleep(100);
        get(client, "/"); // well within timeout=1 less the margin (0.5 s)
        assertThat(server.connections()).isEqualTo(1);
        Thread.sleep(600);
        get(client, "/");
        assertThat(server.connections()).as("closed by the client before the server's timeout").isEqualTo(2);
        assertThat(client.pool().stats().closed(CloseReason.IDLE_TIMEOUT)).isEqualTo(1);
    }

    @Test
    void keepAliveMaxIsHonoured() throws Exception {
        serve(r -> Reply.ok("ok").header("Keep-Alive", "timeout=30, max=" + (2 - r.exchange())));
        connect(b -> b);
        for (int i = 0; i < 6; i++) {
            get(client, "/");
        }
        assertThat(server.requests()).extracting(HttpTestServer.Request::connection)
                .containsExactly(0, 0, 0, 1, 1, 1);
        assertThat(client.pool().stats().closed(CloseReason.MAX_USES)).isEqualTo(2);
    }

    @Test
    void connectionCloseIsHonoured() throws Exception {
        serve(r -> Reply.ok("bye").header("Connection", "close"));
        connect(b -> b);
        get(client, "/");
        get(client, "/");
        assertThat(server.connections()).isEqualTo(2);
        await().until(() -> server.ends().size() == 2);
        assertThat(server.ends().values()).containsOnly(End.CLIENT_CLOSED_GRACEFULLY);
        assertThat(client.pool().stats().closed(CloseReason.NOT_REUSABLE)).isEqualTo(2);
    }

    @Test
    void gzipIsRequestedAndDecodedTransparently() throws Exception {
        serve(r -> "gzip".equals(r.header("Accept-Encoding"))
                ? Reply.ok("").body(gzip("compressed hello")).header("Content-Encoding", "gzip")
                : Reply.ok("plain hello"));
        connect(b -> b);
        try (BerthResponse r = client.send(BerthRequest.get("/"))) {
            assertThat(r.header("Content-Encoding")).isNull();
            assertThat(r.header("Content-Length")).isNull();
            assertThat(r.contentLength()).isEqualTo(-1);
            assertThat(r.bodyString()).isEqualTo("compressed hello");
        }
        // The caller's own Accept-Encoding turns transparent decoding off.
        try (BerthResponse r = client.send(BerthRequest.newBuilder("GET", "/").header("Accept-Encoding", "identity")
                .build())) {
            assertThat(r.bodyString()).isEqualTo("plain hello");
        }
        assertThat(server.connections()).as("the decoded body was read to its end: reused").isEqualTo(1);
    }

    @Test
    void aGzipBodyStillOnItsWayIsDecodedAsItStreams() throws Exception {
        serve(r -> Reply.ok("").body(gzip("compressed hello")).header("Content-Encoding", "gzip")
                .pauseBeforeLast(3, Duration.ofMillis(100)));
        connect(b -> b);
        try (BerthResponse r = client.send(BerthRequest.get("/"))) {
            assertThat(client.pool().stats().inUse()).as("the body is still on its connection").isEqualTo(1);
            assertThat(r.header("Content-Encoding")).isNull();
            assertThat(r.header("Content-Length")).isNull();
            assertThat(r.contentLength()).isEqualTo(-1);
            assertThat(r.bodyString()).isEqualTo("compressed hello");
        }
        assertThat(get(client, "/")).isEqualTo("compressed hello");
        assertThat(server.connections()).as("read to its end: reused").isEqualTo(1);
    }

    @Test
    void aBrokenGzipBodyFailsTheReadNotTheConnection() throws Exception {
        serve(r -> Reply.ok("not gzip at all").header("Content-Encoding", "gzip"));
        connect(b -> b);
        assertThatThrownBy(() -> client.send(BerthRequest.get("/"))).isInstanceOf(java.util.zip.ZipException.class);
        assertThat(client.pool().stats().inUse()).isZero();
        assertThatThrownBy(() -> client.send(BerthRequest.get("/"))).isInstanceOf(java.util.zip.ZipException.class);
        assertThat(server.connections()).as("the exchange itself was whole: reused").isEqualTo(1);
    }

    @Test
    void eachResponseOnAConnectionIsDecodedAsItsOwnHeadSays() throws Exception {
        serve(r -> r.target().equals("/z") ? Reply.ok("").body(gzip("compressed hello")).header("Content-Encoding", "gzip")
                : Reply.ok("plain hello"));
        connect(b -> b);
        for (String target : List.of("/z", "/z", "/", "/", "/z", "/", "/z", "/z")) {
            assertThat(get(client, target)).as(target).isEqualTo(target.equals("/z") ? "compressed hello" : "plain hello");
        }
        assertThat(server.connections()).isEqualTo(1);
    }

    @Test
    void gzipCanBeTurnedOff() throws Exception {
        serve(r -> Reply.ok(String.valueOf(r.header("Accept-Encoding"))));
        connect(b -> b.decompressGzip(false));
        assertThat(get(client, "/")).isEqualTo("null");
    }

    @Test
    void newRequestsWithoutHeadersOfTheirOwnEachCarryTheirServersHostAndTheirClientsAcceptEncoding()
            throws Exception {
        serve(r -> Reply.ok(r.header("Host") + " " + r.header("Accept-Encoding")));
        connect(b -> b);
        String host = "127.0.0.1:" + server.port();
        try (HttpTestServer other = HttpTestServer.start(TestPki.server().context(),
                r -> Reply.ok(r.header("Host") + " " + r.header("Accept-Encoding")));
                BerthClient plain = BerthClient.create(Backend.builder().server("127.0.0.1", other.port())
                        .tls(TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate())).build())
                        .build(), BackendPoolConfig.builder().decompressGzip(false).build())) {
            String otherHost = "127.0.0.1:" + other.port();
            for (int i = 0; i < 3; i++) {
                assertThat(get(client, "/")).isEqualTo(host + " gzip");
                assertThat(get(client, "/")).isEqualTo(host + " gzip");
                assertThat(get(plain, "/")).isEqualTo(otherHost + " null");
                try (BerthResponse r = client.send(BerthRequest.newBuilder("GET", "/").header("Host", "named.test")
                        .build())) {
                    assertThat(r.bodyString()).isEqualTo("named.test gzip");
                }
            }
        }
    }

    private static byte[] gzip(String text) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(b)) {
            z.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    @Test
    void truncatedBodyIsAnErrorAndTheConnectionIsNotReused() throws Exception {
        serve(r -> r.exchange() == 0 && r.connection() == 0 ? Reply.ok("0123456789").sendOnly(44) : Reply.ok("ok"));
        connect(b -> b);
        try (BerthResponse r = client.send(BerthRequest.get("/"))) {
            assertThatThrownBy(r::bodyBytes).isInstanceOf(TruncatedBodyException.class);
        }
        assertThat(get(client, "/")).isEqualTo("ok");
        assertThat(server.connections()).isEqualTo(2);
        assertThat(client.pool().stats().closed(CloseReason.BROKEN)).isEqualTo(1);
    }

    @Test
    void responseTimeoutFiresWithinItsBoundAndTheConnectionIsDiscarded() throws Exception {
        serve(r -> r.exchange() == 0 && r.connection() == 0 ? Reply.ok("late").delay(Duration.ofSeconds(2))
                : Reply.ok("ok"));
        connect(b -> b.responseTimeout(Duration.ofMillis(300)));
        long start = System.nanoTime();
        assertThatThrownBy(() -> get(client, "/slow")).isInstanceOf(ResponseTimeoutException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(250),
                Duration.ofMillis(1500));
        assertThat(get(client, "/")).isEqualTo("ok");
        assertThat(server.connections()).isEqualTo(2);
    }

    @Test
    void requestTimeoutCoversTheWaitForTheHead() throws Exception {
        serve(r -> Reply.ok("late").delay(Duration.ofMillis(1500)));
        connect(b -> b);
        assertThatThrownBy(() -> client.send(BerthRequest.newBuilder("GET", "/").timeout(Duration.ofMillis(300))
                .build())).isInstanceOf(ResponseTimeoutException.class).hasMessageContaining("request's timeout");
    }

    @Test
    void anNtlmChallengeMakesTheConnectionPrivateToItsSession() throws Exception {
        serve(r -> r.header("Authorization") == null
                ? Reply.status(401, "Unauthorized").header("WWW-Authenticate", "NTLM")
                : Reply.ok("welcome"));
        connect(b -> b);
        Session s = client.openSession();
        try (BerthResponse r = client.send(BerthRequest.newBuilder("GET", "/").session(s).build())) {
            assertThat(r.status()).isEqualTo(401);
        }
        try (BerthResponse r = client.send(BerthRequest.newBuilder("GET", "/").session(s)
                .header("Authorization", "NTLM TlRMTVNTUAAB").build())) {
            assertThat(r.bodyString()).isEqualTo("welcome");
        }
        assertThat(server.requests()).extracting(HttpTestServer.Request::connection).containsExactly(0, 0);
        try (BerthResponse r = client.send(BerthRequest.newBuilder("GET", "/").header("Authorization", "x").build())) {
            assertThat(r.connectionId()).as("another caller never gets the session's connection").isEqualTo(2);
        }
        s.close();
        assertThat(client.pool().stats().closed(CloseReason.NOT_SHARED)).isEqualTo(1);
    }

    @Test
    void bodiesOfEveryKindAreSent() throws Exception {
        serve(r -> Reply.ok(r.method() + ":" + r.bodyText() + ":" + r.header("Content-Length") + ":"
                + r.header("Transfer-Encoding")));
        connect(b -> b);
        assertThat(post(client, "/", "bytes")).isEqualTo("POST:bytes:5:null");
        try (BerthResponse r = client.send(BerthRequest.newBuilder("PUT", "/")
                .body(BerthRequest.Body.ofStream(new ByteArrayInputStream("streamed".getBytes()), -1)).build())) {
            assertThat(r.bodyString()).isEqualTo("PUT:streamed:null:chunked");
        }
        try (BerthResponse r = client.send(BerthRequest.newBuilder("POST", "/").expectContinue()
                .body(BerthRequest.Body.of("after 100")).build())) {
            assertThat(r.bodyString()).isEqualTo("POST:after 100:9:null");
        }
        try (BerthResponse r = client.send(BerthRequest.newBuilder("HEAD", "/").build())) {
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyBytes()).isEmpty();
        }
        assertThat(server.connections()).isEqualTo(3); // SAFE: each POST/PUT-with-one-shot-body on its own
    }

    @Test
    void closingAnUnreadBodyDrainsItAndKeepsTheConnection() throws Exception {
        serve(r -> Reply.ok("x".repeat(20_000))); // over 16 KiB: the body stays on the connection
        connect(b -> b);
        try (BerthResponse r = client.send(BerthRequest.get("/"))) {
            assertThat(client.pool().stats().inUse()).as("the body is still on its connection").isEqualTo(1);
            assertThat(r.body().read()).isEqualTo('x');
        }
        assertThat(client.pool().stats().inUse()).isZero();
        get(client, "/");
        assertThat(server.connections()).isEqualTo(1);
    }

    @Test
    void aSmallBodyThatArrivedWithItsHeadLetsTheConnectionGoBeforeSendReturns() throws Exception {
        serve(r -> Reply.ok("hello " + r.exchange()));
        connect(b -> b);
        BerthResponse first = client.send(BerthRequest.get("/"));
        assertThat(client.pool().stats().inUse()).as("back in the pool, its body unread").isZero();
        try (BerthResponse second = client.send(BerthRequest.get("/"))) {
            assertThat(second.connectionId()).isEqualTo(first.connectionId());
            assertThat(second.connectionReused()).isTrue();
            assertThat(second.bodyString()).isEqualTo("hello 1");
        }
        assertThat(first.contentLength()).isEqualTo(7);
        assertThat(first.trailers()).isEmpty();
        assertThat(first.bodyString()).isEqualTo("hello 0");
        assertThatThrownBy(first::bodyBytes).isInstanceOf(IOException.class).hasMessage("response body is closed");
        assertThatThrownBy(() -> first.body().read()).isInstanceOf(IOException.class)
                .hasMessage("response body is closed");
        first.close();
        first.close();
        assertThat(server.connections()).isEqualTo(1);
        assertThat(client.pool().stats().acquired()).isEqualTo(2);
    }

    @Test
    void anArrivedBodyStreamsFromMemoryAndCannotBeReadOnceClosed() throws Exception {
        serve(r -> Reply.ok("0123456789"));
        connect(b -> b);
        BerthResponse r = client.send(BerthRequest.get("/"));
        InputStream body = r.body();
        assertThat(body).isSameAs(r.body());
        assertThat(body.available()).isEqualTo(10);
        assertThat(body.read()).isEqualTo('0');
        byte[] three = new byte[3];
        assertThat(body.read(three, 0, 0)).isZero();
        assertThat(body.read(three)).isEqualTo(3);
        assertThat(new String(three, StandardCharsets.US_ASCII)).isEqualTo("123");
        assertThatThrownBy(() -> body.read(three, 2, 2)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(r.bodyString()).as("the rest, read through the same stream").isEqualTo("456789");
        assertThat(body.available()).isZero();
        assertThatThrownBy(body::read).isInstanceOf(IOException.class).hasMessage("response body is closed");
        try (BerthResponse again = client.send(BerthRequest.get("/"))) {
            assertThat(again.body().readAllBytes()).hasSize(10);
            assertThat(again.body().read()).isEqualTo(-1);
        }
        assertThat(server.connections()).isEqualTo(1);
    }

    @Test
    void aSmallResponseDroppedUnclosedHoldsNoConnection() throws Exception {
        serve(r -> Reply.ok("small"));
        connect(b -> b);
        LockFreeBackendPool pool = (LockFreeBackendPool) client.pool();
        try (LogCapture logs = new LogCapture(LockFreeBackendPool.class)) {
            for (int i = 0; i < 3; i++) {
                client.send(BerthRequest.get("/")); // dropped, never closed
            }
            System.gc();
            pool.maintain(System.nanoTime());
            assertThat(pool.abandonedCount()).isZero();
            assertThat(client.pool().stats().inUse()).isZero();
            assertThat(logs.warnings()).isEmpty();
        }
        assertThat(server.connections()).isEqualTo(1);
    }

    @Test
    void aBodyStillOnItsWayOrOver16KiBKeepsTheConnectionUntilItIsRead() throws Exception {
        serve(r -> r.target().equals("/big") ? Reply.ok("y".repeat(16 * 1024 + 1))
                : Reply.ok("hello").pauseBeforeLast(2, Duration.ofMillis(100)));
        connect(b -> b);
        for (String target : List.of("/", "/big")) {
            BerthResponse r = client.send(BerthRequest.get(target));
            assertThat(client.pool().stats().inUse()).as(target).isEqualTo(1);
            assertThat(r.bodyString()).as(target).hasSize(target.equals("/") ? 5 : 16 * 1024 + 1);
            assertThat(client.pool().stats().inUse()).as(target).isZero();
        }
        assertThat(server.connections()).isEqualTo(1);
    }

    @Test
    void withACancellationASmallBodyIsTakenAtOnceAndALaterCancelHasNothingToAbort() throws Exception {
        serve(r -> Reply.ok("hello"));
        connect(b -> b);
        Cancellation c = Cancellation.create();
        BerthResponse r = client.send(BerthRequest.get("/"), c);
        assertThat(client.pool().stats().inUse()).as("taken with its head, under a cancellation too").isZero();
        c.cancel();
        assertThat(r.bodyString()).as("all of it had arrived before the cancel").isEqualTo("hello");
        assertThat(client.pool().stats().closed(CloseReason.BROKEN)).as("the cancel found nothing in flight").isZero();
        assertThat(get(client, "/")).isEqualTo("hello");
        assertThat(server.connections()).as("the connection went on").isEqualTo(1);
        assertThatThrownBy(() -> client.send(BerthRequest.get("/"), c)).as("cancelled stays cancelled")
                .isInstanceOf(InterruptedIOException.class);
    }

    @Test
    void chunkedResponsesAndTrailersAreRead() throws Exception {
        serve(r -> Reply.ok("chunked body").chunked());
        connect(b -> b);
        try (BerthResponse r = client.send(BerthRequest.get("/"))) {
            assertThat(r.bodyString()).isEqualTo("chunked body");
            assertThat(r.trailers()).isEmpty();
        }
        get(client, "/");
        assertThat(server.connections()).isEqualTo(1);
    }

    @Test
    @Hygiene.AllowWarnings
    void aResponseDroppedUnclosedIsReportedAndItsConnectionReclaimed() throws Exception {
        serve(r -> Reply.ok("x".repeat(100_000)));
        connect(b -> b);
        LockFreeBackendPool pool = (LockFreeBackendPool) client.pool();
        try (LogCapture logs = new LogCapture(LockFreeBackendPool.class)) {
            dropUnclosed();
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                System.gc();
                pool.maintain(System.nanoTime());
                return pool.abandonedCount() == 1;
            });
            assertThat(client.pool().stats().inUse()).isZero();
            assertThat(client.pool().stats().closed(CloseReason.BROKEN)).isEqualTo(1);
            assertThat(logs.warnings()).singleElement().asString()
                    .contains("garbage-collected without being closed");
        }
        assertThat(get(client, "/")).hasSize(100_000);
    }

    private void dropUnclosed() throws IOException {
        BerthResponse r = client.send(BerthRequest.get("/"));
        assertThat(r.body().read()).isEqualTo('x');
        // r goes out of scope unclosed
    }
}
