package io.berth.pool.http2;

import static io.berth.pool.http2.RealServers.client;
import static io.berth.pool.http2.RealServers.rows;
import static io.berth.pool.http2.RealServers.testTls;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.CloseReason;
import io.berth.ConnectionStats;
import io.berth.HttpProtocol;
import io.berth.RequestNotRetriedException;
import io.berth.ResponseTimeoutException;
import io.berth.StreamResetException;
import io.berth.pool.http.BerthClient;
import io.berth.pool.http.BerthRequest;
import io.berth.pool.http.BerthResponse;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.NoDelayServerSocketFactory;
import io.berth.transport.testing.TestPki;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockResponseBody;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import okhttp3.Protocol;
import okio.BufferedSink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link BerthClient} over HTTP/2 against OkHttp's MockWebServer (h2 through ALPN, TLS from the test
 * PKI) and the faults it injects on a stream or its connection: REFUSED_STREAM, a reset before or in
 * the middle of a response, a connection cut in the middle of a body or as a request arrives, a GOAWAY
 * after a response, a stalled response. Each fails typed, or is retried exactly where the protocol
 * allows; what the server recorded (requests, bodies, on which connection) is the evidence; no broken
 * connection carries another request.
 */
@ExtendWith(Hygiene.class)
@Timeout(60)
class MockWebServerH2Test {
    private static final int REFUSED_STREAM = 0x7;
    private static final int INTERNAL_ERROR = 0x2;
    private static final int CANCEL = 0x8;

    private MockWebServer server;
    private BerthClient client;

    @BeforeEach
    void start() throws IOException {
        server = new MockWebServer();
        server.setServerSocketFactory(new NoDelayServerSocketFactory());
        server.useHttps(TestPki.server().context().getSocketFactory());
        server.setProtocols(List.of(Protocol.HTTP_2, Protocol.HTTP_1_1));
        server.start(InetAddress.getLoopbackAddress(), 0);
        client = client(server.getPort(), testTls().build(), b -> b.responseTimeout(Duration.ofSeconds(10)),
                HttpProtocol.HTTP_2);
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    private static MockResponse.Builder ok(String body) {
        return new MockResponse.Builder().body(body);
    }

    private List<RecordedRequest> recorded(int n) throws InterruptedException {
        List<RecordedRequest> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            RecordedRequest r = server.takeRequest(5, TimeUnit.SECONDS);
            assertThat(r).as("request %s of %s reached the server", i + 1, n).isNotNull();
            out.add(r);
        }
        assertThat(server.takeRequest(100, TimeUnit.MILLISECONDS)).as("no more request reached the server").isNull();
        return out;
    }

    private static String text(RecordedRequest r) {
        return r.getBody() == null ? "" : r.getBody().utf8();
    }

    @Test
    void aRefusedStreamIsSentAgainOnTheSameConnectionEvenAPost() throws Exception {
        server.enqueue(ok("").onResponseStart(new SocketEffect.CloseStream(REFUSED_STREAM)).build());
        server.enqueue(ok("created").code(201).build());
        try (BerthResponse r = client.send(BerthRequest.post("/orders", "text/plain", BerthRequest.Body.of("o-1")))) {
            assertThat(r.status()).isEqualTo(201);
            assertThat(r.bodyString()).isEqualTo("created");
        }
        List<RecordedRequest> seen = recorded(2);
        assertThat(seen).extracting(RecordedRequest::getMethod).containsExactly("POST", "POST");
        assertThat(seen).extracting(MockWebServerH2Test::text).containsExactly("o-1", "o-1");
        assertThat(seen).extracting(RecordedRequest::getConnectionIndex).as("the connection goes on").containsOnly(0);
        assertThat(rows(client).get(0).streams().resetsReceived()).isEqualTo(1);
    }

    @Test
    void aStreamResetWithAnErrorFailsTypedIsNotRetriedAndTheConnectionGoesOn() throws Exception {
        server.enqueue(ok("").onResponseStart(new SocketEffect.CloseStream(INTERNAL_ERROR)).build());
        server.enqueue(ok("next").build());
        assertThatThrownBy(() -> client.send(BerthRequest.get("/boom")))
                .isInstanceOfSatisfying(StreamResetException.class,
                        e -> assertThat(e.errorName()).isEqualTo("INTERNAL_ERROR"));
        try (BerthResponse r = client.send(BerthRequest.get("/next"))) {
            assertThat(r.bodyString()).isEqualTo("next");
            assertThat(r.connectionReused()).isTrue();
        }
        List<RecordedRequest> seen = recorded(2);
        assertThat(seen).extracting(RecordedRequest::getTarget).containsExactly("/boom", "/next");
        assertThat(seen).extracting(RecordedRequest::getConnectionIndex).containsOnly(0);
        assertThat(client.pool().stats().opened()).isEqualTo(1);
    }

