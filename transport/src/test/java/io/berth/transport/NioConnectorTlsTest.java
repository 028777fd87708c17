package io.berth.transport;

import static io.berth.transport.TestBackends.CONNECT_TIMEOUT;
import static io.berth.transport.TestBackends.https;
import static io.berth.transport.TestBackends.loopback;
import static io.berth.transport.TestBackends.trustingTestCa;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.Backend;
import io.berth.Server;
import io.berth.TlsConfig;
import io.berth.spi.Connection;
import io.berth.spi.Connection.Liveness;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.NoDelayServerSocketFactory;
import io.berth.transport.testing.ServerHelloTap;
import io.berth.transport.testing.TestPki;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** TLS connections against MockWebServer: reuse, SNI, resumption, post-handshake messages, close. */
@ExtendWith(Hygiene.class)
@Timeout(20)
class NioConnectorTlsTest {
    private TestPki.ServerTls serverTls;
    private MockWebServer server;

    @BeforeEach
    void start() throws Exception {
        serverTls = TestPki.server();
        server = newServer(serverTls);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static MockWebServer newServer(TestPki.ServerTls tls) throws Exception {
        MockWebServer s = new MockWebServer();
        s.setServerSocketFactory(new NoDelayServerSocketFactory());
        s.useHttps(tls.context().getSocketFactory());
        s.start(InetAddress.getLoopbackAddress(), 0);
        return s;
    }

    private void enqueue(int n, String body) {
        for (int i = 0; i < n; i++) {
            server.enqueue(new MockResponse.Builder().body(body).build());
        }
    }

    @Test
    void keepAliveExchangesShareOneConnection() throws Exception {
        enqueue(3, "hello");
        NioConnector connector = new NioConnector(https(server.getPort(), trustingTestCa().build()));
        Connection c = connector.connect(loopback(server.getPort()), CONNECT_TIMEOUT);
        try {
            assertThat(Http.get(c, "127.0.0.1")).isEqualTo("hello");
            assertThat(Http.get(c, "127.0.0.1")).isEqualTo("hello");
            c.write(java.nio.ByteBuffer.wrap(Http.request("127.0.0.1").getBytes()), Http.TIMEOUT);
            assertThat(Http.readResponse(c, Http.TIMEOUT, 32 * 1024)).isEqualTo("hello"); // straight into dst
        } finally {
            assertThat(c.close()).isTrue();
        }
        List<RecordedRequest> requests = List.of(server.takeRequest(), server.takeRequest(), server.takeRequest());
        assertThat(requests).extracting(RecordedRequest::getConnectionIndex).containsOnly(0);
        assertThat(requests).extracting(RecordedRequest::getExchangeIndex).containsExactly(0, 1, 2);
        assertThat(c.tlsProtocol()).isEqualTo("TLSv1.3");
        assertThat(c.describe()).matches("127\\.0\\.0\\.1:" + server.getPort() + " TLSv1\\.3 TLS_\\S+");
        assertThat(connector.gracefulCloses()).isEqualTo(1);
        assertThat(connector.aborts()).isZero();
    }

    @Test
    void secondConnectionResumesTheSessionAndSaysSo() throws Exception {
        enqueue(3, "x");
        try (ServerHelloTap tap = ServerHelloTap.start(server.getPort())) {
            NioConnector connector = new NioConnector(https(tap.port(), trustingTestCa().build()));
            List<Connection> connections = exchangeOnNewConnections(connector, tap.port(), 3);

            assertThat(connections).extracting(Connection::tlsSessionResumed).containsExactly(false, true, true);
            assertThat(connections.get(0).describe()).doesNotContain("resumed");
            assertThat(connections.get(1).describe())
                    .matches("127\\.0\\.0\\.1:" + tap.port() + " TLSv1\\.3 TLS_\\S+ resumed");
            // independent oracle: on the wire, the server accepted a pre-shared key on the 2nd and 3rd
            assertThat(tap.serverResumed()).containsExactly(false, true, true);
        }
    }

    @Test
    void sniProfileSendsExactlyTheConfiguredNameOnEveryConnection() throws Exception {
        enqueue(3, "x");
        NioConnector connector = new NioConnector(https(server.getPort(), trustingTestCa()
                .sniName("backend.test").build()));
        List<Connection> connections = exchangeOnNewConnections(connector, 3);

        assertThat(connections).extracting(Connection::tlsSessionResumed).containsExactly(false, true, true);
        for (int i = 0; i < 3; i++) {
            assertThat(server.takeRequest().getHandshakeServerNames()).as("connection %d", i)
                    .containsExactly("backend.test");
        }
    }

    @Test
    void noSniProfileNeverSendsSniNotEvenOnResumedConnections() throws Exception {
        enqueue(6, "x");
        // First an SNI profile to the same server, then the no-SNI one: contexts must not be shared.
        try (ServerHelloTap tap = ServerHelloTap.start(server.getPort())) {
            NioConnector withSni = new NioConnector(https(tap.port(), trustingTestCa()
                    .sniName("backend.test").verifyHostname("backend.test").build()));
            exchangeOnNewConnections(withSni, tap.port(), 2);
            NioConnector noSni = new NioConnector(https(tap.port(), trustingTestCa()
                    .sni(false).verifyHostname("backend.test").build()));
            List<Connection> connections = exchangeOnNewConnections(noSni, tap.port(), 3);

            assertThat(connections).extracting(Connection::tlsSessionResumed).containsExactly(false, true, true);
            assertThat(server.takeRequest().getHandshakeServerNames()).containsExactly("backend.test");
            assertThat(server.takeRequest().getHandshakeServerNames()).containsExactly("backend.test");
            for (int i = 0; i < 3; i++) {
                assertThat(server.takeRequest().getHandshakeServerNames()).as("no-SNI connection %d", i).isEmpty();
            }
            // the no-SNI profile made its own full handshake first: it did not resume the SNI session
            assertThat(tap.serverResumed()).containsExactly(false, true, false, true, true);
        }
    }

    @Test
    void serversSentDifferentSniNamesDoNotShareSessions() throws Exception {
        enqueue(4, "x");
        // One name verified for both; SNI "localhost" for one server and none for the IP literal. The
        // JDK caches sessions by verified name and port, and resumes with the session's SNI.
        try (ServerHelloTap tap = ServerHelloTap.start(server.getPort())) {
            Server byName = Server.of("localhost", tap.port());
            Server byIp = loopback(tap.port());
            Backend b = Backend.builder().server(byName).server(byIp)
                    .tls(trustingTestCa().verifyHostname("backend.test").build()).build();
            NioConnector connector = new NioConnector(b);
            List<Boolean> resumed = new ArrayList<>();
            for (Server s : List.of(byName, byIp, byName, byIp)) {
                Connection c = connector.connect(s, CONNECT_TIMEOUT);
                Http.get(c, "backend.test");
                c.close();
                resumed.add(c.tlsSessionResumed());
            }
            assertThat(server.takeRequest().getHandshakeServerNames()).containsExactly("localhost");
            assertThat(server.takeRequest().getHandshakeServerNames()).isEmpty();
            assertThat(server.takeRequest().getHandshakeServerNames()).containsExactly("localhost");
            assertThat(server.takeRequest().getHandshakeServerNames()).isEmpty();
            assertThat(resumed).containsExactly(false, false, true, true);
            assertThat(tap.serverResumed()).as("each server resumed its own session").containsExactly(false, false, true, true);
        }
    }

    @Test
    void newSessionTicketDoesNotMakeAnIdleConnectionLookDead() throws Exception {
        enqueue(1, "x");
        NioConnector connector = new NioConnector(https(server.getPort(), trustingTestCa().build()));
        Connection first = connector.connect(loopback(server.getPort()), CONNECT_TIMEOUT);
        try {
            // Right after the handshake the server's NewSessionTicket is on its way; only liveness() reads it.
            first.idle();
            TlsConnectionFaultTest.assertStaysAlive(first, Duration.ofMillis(300));
            assertThat(((TlsConnection) first).heldBuffers()).as("no pending bytes kept while idle").isZero();
            // It was read and processed, not ignored: the next connection resumes with that ticket.
            Connection second = connector.connect(loopback(server.getPort()), CONNECT_TIMEOUT);
            assertThat(second.tlsSessionResumed()).isTrue();
            second.close();
            // And after a response, the connection still looks alive.
            assertThat(Http.get(first, "127.0.0.1")).isEqualTo("x");
            first.idle();
            TlsConnectionFaultTest.assertStaysAlive(first, Duration.ofMillis(200));
        } finally {
            first.close();
        }
    }

    @Test
    void serverClosingAfterTheResponseIsSeenAsClosedByPeer() throws Exception {
        server.enqueue(new MockResponse.Builder().body("bye")
                .onResponseEnd(new SocketEffect.CloseSocket(true, false, false)).build());
        NioConnector connector = new NioConnector(https(server.getPort(), trustingTestCa().build()));
        Connection c = connector.connect(loopback(server.getPort()), CONNECT_TIMEOUT);
        assertThat(Http.get(c, "127.0.0.1")).isEqualTo("bye");
        c.idle();
        await().atMost(Duration.ofSeconds(3)).until(c::liveness, l -> l == Liveness.CLOSED_BY_PEER);
        c.close(); // and the Hygiene extension checks that nothing stays in CLOSE_WAIT
    }

    @Test
    void idleGivesTheBuffersBackAndTheNextExchangeTakesThemAgain() throws Exception {
        enqueue(2, "x");
        BufferPool pool = new BufferPool(8);
        BufferPool stages = new BufferPool(8, true);
        NioConnector connector = new NioConnector(https(server.getPort(), trustingTestCa().build()), null, pool,
                stages);
        TlsConnection c = (TlsConnection) connector.connect(loopback(server.getPort()), CONNECT_TIMEOUT);
        try {
            assertThat(Http.get(c, "127.0.0.1")).isEqualTo("x");
            int held = c.heldBuffers(); // netIn and netOut; appIn too if a record did not fit a 64-byte read
            assertThat(held).isBetween(2, 3);
            assertThat(c.heldStages()).as("the direct buffers the channel reads into and writes from").isEqualTo(2);
            c.idle();
            assertThat(c.heldBuffers()).isZero();
            assertThat(c.heldStages()).isZero();
            assertThat(pool.size()).isEqualTo(held);
            assertThat(stages.size()).isEqualTo(2);
            assertThat(Http.get(c, "127.0.0.1")).isEqualTo("x");
            assertThat(c.heldBuffers()).isBetween(2, 3);
            assertThat(pool.size()).as("taken again from the pool").isEqualTo(Math.max(0, held - c.heldBuffers()));
            assertThat(stages.size()).as("the stages taken again too").isZero();
            held = Math.max(held, c.heldBuffers());
            c.close();
            assertThat(pool.size()).isEqualTo(held);
            assertThat(stages.size()).as("given back on close").isEqualTo(2);
            stages.give(ByteBuffer.allocate(BufferPool.BUFFER_SIZE));
            assertThat(stages.size()).as("a direct pool takes no heap buffer").isEqualTo(2);
        } finally {
            c.close();
        }
    }

    @Test
    void aBodyLargerThanAStageGoesThroughItWholeBothWays() throws Exception {
        long timeout = TimeUnit.SECONDS.toNanos(10);
        // Several stage-fulls each way: 100,000 bytes up, as a request body, and 100,000 back.
        byte[] sent = new byte[100_000];
        for (int i = 0; i < sent.length; i++) {
            sent[i] = (byte) ('a' + i % 26);
        }
        server.enqueue(new MockResponse.Builder().body(new String(sent, StandardCharsets.US_ASCII)).build());
        BufferPool stages = new BufferPool(8, true);
        NioConnector connector = new NioConnector(https(server.getPort(), trustingTestCa().build()), null,
                new BufferPool(8), stages);
        Connection c = connector.connect(loopback(server.getPort()), CONNECT_TIMEOUT);
        try {
            String head = "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + sent.length + "\r\n\r\n";
            c.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)), timeout);
            c.write(ByteBuffer.wrap(sent), timeout);
            assertThat(server.takeRequest().getBody().toByteArray()).isEqualTo(sent);
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            ByteBuffer dst = ByteBuffer.allocate(40_000); // more than a stage holds
            int bodyStart = -1;
            while (bodyStart < 0 || got.size() - bodyStart < sent.length) {
                dst.clear();
                assertThat(c.read(dst, timeout)).isPositive();
                got.write(dst.array(), 0, dst.position());
                if (bodyStart < 0) {
                    int end = got.toString(StandardCharsets.US_ASCII).indexOf("\r\n\r\n");
                    bodyStart = end < 0 ? -1 : end + 4;
                }
            }
            byte[] all = got.toByteArray();
            assertThat(Arrays.copyOfRange(all, bodyStart, all.length)).isEqualTo(sent);
        } finally {
            c.close();
        }
        assertThat(stages.size()).isEqualTo(2);
    }

    @Test
    void aFailedHandshakeIsAnSslExceptionNamingTheServer() {
        server.enqueue(new MockResponse.Builder().failHandshake().build());
        NioConnector connector = new NioConnector(https(server.getPort(), trustingTestCa().build()));
        assertThatThrownBy(() -> connector.connect(loopback(server.getPort()), CONNECT_TIMEOUT))
                .isInstanceOf(SSLException.class)
                .satisfies(e -> assertThat(e.getSuppressed()).singleElement().extracting(Throwable::getMessage)
                        .asString().contains("127.0.0.1:" + server.getPort()));
    }

    @Test
    void aPemBundleTrustsEachOfItsCertificates() throws Exception {
        TlsConfig bundle = TlsConfig.builder()
                .trustPem(TestPki.OTHER_CA.certificatePem() + "\n" + TestPki.CA.certificatePem()).build();
        try (MockWebServer other = newServer(TestPki.server(TestPki.SERVER_OF_OTHER_CA, TestPki.OTHER_CA))) {
            enqueue(1, "ca");
            other.enqueue(new MockResponse.Builder().body("other").build());
            for (MockWebServer s : List.of(server, other)) {
                Backend b = https(s.getPort(), bundle);
                Connection c = new NioConnector(b).connect(b.server(), CONNECT_TIMEOUT);
                try {
                    assertThat(Http.get(c, "127.0.0.1")).isEqualTo(s == server ? "ca" : "other");
                } finally {
                    c.close();
                }
            }
        }
    }

    @Test
    void handshakeTasksMayRunOnAnExecutor() throws Exception {
        enqueue(1, "x");
        java.util.concurrent.ExecutorService tasks = java.util.concurrent.Executors.newSingleThreadExecutor();
        java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
        try {
            NioConnector connector = new NioConnector(https(server.getPort(), trustingTestCa().build()), task -> {
                ran.incrementAndGet();
                tasks.execute(task);
            });
            Connection c = connector.connect(loopback(server.getPort()), CONNECT_TIMEOUT);
            assertThat(ran).as("delegated tasks run on the executor").hasPositiveValue();
            assertThat(Http.get(c, "127.0.0.1")).isEqualTo("x");
            c.close();
        } finally {
            tasks.shutdown();
            assertThat(tasks.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        }
    }

    /** Opens n connections one after the other, each carrying one exchange, and closes them. */
    private List<Connection> exchangeOnNewConnections(NioConnector connector, int n) throws Exception {
        return exchangeOnNewConnections(connector, server.getPort(), n);
    }

    /** The same, to {@code port} (a {@link ServerHelloTap} in front of the server). */
    private static List<Connection> exchangeOnNewConnections(NioConnector connector, int port, int n)
            throws Exception {
        List<Connection> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Connection c = connector.connect(loopback(port), CONNECT_TIMEOUT);
            try {
                Http.get(c, "backend.test"); // reading the response also reads the session ticket
            } finally {
                c.close();
            }
            out.add(c);
        }
        return out;
    }
}
