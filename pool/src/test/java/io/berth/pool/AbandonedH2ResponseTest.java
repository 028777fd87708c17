package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.CloseReason;
import io.berth.HttpProtocol;
import io.berth.TlsConfig;
import io.berth.pool.http.BerthClient;
import io.berth.pool.http.BerthRequest;
import io.berth.pool.http.BerthResponse;
import io.berth.pool.http.Cancellation;
import io.berth.transport.http2.Http2ErrorCode;
import io.berth.transport.http2.Http2Headers;
import io.berth.transport.http2.Http2Settings;
import io.berth.transport.testing.Http2TestServer.Frame;
import io.berth.transport.testing.Http2TestServer.Peer;
import io.berth.transport.testing.Http2TestServer;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.TestPki;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@link BerthResponse} over HTTP/2 dropped unclosed, against our scripted h2 server over real TLS:
 * once the GC collected it, the maintenance pass resets its stream (RST_STREAM CANCEL, seen by the
 * server), gives its exchange back (the connection carries the next request; with a stream limit of
 * one it could not otherwise) and reports it as for HTTP/1.1; a response still held, or one read to
 * its end, is left alone.
 */
@ExtendWith(Hygiene.class)
@Timeout(60)
class AbandonedH2ResponseTest {
    private static final byte[] PART = new byte[1000];

    private final List<Peer> peers = new CopyOnWriteArrayList<>();
    private Http2TestServer server;
    private BerthClient client;

    @AfterEach
    void stop() throws IOException {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
            assertThat(server.failures()).as("test server failures").isEmpty();
        }
    }

    /** A server whose {@code /open} sends a head and 1000 body bytes and never ends the stream. */
    private void serve(long... settings) throws IOException {
        server = Http2TestServer.tls(peer -> {
            peers.add(peer);
            peer.settings(settings);
            peer.eachRequest(r -> {
                if (r.headers().first(":path").equals("/open")) {
                    peer.headers(r.streamId(), Http2Headers.of(":status", "200"), false);
                    peer.data(r.streamId(), PART, false);
                } else {
                    peer.respond(r.streamId(), 200, "small");
                }
            });
        });
    }

    private LockFreeBackendPool connect(UnaryOperator<BackendPoolConfig.Builder> config) {
        Backend backend = Backend.builder().server("127.0.0.1", server.port()).protocols(HttpProtocol.HTTP_2)
                .tls(TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate())).build()).build();
        client = BerthClient.create(backend, config.apply(BackendPoolConfig.builder().name("test")).build());
        return (LockFreeBackendPool) client.pool();
    }

    private int inFlight() {
        return client.pool().stats().connections().get(0).inFlight();
    }

    private void awaitReclaimed(LockFreeBackendPool pool, long count) {
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            System.gc();
            pool.maintain(System.nanoTime());
            return pool.abandonedCount() == count;
        });
    }

    @Test
    @Hygiene.AllowWarnings
    void aDroppedResponseHasItsStreamResetAndItsExchangeGivenBackOnTheSameConnection() throws Exception {
        serve(Http2Settings.MAX_CONCURRENT_STREAMS, 1); // the dropped exchange holds all the capacity there is
        LockFreeBackendPool pool = connect(b -> b.maxConnections(1));
        try (LogCapture logs = new LogCapture(LockFreeBackendPool.class)) {
            int stream = dropUnclosed(null);
            assertThat(inFlight()).isEqualTo(1);
            awaitReclaimed(pool, 1);
            Frame rst = peers.get(0).awaitFrame(f -> f.type() == Frame.RST_STREAM && f.streamId() == stream,
                    Duration.ofSeconds(5));
            assertThat(rst).as("RST_STREAM of the dropped stream").isNotNull();
            assertThat(rst.value()).isEqualTo(Http2ErrorCode.CANCEL.code());
            assertThat(inFlight()).isZero();
            assertThat(client.pool().stats().inUse()).isZero();
            assertThat(logs.warnings()).singleElement().asString()
                    .contains("garbage-collected without being closed").contains("stream was reset");
        }
        try (BerthResponse r = client.send(BerthRequest.get("/small"))) {
            assertThat(r.bodyString()).isEqualTo("small");
            assertThat(r.connectionReused()).isTrue();
        }
        assertThat(server.accepted()).as("the connection went on").isEqualTo(1);
        assertThat(client.pool().stats().closed(CloseReason.BROKEN)).isZero();
        pool.maintain(System.nanoTime());
        assertThat(pool.streamWatches.size()).as("the finished exchange's watch dropped").isZero();
    }

    @Test
    @Hygiene.AllowWarnings
    void aDroppedResponseLetsItsCancellationServeTheNextExchange() throws Exception {
        serve();
        LockFreeBackendPool pool = connect(b -> b);
        Cancellation cancellation = Cancellation.create();
        dropUnclosed(cancellation);
        awaitReclaimed(pool, 1);
        try (BerthResponse r = client.send(BerthRequest.get("/small"), cancellation)) {
            assertThat(r.bodyString()).isEqualTo("small");
        }
        await().until(() -> inFlight() == 0);
    }

    @Test
    void heldAndFinishedResponsesAreLeftAlone() throws Exception {
        serve();
        LockFreeBackendPool pool = connect(b -> b);
        BerthResponse held = client.send(BerthRequest.get("/open"));
        for (int i = 0; i < 3; i++) {
            assertThat(client.send(BerthRequest.get("/small")).bodyString()).isEqualTo("small"); // read to the end
        }
        for (int i = 0; i < 3; i++) {
            System.gc();
            pool.maintain(System.nanoTime());
        }
        assertThat(pool.abandonedCount()).isZero();
        assertThat(pool.streamWatches.size()).as("only the held response is watched").isEqualTo(1);
        assertThat(inFlight()).isEqualTo(1);
        byte[] part = held.body().readNBytes(PART.length);
        assertThat(part).hasSize(PART.length);
        held.close();
        pool.maintain(System.nanoTime());
        assertThat(pool.streamWatches.size()).isZero();
        await().until(() -> inFlight() == 0);
        assertThat(server.accepted()).isEqualTo(1);
    }

    /** @return the id of the stream of a response read in part, then dropped unclosed */
    private int dropUnclosed(Cancellation cancellation) throws IOException {
        BerthResponse r = client.send(BerthRequest.get("/open"), cancellation);
        assertThat(r.body().read(new byte[10])).isPositive();
        return peers.get(0).frames().stream().filter(f -> f.type() == Frame.HEADERS).mapToInt(Frame::streamId)
                .max().orElseThrow();
        // r goes out of scope unclosed
    }
}
