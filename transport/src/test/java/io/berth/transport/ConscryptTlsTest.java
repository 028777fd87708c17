package io.berth.transport;

import static io.berth.transport.TestBackends.CONNECT_TIMEOUT;
import static io.berth.transport.TestBackends.https;
import static io.berth.transport.TestBackends.loopback;
import static io.berth.transport.TestBackends.trustingTestCa;
import static org.assertj.core.api.Assertions.assertThat;

import io.berth.TlsConfig;
import io.berth.spi.Connection;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.NoDelayServerSocketFactory;
import io.berth.transport.testing.ServerHelloTap;
import io.berth.transport.testing.TestPki;
import java.net.InetAddress;
import java.security.Provider;
import java.util.ArrayList;
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.conscrypt.Conscrypt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Berth over Conscrypt (BoringSSL), a provider given as an instance and never installed: handshake
 * and exchange, resumption detection, SNI sent and suppressed, against a JDK TLS server
 * (MockWebServer); the certificate rules over Conscrypt are in {@link CertificateRulesTest}.
 */
@ExtendWith(Hygiene.class)
@Timeout(20)
class ConscryptTlsTest {
    static final Provider CONSCRYPT = Conscrypt.newProvider();

    private MockWebServer server;
    private ServerHelloTap tap;

    @BeforeEach
    void start() throws Exception {
        server = new MockWebServer();
        server.setServerSocketFactory(new NoDelayServerSocketFactory());
        server.useHttps(TestPki.server().context().getSocketFactory());
        server.start(InetAddress.getLoopbackAddress(), 0);
        tap = ServerHelloTap.start(server.getPort());
    }

    @AfterEach
    void stop() throws Exception {
        tap.close();
        server.close();
    }

    @Test
    void theNativeLibraryLoads() {
        assertThat(Conscrypt.isAvailable()).isTrue();
        assertThat(CONSCRYPT.getName()).isEqualTo("Conscrypt");
    }

    @Test
    void exchangesAndResumesAndSaysSo() throws Exception {
        List<Connection> connections = exchangeOnNewConnections(trustingTestCa().provider(CONSCRYPT).build(), 3);
        assertThat(connections).extracting(Connection::tlsProtocol).containsOnly("TLSv1.3");
        assertThat(connections).extracting(Connection::tlsSessionResumed).containsExactly(false, true, true);
        assertThat(tap.serverResumed()).containsExactly(false, true, true);
        assertThat(connections.get(1).describe()).endsWith(" resumed");
    }

    @Test
    void tls12ResumesToo() throws Exception {
        List<Connection> connections = exchangeOnNewConnections(trustingTestCa().provider(CONSCRYPT)
                .protocols(List.of("TLSv1.2")).build(), 2);
        assertThat(connections).extracting(Connection::tlsProtocol).containsOnly("TLSv1.2");
        assertThat(connections).extracting(Connection::tlsSessionResumed).containsExactly(false, true);
        assertThat(tap.serverResumed()).containsExactly(false, true);
    }

    @Test
    void sendsExactlyTheConfiguredSniName() throws Exception {
        exchangeOnNewConnections(trustingTestCa().provider(CONSCRYPT).sniName("backend.test").build(), 2);
        for (int i = 0; i < 2; i++) {
            assertThat(server.takeRequest().getHandshakeServerNames()).as("connection %d", i)
                    .containsExactly("backend.test");
        }
        assertThat(tap.serverResumed()).containsExactly(false, true);
    }

    @Test
    void noSniProfileNeverSendsSniNotEvenOnResumedConnections() throws Exception {
        // The name verified is a DNS name, which Conscrypt would send as SNI if Berth let it.
        exchangeOnNewConnections(trustingTestCa().provider(CONSCRYPT).sni(false).verifyHostname("backend.test")
                .build(), 3);
        for (int i = 0; i < 3; i++) {
            assertThat(server.takeRequest().getHandshakeServerNames()).as("connection %d", i).isEmpty();
        }
        assertThat(tap.serverResumed()).containsExactly(false, true, true);
    }

    @Test
    void aProviderNamedButNotInstalledIsRefused() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TlsConfig.builder().provider("Conscrypt"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not installed");
    }

    private List<Connection> exchangeOnNewConnections(TlsConfig tls, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            server.enqueue(new MockResponse.Builder().body("x").build());
        }
        NioConnector connector = new NioConnector(https(tap.port(), tls));
        List<Connection> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Connection c = connector.connect(loopback(tap.port()), CONNECT_TIMEOUT);
            try {
                assertThat(Http.get(c, "backend.test")).isEqualTo("x");
            } finally {
                c.close();
            }
            out.add(c);
        }
        return out;
    }
}
