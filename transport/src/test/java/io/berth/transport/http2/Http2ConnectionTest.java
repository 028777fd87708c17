package io.berth.transport.http2;

import static io.berth.transport.http2.H2.SHORT;
import static io.berth.transport.http2.H2.SLACK_MS;
import static io.berth.transport.http2.H2.TIMEOUT;
import static io.berth.transport.http2.H2.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.HandshakeTimeoutException;
import io.berth.RequestNotProcessedException;
import io.berth.ResponseTimeoutException;
import io.berth.spi.Connection.Liveness;
import io.berth.transport.DuplexConnection;
import io.berth.transport.testing.Http2TestServer.Frame;
import io.berth.transport.testing.Http2TestServer.Peer;
import io.berth.transport.testing.Http2TestServer;
import io.berth.transport.testing.Hygiene;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An HTTP/2 connection's life against our frame-level test server, over real TLS (ALPN h2) and
 * cleartext: the preface and SETTINGS, capacity, PING, liveness, close and abort.
 */
@ExtendWith(Hygiene.class)
@Timeout(30)
class Http2ConnectionTest {
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

    @Test
    void aRequestOverTlsWithAlpnH2() throws Exception {
        server = Http2TestServer.tls(Http2TestServer.serving("hello", Http2Settings.MAX_CONCURRENT_STREAMS, 100));
        DuplexConnection raw = h2.tls(server.port());
        assertThat(raw.applicationProtocol()).isEqualTo("h2");
        Http2Connection c = h2.track(Http2Connection.open(raw, Http2Options.defaults()));
        assertThat(c.multiplexed()).isTrue();
        assertThat(c.capacity()).isEqualTo(100);
        assertThat(c.applicationProtocol()).isEqualTo("h2");
        assertThat(c.tlsProtocol()).isEqualTo("TLSv1.3");
        assertThat(c.describe()).startsWith("h2 127.0.0.1:" + server.port() + " TLSv1.3").endsWith("(server limit 100)");

        Http2Stream s = c.newStream(get("/"), true, TIMEOUT);
        assertThat(s.id()).isEqualTo(1);
        Http2Headers head = s.awaitResponseHeaders(TIMEOUT);
        assertThat(head.first(":status")).isEqualTo("200");
        assertThat(s.responseStarted()).isTrue();
        assertThat(H2.body(s)).isEqualTo("hello");
        assertThat(s.isComplete()).isTrue();
        assertThat(s.trailers()).isEqualTo(Http2Headers.EMPTY);
        Http2ConnectionStats stats = c.stats();
        assertThat(stats.protocol()).isEqualTo("h2");
        assertThat(stats.streamsCarried()).isEqualTo(1);
        assertThat(stats.streamsInFlight()).isZero();
        assertThat(stats.serverMaxConcurrentStreams()).isEqualTo(100);
        assertThat(c.liveness()).isEqualTo(Liveness.ALIVE);
        assertThat(c.bufferedLiveness()).isEqualTo(Liveness.ALIVE);

        Peer peer = server.awaitPeer(WAIT);
        Frame settings = peer.frames().get(0);
        assertThat(settings.type()).isEqualTo(Frame.SETTINGS);
        assertThat(settings.settings()).containsEntry(Http2Settings.ENABLE_PUSH, 0L)
                .containsEntry(Http2Settings.INITIAL_WINDOW_SIZE, (long) Http2Options.DEFAULT_STREAM_WINDOW_SIZE)
                .containsEntry(Http2Settings.MAX_HEADER_LIST_SIZE, 65536L);
        assertThat(peer.frames().get(1)).as("the connection window raised at once")
                .matches(f -> f.type() == Frame.WINDOW_UPDATE && f.streamId() == 0
                        && f.value() == Http2Options.DEFAULT_CONNECTION_WINDOW_SIZE - 65535);

        assertThat(c.close()).as("graceful close; stats %s", c.stats()).isTrue();
        assertThat(c.isOpen()).isFalse();
        assertThat(c.capacity()).isZero();
        assertThat(peer.awaitFrame(Frame.GOAWAY).value()).as("GOAWAY code").isEqualTo(0);
        await().atMost(WAIT).until(() -> !c.readerAlive());
        await().atMost(WAIT).until(() -> h2.connector.gracefulCloses() == 1);
        assertThat(h2.connector.aborts()).isZero();
        assertThat(peer.clientClosed()).as("the server saw a clean end of stream").isTrue();
        assertThat(c.close()).as("idempotent").isFalse();
    }

