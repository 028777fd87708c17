package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.CloseReason;
import io.berth.HandshakeTimeoutException;
import io.berth.HttpProtocolException;
import io.berth.PoolStats;
import io.berth.PurgeScheduler;
import io.berth.RequestNotRetriedException;
import io.berth.ResponseTimeoutException;
import io.berth.ReusePolicy;
import io.berth.TlsConfig;
import io.berth.pool.http.BerthClient;
import io.berth.pool.http.BerthRequest;
import io.berth.pool.http.BerthResponse;
import io.berth.testing.ManualPurgeScheduler;
import io.berth.transport.testing.DelayRelay;
import io.berth.transport.testing.HttpTestServer.After;
import io.berth.transport.testing.HttpTestServer.Reply;
import io.berth.transport.testing.HttpTestServer;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.RawServer;
import io.berth.transport.testing.TestPki;
import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The fault matrix: one test per fault, against real TLS servers and our own faulty servers on
 * 127.0.0.1. Each says what the caller sees (a typed exception, within a bound), what the pool does
 * (the connection discarded and counted by reason), and, from the server's own count, that an
 * idempotent request was sent at most twice and a non-idempotent one never twice. The
 * {@link Hygiene} extension then checks descriptors, CLOSE_WAIT, threads and warnings.
 */
@ExtendWith(Hygiene.class)
@Timeout(30)
class FaultMatrixTest {
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

    private void serve(HttpTestServer.Handler handler) throws IOException {
        server = HttpTestServer.start(TestPki.server().context(), handler);
    }