    @Test
    void aResetInTheMiddleOfABodyIsNeverPassedOffAsComplete() throws Exception {
        server.enqueue(ok("x".repeat(100_000)).onResponseBody(new SocketEffect.CloseStream(CANCEL)).build());
        server.enqueue(ok("after").build());
        try (BerthResponse r = client.send(BerthRequest.get("/cut"))) {
            assertThat(r.status()).isEqualTo(200);
            assertThatThrownBy(r::bodyBytes).isInstanceOfSatisfying(StreamResetException.class,
                    e -> assertThat(e.errorName()).isEqualTo("CANCEL"));
        }
        try (BerthResponse r = client.send(BerthRequest.get("/after"))) {
            assertThat(r.bodyString()).isEqualTo("after");
        }
        assertThat(recorded(2)).extracting(RecordedRequest::getConnectionIndex).as("the connection goes on")
                .containsOnly(0);
    }

    /**
     * The cut is a close with unread bytes, so a reset, and a reset may erase what the client's TCP has
     * received but not yet read (RFC 9112 §9.6): cut before the client read the response head, the GET
     * would rightly be sent again on a new connection. So the server holds the body's first part until
     * the client has the head; the cut comes halfway (where MockWebServer applies the effect).
     */
    @Test
    void aConnectionCutInTheMiddleOfABodyIsNeverReused() throws Exception {
        CountDownLatch headRead = new CountDownLatch(1);
        server.enqueue(ok("").body(new HeldBody(100_000, 20_000, headRead))
                .onResponseBody(new SocketEffect.CloseSocket(true, false, false)).build());
        server.enqueue(ok("fresh").build());
        long read = 0;
        try (BerthResponse r = client.send(BerthRequest.get("/cut"))) {
            assertThat(r.connectionReused()).isFalse();
            headRead.countDown();
            InputStream in = r.body();
            byte[] buffer = new byte[8192];
            IOException failure = null;
            try {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    read += n;
                }
            } catch (IOException e) {
                failure = e;
            }
            assertThat(failure).as("a cut body fails; read %s of 100000 bytes", read).isNotNull();
        }
        assertThat(read).isLessThan(100_000);
        try (BerthResponse r = client.send(BerthRequest.get("/fresh"))) {
            assertThat(r.bodyString()).isEqualTo("fresh");
            assertThat(r.connectionReused()).isFalse();
        }
        assertThat(recorded(2)).extracting(RecordedRequest::getConnectionIndex).containsExactly(0, 1);
        ConnectionStats first = rows(client).stream().filter(c -> c.closeReason() != null).findFirst().orElseThrow();
        assertThat(first.closeReason()).isIn(CloseReason.BROKEN, CloseReason.CLOSED_BY_PEER);
        assertThat(client.pool().stats().opened()).isEqualTo(2);
    }

    /** {@code length} bytes of 'x': the first {@code held} flushed, the rest once {@code gate} opens (10 s at most). */
    private record HeldBody(long length, int held, CountDownLatch gate) implements MockResponseBody {
        @Override
        public long getContentLength() {
            return length;
        }

        @Override
        public void writeTo(BufferedSink sink) throws IOException {
            byte[] x = "x".repeat((int) length).getBytes(StandardCharsets.US_ASCII);
            sink.write(x, 0, held);
            sink.flush();
            try {
                if (!gate.await(10, TimeUnit.SECONDS)) {
                    throw new IOException("the client never read the response head");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException();
            }
            sink.write(x, held, x.length - held);
        }
    }

    @Test
    void afterAGoAwayTheNextRequestGoesToANewConnection() throws Exception {
        server.enqueue(ok("last").onResponseEnd(SocketEffect.ShutdownConnection.INSTANCE).build());
        server.enqueue(ok("fresh").build());
        try (BerthResponse r = client.send(BerthRequest.get("/last"))) {
            assertThat(r.bodyString()).isEqualTo("last");
        }
        // Sent before the GOAWAY arrives, the next request could race it: MockWebServer then takes the
        // stream (below its GOAWAY's last stream id) and fails it with PROTOCOL_ERROR, as its
        // shutdown refuses the response (a StreamResetException here, rightly not retried: the POST
        // may have been processed). Once the GOAWAY is in, nothing more may go on that connection.
        await().until(() -> client.pool().stats().connections().get(0).streams().goAway() != null);
        try (BerthResponse r = client.send(BerthRequest.post("/next", "text/plain", BerthRequest.Body.of("n-1")))) {
            assertThat(r.bodyString()).isEqualTo("fresh");
        }
        List<RecordedRequest> seen = recorded(2);
        assertThat(seen).extracting(RecordedRequest::getConnectionIndex).containsExactly(0, 1);
        assertThat(text(seen.get(1))).isEqualTo("n-1");
        await().until(() -> client.pool().stats().closedTotal() == 1);
        ConnectionStats first = rows(client).stream().filter(c -> c.closeReason() != null).findFirst().orElseThrow();
        assertThat(first.streams().goAway()).startsWith("GOAWAY(NO_ERROR");
    }

    /**
     * The cut is armed for the next stream to arrive, whatever its connection: with MockWebServer's
     * queue, a request sent again on a new connection could take the faulty response before the cut
     * connection's own bookkeeping dequeued it.
     */
    @Test
    void aConnectionClosedAsARequestArrivesSendsAGetOnceMoreAndAPostNever() throws Exception {
        AtomicReference<MockResponse> armed = new AtomicReference<>();
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                return ok("ok " + request.getTarget()).build();
            }

            @Override
            public MockResponse peek() {
                MockResponse fault = armed.getAndSet(null);
                return fault != null ? fault : super.peek();
            }
        });
        MockResponse cut = ok("").onRequestStart(new SocketEffect.CloseSocket(true, false, false)).build();
        assertThat(client.send(BerthRequest.get("/warm")).bodyString()).isEqualTo("ok /warm");
        armed.set(cut);
        assertThatThrownBy(() -> client.send(BerthRequest.post("/pay", "text/plain", BerthRequest.Body.of("p-1"))))
                .isInstanceOf(RequestNotRetriedException.class);
        assertThat(armed).as("the POST met the cut").hasValue(null);
        assertThat(client.send(BerthRequest.get("/warm")).bodyString()).isEqualTo("ok /warm");
        armed.set(cut);
        try (BerthResponse r = client.send(BerthRequest.get("/item"))) {
            assertThat(r.bodyString()).isEqualTo("ok /item");
        }
        assertThat(armed).as("the GET met the cut").hasValue(null);
        // MockWebServer records a request cut at its start without its head: the 2nd is the POST's only
        // attempt, on connection 0; the 4th and 5th are the GET's two, the second on a new connection
        List<RecordedRequest> seen = recorded(5);
        assertThat(seen).extracting(RecordedRequest::getConnectionIndex).containsExactly(0, 0, 1, 1, 2);
        assertThat(List.of(seen.get(0), seen.get(2), seen.get(4))).extracting(RecordedRequest::getTarget)
                .containsExactly("/warm", "/warm", "/item");
        assertThat(client.pool().stats().opened()).isEqualTo(3);
    }

    @Test
    void aStalledResponseTimesOutAndResetsItsStreamOnly() throws Exception {
        server.enqueue(ok("").onResponseStart(SocketEffect.Stall.INSTANCE).build());
        server.enqueue(ok("unaffected").build());
        long start = System.nanoTime();
        assertThatThrownBy(() -> client.send(BerthRequest.newBuilder("GET", "/stall")
                .responseTimeout(Duration.ofMillis(300)).build())).isInstanceOf(ResponseTimeoutException.class);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(300 + 2_000);
        try (BerthResponse r = client.send(BerthRequest.get("/next"))) {
            assertThat(r.bodyString()).isEqualTo("unaffected");
            assertThat(r.connectionReused()).isTrue();
        }
        assertThat(recorded(2)).extracting(RecordedRequest::getConnectionIndex).containsOnly(0);
        assertThat(rows(client).get(0).streams().resetsSent()).isEqualTo(1);
    }
}