    /**
     * Callers never queue behind a write under way: while one caller's write is held in the socket (a
     * server reading slowly, made deterministic), 31 others open their streams without waiting, and their
     * HEADERS then go out together in the next write, not in 31 writes.
     */
    @Test
    void callersDoNotQueueBehindAWriteAndTheirHeadersGoOutTogether() throws Exception {
        server = Http2TestServer.tls(Http2TestServer.serving("hi", Http2Settings.MAX_CONCURRENT_STREAMS, 100));
        GatedWrites raw = new GatedWrites(h2.tls(server.port()));
        Http2Connection c = h2.track(Http2Connection.open(raw, Http2Options.defaults()));
        assertThat(H2.body(awaitOk(c.newStream(get("/warm"), true, TIMEOUT)))).isEqualTo("hi");

        raw.holdNextWrite();
        CompletableFuture<Http2Stream> first = CompletableFuture.supplyAsync(() -> {
            try {
                return c.newStream(get("/first"), true, TIMEOUT);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, runnable -> new Thread(runnable, "first-writer").start());
        await().atMost(WAIT).until(() -> raw.held() == 1);
        int writesBefore = raw.writes();
        List<Http2Stream> others = new ArrayList<>();
        for (int i = 0; i < 31; i++) {
            others.add(c.newStream(get("/" + i), true, TIMEOUT)); // returns at once: it does not wait for the socket
        }
        assertThat(raw.writes()).as("nobody else wrote while the write was held").isEqualTo(writesBefore);
        assertThat(first).isNotDone();
        raw.release();

        Peer peer = server.awaitPeer(WAIT);
        await().atMost(WAIT).until(() -> peer.frames().stream().filter(f -> f.type() == Frame.HEADERS).count() == 33);
        assertThat(raw.writes() - writesBefore).as("writes that carried the held one and the 31 HEADERS behind it")
                .isLessThanOrEqualTo(2);
        assertThat(H2.body(awaitOk(first.get(10, TimeUnit.SECONDS)))).isEqualTo("hi");
        for (Http2Stream s : others) {
            assertThat(H2.body(awaitOk(s))).isEqualTo("hi");
        }
        assertThat(c.stats().streamsCarried()).isEqualTo(33);
    }

    private static Http2Stream awaitOk(Http2Stream s) throws IOException {
        assertThat(s.awaitResponseHeaders(TIMEOUT).first(":status")).isEqualTo("200");
        return s;
    }

    @Test
    void cleartextByPriorKnowledge() throws Exception {
        server = Http2TestServer.cleartext(Http2TestServer.serving("plain", Http2Settings.MAX_CONCURRENT_STREAMS, 8));
        DuplexConnection raw = h2.plain(server.port());
        assertThat(raw.applicationProtocol()).isNull();
        Http2Connection c = h2.track(Http2Connection.open(raw, Http2Options.defaults()));
        assertThat(c.capacity()).isEqualTo(8);
        assertThat(c.tlsProtocol()).isNull();
        Http2Stream s = c.newStream(get("/"), true, TIMEOUT);
        assertThat(s.awaitResponseHeaders(TIMEOUT).first(":status")).isEqualTo("200");
        assertThat(H2.body(s)).isEqualTo("plain");
        assertThat(c.close()).isTrue();
        await().atMost(WAIT).until(() -> h2.connector.gracefulCloses() == 1);
    }

    @Test
    void capacityIsTheServersLimitCappedByOurs() throws Exception {
        server = Http2TestServer.tls(Http2TestServer.serving("", Http2Settings.MAX_CONCURRENT_STREAMS, 1000));
        assertThat(h2.open(server.port(), Http2Options.builder().maxConcurrentStreams(50).build()).capacity())
                .isEqualTo(50);
        assertThat(h2.open(server.port()).capacity()).isEqualTo(Http2Options.DEFAULT_MAX_CONCURRENT_STREAMS);
        server.close();
        server = Http2TestServer.tls(Http2TestServer.serving(""));
        Http2Connection unlimited = h2.open(server.port(), Http2Options.builder().maxConcurrentStreams(7).build());
        assertThat(unlimited.capacity()).as("no server limit: ours").isEqualTo(7);
        assertThat(unlimited.stats().serverMaxConcurrentStreams()).isEqualTo(-1);
    }

    @Test
    void openWaitsForTheServersSettings() throws Exception {
        server = Http2TestServer.tls(peer -> {
            Thread.sleep(300);
            peer.settings(Http2Settings.MAX_CONCURRENT_STREAMS, 3);
            peer.awaitClientGone(Duration.ofMinutes(1));
        });
        DuplexConnection raw = h2.tls(server.port());
        long start = System.nanoTime();
        Http2Connection c = h2.track(Http2Connection.open(raw, Http2Options.defaults()));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(250);
        assertThat(c.capacity()).isEqualTo(3);
    }

    @Test
    void noSettingsInTimeIsAHandshakeTimeoutAndLeavesNothingBehind() throws Exception {
        server = Http2TestServer.tls(peer -> peer.awaitClientGone(Duration.ofMinutes(1)));
        DuplexConnection raw = h2.tls(server.port());
        long start = System.nanoTime();
        assertThatThrownBy(() -> Http2Connection.open(raw, Http2Options.builder().settingsTimeout(H2.ms(300)).build()))
                .isInstanceOf(HandshakeTimeoutException.class)
                .hasMessageContaining("no HTTP/2 SETTINGS from 127.0.0.1:" + server.port())
                .hasMessageContaining("300 ms (settingsTimeout)");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(250L, 300 + SLACK_MS);
        assertThat(raw.isOpen()).isFalse();
        Peer peer = server.awaitPeer(WAIT);
        assertThat(peer.awaitFrame(Frame.GOAWAY).value()).isEqualTo(Http2ErrorCode.SETTINGS_TIMEOUT.code());
    }

    @Test
    void aFirstFrameOtherThanSettingsIsAProtocolError() throws Exception {
        server = Http2TestServer.tls(peer -> {
            peer.ping(7, false);
            peer.awaitClientGone(Duration.ofMinutes(1));
        });
        DuplexConnection raw = h2.tls(server.port());
        assertThatThrownBy(() -> Http2Connection.open(raw, Http2Options.defaults()))
                .isInstanceOfSatisfying(Http2Exception.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(Http2ErrorCode.PROTOCOL_ERROR);
                    assertThat(e.isConnectionError()).isTrue();
                })
                .hasMessageContaining("first frame must be SETTINGS");
        Peer peer = server.awaitPeer(WAIT);
        assertThat(peer.awaitFrame(Frame.GOAWAY).value()).isEqualTo(Http2ErrorCode.PROTOCOL_ERROR.code());
        // the GOAWAY is written before the abort: the peer may read it first
        await().atMost(WAIT).until(() -> !raw.isOpen());
    }

    @Test
    void ourSettingsMustBeAcknowledgedInTime() throws Exception {
        server = Http2TestServer.tls(peer -> {
            peer.autoAckSettings(false);
            peer.settings(Http2Settings.MAX_CONCURRENT_STREAMS, 10);
            peer.awaitClientGone(Duration.ofMinutes(1));
        });
        Http2Connection c = h2.open(server.port(), Http2Options.builder().settingsTimeout(H2.ms(400)).build());
        assertThat(c.capacity()).isEqualTo(10);
        Http2Stream s = c.newStream(get("/"), true, TIMEOUT);
        Peer peer = server.awaitPeer(WAIT);
        Frame goAway = peer.awaitFrame(Frame.GOAWAY);
        assertThat(goAway.value()).isEqualTo(Http2ErrorCode.SETTINGS_TIMEOUT.code());
        assertThat(new String(goAway.data())).contains("did not acknowledge our SETTINGS in 400 ms");
        await().atMost(WAIT).until(() -> c.capacity() == 0);
        assertThat(c.liveness()).isEqualTo(Liveness.CLOSED_BY_PEER);
        assertThatThrownBy(() -> s.awaitResponseHeaders(TIMEOUT)).isInstanceOf(IOException.class)
                .hasMessageContaining("failed while stream 1 to 127.0.0.1:" + server.port() + " was open");
    }

    @Test
    void settingsAreAppliedThenAcknowledgedAndTheEncoderFollowsThem() throws Exception {
        // The server shrinks our encoder's table to 0: the test server's decoder then requires the
        // size update at the start of the next block (it fails otherwise), and the ACK before it.
        server = Http2TestServer.tls(peer -> {
            peer.settings(Http2Settings.MAX_CONCURRENT_STREAMS, 10);
            Http2TestServer.Request first = peer.awaitRequest();
            peer.settings(Http2Settings.HEADER_TABLE_SIZE, 0, Http2Settings.MAX_FRAME_SIZE, 20_000,
                    Http2Settings.MAX_CONCURRENT_STREAMS, 2);
            peer.respond(first.streamId(), 200, "one");
            peer.eachRequest(r -> {
                peer.respond(r.streamId(), 200, "more");
            });
        });
        Http2Connection c = h2.open(server.port());
        List<Integer> capacities = new CopyOnWriteArrayList<>();
        c.onCapacityChange(() -> capacities.add(c.capacity()));
        Http2Stream s1 = c.newStream(get("/a"), true, TIMEOUT);
        assertThat(H2.body(s1)).isEqualTo("one");
        await().atMost(WAIT).until(() -> c.capacity() == 2);
        assertThat(capacities).contains(2);
        for (int i = 0; i < 3; i++) {
            Http2Stream s = c.newStream(get("/b" + i), true, TIMEOUT);
            assertThat(H2.body(s)).isEqualTo("more");
        }
        Peer peer = server.awaitPeer(WAIT);
        List<Frame> frames = peer.frames();
        int ack = -1;
        int secondHeaders = -1;
        int acks = 0;
        for (int i = 0; i < frames.size(); i++) {
            Frame f = frames.get(i);
            if (f.type() == Frame.SETTINGS && f.endStream() && ++acks == 2) {
                ack = i;
            }
            if (f.type() == Frame.HEADERS && f.streamId() == 3) {
                secondHeaders = i;
            }
        }
        assertThat(ack).as("the second SETTINGS acknowledged").isPositive();
        assertThat(ack).as("its ACK precedes the next header block").isLessThan(secondHeaders);
    }

    @Test
    void unknownSettingsAreIgnoredButTooManyParametersAreEnhanceYourCalm() throws Exception {
        server = Http2TestServer.tls(peer -> {
            peer.frame(Frame.SETTINGS, 0, 0, settingsPayload(0x99, 1, Http2Settings.MAX_CONCURRENT_STREAMS, 9));
            peer.awaitRequest(); // the first connection goes on
            peer.frame(Frame.SETTINGS, 0, 0, settingsPayload(65));
            peer.awaitClientGone(Duration.ofMinutes(1));
        });
        Http2Connection c = h2.open(server.port());
        assertThat(c.capacity()).isEqualTo(9);
        c.newStream(get("/"), true, TIMEOUT);
        Peer peer = server.awaitPeer(WAIT);
        Frame goAway = peer.awaitFrame(Frame.GOAWAY);
        assertThat(goAway.value()).isEqualTo(Http2ErrorCode.ENHANCE_YOUR_CALM.code());
        assertThat(new String(goAway.data())).contains("carries 65 parameters, more than 64");
        await().atMost(WAIT).until(() -> c.capacity() == 0);
    }

    /** id, value pairs; with one argument n: n unknown parameters. */
    private static byte[] settingsPayload(int... idsAndValues) {
        if (idsAndValues.length == 1) {
            int n = idsAndValues[0];
            idsAndValues = new int[2 * n];
            for (int i = 0; i < n; i++) {
                idsAndValues[2 * i] = 0x100 + i;
            }
        }
        ByteBuffer b = ByteBuffer.allocate(idsAndValues.length * 3);
        for (int i = 0; i < idsAndValues.length; i += 2) {
            b.putShort((short) idsAndValues[i]).putInt(idsAndValues[i + 1]);
        }
        return b.array();
    }

    @Test
    void pingsFromTheServerAreAnsweredWithTheirPayload() throws Exception {
        server = Http2TestServer.tls(peer -> {
            peer.settings();
            peer.ping(0x1122334455667788L, false);
            peer.awaitClientGone(Duration.ofMinutes(1));
        });
        h2.open(server.port());
        Peer peer = server.awaitPeer(WAIT);
        Frame ack = peer.awaitFrame(f -> f.type() == Frame.PING, WAIT);
        assertThat(ack.endStream()).as("ACK").isTrue();
        assertThat(ack.value()).isEqualTo(0x1122334455667788L);
    }

    @Test
    void pingMeasuresARoundTrip() throws Exception {
        server = Http2TestServer.tls(Http2TestServer.serving(""));
        Http2Connection c = h2.open(server.port());
        assertThat(c.stats().lastPingRtt()).isNull();
        c.ping(TIMEOUT);
        assertThat(c.stats().lastPingRtt()).isNotNull().isPositive();
        c.ping(TIMEOUT);
        Peer peer = server.awaitPeer(WAIT);
        assertThat(peer.frames()).filteredOn(f -> f.type() == Frame.PING && !f.endStream()).hasSize(2);
        assertThat(c.liveness()).isEqualTo(Liveness.ALIVE);
    }

    @Test
    void aMissingPingAcknowledgementFailsTheWholeConnection() throws Exception {
        server = Http2TestServer.tls(peer -> {
            peer.autoAckPings(false);
            peer.settings();
            peer.awaitClientGone(Duration.ofMinutes(1));
        });
        Http2Connection c = h2.open(server.port());
        Http2Stream s = c.newStream(get("/"), true, TIMEOUT);
        long start = System.nanoTime();
        assertThatThrownBy(() -> c.ping(SHORT)).isInstanceOf(ResponseTimeoutException.class)
                .hasMessageContaining("no PING acknowledgement from 127.0.0.1:" + server.port() + " in 300 ms");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(250L, 300 + SLACK_MS);
        assertThat(c.capacity()).isZero();
        assertThat(c.isOpen()).isFalse();
        assertThat(c.liveness()).isEqualTo(Liveness.CLOSED_BY_PEER);
        assertThatThrownBy(() -> s.awaitResponseHeaders(TIMEOUT)).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> c.newStream(get("/"), true, TIMEOUT))
                .isInstanceOfSatisfying(RequestNotProcessedException.class,
                        e -> assertThat(e.reason()).isEqualTo(RequestNotProcessedException.Reason.CONNECTION_FAILED));
        await().atMost(WAIT).until(() -> !c.readerAlive());
    }

