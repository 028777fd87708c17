package io.berth.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.probe.EmbeddedBackend.Ending;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The embedded backend's cross-check: it must tell the ways a client can end a connection apart,
 * since the probe reports them as the server's own view.
 */
class EmbeddedBackendTest {
    private EmbeddedBackend backend;
    private SSLContext client;

    @BeforeEach
    void start() throws IOException {
        backend = EmbeddedBackend.start();
        client = new HandshakeCertificates.Builder().addTrustedCertificate(backend.ca()).build().sslContext();
    }

    @AfterEach
    void stop() {
        backend.close();
    }

    /** A TLS client over a TCP socket the test keeps, so it can also end the TCP connection its own way. */
    private final class Client {
        final Socket raw = new Socket(InetAddress.getLoopbackAddress(), backend.port());
        final SSLSocket tls;
        final BufferedReader in;

        Client() throws IOException {
            raw.setSoTimeout(5_000);
            tls = (SSLSocket) client.getSocketFactory().createSocket(raw, "localhost", backend.port(), false);
            SSLParameters p = tls.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName("localhost")));
            p.setEndpointIdentificationAlgorithm("HTTPS");
            tls.setSSLParameters(p);
            tls.startHandshake();
            in = new BufferedReader(new InputStreamReader(tls.getInputStream(), StandardCharsets.US_ASCII));
        }

        /** Sends a request and reads the response; returns the status line and the header lines. */
        List<String> exchange(String request) throws IOException {
            OutputStream out = tls.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            List<String> head = new ArrayList<>();
            int length = 0;
            for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
                head.add(line);
                if (line.toLowerCase().startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring(15).trim());
                }
            }
            char[] body = new char[length];
            for (int n = 0; n < length; ) {
                n += in.read(body, n, length - n);
            }
            return head;
        }
    }

    private Map<Ending, Integer> endings() throws InterruptedException {
        assertThat(backend.awaitAllEnded(Duration.ofSeconds(5))).isTrue();
        return backend.snapshot().endings();
    }

    @Test
    void keepsAliveAcrossGetsAndPostsAndSeesAGracefulClose() throws Exception {
        Client c = new Client();
        assertThat(c.exchange("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")).first().isEqualTo("HTTP/1.1 200 OK");
        assertThat(c.exchange("POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello"))
                .first().isEqualTo("HTTP/1.1 200 OK");
        assertThat(c.exchange("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")).first().isEqualTo("HTTP/1.1 200 OK");
        c.tls.close(); // close_notify (the TLS socket does not own the TCP one) ...
        c.raw.close(); // ... then FIN

        assertThat(endings()).containsExactly(Map.entry(Ending.CLOSE_NOTIFY_FIN, 1));
        EmbeddedBackend.ConnectionRecord row = backend.snapshot().connections().get(0);
        assertThat(row.requests()).isEqualTo(3);
        assertThat(row.sni()).isEqualTo("localhost");
        assertThat(row.protocol()).isEqualTo("TLSv1.3");
    }

    @Test
    void seesACloseNotifyThatNoFinFollows() throws Exception {
        Client c = new Client();
        c.exchange("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
        c.tls.close(); // close_notify only: the TCP connection stays open

        assertThat(endings()).containsExactly(Map.entry(Ending.CLOSE_NOTIFY_ONLY, 1)); // after FIN_WAIT
        c.raw.close();
    }

    @Test
    void seesAFinWithoutCloseNotify() throws Exception {
        Client c = new Client();
        c.exchange("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
        c.raw.shutdownOutput(); // FIN under the TLS layer

        assertThat(endings()).containsExactly(Map.entry(Ending.FIN_WITHOUT_CLOSE_NOTIFY, 1));
        c.raw.close();
    }

    @Test
    void seesAReset() throws Exception {
        Client c = new Client();
        c.exchange("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
        c.raw.setSoLinger(true, 0);
        c.raw.close(); // RST

        assertThat(endings()).containsExactly(Map.entry(Ending.RESET, 1));
    }

    @Test
    void seesAFailedHandshake() throws Exception {
        SSLContext untrusting = new HandshakeCertificates.Builder()
                .addTrustedCertificate(new HeldCertificate.Builder().certificateAuthority(0).ecdsa256().build()
                        .certificate())
                .build().sslContext();
        try (SSLSocket s = (SSLSocket) untrusting.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
                backend.port())) {
            assertThatThrownBy(s::startHandshake).isInstanceOf(SSLHandshakeException.class);
        }

        assertThat(endings()).containsExactly(Map.entry(Ending.HANDSHAKE_FAILED, 1));
    }

    @Test
    void closesAfterConnectionCloseAndCountsOpenOnesAsStillOpen() throws Exception {
        Client closing = new Client();
        List<String> head = closing.exchange("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        assertThat(head).contains("Connection: close");
        Client open = new Client();
        open.exchange("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");

        assertThat(backend.awaitAllEnded(Duration.ofMillis(200))).isFalse();
        backend.close();

        assertThat(backend.snapshot().endings())
                .containsExactly(Map.entry(Ending.SERVER_CLOSED, 1), Map.entry(Ending.STILL_OPEN, 1));
        assertThat(backend.snapshot().requests()).isEqualTo(2);
        closing.raw.close();
        open.raw.close();
    }
}
