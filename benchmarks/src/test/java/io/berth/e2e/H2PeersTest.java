package io.berth.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The end-to-end harness's peers against a real server that offers h2 and http/1.1 through ALPN
 * over TLS 1.3 (Jetty's, in this JVM, on 127.0.0.1), standing in for nginx: it answers {@code /} and
 * {@code /cold} as run.sh's nginx does, with the same {@code X-TLS} header (TLS protocol, cipher,
 * HTTP version, resumption). Each HTTP/2 peer, Berth's two ({@code berth-h2}, {@code berth-jdk-h2})
 * included, must be served over HTTP/2, each HTTP/1.1 peer over HTTP/1.1, by the check the harness
 * applies to every probe; and the harness's own bookkeeping of connections ({@link Sockets}) must
 * count real sockets.
 */
@Timeout(120)
class H2PeersTest {
    private static final int BODY = 100;

    @TempDir
    static Path dir;
    static Server server;
    static Target target;

    @BeforeAll
    static void start() throws Exception {
        HeldCertificate ca = new HeldCertificate.Builder().certificateAuthority(0).ecdsa256().build();
        HeldCertificate leaf = new HeldCertificate.Builder().signedBy(ca).addSubjectAlternativeName("127.0.0.1")
                .ecdsa256().build();
        Path caPem = Files.writeString(dir.resolve("ca.pem"), ca.certificatePem());
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setSslContext(new HandshakeCertificates.Builder().heldCertificate(leaf, ca.certificate()).build()
                .sslContext());
        ssl.setIncludeProtocols(Tls.PROTOCOL);

        HttpConfiguration config = new HttpConfiguration();
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        secure.setSniHostCheck(false); // clients connect to an IP address, without SNI
        config.addCustomizer(secure);
        HttpConnectionFactory http1 = new HttpConnectionFactory(config);
        HTTP2ServerConnectionFactory http2 = new HTTP2ServerConnectionFactory(config);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory();
        alpn.setDefaultProtocol(http1.getProtocol());
        server = new Server();
        ServerConnector connector = new ServerConnector(server, new SslConnectionFactory(ssl, alpn.getProtocol()),
                alpn, http2, http1);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new Answer());
        server.start();
        // One listener offers both, so the HTTP/1.1 and the h2 port are the same here.
        target = new Target("127.0.0.1", connector.getLocalPort(), connector.getLocalPort(), 0, caPem, BODY);
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.stop();
        }
    }

    /** {@code /} and {@code /cold}: a fixed body; {@code /cold} also names what the connection is. */
    private static final class Answer extends Handler.Abstract {
        private static final byte[] BODY_BYTES = "b".repeat(BODY).getBytes(StandardCharsets.US_ASCII);

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String path = Request.getPathInContext(request);
            if (!path.equals(Target.HOT_PATH) && !path.equals(Target.COLD_PATH)) {
                return false;
            }
            if (path.equals(Target.COLD_PATH)) {
                EndPoint.SslSessionData tls = (EndPoint.SslSessionData) request.getAttribute(
                        EndPoint.SslSessionData.ATTRIBUTE);
                // As nginx's "$ssl_protocol $ssl_cipher $server_protocol $ssl_session_reused".
                response.getHeaders().put(Target.TLS_HEADER, tls.sslSession().getProtocol() + " "
                        + tls.cipherSuite() + " " + request.getConnectionMetaData().getHttpVersion().asString() + " .");
            }
            response.setStatus(200);
            response.write(true, ByteBuffer.wrap(BODY_BYTES), callback);
            return true;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"berth-h2", "berth-jdk-h2", "okhttp-h2", "jdk-h2", "jetty-h2", "berth", "berth-jdk",
        "okhttp", "jdk", "jetty", "apache"})
    void eachPeerIsServedOverTheVersionItIsMeantToSpeak(String name) throws Exception {
        Peer peer = Peer.named(name);
        assertThat(peer.h2()).isEqualTo(name.endsWith("-h2"));
        try (Client client = peer.pooled(peer.targetOf(target), 4)) {
            String negotiated = client.getTls();
            E2eBenchmark.checkNegotiated(peer, negotiated); // what the harness checks of every probe
            assertThat(Target.httpVersion(negotiated)).isEqualTo(peer.h2() ? Target.HTTP_2 : Target.HTTP_1_1);
            // Four callers at once on the one client, as the closed loop drives it: every response checked.
            ExecutorService callers = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    done.add(callers.submit(() -> {
                        for (int j = 0; j < 25; j++) {
                            client.get();
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                callers.shutdownNow();
            }
        }
    }

    /**
     * The clients each caller owns: the floors, over {@code SSLSocket} and over {@code SSLEngine} with
     * a {@code SocketChannel}, and Berth's transport and codec without its pool
     * ({@code berth-transport}): each speaks HTTP/1.1 over TLS 1.3 and reads every response whole on
     * one connection (a short or malformed one fails {@code get()}).
     */
    @ParameterizedTest
    @ValueSource(strings = {"floor", "floor-nio", "berth-transport"})
    void eachCallersOwnClientReadsEveryResponseOnOneConnection(String name) throws Exception {
        Peer peer = Peer.named(name);
        assertThat(peer.clientPerCaller()).isTrue();
        Set<Long> before = Sockets.established(target.port());
        try (Client client = peer.pooled(target, 1)) {
            String negotiated = client.getTls();
            E2eBenchmark.checkNegotiated(peer, negotiated);
            assertThat(Target.httpVersion(negotiated)).isEqualTo(Target.HTTP_1_1);
            for (int i = 0; i < 200; i++) {
                client.get();
            }
            if (before != null) { // Linux: the connections the client opened and holds
                assertThat(Sockets.openedBetween(before, Sockets.established(target.port()))).hasSize(1);
            }
        }
    }

    /**
     * {@code berth-transport} without a pool does what the pool would: a connection the server closes
     * after its response ({@code Connection: close}) is not used again, and the next request opens
     * another. The server here is a TLS socket that answers one request per connection, so a caller
     * that kept the connection would fail its second request.
     */
    @Test
    void berthTransportOpensAnotherConnectionWhenTheServerClosesOne() throws Exception {
        HeldCertificate ca = new HeldCertificate.Builder().certificateAuthority(0).ecdsa256().build();
        HeldCertificate leaf = new HeldCertificate.Builder().signedBy(ca).addSubjectAlternativeName("127.0.0.1")
                .ecdsa256().build();
        Path caPem = Files.writeString(dir.resolve("close-ca.pem"), ca.certificatePem());
        javax.net.ssl.SSLServerSocketFactory factory = new HandshakeCertificates.Builder()
                .heldCertificate(leaf, ca.certificate()).build().sslContext().getServerSocketFactory();
        byte[] response = ("HTTP/1.1 200 OK\r\nContent-Length: " + BODY + "\r\nConnection: close\r\n\r\n"
                + "b".repeat(BODY)).getBytes(StandardCharsets.US_ASCII);
        ExecutorService serving = Executors.newSingleThreadExecutor();
        try (ServerSocket listener = factory.createServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            Future<Integer> accepted = serving.submit(() -> {
                int n = 0;
                while (n < 3) {
                    try (Socket s = listener.accept()) {
                        n++;
                        byte[] head = new byte[4096];
                        int len = 0;
                        while (len < 4 || !new String(head, len - 4, 4, StandardCharsets.US_ASCII).equals("\r\n\r\n")) {
                            int r = s.getInputStream().read(head, len, head.length - len);
                            if (r < 0) {
                                break;
                            }
                            len += r;
                        }
                        s.getOutputStream().write(response);
                        s.getOutputStream().flush();
                    }
                }
                return n;
            });
            Target closing = new Target("127.0.0.1", listener.getLocalPort(), listener.getLocalPort(), 0, caPem, BODY);
            try (Client client = Peer.named("berth-transport").pooled(closing, 1)) { // its first request
                client.get();
                client.get();
            }
            assertThat(accepted.get(30, TimeUnit.SECONDS)).isEqualTo(3);
        } finally {
            serving.shutdownNow();
        }
    }

    @Test
    void theProbeCheckRefusesTheWrongVersionOrTls() throws IOException {
        Peer h2 = Peer.named("okhttp-h2");
        Peer h1 = Peer.named("okhttp");
        E2eBenchmark.checkNegotiated(h2, "TLSv1.3 TLS_AES_128_GCM_SHA256 HTTP/2.0 .");
        E2eBenchmark.checkNegotiated(h1, "TLSv1.3 TLS_AES_128_GCM_SHA256 HTTP/1.1 r");
        assertThatThrownBy(() -> E2eBenchmark.checkNegotiated(h2, "TLSv1.3 TLS_AES_128_GCM_SHA256 HTTP/1.1 ."))
                .isInstanceOf(IOException.class).hasMessageStartingWith("served over HTTP/1.1, not HTTP/2.0");
        assertThatThrownBy(() -> E2eBenchmark.checkNegotiated(h1, "TLSv1.3 TLS_AES_128_GCM_SHA256 HTTP/2.0 ."))
                .isInstanceOf(IOException.class).hasMessageStartingWith("served over HTTP/2.0, not HTTP/1.1");
        assertThatThrownBy(() -> E2eBenchmark.checkNegotiated(h2, "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 HTTP/2.0 ."))
                .isInstanceOf(IOException.class).hasMessageContaining("not TLSv1.3");
        // nginx's header before the HTTP version was added to it: no version, so no h2 either.
        assertThatThrownBy(() -> E2eBenchmark.checkNegotiated(h2, "TLSv1.3 TLS_AES_128_GCM_SHA256 ."))
                .isInstanceOf(IOException.class).hasMessageStartingWith("served over null");
        assertThatThrownBy(() -> E2eBenchmark.checkNegotiated(h1, null)).isInstanceOf(IOException.class);
    }

    @Test
    void socketsTellTheConnectionsOpenedAndStillEstablished() throws IOException {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "Linux's /proc/net/tcp");
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = listener.getLocalPort();
            Set<Long> before = Sockets.established(port);
            assertThat(before).isEmpty();
            Socket[] clients = new Socket[3];
            Socket[] accepted = new Socket[3];
            try {
                for (int i = 0; i < clients.length; i++) {
                    clients[i] = new Socket(listener.getInetAddress(), port);
                    accepted[i] = listener.accept();
                }
                Set<Long> three = Sockets.established(port);
                assertThat(Sockets.openedBetween(before, three)).hasSize(3); // the server's own sides do not count
                clients[0].close(); // FIN sent: no longer established on this side
                Set<Long> two = Sockets.established(port);
                assertThat(two).hasSize(2);
                assertThat(Sockets.openedBetween(three, two)).isEmpty();
                assertThat(Sockets.openedBetween(null, two)).isNull();
            } finally {
                for (Socket s : concat(clients, accepted)) {
                    if (s != null) {
                        s.close();
                    }
                }
            }
        }
    }

    private static List<Socket> concat(Socket[] a, Socket[] b) {
        List<Socket> all = new ArrayList<>(Arrays.asList(a));
        all.addAll(Arrays.asList(b));
        return all;
    }
}
