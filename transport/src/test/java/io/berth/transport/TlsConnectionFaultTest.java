package io.berth.transport;

import static io.berth.transport.TestBackends.CONNECT_TIMEOUT;
import static io.berth.transport.TestBackends.https;
import static io.berth.transport.TestBackends.loopback;
import static io.berth.transport.TestBackends.trustingTestCa;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.ResponseTimeoutException;
import io.berth.spi.Connection;
import io.berth.spi.Connection.Liveness;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.RawServer;
import io.berth.transport.testing.TestPki;
import io.berth.transport.testing.TlsEnginePeer;
import java.io.EOFException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * TLS connections against small raw servers doing what MockWebServer cannot: close_notify without
 * FIN, FIN without close_notify, resets, stray bytes, KeyUpdate, truncation, silence.
 */
@ExtendWith(Hygiene.class)
@Timeout(20)
class TlsConnectionFaultTest {
    private static final SSLContext SERVER_TLS = TestPki.server().context();
    private static final String BODY = "0123456789".repeat(10);
    private static final long SHORT = TimeUnit.MILLISECONDS.toNanos(300);
    /** Slack on top of a timeout: scheduling on a loaded 2-core machine. */
    private static final long SLACK_MS = 1_000;

    private RawServer server;
    private NioConnector connector;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private Connection connect(RawServer.Handler handler) throws Exception {
        server = RawServer.start(handler);
        connector = new NioConnector(https(server.port(), trustingTestCa().build()));
        return connector.connect(loopback(server.port()), CONNECT_TIMEOUT);
    }

    /** Handshakes, answers one request, then does {@code after} with the TLS and the raw socket. */
    private interface AfterResponse {
        void run(SSLSocket tls, Socket raw) throws Exception;
    }

    private Connection connectAndExchange(AfterResponse after) throws Exception {
        Connection c = connect(raw -> {
            SSLSocket tls = RawServer.tls(raw, SERVER_TLS);
            RawServer.readHead(tls.getInputStream());
            tls.getOutputStream().write(RawServer.response(BODY));
            tls.getOutputStream().flush();
            after.run(tls, raw);
            tls.getInputStream().read(); // until the client goes
        });
        assertThat(Http.get(c, "127.0.0.1")).isEqualTo(BODY);
        c.idle();
        return c;
    }

    @Test
    void closeNotifyWithoutFinIsClosedByPeer() throws Exception {
        CountDownLatch closeNotifySent = new CountDownLatch(1);
        Connection c = connect(raw -> {
            TlsEnginePeer peer = new TlsEnginePeer(raw, SERVER_TLS);
            assertThat(peer.read(Http.request("127.0.0.1").length())).isNull();
            peer.write(RawServer.response(BODY));
            peer.closeNotify(); // and no FIN: the socket stays open until the client closes it
            closeNotifySent.countDown();
            peer.awaitEnd();
        });
        try {
            assertThat(Http.get(c, "127.0.0.1")).isEqualTo(BODY);
            c.idle();
            assertThat(closeNotifySent.await(5, TimeUnit.SECONDS)).isTrue();
            await().atMost(Duration.ofSeconds(3)).until(c::liveness, l -> l == Liveness.CLOSED_BY_PEER);
            assertThat(c.read(ByteBuffer.allocate(10), SHORT)).as("a close_notify is end of stream").isEqualTo(-1);
        } finally {
            c.close();
        }
    }

    @Test
    void finWithoutCloseNotifyIsClosedByPeer() throws Exception {
        Connection c = connectAndExchange((tls, raw) -> raw.shutdownOutput());
        try {
            await().atMost(Duration.ofSeconds(3)).until(c::liveness, l -> l == Liveness.CLOSED_BY_PEER);
        } finally {
            c.close();
        }
    }

