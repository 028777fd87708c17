package io.berth.transport;

import static io.berth.transport.TestBackends.CONNECT_TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.berth.Backend;
import io.berth.Server;
import io.berth.TlsConfig;
import io.berth.spi.Connection;
import io.berth.transport.testing.GeneratedCert;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.OkTlsServer;
import java.security.Provider;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Berth's one certificate rule (host name, pinned-leaf dates, key sizes) over real TLS handshakes on
 * 127.0.0.1, each case with the SNI name equal to the name verified, with another SNI name, and with
 * SNI off: the outcome must be the same in all three. The certificates are generated here (Bouncy
 * Castle); a refusal is the handshake's {@link SSLHandshakeException} with the JDK-like cause.
 * The same cases run over Conscrypt, whose handshake, trust-manager calls and SNI handling differ.
 */
@ExtendWith(Hygiene.class)
@Timeout(30)
class CertificateRulesTest {
    /** How SNI relates to the name verified. */
    enum Sni {
        /** SNI is the name verified (for an IP literal: none, which SNI cannot carry). */
        SAME,
        /** SNI is another name, {@code other.test}. */
        OTHER,
        /** No SNI. */
        OFF
    }

    /**
     * One certificate case.
     *
     * @param name what it is
     * @param cert what the server presents (with its issuers below the root)
     * @param trusted the trust anchors
     * @param verify the name verified (an IP literal: connect to it without {@code verifyHostname})
     * @param tweak further settings
     * @param refusal the root cause of the refusal, or {@code null} if the handshake must succeed
     * @param says a part of the refusal's message, or {@code null}
     */
    record Case(String name, GeneratedCert cert, List<X509Certificate> trusted, String verify,
            UnaryOperator<TlsConfig.Builder> tweak, Class<? extends Throwable> refusal, String says) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final GeneratedCert CA = GeneratedCert.builder("Berth rules CA").ca().build();
    private static final GeneratedCert RSA1024_CA = GeneratedCert.builder("Berth 1024-bit RSA CA").ca()
            .keys(GeneratedCert.rsa(1024)).build();
    private static final GeneratedCert RSA2048_CA = GeneratedCert.builder("Berth 2048-bit RSA CA").ca()
            .keys(GeneratedCert.rsa(2048)).build();
    private static final String NAME = "app.example.com";

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        // host name: subjectAltName only, whole-label leftmost wildcards, IPs against iPAddress only
        c.add(refusedName("no subjectAltName, common name = the name", leaf(NAME), NAME));
        c.add(accepted("dNSName = the name", leaf("x").dns(NAME), NAME));
        c.add(accepted("dNSName in upper case, an IDNA A-label", leaf("x").dns("XN--BCHER-KVA.Example.COM"),
                "xn--bcher-kva.example.com"));
        c.add(accepted("wildcard as the whole leftmost label", leaf("x").dns("*.example.com"), NAME));
        c.add(refusedName("wildcard over the base name", leaf("x").dns("*.example.com"), "example.com"));
        c.add(refusedName("wildcard over two labels", leaf("x").dns("*.example.com"), "a.b.example.com"));
        c.add(refusedName("wildcard in an inner label", leaf("x").dns("foo.*.example.com"), "foo.bar.example.com"));
        c.add(refusedName("partial-label wildcard", leaf("x").dns("ba*.example.com"), "bar.example.com"));
        c.add(refusedName("wildcard over a single-label name", leaf("x").dns("*.com"), "example.com"));
        c.add(refusedName("wildcard over a public suffix", leaf("x").dns("*.co.uk"), "example.co.uk"));
        c.add(accepted("iPAddress = the address connected to", leaf("x").ip("127.0.0.1"), "127.0.0.1"));
        c.add(refusedName("an address in a dNSName", leaf("x").dns("127.0.0.1"), "127.0.0.1"));
        c.add(refusedName("an address as common name, no subjectAltName", leaf("127.0.0.1"), "127.0.0.1"));
        c.add(refusedName("only an iPAddress, a name verified", leaf("x").ip("127.0.0.1"), NAME));
        // a pinned (self-signed, directly trusted) leaf: its dates count too
        Instant now = Instant.now();
        c.add(pinned("pinned leaf, valid", GeneratedCert.builder(NAME).dns(NAME).build(), null));
        c.add(pinned("pinned leaf, expired", GeneratedCert.builder(NAME).dns(NAME)
                .validity(now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1))).build(),
                CertificateExpiredException.class));
        c.add(pinned("pinned leaf, not yet valid", GeneratedCert.builder(NAME).dns(NAME)
                .validity(now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(2))).build(),
                CertificateNotYetValidException.class));
        c.add(new Case("pinned leaf, 1024-bit RSA", GeneratedCert.builder(NAME).dns(NAME).keys(GeneratedCert.rsa(1024))
                .build(), null, NAME, b -> b, CertificateException.class, "minRsaKeySize"));
        // key sizes anywhere in the chain, the anchor included
        GeneratedCert underWeakRoot = leaf("x").dns(NAME).issuer(RSA1024_CA).build();
        GeneratedCert weakLeaf = leaf("x").dns(NAME).keys(GeneratedCert.rsa(1024)).build();
        c.add(new Case("1024-bit RSA root", underWeakRoot, List.of(RSA1024_CA.certificate()), NAME, b -> b,
                CertificateException.class, "minRsaKeySize"));
        c.add(new Case("1024-bit RSA leaf", weakLeaf, List.of(CA.certificate()), NAME, b -> b,
                CertificateException.class, "minRsaKeySize"));
        c.add(new Case("1024-bit RSA root, minRsaKeySize 1024", underWeakRoot, List.of(RSA1024_CA.certificate()),
                NAME, b -> b.minRsaKeySize(1024), null, null));
        c.add(new Case("1024-bit RSA leaf, minRsaKeySize 1024", weakLeaf, List.of(CA.certificate()), NAME,
                b -> b.minRsaKeySize(1024), null, null));
        c.add(new Case("2048-bit RSA chain", leaf("x").dns(NAME).keys(GeneratedCert.rsa(2048)).issuer(RSA2048_CA)
                .build(), List.of(RSA2048_CA.certificate()), NAME, b -> b, null, null));
        c.add(new Case("P-256 chain, minEcKeySize 384", leaf("x").dns(NAME).build(), List.of(CA.certificate()), NAME,
                b -> b.minEcKeySize(384), CertificateException.class, "minEcKeySize"));
        return c;
    }

    static Stream<Arguments> everyCaseInEverySniConfiguration() {
        return cases().stream().flatMap(c -> Stream.of(Sni.values()).map(s -> Arguments.of(c, s)));
    }

    private static GeneratedCert.Builder leaf(String commonName) {
        return GeneratedCert.builder(commonName).issuer(CA);
    }

    private static Case accepted(String name, GeneratedCert.Builder leaf, String verify) {
        return new Case(name, leaf.build(), List.of(CA.certificate()), verify, b -> b, null, null);
    }

    private static Case refusedName(String name, GeneratedCert.Builder leaf, String verify) {
        return new Case(name, leaf.build(), List.of(CA.certificate()), verify, b -> b, CertificateException.class,
                "subject alternative");
    }

    private static Case pinned(String name, GeneratedCert selfSigned, Class<? extends Throwable> refusal) {
        return new Case(name, selfSigned, null, NAME, b -> b, refusal, null);
    }

    private OkTlsServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @ParameterizedTest(name = "{0}, SNI {1}")
    @MethodSource("everyCaseInEverySniConfiguration")
    void theRuleIsTheSameWhateverSniIsSent(Case c, Sni sni) throws Exception {
        check(c, sni, null);
    }

    @ParameterizedTest(name = "{0}, SNI {1}")
    @MethodSource("everyCaseInEverySniConfiguration")
    void theRuleIsTheSameOverConscrypt(Case c, Sni sni) throws Exception {
        check(c, sni, ConscryptTlsTest.CONSCRYPT);
    }

    @Test
    void connectingByHostNameVerifiesThatName() throws Exception {
        serve(leaf("x").dns("localhost").build().serverContext());
        TlsConfig tls = TlsConfig.builder().trustCertificates(List.of(CA.certificate())).build();
        Server byName = Server.of("localhost", server.port());
        Connection c = new NioConnector(Backend.builder().server(byName).tls(tls).build()).connect(byName,
                CONNECT_TIMEOUT);
        try {
            assertThat(Http.get(c, "localhost")).isEqualTo("ok");
        } finally {
            c.close();
        }
        server.close();
        serve(leaf("localhost").build().serverContext()); // the name only as common name
        Server again = Server.of("localhost", server.port());
        assertThatThrownBy(() -> new NioConnector(Backend.builder().server(again).tls(tls).build())
                .connect(again, CONNECT_TIMEOUT))
                .isExactlyInstanceOf(SSLHandshakeException.class)
                .hasRootCauseExactlyInstanceOf(CertificateException.class);
    }

    /** Runs one case in one SNI configuration, with the JDK's provider ({@code provider} null) or another. */
    void check(Case c, Sni sni, Provider provider) throws Exception {
        serve(c.cert.serverContext());
        TlsConfig.Builder b = TlsConfig.builder()
                .trustCertificates(c.trusted != null ? c.trusted : List.of(c.cert.certificate()))
                .provider(provider);
        boolean ip = HostnameMatcher.ipLiteral(c.verify) != null;
        if (!ip) {
            b.verifyHostname(c.verify);
        }
        switch (sni) {
            case SAME -> {
                if (!ip) {
                    b.sniName(c.verify);
                }
            }
            case OTHER -> b.sniName("other.test");
            case OFF -> b.sni(false);
        }
        TlsConfig tls = c.tweak.apply(b).build();
        Server target = Server.of("127.0.0.1", server.port());
        NioConnector connector = new NioConnector(Backend.builder().server(target).tls(tls).build());
        if (c.refusal == null) {
            Connection conn = connector.connect(target, CONNECT_TIMEOUT);
            try {
                assertThat(Http.get(conn, "backend.test")).isEqualTo("ok");
            } finally {
                conn.close();
            }
            List<SNIServerName> expected = switch (sni) {
                case SAME -> ip ? List.of() : List.of(new SNIHostName(c.verify));
                case OTHER -> List.of(new SNIHostName("other.test"));
                case OFF -> List.of();
            };
            assertThat(server.sniSeen()).singleElement().isEqualTo(expected);
        } else {
            assertThat(catchThrowable(() -> connector.connect(target, CONNECT_TIMEOUT).close()))
                    .isExactlyInstanceOf(SSLHandshakeException.class)
                    .hasRootCauseExactlyInstanceOf(c.refusal)
                    .satisfies(e -> {
                        if (c.says != null) {
                            assertThat(rootCause(e).getMessage()).contains(c.says);
                        }
                    });
            assertThat(server.sniSeen()).as("no handshake completed").isEmpty();
        }
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    private void serve(SSLContext context) throws Exception {
        server = OkTlsServer.start(context);
    }
}
