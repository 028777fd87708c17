package io.berth.transport;

import static io.berth.transport.TestBackends.CONNECT_TIMEOUT;
import static io.berth.transport.TestBackends.https;
import static io.berth.transport.TestBackends.loopback;
import static io.berth.transport.TestBackends.trustingTestCa;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.TlsConfig;
import io.berth.spi.Connection;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.OkTlsServer;
import io.berth.transport.testing.ServerHelloTap;
import io.berth.transport.testing.TestPki;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import okhttp3.tls.HeldCertificate;
import org.assertj.core.api.ThrowableAssert;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Certificate and host name checks. Failures must stay the JDK's {@link SSLHandshakeException} with
 * the JDK's cause; the assertions look at types and causes only, never at the JDK's message text,
 * which differs between JDK versions.
 */
@ExtendWith(Hygiene.class)
@Timeout(20)
class TlsHandshakeFailureTest {
    private OkTlsServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    /** Starts a server presenting {@code leaf}; it answers one request per connection. */
    private void serve(HeldCertificate leaf, HeldCertificate issuer, String... protocols) throws Exception {
        server = OkTlsServer.start(TestPki.server(leaf, issuer).context(), protocols);
    }

    private void connectsAndExchanges(TlsConfig tls) throws Exception {
        Connection c = new NioConnector(https(server.port(), tls)).connect(loopback(server.port()), CONNECT_TIMEOUT);
        try {
            assertThat(Http.get(c, "backend.test")).isEqualTo("ok");
        } finally {
            c.close();
        }
    }

    private ThrowableAssert.ThrowingCallable connecting(TlsConfig tls) {
        return () -> new NioConnector(https(server.port(), tls)).connect(loopback(server.port()), CONNECT_TIMEOUT);
    }

    /** The JDK's exception, and a suppressed one of ours naming the server and what was checked. */
    private void assertNamesTheServer(Throwable e) {
        assertThat(e.getSuppressed()).singleElement().extracting(Throwable::getMessage).asString()
                .contains("127.0.0.1:" + server.port()).contains("verifying");
    }

    @Test
    void anUntrustedChainFailsWithThePkixCause() throws Exception {
        serve(TestPki.SERVER_OF_OTHER_CA, TestPki.OTHER_CA);
        assertThatThrownBy(connecting(trustingTestCa().build()))
                .isExactlyInstanceOf(SSLHandshakeException.class)
                .hasRootCauseInstanceOf(CertPathBuilderException.class)
                .satisfies(this::assertNamesTheServer);
    }

    @Test
    void theJdkTrustStoreDoesNotTrustTheTestCa() throws Exception {
        serve(TestPki.SERVER, TestPki.CA);
        assertThatThrownBy(connecting(TlsConfig.defaults()))
                .isExactlyInstanceOf(SSLHandshakeException.class)
                .hasRootCauseInstanceOf(CertPathBuilderException.class);
    }

    @Test
    void aCertificateForAnotherHostFailsWithACertificateException() throws Exception {
        serve(TestPki.WRONG_HOST, TestPki.CA);
        assertThatThrownBy(connecting(trustingTestCa().build()))
                .isExactlyInstanceOf(SSLHandshakeException.class)
                .hasRootCauseExactlyInstanceOf(CertificateException.class)
                .satisfies(this::assertNamesTheServer);
    }

    @Test
    void anExpiredCertificateFailsWithCertificateExpired() throws Exception {
        serve(TestPki.EXPIRED, TestPki.CA);
        assertThatThrownBy(connecting(trustingTestCa().build()))
                .isExactlyInstanceOf(SSLHandshakeException.class)
                .hasRootCauseExactlyInstanceOf(CertificateExpiredException.class)
                .satisfies(this::assertNamesTheServer);
    }

    @Test
    void theHostNameIsVerifiedWithSniOff() throws Exception {
        serve(TestPki.SERVER, TestPki.CA);
        assertThatThrownBy(connecting(trustingTestCa().sni(false).verifyHostname("not-this.test").build()))
                .isExactlyInstanceOf(SSLHandshakeException.class)
                .hasRootCauseExactlyInstanceOf(CertificateException.class);

        connectsAndExchanges(trustingTestCa().sni(false).verifyHostname("backend.test").build());
        assertThat(server.sniSeen()).containsExactly(List.of());
    }

    @Test
    void anIpLiteralIsVerifiedAgainstTheCertificatesIpAddresses() throws Exception {
        serve(TestPki.BACKEND_TEST_ONLY, TestPki.CA); // no IP address in it
        assertThatThrownBy(connecting(trustingTestCa().build()))
                .isExactlyInstanceOf(SSLHandshakeException.class)
                .hasRootCauseExactlyInstanceOf(CertificateException.class);
    }

    @Test
    void theNameVerifiedWinsOverADifferentSniName() throws Exception {
        // The JDK alone would accept: it checks the SNI name first. Berth checks the name it verifies.
        serve(TestPki.BACKEND_TEST_ONLY, TestPki.CA);
        assertThatThrownBy(connecting(trustingTestCa().sniName("backend.test").build())) // verifies 127.0.0.1
                .isExactlyInstanceOf(SSLHandshakeException.class)
                .hasRootCauseExactlyInstanceOf(CertificateException.class);

        connectsAndExchanges(trustingTestCa().sniName("backend.test").verifyHostname("backend.test").build());
        assertThat(server.sniSeen()).singleElement().isEqualTo(List.of(new SNIHostName("backend.test")));
    }

    @Test
    void noCommonProtocolIsAnSslException() throws Exception {
        serve(TestPki.SERVER, TestPki.CA, "TLSv1.3");
        assertThatThrownBy(connecting(trustingTestCa().protocols(List.of("TLSv1.2")).build()))
                .isInstanceOf(SSLException.class)
                .satisfies(this::assertNamesTheServer);
    }

    @Test
    void tls12WorksAndResumesToo() throws Exception {
        serve(TestPki.SERVER, TestPki.CA, "TLSv1.2");
        try (ServerHelloTap tap = ServerHelloTap.start(server.port())) {
            NioConnector connector = new NioConnector(https(tap.port(), trustingTestCa().build()));
            for (boolean resumed : new boolean[] {false, true}) {
                Connection c = connector.connect(loopback(tap.port()), CONNECT_TIMEOUT);
                try {
                    assertThat(c.tlsProtocol()).isEqualTo("TLSv1.2");
                    assertThat(c.tlsSessionResumed()).isEqualTo(resumed);
                    assertThat(Http.get(c, "backend.test")).isEqualTo("ok");
                } finally {
                    c.close();
                }
            }
            // on the wire: a Certificate message in the first handshake only
            assertThat(tap.serverResumed()).containsExactly(false, true);
        }
    }
}