    @Test
    void bufferedLivenessDoesNotReadTheSocket() throws Exception {
        CountDownLatch finSent = new CountDownLatch(1);
        Connection c = connectAndExchange((tls, raw) -> {
            raw.shutdownOutput();
            finSent.countDown();
        });
        try {
            assertThat(finSent.await(5, TimeUnit.SECONDS)).isTrue();
            Thread.sleep(50); // the FIN is in the client's socket by now (loopback)
            assertThat(c.bufferedLiveness()).as("what the connection holds: nothing yet").isEqualTo(Liveness.ALIVE);
            assertThat(c.liveness()).as("a read finds the FIN").isEqualTo(Liveness.CLOSED_BY_PEER);
        } finally {
            c.close();
        }
    }

    @Test
    void bufferedLivenessOfAClosedConnectionIsClosedByPeer() throws Exception {
        Connection c = connectAndExchange((tls, raw) -> { });
        c.close();
        assertThat(c.bufferedLiveness()).isEqualTo(Liveness.CLOSED_BY_PEER);
    }

    @Test
    void resetOfAnIdleConnectionIsClosedByPeer() throws Exception {
        Connection c = connectAndExchange((tls, raw) -> {
            raw.setSoLinger(true, 0);
            raw.close();
        });
        try {
            await().atMost(Duration.ofSeconds(3)).until(c::liveness, l -> l == Liveness.CLOSED_BY_PEER);
        } finally {
            c.close();
        }
    }

    @Test
    void strayBytesOnAnIdleConnectionAreUnexpectedData() throws Exception {
        Connection c = connectAndExchange((tls, raw) -> {
            tls.getOutputStream().write("HTTP/1.1 200 OK\r\n".getBytes(StandardCharsets.US_ASCII));
            tls.getOutputStream().flush();
        });
        try {
            await().atMost(Duration.ofSeconds(3)).until(c::liveness, l -> l == Liveness.UNEXPECTED_DATA);
            assertThat(c.liveness()).as("still there on a second look").isEqualTo(Liveness.UNEXPECTED_DATA);
        } finally {
            c.close();
        }
    }

    @Test
    void keyUpdateOnAnIdleConnectionIsNeitherDataNorEndOfStream() throws Exception {
        CountDownLatch keyUpdateSent = new CountDownLatch(1);
        Connection c = connect(raw -> {
            SSLSocket tls = RawServer.tls(raw, SERVER_TLS);
            for (int i = 0; i < 2; i++) {
                RawServer.readHead(tls.getInputStream());
                tls.getOutputStream().write(RawServer.response(BODY));
                tls.getOutputStream().flush();
                if (i == 0) {
                    tls.startHandshake(); // TLS 1.3: sends a KeyUpdate asking for ours in return
                    keyUpdateSent.countDown();
                }
            }
            tls.getInputStream().read();
        });
        try {
            assertThat(Http.get(c, "127.0.0.1")).isEqualTo(BODY);
            c.idle();
            assertThat(keyUpdateSent.await(5, TimeUnit.SECONDS)).isTrue();
            assertStaysAlive(c, Duration.ofMillis(300));
            assertThat(Http.get(c, "127.0.0.1")).as("the next exchange, under the new keys").isEqualTo(BODY);
            assertThat(server.failures()).isEmpty();
        } finally {
            c.close();
        }
    }

    @Test
    void resetMidBodyIsASocketExceptionNamingTheServer() throws Exception {
        Connection c = connect(raw -> {
            answerAllButTheLast50Bytes(raw);
            raw.setSoLinger(true, 0);
            raw.close();
        });
        try {
            assertThatThrownBy(() -> Http.get(c, "127.0.0.1"))
                    .isInstanceOf(SocketException.class)
                    .hasMessageContaining("127.0.0.1:" + server.port());
        } finally {
            c.abort();
        }
    }

    @Test
    void finMidBodyIsEndOfStreamBeforeTheResponseIsComplete() throws Exception {
        Connection c = connect(raw -> {
            answerAllButTheLast50Bytes(raw);
            raw.shutdownOutput(); // no close_notify: the HTTP framing has to notice
            raw.getInputStream().read();
        });
        try {
            // Http.readResponse throws EOFException exactly when Connection.read returned -1 early.
            assertThatThrownBy(() -> Http.get(c, "127.0.0.1")).isExactlyInstanceOf(EOFException.class);
        } finally {
            c.close();
        }
    }