    @Test
    void anIdleConnectionIsPingedAtTheIntervalAtMostTwiceBetweenStreams() throws Exception {
        server = Http2TestServer.tls(Http2TestServer.serving("x"));
        Http2Connection c = h2.open(server.port(), Http2Options.builder().pingInterval(H2.ms(150)).build());
        Peer peer = server.awaitPeer(WAIT);
        await().atMost(WAIT).until(() -> pings(peer) == 2);
        Thread.sleep(600); // four more intervals: no third PING without traffic (gRPC's too_many_pings)
        assertThat(pings(peer)).isEqualTo(2);
        assertThat(c.stats().lastPingRtt()).isNotNull();
        assertThat(H2.body(c.newStream(get("/"), true, TIMEOUT))).isEqualTo("x");
        await().atMost(WAIT).until(() -> pings(peer) == 4);
        assertThat(c.liveness()).isEqualTo(Liveness.ALIVE);
    }

    @Test
    void anIdlePingWithoutAnswerFailsTheConnection() throws Exception {
        server = Http2TestServer.tls(peer -> {
            peer.autoAckPings(false);
            peer.settings();
            peer.awaitClientGone(Duration.ofMinutes(1));
        });
        Http2Connection c = h2.open(server.port(), Http2Options.builder().pingInterval(H2.ms(100))
                .pingTimeout(H2.ms(200)).build());
        await().atMost(WAIT).until(() -> c.liveness() == Liveness.CLOSED_BY_PEER);
        assertThat(c.capacity()).isZero();
        await().atMost(WAIT).until(() -> !c.readerAlive());
    }