    private BerthClient connect(int port, UnaryOperator<BackendPoolConfig.Builder> config) {
        return connect(port, TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate())).build(), config);
    }

    private BerthClient connect(int port, TlsConfig tls, UnaryOperator<BackendPoolConfig.Builder> config) {
        Backend backend = Backend.builder().server("127.0.0.1", port).tls(tls).build();
        client = BerthClient.create(backend, config.apply(BackendPoolConfig.builder().name("faults")).build());
        return client;
    }

    private String get(String target) throws IOException {
        try (BerthResponse r = client.send(BerthRequest.get(target))) {
            return r.bodyString();
        }
    }

    private String post(String target) throws IOException {
        try (BerthResponse r = client.send(BerthRequest.newBuilder("POST", target).body(BerthRequest.Body.of("p"))
                .build())) {
            return r.bodyString();
        }
    }

    private long received(String target) {
        return server.requests().stream().filter(r -> r.target().equals(target)).count();
    }

    private PoolStats stats() {
        return client.pool().stats();
    }

    private static void bounded(Duration max, ThrowingRunnable r) throws Exception {
        long start = System.nanoTime();
        r.run();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(max);
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }

    // ---------------------------------------------------------------- the server closes

    @Test
    void serverClosesAnIdleConnectionWithFin() throws Exception {
        server = HttpTestServer.start(TestPki.server().context(), r -> Reply.ok("ok"), Duration.ofMillis(200));
        connect(server.port(), b -> b);
        get("/a");
        await().until(() -> server.ends().size() == 1);
        // Noticed by the pool's maintenance (no CLOSE_WAIT pile-up), or at the latest before reuse.
        await().atMost(Duration.ofSeconds(3)).until(() -> stats().closed(CloseReason.CLOSED_BY_PEER) == 1);
        assertThat(get("/b")).isEqualTo("ok");
        assertThat(server.requests()).hasSize(2); // nothing needed a retry
    }

    @Test
    void serverClosesAtTheMomentOfReuseGetIsRetriedOncePostIsNotRetried() throws Exception {
        serve(r -> r.exchange() == 1 ? Reply.ok("").then(After.CLOSE_INSTEAD) : Reply.ok("ok"));
        connect(server.port(), b -> b.reusePolicy(ReusePolicy.ALWAYS));
        get("/warm");
        assertThat(get("/get")).isEqualTo("ok");
        assertThat(received("/get")).as("retried once, on a new connection").isEqualTo(2);
        get("/warm2");
        assertThatThrownBy(() -> post("/post")).isInstanceOf(RequestNotRetriedException.class);
        assertThat(received("/post")).as("never twice").isEqualTo(1);
        // Every second exchange of a connection was dropped: /get, /warm2 (both retried) and /post.
        assertThat(received("/warm2")).isEqualTo(2);
        assertThat(stats().closed(CloseReason.BROKEN)).isEqualTo(3);
    }

    @Test
    void serverClosesRightAfterTheResponseWithinValidateAfterIdleGetGoesToANewConnectionPostIsCheckedFirst()
            throws Exception {
        serve(r -> Reply.ok("ok").then(After.CLOSE));
        // A long validateAfterIdle: every reuse below counts as "moments after release"; and no
        // maintenance pass, which would notice the close on its own.
        connect(server.port(), b -> b.reusePolicy(ReusePolicy.ALWAYS).validateAfterIdle(Duration.ofMinutes(1))
                .purgeScheduler(new ManualPurgeScheduler()));
        assertThat(get("/a")).isEqualTo("ok");
        await().until(() -> server.ends().size() == 1);
        // No socket read before the GET: unless the close arrived with the response (then it is held,
        // and seen without a read), the GET is written on the dead connection, fails before any
        // response byte, and goes once to a new connection.
        assertThat(get("/b")).isEqualTo("ok");
        assertThat(received("/b")).isEqualTo(1);
        long broken = stats().closed(CloseReason.BROKEN);
        assertThat(broken + stats().closed(CloseReason.CLOSED_BY_PEER)).isEqualTo(1);
        await().until(() -> server.ends().size() == 2);
        // A POST is never written unchecked: the read finds the close, and a new connection carries it.
        assertThat(post("/p")).isEqualTo("ok");
        assertThat(received("/p")).isEqualTo(1);
        assertThat(stats().closed(CloseReason.BROKEN)).isEqualTo(broken);
        assertThat(stats().closed(CloseReason.CLOSED_BY_PEER)).isEqualTo(2 - broken);
        assertThat(server.connections()).isEqualTo(3);
    }

    @Test
    void serverClosesSilentlyAfterNRequests() throws Exception {
        serve(r -> r.exchange() == 2 ? Reply.ok("ok").then(After.CLOSE) : Reply.ok("ok"));
        connect(server.port(), b -> b);
        for (int i = 0; i < 10; i++) {
            assertThat(get("/" + i)).isEqualTo("ok");
            Thread.sleep(30);
        }
        assertThat(server.connections()).isEqualTo(4);
        assertThat(server.requests()).as("no request lost or repeated").hasSize(10);
    }

    @Test
    void serverSaysConnectionCloseAfterNRequests() throws Exception {
        serve(r -> r.exchange() == 2 ? Reply.ok("ok").header("Connection", "close") : Reply.ok("ok"));
        connect(server.port(), b -> b);
        for (int i = 0; i < 9; i++) {
            get("/" + i);
        }
        assertThat(server.connections()).isEqualTo(3);
        assertThat(stats().closed(CloseReason.NOT_REUSABLE)).isEqualTo(3);
    }

    @Test
    void serverResetsAnIdleConnection() throws Exception {
        serve(r -> Reply.ok("ok").then(After.RESET));
        connect(server.port(), b -> b);
        get("/a");
        await().until(() -> server.ends().size() == 1);
        Thread.sleep(50);
        assertThat(get("/b")).isEqualTo("ok");
        assertThat(server.requests()).hasSize(2);
        assertThat(stats().closed(CloseReason.CLOSED_BY_PEER)).isGreaterThanOrEqualTo(1);
    }

    @Test
    void serverResetsMidRequest() throws Exception {
        // The server resets as soon as it has read a head; the client is still writing a 4 MB body.
        try (RawServer raw = RawServer.start(socket -> {
            java.io.InputStream in = RawServer.tls(socket, TestPki.server().context()).getInputStream();
            RawServer.readHead(in);
            socket.setSoLinger(true, 0);
            socket.close();
        })) {
            connect(raw.port(), b -> b);
            byte[] big = new byte[4 << 20];
            assertThatThrownBy(() -> {
                try (BerthResponse r = client.send(BerthRequest.newBuilder("POST", "/upload")
                        .body(BerthRequest.Body.of(big)).build())) {
                    r.bodyBytes();
                }
            }).isInstanceOf(IOException.class).isNotInstanceOf(RequestNotRetriedException.class);
            assertThat(raw.accepted()).as("a fresh connection: not retried").isEqualTo(1);
            assertThat(stats().closed(CloseReason.BROKEN)).isEqualTo(1);
        }
    }

    @Test
    void serverResetsMidResponse() throws Exception {
        serve(r -> Reply.ok("x".repeat(10_000)).sendOnly(5_000).then(After.RESET));
        connect(server.port(), b -> b);
        assertThatThrownBy(() -> get("/a")).isInstanceOf(IOException.class);
        assertThat(received("/a")).as("response bytes had arrived: never retried").isEqualTo(1);
        assertThat(stats().closed(CloseReason.BROKEN)).isEqualTo(1);
        assertThat(stats().total()).isZero();
    }

    @Test
    void serverHalfClosesAfterAResponse() throws Exception {
        serve(r -> Reply.ok("ok").then(After.HALF_CLOSE));
        connect(server.port(), b -> b);
        assertThat(get("/a")).isEqualTo("ok");
        Thread.sleep(100);
        assertThat(get("/b")).isEqualTo("ok");
        assertThat(server.connections()).isEqualTo(2);
        assertThat(server.requests()).hasSize(2);
        assertThat(stats().closed(CloseReason.CLOSED_BY_PEER)).isGreaterThanOrEqualTo(1);
    }

    // ---------------------------------------------------------------- bad input

    @Test
    void garbageInsteadOfAResponseHead() throws Exception {
        serve(r -> Reply.raw("HELLO WORLD\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
        connect(server.port(), b -> b);
        assertThatThrownBy(() -> get("/a")).isInstanceOf(HttpProtocolException.class);
        assertThat(stats().closed(CloseReason.BROKEN)).isEqualTo(1);
        assertThat(received("/a")).isEqualTo(1);
    }

    @Test
    void oversizedResponseHead() throws Exception {
        serve(r -> Reply.ok("ok").header("X-Huge", "h".repeat(70_000)));
        connect(server.port(), b -> b);
        assertThatThrownBy(() -> get("/a")).isInstanceOf(HttpProtocolException.class).hasMessageContaining("65536");
        assertThat(stats().closed(CloseReason.BROKEN)).isEqualTo(1);
    }

    @Test
    void unsolicitedBytesOnAnIdleConnection() throws Exception {
        serve(r -> Reply.ok("ok").trailing("SURPRISE".getBytes(StandardCharsets.US_ASCII), Duration.ofMillis(50)));
        connect(server.port(), b -> b);
        assertThat(get("/a")).isEqualTo("ok");
        Thread.sleep(300);
        assertThat(get("/b")).isEqualTo("ok");
        assertThat(server.connections()).as("never reused after stray bytes").isEqualTo(2);
        assertThat(server.requests()).hasSize(2);
    }

    // ---------------------------------------------------------------- silence and slowness

    @Test
    void stalledHandshakeTimesOut() throws Exception {
        try (RawServer silent = RawServer.start(socket -> Thread.sleep(60_000))) {
            connect(silent.port(), TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate()))
                    .handshakeTimeout(Duration.ofMillis(300)).build(), b -> b.retries(1));
            bounded(Duration.ofSeconds(3), () -> assertThatThrownBy(() -> get("/a"))
                    .isInstanceOf(HandshakeTimeoutException.class));
            assertThat(stats().connectFailures()).as("timeouts are retried (retries = 1)").isEqualTo(2);
            assertThat(stats().total()).isZero();
        }
    }

    @Test
    void serverAcceptsButNeverAnswers() throws Exception {
        serve(r -> Reply.ok("late").delay(Duration.ofSeconds(5)));
        connect(server.port(), b -> b.responseTimeout(Duration.ofMillis(300)));
        bounded(Duration.ofSeconds(2), () -> assertThatThrownBy(() -> get("/a"))
                .isInstanceOf(ResponseTimeoutException.class).hasMessageContaining("127.0.0.1"));
        assertThat(received("/a")).as("a timeout is never retried").isEqualTo(1);
        assertThat(stats().closed(CloseReason.BROKEN)).isEqualTo(1);
    }

    @Test
    void slowBodyTimesOut() throws Exception {
        serve(r -> Reply.ok("x".repeat(1000)).pauseAfter(100, Duration.ofSeconds(3)));
        connect(server.port(), b -> b.responseTimeout(Duration.ofMillis(300)));
        try (BerthResponse r = client.send(BerthRequest.get("/a"))) {
            bounded(Duration.ofSeconds(2), () -> assertThatThrownBy(r::bodyBytes)
                    .isInstanceOf(ResponseTimeoutException.class));
        }
        assertThat(stats().closed(CloseReason.BROKEN)).isEqualTo(1);
    }

    @Test
    void aReadingCallerInterruptedGetsInterruptedIoExceptionAndTheConnectionIsDiscarded() throws Exception {
        serve(r -> Reply.ok("late").delay(Duration.ofSeconds(5)));
        connect(server.port(), b -> b);
        java.util.concurrent.CompletableFuture<Throwable> seen = new java.util.concurrent.CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                get("/slow");
                seen.complete(null);
            } catch (Throwable e) {
                seen.complete(Thread.currentThread().isInterrupted() ? e : new AssertionError("flag not set", e));
            }
        });
        reader.start();
        await().until(() -> received("/slow") == 1);
        reader.interrupt();
        assertThat(seen.get(5, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(java.io.InterruptedIOException.class);
        assertThat(stats().closed(CloseReason.BROKEN)).isEqualTo(1);
        assertThat(stats().inUse()).isZero();
    }

    @Test
    void connectRefusedIsRetriedThenReported() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        connect(port, b -> b.retries(2));
        bounded(Duration.ofSeconds(3), () -> assertThatThrownBy(() -> get("/a"))
                .isInstanceOf(ConnectException.class).hasMessageContaining(String.valueOf(port)));
        assertThat(stats().connectFailures()).isEqualTo(3);
        assertThat(stats().total()).isZero();
    }

    @Test
    void aFiftyMillisecondRelayInThePathIsJustSlower() throws Exception {
        serve(r -> Reply.ok("far"));
        try (DelayRelay relay = DelayRelay.start(server.port(), Duration.ofMillis(50))) {
            connect(relay.port(), b -> b);
            for (int i = 0; i < 5; i++) {
                long start = System.nanoTime();
                assertThat(get("/" + i)).isEqualTo("far");
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(100));
            }
            assertThat(server.connections()).isEqualTo(1);
            client.close();
        }
    }

    // ---------------------------------------------------------------- TLS

    private void tlsFailure(HeldCertificate leaf, Class<? extends Throwable> rootCause) throws Exception {
        tlsFailure(TestPki.server(leaf, TestPki.CA).context(),
                TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate())).build(), rootCause);
    }

    private void tlsFailure(javax.net.ssl.SSLContext serverTls, TlsConfig tls, Class<? extends Throwable> rootCause)
            throws Exception {
        server = HttpTestServer.start(serverTls, r -> Reply.ok("never"));
        connect(server.port(), tls, b -> b.retries(3));
        assertThatThrownBy(() -> get("/a")).isInstanceOf(SSLHandshakeException.class)
                .hasRootCauseInstanceOf(rootCause);
        assertThat(stats().connectFailures()).as("never retried").isEqualTo(1);
        assertThat(stats().total()).as("nothing pooled").isZero();
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void untrustedCa() throws Exception {
        server = HttpTestServer.start(TestPki.server(TestPki.SERVER_OF_OTHER_CA, TestPki.OTHER_CA).context(),
                r -> Reply.ok("never"));
        connect(server.port(), b -> b);
        assertThatThrownBy(() -> get("/a")).isInstanceOf(SSLHandshakeException.class)
                .hasRootCauseInstanceOf(CertPathBuilderException.class);
        assertThat(stats().connectFailures()).isEqualTo(1);
        assertThat(stats().total()).isZero();
    }

    @Test
    void wrongHost() throws Exception {
        tlsFailure(TestPki.WRONG_HOST, java.security.cert.CertificateException.class);
    }

    @Test
    void expiredCertificate() throws Exception {
        tlsFailure(TestPki.EXPIRED, CertificateExpiredException.class);
    }

    @Test
    void notYetValidCertificate() throws Exception {
        tlsFailure(TestPki.NOT_YET_VALID, CertificateNotYetValidException.class);
    }

    @Test
    void expiredPinnedCertificate() throws Exception {
        // Self-signed and trusted directly: the JDK checks nothing more of a trust anchor; Berth does.
        long now = System.currentTimeMillis();
        HeldCertificate pinned = new HeldCertificate.Builder().ecdsa256().addSubjectAlternativeName("127.0.0.1")
                .validityInterval(now - java.util.concurrent.TimeUnit.DAYS.toMillis(2),
                        now - java.util.concurrent.TimeUnit.DAYS.toMillis(1)).build();
        tlsFailure(new okhttp3.tls.HandshakeCertificates.Builder().heldCertificate(pinned).build().sslContext(),
                TlsConfig.builder().trustCertificates(List.of(pinned.certificate())).build(),
                CertificateExpiredException.class);
    }

    @Test
    void rsaKeyBelowTheFloor() throws Exception {
        java.security.KeyPairGenerator rsa = java.security.KeyPairGenerator.getInstance("RSA");
        rsa.initialize(1024);
        HeldCertificate weak = new HeldCertificate.Builder().signedBy(TestPki.CA).keyPair(rsa.generateKeyPair())
                .addSubjectAlternativeName("127.0.0.1").build();
        tlsFailure(weak, java.security.cert.CertificateException.class);
    }

    @Test
    void aServerClosingDuringTheHandshakeIsRetriedLikeARefusedConnect() throws Exception {
        java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
        try (RawServer flaky = RawServer.start(socket -> {
            if (accepted.incrementAndGet() == 1) {
                socket.getInputStream().read(new byte[512]); // the ClientHello, then a plain close (FIN)
                socket.close();
                return;
            }
            javax.net.ssl.SSLSocket tls = RawServer.tls(socket, TestPki.server().context());
            RawServer.readHead(tls.getInputStream());
            tls.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            tls.getOutputStream().flush();
            tls.getInputStream().read();
        })) {
            connect(flaky.port(), b -> b.retries(1));
            assertThat(get("/a")).isEqualTo("ok");
            assertThat(accepted.get()).isEqualTo(2);
            assertThat(stats().connectFailures()).as("an end of stream, not a TLS refusal: retried").isEqualTo(1);
        }
    }

    @Test
    void serverAbortsTheHandshake() throws Exception {
        try (RawServer abort = RawServer.start(socket -> {
            socket.getInputStream().read(new byte[512]); // the ClientHello, then a reset
            socket.setSoLinger(true, 0);
            socket.close();
        })) {
            connect(abort.port(), b -> b.retries(0));
            assertThatThrownBy(() -> get("/a")).isInstanceOfAny(SSLException.class, SocketException.class);
            assertThat(stats().total()).isZero();
        }
    }
}
