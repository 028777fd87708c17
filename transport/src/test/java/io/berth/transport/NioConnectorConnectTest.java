package io.berth.transport;

import static io.berth.transport.TestBackends.CONNECT_TIMEOUT;
import static io.berth.transport.TestBackends.http;
import static io.berth.transport.TestBackends.https;
import static io.berth.transport.TestBackends.loopback;
import static io.berth.transport.TestBackends.trustingTestCa;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.ConnectTimeoutException;
import io.berth.HandshakeTimeoutException;
import io.berth.Server;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.RawServer;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Opening connections: refused, timed out, stalled handshakes, interrupts. Every failure leaks nothing. */
@ExtendWith(Hygiene.class)
@Timeout(20)
class NioConnectorConnectTest {
    private static final long SHORT = TimeUnit.MILLISECONDS.toNanos(300);
    private static final long SLACK_MS = 1_000;

    private RawServer server;
    private final List<Socket> fillers = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (Socket s : fillers) {
            s.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aClosedPortIsRefusedFastWithAConnectException() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        NioConnector connector = new NioConnector(https(port, trustingTestCa().build()));
        long start = System.nanoTime();
        assertThatThrownBy(() -> connector.connect(loopback(port), CONNECT_TIMEOUT))
                .isExactlyInstanceOf(ConnectException.class)
                .hasMessageContaining("127.0.0.1:" + port);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(SLACK_MS);
    }

    @Test
    void aServerThatDropsTheSynGivesAConnectTimeoutWithinItsBound() throws Exception {
        // Linux drops a SYN while the listener's accept queue is full: a real connect timeout on loopback.
        server = RawServer.neverAccepting();
        while (true) {
            Socket s = new Socket();
            fillers.add(s);
            try {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()), 200);
            } catch (SocketTimeoutException queueFull) {
                break;
            }
            assertThat(fillers).as("the accept queue should fill up").hasSizeLessThan(20);
        }
        NioConnector connector = new NioConnector(http(server.port()));
        long start = System.nanoTime();
        assertThatThrownBy(() -> connector.connect(loopback(server.port()), SHORT))
                .isExactlyInstanceOf(ConnectTimeoutException.class)
                .hasMessageContaining("127.0.0.1:" + server.port())
                .hasMessageContaining("300 ms");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(300L, 300L + SLACK_MS);
    }

    @Test
    void aStalledHandshakeTimesOutWithinItsBound() throws Exception {
        server = RawServer.start(raw -> raw.getInputStream().readAllBytes()); // reads the ClientHello, never answers
        NioConnector connector = new NioConnector(https(server.port(), trustingTestCa()
                .handshakeTimeout(Duration.ofMillis(300)).build()));
        long start = System.nanoTime();
        assertThatThrownBy(() -> connector.connect(loopback(server.port()), CONNECT_TIMEOUT))
                .isExactlyInstanceOf(HandshakeTimeoutException.class)
                .hasMessageContaining("127.0.0.1:" + server.port())
                .hasMessageContaining("300 ms");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(300L, 300L + SLACK_MS);
    }

    @Test
    void aServerClosingDuringTheHandshakeIsAnSslHandshakeException() throws Exception {
        server = RawServer.start(raw -> {
            raw.getInputStream().read();
            raw.close();
        });
        NioConnector connector = new NioConnector(https(server.port(), trustingTestCa().build()));
        assertThatThrownBy(() -> connector.connect(loopback(server.port()), CONNECT_TIMEOUT))
                .isInstanceOf(javax.net.ssl.SSLHandshakeException.class)
                .hasMessageContaining("127.0.0.1:" + server.port());
    }

    @Test
    void anInterruptDuringTheHandshakeIsInterruptedIoExceptionWithTheFlagKept() throws Exception {
        server = RawServer.start(raw -> raw.getInputStream().readAllBytes());
        NioConnector connector = new NioConnector(https(server.port(), trustingTestCa().build()));
        AtomicBoolean flagAfter = new AtomicBoolean();
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                connector.connect(loopback(server.port()), CONNECT_TIMEOUT).abort();
                failure.complete(null);
            } catch (Throwable e) {
                flagAfter.set(Thread.currentThread().isInterrupted());
                failure.complete(e);
            }
        }, "connecting");
        t.start();
        TlsConnectionFaultTest.awaitBlockedInRead(t);
        t.interrupt();
        assertThat(failure.get(5, TimeUnit.SECONDS)).isInstanceOf(InterruptedIOException.class)
                .hasMessageContaining("127.0.0.1:" + server.port());
        assertThat(flagAfter).isTrue();
        t.join(5_000);
    }

    @Test
    void aBadTimeoutIsACallerMistake() {
        NioConnector connector = new NioConnector(http(8080));
        assertThatThrownBy(() -> connector.connect(loopback(8080), 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("connectTimeoutNanos");
    }
}
