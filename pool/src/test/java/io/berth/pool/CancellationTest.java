package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.CloseReason;
import io.berth.TlsConfig;
import io.berth.pool.http.BerthClient;
import io.berth.pool.http.BerthRequest;
import io.berth.pool.http.BerthResponse;
import io.berth.pool.http.Cancellation;
import io.berth.transport.testing.HttpTestServer.Reply;
import io.berth.transport.testing.HttpTestServer;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.RawServer;
import io.berth.transport.testing.TestPki;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link BerthClient#send(BerthRequest, Cancellation)}: cancel before, during and after an exchange. */
@ExtendWith(Hygiene.class)
@Timeout(30)
class CancellationTest {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private HttpTestServer server;
    private RawServer raw;
    private BerthClient client;

    @AfterEach
    void stop() throws Exception {
        timer.shutdownNow();
        assertThat(timer.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
            assertThat(server.failures()).isEmpty();
        }
        if (raw != null) {
            raw.close();
        }
    }

    private BerthClient connect(int port) {
        Backend backend = Backend.builder().server("127.0.0.1", port)
                .tls(TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate())).build()).build();
        client = BerthClient.create(backend, BackendPoolConfig.builder().name("cancel").build());
        return client;
    }

    @Test
    void aCancelBeforeTheSendFailsItWithoutTouchingTheNetwork() throws Exception {
        server = HttpTestServer.start(TestPki.server().context(), r -> Reply.ok("ok"));
        connect(server.port());
        Cancellation c = Cancellation.create();
        c.cancel();
        assertThatThrownBy(() -> client.send(BerthRequest.get("/"), c))
                .isInstanceOf(InterruptedIOException.class).hasMessageContaining("GET / to")
                .hasMessageEndingWith("canceled");
        assertThat(server.connections()).isZero();
        assertThat(c.isCanceled()).isTrue();
    }

    @Test
    void aCancelWhileTheHeadIsAwaitedAbortsTheConnectionPromptlyAndIsNotRetried() throws Exception {
        server = HttpTestServer.start(TestPki.server().context(),
                r -> r.target().equals("/slow") ? Reply.ok("late").delay(Duration.ofSeconds(3)) : Reply.ok("ok"));
        connect(server.port());
        try (BerthResponse r = client.send(BerthRequest.get("/"))) {
            r.bodyBytes(); // connection 0 is now a reused one: a plain failure there would be retried
        }
        Cancellation c = Cancellation.create();
        timer.schedule(c::cancel, 200, TimeUnit.MILLISECONDS);
        long start = System.nanoTime();
        assertThatThrownBy(() -> client.send(BerthRequest.get("/slow"), c))
                .isInstanceOf(InterruptedIOException.class)
                .hasCauseInstanceOf(IOException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2500));
        assertThat(server.requests()).filteredOn(r -> r.target().equals("/slow")).hasSize(1);
        assertThat(client.pool().stats().closed(CloseReason.BROKEN)).isEqualTo(1);
        await().until(() -> server.ends().size() == 1);
        assertThat(server.ends().get(0)).isEqualTo(HttpTestServer.End.CLIENT_RESET);
    }

    @Test
    void aCancelWhileTheBodyIsReadFailsTheReadAndDiscardsTheConnection() throws Exception {
        CountDownLatch ended = new CountDownLatch(1);
        AtomicReference<Class<?>> end = new AtomicReference<>();
        raw = RawServer.start(s -> stallAfterPartOfTheBody(s, ended, end));
        connect(raw.port());
        Cancellation c = Cancellation.create();
        BerthResponse r = client.send(BerthRequest.get("/stall"), c);
        InputStream body = r.body();
        assertThat(body.readNBytes(5)).isEqualTo("01234".getBytes(StandardCharsets.US_ASCII));
        timer.schedule(c::cancel, 200, TimeUnit.MILLISECONDS);
        long start = System.nanoTime();
        assertThatThrownBy(() -> body.readNBytes(100)).isInstanceOf(IOException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2500));
        r.close();
        assertThat(client.pool().stats().closed(CloseReason.BROKEN)).isEqualTo(1);
        assertThat(client.pool().stats().total()).isZero();
        assertThat(client.pool().stats().aborted()).isEqualTo(1);
        assertThat(ended.await(5, TimeUnit.SECONDS)).as("the server saw the connection end").isTrue();
    }

    /** Answers with a head promising 100,000 bytes, sends 10 of them, then waits for the client to go away. */
    static void stallAfterPartOfTheBody(java.net.Socket s, CountDownLatch ended, AtomicReference<Class<?>> end)
            throws IOException {
        SSLSocket tls = RawServer.tls(s, TestPki.server().context());
        InputStream in = tls.getInputStream();
        RawServer.readHead(in);
        OutputStream out = tls.getOutputStream();
        out.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n0123456789".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        try {
            while (in.read() >= 0) {
                // wait for the end
            }
            end.set(Void.class);
        } catch (IOException e) {
            end.set(e.getClass());
        } finally {
            ended.countDown();
            tls.close();
        }
    }

    @Test
    void aCancelAfterTheExchangeEndedLeavesThePooledConnectionAlone() throws Exception {
        server = HttpTestServer.start(TestPki.server().context(), r -> Reply.ok("ok " + r.exchange()));
        connect(server.port());
        Cancellation c = Cancellation.create();
        try (BerthResponse r = client.send(BerthRequest.get("/"), c)) {
            assertThat(r.bodyString()).isEqualTo("ok 0");
        }
        c.cancel(); // the connection is idle in the pool by now: not ours to abort
        try (BerthResponse r = client.send(BerthRequest.get("/"))) {
            assertThat(r.bodyString()).isEqualTo("ok 1");
            assertThat(r.connectionReused()).isTrue();
        }
        assertThat(server.connections()).isEqualTo(1);
        assertThatThrownBy(() -> client.send(BerthRequest.get("/"), c)).isInstanceOf(InterruptedIOException.class);
        assertThat(server.requests()).hasSize(2);
    }

    @Test
    void oneCancellationServesSeveralExchangesInARow() throws Exception {
        // A body over 16 KiB stays on its connection (a smaller one is taken with its head, ending the exchange).
        String large = "x".repeat(20_000);
        server = HttpTestServer.start(TestPki.server().context(),
                r -> Reply.ok(r.target().equals("/large") ? large : "ok"));
        connect(server.port());
        Cancellation c = Cancellation.create();
        for (int i = 0; i < 3; i++) {
            try (BerthResponse r = client.send(BerthRequest.get(i == 1 ? "/large" : "/"), c)) {
                assertThat(r.bodyString()).isEqualTo(i == 1 ? large : "ok");
            }
        }
        BerthResponse open = client.send(BerthRequest.get("/large"), c);
        assertThatThrownBy(() -> client.send(BerthRequest.get("/"), c)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("one exchange at a time");
        open.close();
        assertThat(server.requests()).hasSize(4);
    }
}
