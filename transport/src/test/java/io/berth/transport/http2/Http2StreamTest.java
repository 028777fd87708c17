package io.berth.transport.http2;

import static io.berth.transport.http2.H2.TIMEOUT;
import static io.berth.transport.http2.H2.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.RequestNotProcessedException;
import io.berth.RequestNotProcessedException.Reason;
import io.berth.ResponseTimeoutException;
import io.berth.StreamResetException;
import io.berth.TruncatedBodyException;
import io.berth.spi.Connection.Liveness;
import io.berth.transport.testing.Http2TestServer;
import io.berth.transport.testing.Http2TestServer.Frame;
import io.berth.transport.testing.Http2TestServer.Peer;
import io.berth.transport.testing.Http2TestServer.Request;
import io.berth.transport.testing.Hygiene;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Streams against our frame-level test server over TLS: responses (interim heads, trailers, request
 * bodies), malformed and truncated responses, RST_STREAM and REFUSED_STREAM, GOAWAY with a
 * last-stream-id below streams in flight, cancellation and the reset budget, the stream limit.
 */
@ExtendWith(Hygiene.class)
@Timeout(30)
class Http2StreamTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    private final H2 h2 = new H2();
    private Http2TestServer server;

    @AfterEach
    void stop() throws Exception {
        h2.close();
        if (server != null) {
            server.close();
            assertThat(server.failures()).as("test server failures").isEmpty();
        }
    }

    /** A server whose script the test drives through the returned peer: SETTINGS sent, nothing else. */
    private Peer serverDrivenByTheTest(long... settings) throws Exception {
        server = Http2TestServer.tls(peer -> {
            peer.settings(settings);
            peer.awaitClientGone(Duration.ofMinutes(1)); // the test drives the peer
        });
        return null;
    }

    private Http2Connection connect(Http2Options options) throws Exception {
        return h2.open(server.port(), options);
    }

    @Test
    void interimHeadsAreSkippedAndTrailersKept() throws Exception {
        serverDrivenByTheTest();
        Http2Connection c = connect(Http2Options.defaults());
        Http2Stream s = c.newStream(get("/"), true, TIMEOUT);
        Peer peer = server.awaitPeer(WAIT);
        Request r = peer.awaitRequest();
        peer.headers(r.streamId(), Http2Headers.of(":status", "103", "link", "</a.css>; rel=preload"), false);
        peer.headers(r.streamId(), Http2Headers.of(":status", "200", "content-type", "text/plain"), false);
        peer.data(r.streamId(), "body".getBytes(StandardCharsets.US_ASCII), false);
        Http2Headers head = s.awaitResponseHeaders(TIMEOUT);
        assertThat(head.first(":status")).isEqualTo("200");
        assertThat(head.first("content-type")).isEqualTo("text/plain");
        assertThat(s.trailers()).as("before the end").isNull();
        peer.headers(r.streamId(), Http2Headers.of("grpc-status", "0"), true);
        assertThat(H2.body(s)).isEqualTo("body");
        assertThat(s.trailers().first("grpc-status")).isEqualTo("0");
        assertThat(s.isComplete()).isTrue();
    }

    @Test
    void anEndedBodyIsTakenWholeOnlyWhenItEndedCleanlyWithoutTrailersAndFits() throws Exception {
        serverDrivenByTheTest();
        Http2Connection c = connect(Http2Options.defaults());
        Http2Stream s = c.newStream(get("/two-chunks"), true, TIMEOUT);
        Peer peer = server.awaitPeer(WAIT);
        Request r = peer.awaitRequest();
        peer.headers(r.streamId(), Http2Headers.of(":status", "200", "content-length", "10"), false);
        s.awaitResponseHeaders(TIMEOUT);
        assertThat(s.takeEndedBody(100)).as("not ended yet").isNull();
        peer.data(r.streamId(), "0123".getBytes(StandardCharsets.US_ASCII), false);
        peer.data(r.streamId(), "456789".getBytes(StandardCharsets.US_ASCII), true);
        await().atMost(WAIT).until(s::isComplete);
        assertThatThrownBy(() -> s.takeEndedBody(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxBytes must not be negative: -1");
        assertThat(s.takeEndedBody(9)).as("larger than the limit").isNull();
        assertThat(c.stats().bufferedBytes()).isEqualTo(10);
        assertThat(new String(s.takeEndedBody(10), StandardCharsets.US_ASCII)).isEqualTo("0123456789");
        assertThat(c.stats().bufferedBytes()).as("the connection knows they were read").isZero();
        assertThat(s.read(ByteBuffer.allocate(4), TIMEOUT)).as("nothing left to read").isEqualTo(-1);

        Http2Stream t = c.newStream(get("/trailers"), true, TIMEOUT);
        r = peer.awaitRequest();
        peer.headers(r.streamId(), Http2Headers.of(":status", "200"), false);
        peer.data(r.streamId(), "body".getBytes(StandardCharsets.US_ASCII), false);
        peer.headers(r.streamId(), Http2Headers.of("x-sum", "42"), true);
        t.awaitResponseHeaders(TIMEOUT);
        await().atMost(WAIT).until(t::isComplete);
        assertThat(t.takeEndedBody(100)).as("trailers: read it as a stream").isNull();
        assertThat(H2.body(t)).isEqualTo("body");
        assertThat(t.trailers().first("x-sum")).isEqualTo("42");

        Http2Stream x = c.newStream(get("/cancelled"), true, TIMEOUT);
        r = peer.awaitRequest();
        peer.respond(r.streamId(), 200, "abc");
        x.awaitResponseHeaders(TIMEOUT);
        await().atMost(WAIT).until(x::isComplete);
        x.cancel();
        assertThat(x.takeEndedBody(100)).as("cancelled").isNull();

        Http2Stream h = c.newStream(H2.request("HEAD", "/head"), true, TIMEOUT);
        r = peer.awaitRequest();
        peer.headers(r.streamId(), Http2Headers.of(":status", "200", "content-length", "1000"), true);
        h.awaitResponseHeaders(TIMEOUT);
        await().atMost(WAIT).until(h::isComplete);
        assertThat(h.takeEndedBody(0)).as("no body").isEmpty();
        assertThat(c.stats().bufferedBytes()).isZero();
    }

    @Test
    void aRequestBodyGoesOutWithItsHeadersAndInPieces() throws Exception {
        server = Http2TestServer.tls(Http2TestServer.serving("done"));
        Http2Connection c = connect(Http2Options.defaults());
        Http2Stream small = c.newStream(H2.request("POST", "/small"),
                ByteBuffer.wrap("tiny".getBytes(StandardCharsets.US_ASCII)), true, TIMEOUT);
        assertThat(H2.body(small)).isEqualTo("done");
        byte[] big = new byte[200_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) i;
        }
        Http2Stream large = c.newStream(H2.request("PUT", "/large"), false, TIMEOUT);
        large.writeData(ByteBuffer.wrap(big, 0, 100_000), false, TIMEOUT);
        large.writeData(ByteBuffer.wrap(big, 100_000, 100_000), true, TIMEOUT);
        assertThat(H2.body(large)).isEqualTo("done");
        assertThatThrownBy(() -> large.writeData(ByteBuffer.allocate(1), true, TIMEOUT))
                .isInstanceOf(IllegalStateException.class);
        Peer peer = server.awaitPeer(WAIT);
        List<Frame> frames = peer.frames();
        assertThat(frames).filteredOn(f -> f.type() == Frame.DATA && f.streamId() == 1)
                .singleElement().satisfies(f -> assertThat(new String(f.data())).isEqualTo("tiny"));
        byte[] received = frames.stream().filter(f -> f.type() == Frame.DATA && f.streamId() == 3)
                .map(Frame::data).reduce(new byte[0], Http2StreamTest::concat);
        assertThat(received).isEqualTo(big);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void aMalformedResponseResetsItsStreamOnly() throws Exception {
        serverDrivenByTheTest();
        Http2Connection c = connect(Http2Options.defaults());
        Peer peer = server.awaitPeer(WAIT);
        String[][] bad = {
            {":status", "200", "Content-Type", "x"},
            {":status", "200", "connection", "keep-alive"},
            {"content-type", "x"},
            {":status", "200", ":path", "/"},
            {":status", "20", "a", "b"},
            {":status", "200", "content-length", "1, 2"},
        };
        for (String[] fields : bad) {
            Http2Stream s = c.newStream(get("/"), true, TIMEOUT);
            Request r = peer.awaitRequest();
            peer.frame(Frame.HEADERS, 0x4, r.streamId(), encodeRaw(fields)); // END_HEADERS: the stream stays open
            assertThatThrownBy(() -> s.awaitResponseHeaders(TIMEOUT)).as(String.join(" ", fields))
                    .isInstanceOfSatisfying(StreamResetException.class, e -> {
                        assertThat(e.errorName()).isEqualTo("PROTOCOL_ERROR");
                        assertThat(e.errorCode()).isEqualTo(1);
                    })
                    .hasMessageContaining("is malformed");
        }
        await().atMost(WAIT).until(() -> peer.frames().stream()
                .filter(f -> f.type() == Frame.RST_STREAM && f.value() == 1).count() == bad.length);
        // the connection is fine
        Http2Stream ok = c.newStream(get("/"), true, TIMEOUT);
        peer.respond(peer.awaitRequest().streamId(), 200, "fine");
        assertThat(H2.body(ok)).isEqualTo("fine");
        assertThat(c.stats().resetsSent()).isEqualTo(bad.length);
    }

    /** A header block of literals without indexing, so that any bytes are possible (HPACK §6.2.2). */
    static byte[] encodeRaw(String... namesAndValues) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            b.write(0);
            string(b, namesAndValues[i]);
            string(b, namesAndValues[i + 1]);
        }
        return b.toByteArray();
    }

    private static void string(java.io.ByteArrayOutputStream b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
        if (bytes.length < 127) {
            b.write(bytes.length);
        } else {
            b.write(127);
            int rest = bytes.length - 127;
            while (rest >= 128) {
                b.write(rest % 128 + 128);
                rest /= 128;
            }
            b.write(rest);
        }
        b.writeBytes(bytes);
    }

    @Test
    void aBodyShorterOrLongerThanItsContentLengthIsNeverComplete() throws Exception {
        serverDrivenByTheTest();
        Http2Connection c = connect(Http2Options.defaults());
        Peer peer = server.awaitPeer(WAIT);
        Http2Stream shortOne = c.newStream(get("/"), true, TIMEOUT);
        int id = peer.awaitRequest().streamId();
        peer.headers(id, Http2Headers.of(":status", "200", "content-length", "10"), false);
        peer.data(id, new byte[5], true);
        assertThat(shortOne.awaitResponseHeaders(TIMEOUT).first(":status")).isEqualTo("200");
        ByteBuffer b = ByteBuffer.allocate(100);
        assertThatThrownBy(() -> {
            while (shortOne.read(b, TIMEOUT) >= 0) {
                b.clear();
            }
        }).isInstanceOf(TruncatedBodyException.class).hasMessageContaining("ended after 5 of the 10 bytes");
        assertThat(shortOne.isComplete()).isFalse();

        Http2Stream longOne = c.newStream(get("/"), true, TIMEOUT);
        id = peer.awaitRequest().streamId();
        peer.headers(id, Http2Headers.of(":status", "200", "content-length", "3"), false);
        peer.data(id, new byte[4], true);
        assertThatThrownBy(() -> H2.body(longOne)).isInstanceOf(StreamResetException.class)
                .hasMessageContaining("exceeds its content-length of 3 bytes");

        Http2Stream head = c.newStream(H2.request("HEAD", "/"), true, TIMEOUT);
        id = peer.awaitRequest().streamId();
        peer.headers(id, Http2Headers.of(":status", "200", "content-length", "1000"), true);
        assertThat(H2.body(head)).as("a HEAD response has no body").isEmpty();
        assertThat(head.isComplete()).isTrue();
    }

    @Test
    void theServersResetsAreTyped() throws Exception {
        serverDrivenByTheTest();
        Http2Connection c = connect(Http2Options.defaults());
        Peer peer = server.awaitPeer(WAIT);
        Http2Stream refused = c.newStream(H2.request("POST", "/"), true, TIMEOUT);
        peer.rst(peer.awaitRequest().streamId(), Http2ErrorCode.REFUSED_STREAM.code());
        assertThatThrownBy(() -> refused.awaitResponseHeaders(TIMEOUT))
                .isInstanceOfSatisfying(RequestNotProcessedException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.REFUSED_STREAM))
                .hasMessageContaining("refused stream 1 (REFUSED_STREAM) before processing it");

        Http2Stream internal = c.newStream(get("/"), true, TIMEOUT);
        peer.rst(peer.awaitRequest().streamId(), Http2ErrorCode.INTERNAL_ERROR.code());
        assertThatThrownBy(() -> internal.awaitResponseHeaders(TIMEOUT))
                .isInstanceOfSatisfying(StreamResetException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(2);
                    assertThat(e.errorName()).isEqualTo("INTERNAL_ERROR");
                })
                .hasMessage("the server 127.0.0.1:" + server.port() + " reset stream 3 (INTERNAL_ERROR)");

        Http2Stream unknown = c.newStream(get("/"), true, TIMEOUT);
        int id = peer.awaitRequest().streamId();
        peer.headers(id, Http2Headers.of(":status", "200"), false);
        peer.rst(id, 0x1f);
        assertThat(unknown.awaitResponseHeaders(TIMEOUT).first(":status")).isEqualTo("200");
        assertThatThrownBy(() -> H2.body(unknown)).isInstanceOfSatisfying(StreamResetException.class,
                e -> assertThat(e.errorName()).isEqualTo("0x1f"));

        Http2Stream refusedLate = c.newStream(get("/"), true, TIMEOUT);
        id = peer.awaitRequest().streamId();
        peer.headers(id, Http2Headers.of(":status", "200"), false);
        peer.rst(id, Http2ErrorCode.REFUSED_STREAM.code());
        assertThatThrownBy(() -> H2.body(refusedLate)).as("refused after its response started: it was processed")
                .isInstanceOf(StreamResetException.class);

        assertThat(c.stats().resetsReceived()).isEqualTo(4);
        assertThat(c.liveness()).isEqualTo(Liveness.ALIVE);
    }

    @Test
    void aCompleteResponseThenResetWithNoErrorStopsTheRequestBodyWithoutError() throws Exception {
        serverDrivenByTheTest();
        Http2Connection c = connect(Http2Options.defaults());
        Peer peer = server.awaitPeer(WAIT);
        Http2Stream s = c.newStream(H2.request("POST", "/upload"), false, TIMEOUT);
        int id = peer.awaitFrame(Frame.HEADERS).streamId();
        peer.respond(id, 413, "too big");
        peer.rst(id, Http2ErrorCode.NO_ERROR.code());
        assertThat(H2.body(s)).isEqualTo("too big");
        await().atMost(WAIT).until(() -> c.stats().streamsInFlight() == 0);
        s.writeData(ByteBuffer.allocate(1000), true, TIMEOUT); // discarded, no error
        assertThat(s.isComplete()).isTrue();
    }

    @Test
    void goAwayBelowStreamsInFlightFailsThemAsNotProcessedAndTheOthersFinish() throws Exception {
        serverDrivenByTheTest(Http2Settings.MAX_CONCURRENT_STREAMS, 10);
        Http2Connection c = connect(Http2Options.defaults());
        List<Integer> capacities = new CopyOnWriteArrayList<>();
        c.onCapacityChange(() -> capacities.add(c.capacity()));
        Peer peer = server.awaitPeer(WAIT);
        Http2Stream s1 = c.newStream(H2.request("POST", "/1"), true, TIMEOUT);
        Http2Stream s3 = c.newStream(H2.request("POST", "/3"), true, TIMEOUT);
        Http2Stream s5 = c.newStream(H2.request("POST", "/5"), true, TIMEOUT);
        for (int i = 0; i < 3; i++) {
            peer.awaitRequest();
        }
        peer.goAway(Integer.MAX_VALUE, Http2ErrorCode.NO_ERROR.code(), "graceful");
        await().atMost(WAIT).until(() -> c.capacity() == 0);
        peer.goAway(1, Http2ErrorCode.NO_ERROR.code(), "shutting down");
        peer.goAway(3, Http2ErrorCode.NO_ERROR.code(), "a higher one later does not count");
        for (Http2Stream s : List.of(s3, s5)) {
            assertThatThrownBy(() -> s.awaitResponseHeaders(TIMEOUT))
                    .isInstanceOfSatisfying(RequestNotProcessedException.class,
                            e -> assertThat(e.reason()).isEqualTo(Reason.GOAWAY))
                    .hasMessageContaining("did not process stream " + s.id())
                    .hasMessageContaining("GOAWAY(NO_ERROR, last stream 1, \"");
        }
        peer.respond(1, 200, "finished");
        assertThat(H2.body(s1)).isEqualTo("finished");
        Http2ConnectionStats.GoAway g = c.stats().lastGoAway();
        assertThat(g.lastStreamId()).as("the lowest counts").isEqualTo(1);
        assertThat(g.errorName()).isEqualTo("NO_ERROR");
        assertThat(g.debugData()).isEqualTo("a higher one later does not count");
        assertThat(c.liveness()).isEqualTo(Liveness.CLOSED_BY_PEER);
        assertThat(capacities).containsExactly(0);
        assertThatThrownBy(() -> c.newStream(get("/"), true, TIMEOUT))
                .isInstanceOfSatisfying(RequestNotProcessedException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.GOAWAY));
        await().atMost(WAIT).until(() -> c.stats().streamsInFlight() == 0);
        assertThat(c.close()).isTrue();
    }

    @Test
    void goAwayWithAnErrorCodeKeepsItsCodeAndDebugData() throws Exception {
        serverDrivenByTheTest();
        Http2Connection c = connect(Http2Options.defaults());
        Peer peer = server.awaitPeer(WAIT);
        Http2Stream s = c.newStream(get("/"), true, TIMEOUT);
        peer.awaitRequest();
        peer.goAway(0, Http2ErrorCode.ENHANCE_YOUR_CALM.code(), "too_many_pings");
        assertThatThrownBy(() -> s.awaitResponseHeaders(TIMEOUT)).isInstanceOf(RequestNotProcessedException.class)
                .hasMessageContaining("GOAWAY(ENHANCE_YOUR_CALM, last stream 0, \"too_many_pings\")");
        assertThat(c.stats().lastGoAway().errorCode()).isEqualTo(0xb);
    }

    @Test
    void cancelResetsTheStreamAndTheServersLateDataIsCreditedToTheConnection() throws Exception {
        serverDrivenByTheTest();
        Http2Connection c = connect(Http2Options.builder().connectionWindowSize(65_535).build());
        Peer peer = server.awaitPeer(WAIT);
        Http2Stream s = c.newStream(get("/"), true, TIMEOUT);
        int id = peer.awaitRequest().streamId();
        peer.headers(id, Http2Headers.of(":status", "200"), false);
        s.awaitResponseHeaders(TIMEOUT);
        s.cancel();
        s.cancel();
        Frame rst = peer.awaitFrame(Frame.RST_STREAM);
        assertThat(rst.streamId()).isEqualTo(id);
        assertThat(rst.value()).isEqualTo(Http2ErrorCode.CANCEL.code());
        assertThatThrownBy(() -> s.read(ByteBuffer.allocate(10), TIMEOUT)).isInstanceOf(IOException.class)
                .hasMessageContaining("was cancelled");
        // the server had already sent more: 60 KiB for the reset stream must not eat the connection window
        peer.data(id, new byte[60_000], false);
        Frame credit = peer.awaitFrame(f -> f.type() == Frame.WINDOW_UPDATE && f.streamId() == 0, WAIT);
        assertThat(credit.value()).isGreaterThanOrEqualTo(32_767);
        assertThat(c.stats().resetsSent()).isEqualTo(1);
        assertThat(c.stats().bufferedBytes()).isZero();
    }

    @Test
    void onceTheResetBudgetIsSpentTheConnectionDrainsInsteadOfResetting() throws Exception {
        serverDrivenByTheTest();
        Http2Connection c = connect(Http2Options.builder().resetBudget(3, Duration.ofSeconds(30)).build());
        Peer peer = server.awaitPeer(WAIT);
        List<Http2Stream> streams = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            streams.add(c.newStream(get("/"), true, TIMEOUT));
            peer.awaitRequest();
        }
        for (int i = 0; i < 3; i++) {
            streams.get(i).cancel();
        }
        assertThat(c.capacity()).isPositive();
        streams.get(3).cancel();
        assertThat(c.capacity()).as("draining").isZero();
        streams.get(4).cancel();
        assertThat(c.stats().resetsSent()).isEqualTo(3);
        assertThatThrownBy(() -> c.newStream(get("/"), true, TIMEOUT))
                .isInstanceOfSatisfying(RequestNotProcessedException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.CONNECTION_CLOSING))
                .hasMessageContaining("budget of 3 stream resets");
        // the streams not reset end when the server ends them
        peer.respond(7, 200, "late");
        peer.respond(9, 200, "late");
        await().atMost(WAIT).until(() -> c.stats().streamsInFlight() == 0);
        assertThat(peer.frames()).filteredOn(f -> f.type() == Frame.RST_STREAM).hasSize(3);
    }

    @Test
    void aResponseTimeoutCancelsTheStreamAndTheConnectionGoesOn() throws Exception {
        serverDrivenByTheTest();
        Http2Connection c = connect(Http2Options.defaults());
        Peer peer = server.awaitPeer(WAIT);
        Http2Stream s = c.newStream(get("/"), true, TIMEOUT);
        peer.awaitRequest();
        long start = System.nanoTime();
        assertThatThrownBy(() -> s.awaitResponseHeaders(H2.SHORT)).isInstanceOf(ResponseTimeoutException.class)
                .hasMessageContaining("no response head on stream 1")
                .hasMessageContaining("300 ms");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(250L, 300 + H2.SLACK_MS);
        assertThat(peer.awaitFrame(Frame.RST_STREAM).value()).isEqualTo(Http2ErrorCode.CANCEL.code());
        Http2Stream next = c.newStream(get("/"), true, TIMEOUT);
        peer.respond(peer.awaitRequest().streamId(), 200, "ok");
        assertThat(H2.body(next)).isEqualTo("ok");
    }

    @Test
    void aLowerStreamLimitMidConnectionLowersTheCapacityAndIsRespected() throws Exception {
        serverDrivenByTheTest(Http2Settings.MAX_CONCURRENT_STREAMS, 10);
        Http2Connection c = connect(Http2Options.defaults());
        List<Integer> capacities = new CopyOnWriteArrayList<>();
        c.onCapacityChange(() -> capacities.add(c.capacity()));
        Peer peer = server.awaitPeer(WAIT);
        Http2Stream a = c.newStream(get("/a"), true, TIMEOUT);
        Http2Stream b = c.newStream(get("/b"), true, TIMEOUT);
        peer.settings(Http2Settings.MAX_CONCURRENT_STREAMS, 2);
        await().atMost(WAIT).until(() -> c.capacity() == 2);
        assertThatThrownBy(() -> c.newStream(get("/c"), true, TIMEOUT))
                .isInstanceOfSatisfying(RequestNotProcessedException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.STREAM_LIMIT))
                .hasMessageContaining("carries 2 streams");
        peer.respond(peer.awaitRequest().streamId(), 200, "");
        H2.body(a);
        Http2Stream c3 = c.newStream(get("/c"), true, TIMEOUT); // room again
        peer.settings(Http2Settings.MAX_CONCURRENT_STREAMS, 5);
        await().atMost(WAIT).until(() -> c.capacity() == 5);
        assertThat(capacities).containsExactly(2, 5);
        assertThat(b.id()).isEqualTo(3);
        assertThat(c3.id()).isEqualTo(5);
    }
}