    private static long pings(Peer peer) {
        return peer.frames().stream().filter(f -> f.type() == Frame.PING && !f.endStream()).count();
    }

    @Test
    void closeResetsAfterTheLingerWhenTheServerNeverClosesItsSide() throws Exception {
        server = Http2TestServer.tls(peer -> {
            peer.closeWhenClientCloses(false);
            peer.settings();
            peer.awaitClientGone(Duration.ofMinutes(1));
        });
        Http2Connection c = h2.open(server.port());
        long start = System.nanoTime();
        assertThat(c.close()).isTrue();
        await().atMost(WAIT).until(() -> !c.readerAlive());
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(took).isBetween(Http2Connection.CLOSE_LINGER_MILLIS - 100, Http2Connection.CLOSE_LINGER_MILLIS + SLACK_MS);
        assertThat(h2.connector.aborts()).isEqualTo(1);
        assertThat(server.awaitPeer(WAIT).clientClosed()).isTrue();
    }

    @Test
    void abortFailsOpenStreamsAndResets() throws Exception {
        server = Http2TestServer.tls(Http2TestServer.serving(""));
        Http2Connection c = h2.open(server.port());
        Http2Stream s = c.newStream(get("/slow"), false, TIMEOUT); // the server waits for the body
        c.abort();
        assertThatThrownBy(() -> s.awaitResponseHeaders(TIMEOUT)).isInstanceOf(IOException.class)
                .hasMessageContaining("was aborted");
        assertThat(c.capacity()).isZero();
        await().atMost(WAIT).until(() -> !c.readerAlive());
        assertThat(h2.connector.aborts()).isEqualTo(1);
        assertThat(c.close()).isFalse();
    }