    @Test
    void finInTheMiddleOfATlsRecordIsAnEofExceptionNamingTheServer() throws Exception {
        Connection c = connect(raw -> {
            RawServer.readHead(RawServer.tls(raw, SERVER_TLS).getInputStream());
            OutputStream out = raw.getOutputStream(); // below TLS: the header of a 64-byte record, then 10 bytes
            out.write(new byte[] {23, 3, 3, 0, 64, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
            out.flush();
            raw.shutdownOutput();
            raw.getInputStream().read();
        });
        try {
            assertThatThrownBy(() -> Http.get(c, "127.0.0.1"))
                    .isExactlyInstanceOf(EOFException.class)
                    .hasMessageContaining("127.0.0.1:" + server.port())
                    .hasMessageContaining("TLS record");
        } finally {
            c.abort();
        }
    }

    @Test
    void aRecordThatDoesNotDecryptIsAnSslExceptionNamingTheServer() throws Exception {
        Connection c = connect(raw -> {
            RawServer.readHead(RawServer.tls(raw, SERVER_TLS).getInputStream());
            byte[] record = new byte[5 + 64];
            record[0] = 23;
            record[1] = 3;
            record[2] = 3;
            record[4] = 64;
            raw.getOutputStream().write(record);
            raw.getOutputStream().flush();
            raw.getInputStream().read();
        });
        try {
            assertThatThrownBy(() -> Http.get(c, "127.0.0.1"))
                    .isInstanceOf(SSLException.class)
                    .satisfies(e -> assertThat(e.getSuppressed()).singleElement().extracting(Throwable::getMessage)
                            .asString().contains("127.0.0.1:" + server.port()));
        } finally {
            c.abort();
        }
    }

    @Test
    void aSilentServerGivesAResponseTimeoutWithinItsBound() throws Exception {
        Connection c = connect(raw -> {
            SSLSocket tls = RawServer.tls(raw, SERVER_TLS);
            RawServer.readHead(tls.getInputStream());
            tls.getInputStream().read(); // never answers
        });
        try {
            c.write(ByteBuffer.wrap(Http.request("127.0.0.1").getBytes(StandardCharsets.US_ASCII)), Http.TIMEOUT);
            long start = System.nanoTime();
            assertThatThrownBy(() -> c.read(ByteBuffer.allocate(100), SHORT))
                    .isInstanceOf(ResponseTimeoutException.class)
                    .hasMessageContaining("127.0.0.1:" + server.port())
                    .hasMessageContaining("300 ms");
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(tookMs).isBetween(300L, 300L + SLACK_MS);
        } finally {
            c.abort();
        }
    }

    @Test
    void interruptingABlockedReadGivesInterruptedIoExceptionAndKeepsTheFlag() throws Exception {
        Connection c = connect(raw -> RawServer.tls(raw, SERVER_TLS).getInputStream().read());
        try {
            AtomicBoolean flagAfter = new AtomicBoolean();
            CompletableFuture<Throwable> failure = new CompletableFuture<>();
            Thread reader = new Thread(() -> {
                try {
                    c.read(ByteBuffer.allocate(100), TimeUnit.SECONDS.toNanos(10));
                    failure.complete(null);
                } catch (Throwable t) {
                    flagAfter.set(Thread.currentThread().isInterrupted());
                    failure.complete(t);
                }
            }, "blocked-reader");
            reader.start();
            awaitBlockedInRead(reader);
            long start = System.nanoTime();
            reader.interrupt();
            assertThat(failure.get(5, TimeUnit.SECONDS)).isInstanceOf(InterruptedIOException.class)
                    .hasMessageContaining("127.0.0.1:" + server.port());
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(SLACK_MS);
            assertThat(flagAfter).isTrue();
            reader.join(5_000);
        } finally {
            c.abort();
        }
    }

    @Test
    void abortFromAnotherThreadBreaksABlockedReadAtOnce() throws Exception {
        Connection c = connect(raw -> RawServer.tls(raw, SERVER_TLS).getInputStream().read());
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                c.read(ByteBuffer.allocate(100), TimeUnit.SECONDS.toNanos(10));
                failure.complete(null);
            } catch (Throwable t) {
                failure.complete(t);
            }
        }, "blocked-reader");
        reader.start();
        awaitBlockedInRead(reader);
        long start = System.nanoTime();
        c.abort();
        assertThat(failure.get(5, TimeUnit.SECONDS)).isInstanceOf(SocketException.class)
                .hasMessageContaining("127.0.0.1:" + server.port());
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(SLACK_MS);
        assertThat(c.isOpen()).isFalse();
        assertThat(connector.aborts()).isEqualTo(1);
        reader.join(5_000);
    }

    @Test
    void gracefulCloseIsSeenByTheServerAsCloseNotifyThenEof() throws Exception {
        BlockingQueue<Object> seen = new ArrayBlockingQueue<>(4);
        Connection c = connectToEnginePeer(seen);
        assertThat(Http.get(c, "127.0.0.1")).isEqualTo(BODY);
        assertThat(c.close()).isTrue();
        assertThat(seen.poll(5, TimeUnit.SECONDS)).isEqualTo(TlsEnginePeer.End.CLOSE_NOTIFY);
        assertThat(seen.poll(5, TimeUnit.SECONDS)).as("then the TCP stream").isEqualTo("EOF");
        assertThat(c.close()).as("closing again").isFalse();
        c.abort(); // no effect now
        assertThat(connector.gracefulCloses()).isEqualTo(1);
        assertThat(connector.aborts()).isZero();
    }

    @Test
    void abortIsSeenByTheServerAsAReset() throws Exception {
        BlockingQueue<Object> seen = new ArrayBlockingQueue<>(4);
        Connection c = connectToEnginePeer(seen);
        assertThat(Http.get(c, "127.0.0.1")).isEqualTo(BODY);
        c.abort();
        assertThat(seen.poll(5, TimeUnit.SECONDS)).isEqualTo(TlsEnginePeer.End.RESET);
        assertThat(c.close()).isFalse();
        assertThat(connector.gracefulCloses()).isZero();
        assertThat(connector.aborts()).isEqualTo(1);
    }

    private Connection connectToEnginePeer(BlockingQueue<Object> seen) throws Exception {
        return connect(raw -> {
            TlsEnginePeer peer = new TlsEnginePeer(raw, SERVER_TLS);
            assertThat(peer.read(Http.request("127.0.0.1").length())).isNull();
            peer.write(RawServer.response(BODY));
            TlsEnginePeer.End end = peer.awaitEnd();
            seen.add(end);
            if (end == TlsEnginePeer.End.CLOSE_NOTIFY) {
                try {
                    seen.add(raw.getInputStream().read() < 0 ? "EOF" : "more bytes");
                } catch (SocketException e) {
                    seen.add("RESET");
                }
            }
        });
    }

    /** Handshakes, reads a request and sends its response but for the last 50 bytes. */
    private static void answerAllButTheLast50Bytes(Socket raw) throws Exception {
        SSLSocket tls = RawServer.tls(raw, SERVER_TLS);
        RawServer.readHead(tls.getInputStream());
        byte[] response = RawServer.response(BODY);
        tls.getOutputStream().write(Arrays.copyOf(response, response.length - 50));
        tls.getOutputStream().flush();
    }

    /** Asserts that every liveness check during {@code d} finds the connection alive. */
    static void assertStaysAlive(Connection c, Duration d) {
        java.util.List<Liveness> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        await().pollInterval(Duration.ofMillis(5)).during(d).atMost(d.multipliedBy(10)).until(() -> {
            Liveness l = c.liveness();
            seen.add(l);
            return l == Liveness.ALIVE;
        });
        assertThat(seen).containsOnly(Liveness.ALIVE);
    }

    /**
     * Waits until the (platform) thread is blocked in the kernel's {@code read} of a socket, not merely
     * about to read.
     */
    static void awaitBlockedInRead(Thread t) {
        await().atMost(Duration.ofSeconds(5)).until(() -> Arrays.stream(t.getStackTrace())
                .anyMatch(f -> f.getClassName().equals("sun.nio.ch.SocketDispatcher")
                        && f.getMethodName().equals("read0")));
    }
}
