package io.berth.transport.http2;

import static io.berth.transport.http2.H2.TIMEOUT;
import static io.berth.transport.http2.H2.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.StreamResetException;
import io.berth.transport.testing.Http2TestServer;
import io.berth.transport.testing.Http2TestServer.Frame;
import io.berth.transport.testing.Http2TestServer.Peer;
import io.berth.transport.testing.Hygiene;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Flow control (RFC 9113 §5.2, §6.9) against our frame-level test server, which sends DATA regardless
 * of windows (so that violations can be provoked) and credits ours only when told.
 */
@ExtendWith(Hygiene.class)
@Timeout(30)
class Http2FlowControlTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final int MAX = Integer.MAX_VALUE;

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

    private Peer connectTo(Http2Options options, long... settings) throws Exception {
        server = Http2TestServer.tls(peer -> {
            peer.autoCredit(false);
            peer.settings(settings);
            peer.awaitClientGone(Duration.ofMinutes(1));
        });
        connection = h2.open(server.port(), options);
        return server.awaitPeer(WAIT);
    }

    private Http2Connection connection;

    private static long credits(Peer peer, int streamId) {
        return peer.frames().stream().filter(f -> f.type() == Frame.WINDOW_UPDATE && f.streamId() == streamId)
                .mapToLong(Frame::value).sum();
    }

    @Test
    void theStreamWindowIsCreditedAsItsCallerReads() throws Exception {
        Peer peer = connectTo(Http2Options.builder().streamWindowSize(16_384).build());
        Http2Stream s = connection.newStream(get("/"), true, TIMEOUT);
        int id = peer.awaitRequest().streamId();
        peer.headers(id, Http2Headers.of(":status", "200"), false);
        peer.data(id, new byte[16_384], false); // exactly the window
        s.awaitResponseHeaders(TIMEOUT);
        await().atMost(WAIT).until(() -> connection.stats().bufferedBytes() == 16_384);
        assertThat(credits(peer, id)).as("nothing read, nothing credited").isZero();
        ByteBuffer b = ByteBuffer.allocate(8192);
        assertThat(s.read(b, TIMEOUT)).isEqualTo(8192);
        await().atMost(WAIT).until(() -> credits(peer, id) == 8192);
        peer.data(id, new byte[8192], true);
        assertThat(H2.drain(s)).isEqualTo(16_384);
        assertThat(connection.stats().bufferedBytes()).isZero();
    }

    @Test
    void dataBeyondAStreamsWindowResetsThatStream() throws Exception {
        Peer peer = connectTo(Http2Options.builder().streamWindowSize(1000).build());
        Http2Stream s = connection.newStream(get("/"), true, TIMEOUT);
        int id = peer.awaitRequest().streamId();
        peer.headers(id, Http2Headers.of(":status", "200"), false);
        peer.data(id, new byte[1001], false);
        assertThatThrownBy(() -> H2.body(s)).isInstanceOfSatisfying(StreamResetException.class,
                e -> assertThat(e.errorName()).isEqualTo("FLOW_CONTROL_ERROR"))
                .hasMessageContaining("1 bytes beyond the receive window");
        Frame rst = peer.awaitFrame(Frame.RST_STREAM);
        assertThat(rst.value()).isEqualTo(Http2ErrorCode.FLOW_CONTROL_ERROR.code());
        assertThat(connection.capacity()).as("the connection goes on").isPositive();
    }

    @Test
    void paddingIsCreditedSoThatThePaddedWindowRefills() throws Exception {
        Peer peer = connectTo(Http2Options.builder().streamWindowSize(1000).build());
        Http2Stream s = connection.newStream(get("/"), true, TIMEOUT);
        int id = peer.awaitRequest().streamId();
        peer.headers(id, Http2Headers.of(":status", "200"), false);
        for (int i = 0; i < 3; i++) {
            byte[] padded = new byte[1 + 10 + 250]; // pad length, 10 bytes, 250 of padding
            padded[0] = (byte) 250;
            peer.frame(Frame.DATA, 0x8, id, padded);
        }
        Frame credit = peer.awaitFrame(f -> f.type() == Frame.WINDOW_UPDATE && f.streamId() == id, WAIT);
        assertThat(credit.value()).as("the padding and pad lengths, once half the window").isEqualTo(2 * 251);
        // the window: 1000 - 3 * 261 + 502 = 719
        peer.data(id, new byte[700], true); // fits only if the padding was credited
        assertThat(H2.drain(s)).isEqualTo(730);
    }

    @Test
    void theConnectionWindowIsCreditedOnReceiptSoAnUnreadStreamStallsNoOther() throws Exception {
        Peer peer = connectTo(Http2Options.builder().connectionWindowSize(65_535).build());
        Http2Stream unread = connection.newStream(get("/a"), true, TIMEOUT);
        int a = peer.awaitRequest().streamId();
        peer.headers(a, Http2Headers.of(":status", "200"), false);
        peer.data(a, new byte[60_000], false);
        Frame credit = peer.awaitFrame(f -> f.type() == Frame.WINDOW_UPDATE && f.streamId() == 0, WAIT);
        assertThat(credit.value()).as("credited without any read").isGreaterThanOrEqualTo(32_768);
        Http2Stream other = connection.newStream(get("/b"), true, TIMEOUT);
        int b = peer.awaitRequest().streamId();
        peer.headers(b, Http2Headers.of(":status", "200"), false);
        peer.data(b, new byte[20_000], true); // within what the credit reopened
        assertThat(H2.drain(other)).isEqualTo(20_000);
        assertThat(unread.isComplete()).isFalse();
        assertThat(connection.stats().bufferedBytes()).isEqualTo(60_000);
    }

    @Test
    void beyondItsBufferBoundTheConnectionIsCreditedOnlyAsBytesAreRead() throws Exception {
        Peer peer = connectTo(Http2Options.builder().connectionWindowSize(65_535).build());
        Http2Stream s = connection.newStream(get("/"), true, TIMEOUT);
        int id = peer.awaitRequest().streamId();
        peer.headers(id, Http2Headers.of(":status", "200"), false);
        // 90,000 bytes: those that arrive while less than the 65,535 bound is buffered are credited on
        // receipt, the rest (at least the last 24,465, less one DATA piece) is deferred
        peer.data(id, new byte[90_000], false);
        await().atMost(WAIT).until(() -> connection.stats().bufferedBytes() == 90_000);
        long before = credits(peer, 0);
        assertThat(before).as("credited on receipt only while under the bound").isPositive()
                .isLessThanOrEqualTo(65_535 + 16_384);
        assertThat(connection.stats().receiveWindow()).isLessThan(65_535 - 8_000);
        ByteBuffer b = ByteBuffer.allocate(90_000);
        while (b.hasRemaining()) {
            s.read(b, TIMEOUT);
        }
        // what was deferred is credited once read (less a remainder under half the window, sent later)
        // the deferred bytes are credited as read (less a remainder under half the window, sent later)
        await().atMost(WAIT).until(() -> credits(peer, 0) >= 90_000 - 32_767);
        assertThat(connection.stats().receiveWindow()).isGreaterThanOrEqualTo(65_535 - 32_767);
        peer.data(id, new byte[1], true);
        assertThat(H2.drain(s)).isEqualTo(1);
    }

    @Test
    void dataBeyondTheConnectionWindowIsAConnectionError() throws Exception {
        Peer peer = connectTo(Http2Options.builder().connectionWindowSize(65_535).build());
        Http2Stream s = connection.newStream(get("/"), true, TIMEOUT);
        int id = peer.awaitRequest().streamId();
        peer.headers(id, Http2Headers.of(":status", "200"), false);
        try {
            peer.data(id, new byte[200_000], false); // unread: 64 KiB buffered, 64 KiB window, then too much
        } catch (java.net.SocketException e) {
            // the client reset the connection on the violation while the server still wrote
        }
        Frame goAway = peer.awaitFrame(Frame.GOAWAY);
        assertThat(goAway.value()).isEqualTo(Http2ErrorCode.FLOW_CONTROL_ERROR.code());
        assertThat(new String(goAway.data())).contains("beyond the connection's receive window");
        await().atMost(WAIT).until(() -> connection.capacity() == 0);
        assertThatThrownBy(() -> H2.drain(s)).isInstanceOf(java.io.IOException.class);
    }

    @Test
    void aWriterWaitsForBothWindows() throws Exception {
        Peer peer = connectTo(Http2Options.defaults(), Http2Settings.INITIAL_WINDOW_SIZE, 0);
        Http2Stream s = connection.newStream(H2.request("POST", "/"), false, TIMEOUT);
        int id = peer.awaitFrame(Frame.HEADERS).streamId();
        CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
            try {
                s.writeData(ByteBuffer.allocate(100_000), true, TIMEOUT);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Thread.sleep(200);
        assertThat(received(peer, id)).as("the stream window is 0").isZero();
        peer.windowUpdate(id, 300);
        await().atMost(WAIT).until(() -> received(peer, id) == 300);
        peer.windowUpdate(id, MAX - 300);
        await().atMost(WAIT).until(() -> received(peer, id) == 65_535); // the connection window
        assertThat(written).isNotDone();
        assertThat(connection.stats().sendWindow()).isZero();
        peer.windowUpdate(0, 34_465);
        written.get(5, TimeUnit.SECONDS);
        await().atMost(WAIT).until(() -> received(peer, id) == 100_000);
        assertThat(peer.frames()).filteredOn(f -> f.type() == Frame.DATA && f.streamId() == id).last()
                .matches(Frame::endStream);
    }

    private static long received(Peer peer, int streamId) {
        return peer.frames().stream().filter(f -> f.type() == Frame.DATA && f.streamId() == streamId)
                .mapToLong(f -> f.data().length).sum();
    }

    @Test
    void aChangeOfTheInitialWindowAdjustsOpenStreamsEvenBelowZero() throws Exception {
        Peer peer = connectTo(Http2Options.defaults(), Http2Settings.INITIAL_WINDOW_SIZE, 100);
        Http2Stream s = connection.newStream(H2.request("POST", "/"), false, TIMEOUT);
        int id = peer.awaitFrame(Frame.HEADERS).streamId();
        CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
            try {
                s.writeData(ByteBuffer.allocate(1000), true, TIMEOUT);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        await().atMost(WAIT).until(() -> received(peer, id) == 100);
        peer.settings(Http2Settings.INITIAL_WINDOW_SIZE, 50); // the window: 100 - 100 - 50 = -50
        peer.awaitFrame(f -> f.type() == Frame.SETTINGS && f.endStream(), WAIT);
        peer.windowUpdate(id, 100); // -50 + 100 = 50
        await().atMost(WAIT).until(() -> received(peer, id) == 150);
        Thread.sleep(100);
        assertThat(received(peer, id)).isEqualTo(150);
        peer.windowUpdate(id, 850);
        written.get(5, TimeUnit.SECONDS);
        await().atMost(WAIT).until(() -> received(peer, id) == 1000);
    }

    @Test
    void aWindowThatStaysClosedTimesOutItsWriterAndCancelsOnlyItsStream() throws Exception {
        Peer peer = connectTo(Http2Options.defaults(), Http2Settings.INITIAL_WINDOW_SIZE, 0);
        Http2Stream s = connection.newStream(H2.request("POST", "/"), false, TIMEOUT);
        long start = System.nanoTime();
        assertThatThrownBy(() -> s.writeData(ByteBuffer.allocate(10), true, H2.SHORT))
                .isInstanceOf(SocketTimeoutException.class)
                .hasMessageContaining("flow-control window of stream 1")
                .hasMessageContaining("stayed closed for 300 ms");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(250L, 300 + H2.SLACK_MS);
        assertThat(peer.awaitFrame(Frame.RST_STREAM).value()).isEqualTo(Http2ErrorCode.CANCEL.code());
        Http2Stream next = connection.newStream(get("/"), true, TIMEOUT);
        peer.respond(peer.awaitRequest().streamId(), 200, "fine");
        assertThat(H2.body(next)).isEqualTo("fine");
    }

    @Test
    void windowsBeyondTwoToTheThirtyOneAreFlowControlErrors() throws Exception {
        Peer peer = connectTo(Http2Options.defaults());
        Http2Stream s = connection.newStream(H2.request("POST", "/"), false, TIMEOUT);
        int id = peer.awaitFrame(Frame.HEADERS).streamId();
        peer.windowUpdate(id, MAX);
        assertThat(peer.awaitFrame(Frame.RST_STREAM).value()).isEqualTo(Http2ErrorCode.FLOW_CONTROL_ERROR.code());
        assertThatThrownBy(() -> s.writeData(ByteBuffer.allocate(1), true, TIMEOUT))
                .isInstanceOf(StreamResetException.class);
        peer.windowUpdate(0, MAX);
        Frame goAway = peer.awaitFrame(Frame.GOAWAY);
        assertThat(goAway.value()).isEqualTo(Http2ErrorCode.FLOW_CONTROL_ERROR.code());
        await().atMost(WAIT).until(() -> connection.capacity() == 0);
    }

    @Test
    void anInitialWindowThatOverflowsAnOpenStreamIsAConnectionError() throws Exception {
        Peer peer = connectTo(Http2Options.defaults());
        connection.newStream(H2.request("POST", "/"), false, TIMEOUT);
        int id = peer.awaitFrame(Frame.HEADERS).streamId();
        peer.windowUpdate(id, 1000);
        peer.settings(Http2Settings.INITIAL_WINDOW_SIZE, MAX);
        assertThat(peer.awaitFrame(Frame.GOAWAY).value()).isEqualTo(Http2ErrorCode.FLOW_CONTROL_ERROR.code());
    }

    @Test
    void zeroIncrementsAreProtocolErrors() throws Exception {
        Peer peer = connectTo(Http2Options.defaults());
        Http2Stream s = connection.newStream(H2.request("POST", "/"), false, TIMEOUT);
        int id = peer.awaitFrame(Frame.HEADERS).streamId();
        peer.windowUpdate(id, 0);
        assertThat(peer.awaitFrame(Frame.RST_STREAM).value()).isEqualTo(Http2ErrorCode.PROTOCOL_ERROR.code());
        assertThatThrownBy(() -> s.awaitResponseHeaders(TIMEOUT)).isInstanceOf(StreamResetException.class)
                .hasMessageContaining("zero increment");
        peer.windowUpdate(0, 0);
        assertThat(peer.awaitFrame(Frame.GOAWAY).value()).isEqualTo(Http2ErrorCode.PROTOCOL_ERROR.code());
    }
}
