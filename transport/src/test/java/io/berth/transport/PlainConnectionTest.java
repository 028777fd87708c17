package io.berth.transport;

import static io.berth.transport.TestBackends.CONNECT_TIMEOUT;
import static io.berth.transport.TestBackends.http;
import static io.berth.transport.TestBackends.loopback;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.ResponseTimeoutException;
import io.berth.spi.Connection;
import io.berth.spi.Connection.Liveness;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.NoDelayServerSocketFactory;
import io.berth.transport.testing.RawServer;
import java.net.InetAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Plain TCP connections of {@code http} backends. */
@ExtendWith(Hygiene.class)
@Timeout(20)
class PlainConnectionTest {
    private MockWebServer mock;
    private RawServer raw;

    @AfterEach
    void stop() throws Exception {
        if (mock != null) {
            mock.close();
        }
        if (raw != null) {
            raw.close();
        }
    }

    private Connection connectToMock() throws Exception {
        mock = new MockWebServer();
        mock.setServerSocketFactory(new NoDelayServerSocketFactory());
        mock.start(InetAddress.getLoopbackAddress(), 0);
        return new NioConnector(http(mock.getPort())).connect(loopback(mock.getPort()), CONNECT_TIMEOUT);
    }

    @Test
    void keepAliveExchangesShareOneConnectionWhichSaysItIsPlain() throws Exception {
        Connection c = connectToMock();
        mock.enqueue(new MockResponse.Builder().body("one").build());
        mock.enqueue(new MockResponse.Builder().body("two").build());
        try {
            assertThat(Http.get(c, "127.0.0.1")).isEqualTo("one");
            c.idle();
            assertThat(c.liveness()).isEqualTo(Liveness.ALIVE);
            assertThat(Http.get(c, "127.0.0.1")).isEqualTo("two");
        } finally {
            assertThat(c.close()).isTrue();
        }
        List<RecordedRequest> requests = List.of(mock.takeRequest(), mock.takeRequest());
        assertThat(requests).extracting(RecordedRequest::getConnectionIndex).containsOnly(0);
        assertThat(requests).extracting(RecordedRequest::getExchangeIndex).containsExactly(0, 1);
        assertThat(c.describe()).isEqualTo("127.0.0.1:" + mock.getPort() + " plain");
        assertThat(c.tlsProtocol()).isNull();
        assertThat(c.tlsSessionResumed()).isFalse();
        assertThat(c.isOpen()).isFalse();
    }

    @Test
    void aServerClosingAnIdleConnectionIsClosedByPeer() throws Exception {
        Connection c = connectToMock();
        mock.enqueue(new MockResponse.Builder().body("bye")
                .onResponseEnd(new SocketEffect.CloseSocket(true, false, false)).build());
        assertThat(Http.get(c, "127.0.0.1")).isEqualTo("bye");
        await().atMost(Duration.ofSeconds(3)).until(c::liveness, l -> l == Liveness.CLOSED_BY_PEER);
        c.close();
    }

    @Test
    void strayBytesOnAnIdleConnectionAreUnexpectedData() throws Exception {
        raw = RawServer.start(s -> {
            RawServer.readHead(s.getInputStream());
            s.getOutputStream().write(RawServer.response("ok"));
            s.getOutputStream().write("HTTP/1.1 200 OK\r\n".getBytes());
            s.getInputStream().read();
        });
        Connection c = new NioConnector(http(raw.port())).connect(loopback(raw.port()), CONNECT_TIMEOUT);
        try {
            c.write(ByteBuffer.wrap(Http.request("127.0.0.1").getBytes()), Http.TIMEOUT);
            ByteBuffer exact = ByteBuffer.allocate(RawServer.response("ok").length);
            while (exact.hasRemaining()) {
                assertThat(c.read(exact, Http.TIMEOUT)).isPositive();
            }
            await().atMost(Duration.ofSeconds(3)).until(c::liveness, l -> l == Liveness.UNEXPECTED_DATA);
        } finally {
            c.close();
        }
    }

    @Test
    void aResetMidResponseIsASocketExceptionNamingTheServer() throws Exception {
        raw = RawServer.start(s -> {
            RawServer.readHead(s.getInputStream());
            s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc".getBytes());
            s.getOutputStream().flush();
            s.setSoLinger(true, 0);
            s.close();
        });
        Connection c = new NioConnector(http(raw.port())).connect(loopback(raw.port()), CONNECT_TIMEOUT);
        try {
            assertThatThrownBy(() -> Http.get(c, "127.0.0.1"))
                    .isInstanceOf(SocketException.class)
                    .hasMessageContaining("127.0.0.1:" + raw.port());
        } finally {
            c.abort();
        }
    }

    @Test
    void aSilentServerGivesAResponseTimeoutWithinItsBound() throws Exception {
        raw = RawServer.start(s -> s.getInputStream().readAllBytes());
        Connection c = new NioConnector(http(raw.port())).connect(loopback(raw.port()), CONNECT_TIMEOUT);
        try {
            long start = System.nanoTime();
            assertThatThrownBy(() -> c.read(ByteBuffer.allocate(10), TimeUnit.MILLISECONDS.toNanos(300)))
                    .isInstanceOf(ResponseTimeoutException.class)
                    .hasMessageContaining("127.0.0.1:" + raw.port());
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(300L, 1_300L);
        } finally {
            c.abort();
        }
    }

    @Test
    void aConnectionHoldsOneDescriptorItsSocketAndNoSelector() throws Exception {
        raw = RawServer.start(s -> s.getInputStream().read());
        Map<String, Integer> before = Hygiene.openDescriptors();
        Connection c = new NioConnector(http(raw.port())).connect(loopback(raw.port()), CONNECT_TIMEOUT);
        try {
            await().atMost(Duration.ofSeconds(3)).until(() -> raw.accepted() == 1);
            Map<String, Integer> after = Hygiene.openDescriptors();
            assertThat(after.get("socket") - before.get("socket")).as("ours and the server's").isEqualTo(2);
            assertThat(after.get("epoll") - before.get("epoll")).isZero();
            assertThat(after.get("eventfd") - before.get("eventfd")).isZero();
        } finally {
            c.close();
        }
    }

    @Test
    void useAfterCloseIsASocketException() throws Exception {
        Connection c = connectToMock();
        assertThat(c.close()).isTrue();
        assertThat(c.liveness()).isEqualTo(Liveness.CLOSED_BY_PEER);
        assertThat(c.bufferedLiveness()).isEqualTo(Liveness.CLOSED_BY_PEER);
        assertThatThrownBy(() -> c.read(ByteBuffer.allocate(1), Http.TIMEOUT))
                .isInstanceOf(SocketException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> c.write(ByteBuffer.allocate(1), Http.TIMEOUT))
                .isInstanceOf(SocketException.class).hasMessageContaining("closed");
    }
}