    @Test
    void theServerClosingTheConnectionFailsOpenStreamsAndIsSeenWithoutASyscall() throws Exception {
        AtomicInteger phase = new AtomicInteger();
        server = Http2TestServer.tls(peer -> {
            peer.settings();
            peer.awaitRequest();
            phase.set(1);
            peer.close();
        });
        Http2Connection c = h2.open(server.port());
        Http2Stream s = c.newStream(get("/"), true, TIMEOUT);
        assertThatThrownBy(() -> s.awaitResponseHeaders(TIMEOUT)).isInstanceOf(EOFException.class)
                .hasMessageContaining("closed the HTTP/2 connection without GOAWAY while stream 1");
        await().atMost(WAIT).until(() -> c.liveness() == Liveness.CLOSED_BY_PEER);
        assertThat(c.capacity()).isZero();
        await().atMost(WAIT).until(() -> !c.readerAlive());
        assertThat(phase).hasValue(1);
    }

    @Test
    void rawBytesAreNotForAnHttp2Connection() throws Exception {
        server = Http2TestServer.tls(Http2TestServer.serving(""));
        Http2Connection c = h2.open(server.port());
        assertThatThrownBy(() -> c.read(ByteBuffer.allocate(1), TIMEOUT)).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("use newStream");
        assertThatThrownBy(() -> c.write(ByteBuffer.allocate(1), TIMEOUT)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> c.newStream(Http2Headers.of(":path", "/"), true, TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(":method");
        assertThatThrownBy(() -> c.newStream(get("/"), true, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void streamIdsRunOutAndTheCapacityDropsToZero() throws Exception {
        server = Http2TestServer.tls(Http2TestServer.serving("ok"));
        Http2Connection c = h2.open(server.port(), Http2Options.builder().firstStreamId(Integer.MAX_VALUE - 2).build());
        List<Integer> capacities = new CopyOnWriteArrayList<>();
        c.onCapacityChange(() -> capacities.add(c.capacity()));
        Http2Stream a = c.newStream(get("/"), true, TIMEOUT);
        assertThat(a.id()).isEqualTo(Integer.MAX_VALUE - 2);
        assertThat(c.capacity()).isPositive();
        Http2Stream b = c.newStream(get("/"), true, TIMEOUT);
        assertThat(b.id()).isEqualTo(Integer.MAX_VALUE);
        assertThat(c.capacity()).isZero();
        assertThat(capacities).containsExactly(0);
        assertThat(H2.body(a) + H2.body(b)).isEqualTo("okok");
        assertThatThrownBy(() -> c.newStream(get("/"), true, TIMEOUT))
                .isInstanceOfSatisfying(RequestNotProcessedException.class,
                        e -> assertThat(e.reason()).isEqualTo(RequestNotProcessedException.Reason.CONNECTION_CLOSING))
                .hasMessageContaining("stream ids are used up");
    }
}
