package io.berth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsConfigTest {
    @TempDir
    static Path dir;
    static String pemA;
    static String pemB;

    /** Generates two self-signed certificates with the JDK's keytool. */
    @BeforeAll
    static void certificates() throws Exception {
        pemA = generate("a");
        pemB = generate("b");
    }

    private static String generate(String name) throws IOException, InterruptedException {
        Path ks = dir.resolve(name + ".p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(keytool, "-genkeypair", "-keystore", ks.toString(), "-storepass", "changeit", "-alias", name,
                "-dname", "CN=" + name + ".test", "-keyalg", "EC", "-validity", "2");
        Path pem = dir.resolve(name + ".pem");
        run(keytool, "-exportcert", "-rfc", "-keystore", ks.toString(), "-storepass", "changeit", "-alias", name,
                "-file", pem.toString());
        return Files.readString(pem, StandardCharsets.US_ASCII);
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
    }

    @Test
    void defaultsAreSystemTrustSniOnTls13And12Http11() {
        TlsConfig t = TlsConfig.defaults();
        assertThat(t.trustedCertificates()).isEmpty();
        assertThat(t.trustSource()).isEqualTo("JDK trust store");
        assertThat(t.sni()).isTrue();
        assertThat(t.protocols()).containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(t.alpn()).containsExactly("http/1.1");
        assertThat(t.handshakeTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(t.clientKeyManager()).isNull();
    }

    @Test
    void pemBundleWithSeveralCertificatesAndCommentsIsRead() throws IOException {
        Path bundle = dir.resolve("bundle.pem");
        Files.writeString(bundle, "# our CAs\n" + pemA + "\nsome comment between\n" + pemB);
        TlsConfig t = TlsConfig.builder().trustPemFile(bundle).build();
        assertThat(t.trustedCertificates()).hasSize(2);
        assertThat(t.trustedCertificates().get(0).getSubjectX500Principal().getName()).isEqualTo("CN=a.test");
        assertThat(t.trustSource()).isEqualTo(bundle.toString());
        assertThat(TlsConfig.builder().trustPem(pemB).build().trustedCertificates()).hasSize(1);
        assertThat(t).isEqualTo(TlsConfig.builder().trustPemFile(bundle).build());
    }

    @Test
    void unreadableOrEmptyOrCorruptPemIsRejectedNamingTheFile() throws IOException {
        Path missing = dir.resolve("missing.pem");
        assertThatThrownBy(() -> TlsConfig.builder().trustPemFile(missing))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("caFile " + missing + " cannot be read: java.nio.file.NoSuchFileException");
        Path empty = Files.writeString(dir.resolve("empty.pem"), "nothing here\n");
        assertThatThrownBy(() -> TlsConfig.builder().trustPemFile(empty))
                .hasMessage("caFile " + empty + " holds no PEM certificate (no '-----BEGIN CERTIFICATE-----' line)");
        Path corrupt = Files.writeString(dir.resolve("corrupt.pem"),
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        assertThatThrownBy(() -> TlsConfig.builder().trustPemFile(corrupt))
                .hasMessageStartingWith("caFile " + corrupt + ": certificate 1 is not a valid X.509 certificate");
        Path cut = Files.writeString(dir.resolve("cut.pem"), pemA.substring(0, pemA.indexOf("-----END")));
        assertThatThrownBy(() -> TlsConfig.builder().trustPemFile(cut))
                .hasMessage("caFile " + cut + ": certificate 1 has no '-----END CERTIFICATE-----' line");
    }

    @Test
    void sniAndVerifyNamesFollowTheServerUnlessSet() {
        Server byName = Server.of("api.test", 443);
        Server byIp = Server.of("10.0.0.5", 443);
        TlsConfig d = TlsConfig.defaults();
        assertThat(d.sniNameFor(byName)).isEqualTo("api.test");
        assertThat(d.sniNameFor(byIp)).as("SNI cannot carry an IP").isNull();
        assertThat(d.verifyHostnameFor(byIp)).isEqualTo("10.0.0.5");
        TlsConfig fixed = TlsConfig.builder().sniName("backend.test").verifyHostname("backend.test").build();
        assertThat(fixed.sniNameFor(byIp)).isEqualTo("backend.test");
        assertThat(fixed.verifyHostnameFor(byIp)).isEqualTo("backend.test");
        TlsConfig off = TlsConfig.builder().sni(false).sniName("backend.test").build();
        assertThat(off.sniNameFor(byName)).isNull();
        assertThat(off.verifyHostnameFor(byName)).isEqualTo("api.test");
    }

    @Test
    void badValuesAreRejectedNamingTheSetting() {
        assertThatThrownBy(() -> TlsConfig.builder().sniName("10.0.0.1"))
                .hasMessage("sniName must be a DNS host name but was '10.0.0.1'");
        assertThatThrownBy(() -> TlsConfig.builder().sniName("bad..name"))
                .hasMessage("sniName must be a DNS host name but was 'bad..name'");
        assertThatThrownBy(() -> TlsConfig.builder().verifyHostname(" "))
                .hasMessage("verifyHostname must not be blank but was ' '");
        assertThatThrownBy(() -> TlsConfig.builder().protocols(List.of("TLSv1.1")))
                .hasMessage("protocols must be TLSv1.3 or TLSv1.2 but was 'TLSv1.1'");
        assertThatThrownBy(() -> TlsConfig.builder().protocols(List.of()))
                .hasMessage("protocols must name at least one protocol but was empty");
        assertThatThrownBy(() -> TlsConfig.builder().protocols(List.of("TLSv1.3", "TLSv1.3")))
                .hasMessage("protocols must be distinct but was [TLSv1.3, TLSv1.3]");
        assertThatThrownBy(() -> TlsConfig.builder().alpn(List.of("")))
                .hasMessage("alpn ids must be 1..255 bytes but was ''");
        assertThatThrownBy(() -> TlsConfig.builder().handshakeTimeout(Duration.ZERO))
                .hasMessage("handshakeTimeout must be positive but was PT0S");
        assertThatThrownBy(() -> TlsConfig.builder().trustCertificates(List.of()))
                .hasMessage("trustCertificates must hold at least one certificate but was empty");
    }

    @Test
    void everySettingIsPartOfTheProfileIdentity() {
        TlsConfig base = TlsConfig.defaults();
        assertThat(base.toBuilder().build()).isEqualTo(base);
        assertThat(base.toBuilder().sni(false).build()).isNotEqualTo(base);
        assertThat(base.toBuilder().sniName("x.test").build()).isNotEqualTo(base);
        assertThat(base.toBuilder().verifyHostname("x.test").build()).isNotEqualTo(base);
        assertThat(base.toBuilder().trustPem(pemA).build()).isNotEqualTo(base);
        assertThat(base.toBuilder().protocols(List.of("TLSv1.3")).build()).isNotEqualTo(base);
        assertThat(base.toBuilder().alpn(List.of()).build()).isNotEqualTo(base);
        assertThat(base.toBuilder().minRsaKeySize(1024).build()).isNotEqualTo(base);
        assertThat(base.toBuilder().minEcKeySize(256).build()).isNotEqualTo(base);
        assertThat(base.toBuilder().provider("SunJSSE").build()).isNotEqualTo(base);
    }

    @Test
    void keySizeFloorsAndProviderAreValidatedAndHaveDocumentedDefaults() {
        TlsConfig d = TlsConfig.defaults();
        assertThat(d.minRsaKeySize()).isEqualTo(2048).isEqualTo(TlsConfig.DEFAULT_MIN_RSA_KEY_SIZE);
        assertThat(d.minEcKeySize()).isEqualTo(224).isEqualTo(TlsConfig.DEFAULT_MIN_EC_KEY_SIZE);
        assertThat(d.provider()).isNull();
        assertThat(d.providerName()).isNull();
        assertThatThrownBy(() -> TlsConfig.builder().minRsaKeySize(512))
                .hasMessage("minRsaKeySize must be between 1024 and 16384 but was 512");
        assertThatThrownBy(() -> TlsConfig.builder().minEcKeySize(1000))
                .hasMessage("minEcKeySize must be between 160 and 571 but was 1000");
        assertThatThrownBy(() -> TlsConfig.builder().provider("NoSuchProvider"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("provider must name an installed security provider")
                .hasMessageContaining("NoSuchProvider");
        assertThatThrownBy(() -> TlsConfig.builder().provider("SUN")) // installed, but no TLS
                .hasMessage("provider must offer SSLContext.TLS but SUN does not");
        assertThatThrownBy(() -> TlsConfig.builder().provider(java.security.Security.getProvider("SUN")))
                .hasMessage("provider must offer SSLContext.TLS but SUN does not");
        TlsConfig named = TlsConfig.builder().provider("SunJSSE").minRsaKeySize(3072).build();
        assertThat(named.providerName()).isEqualTo("SunJSSE");
        assertThat(named.toBuilder().build()).isEqualTo(named);
        assertThat(named.toString()).contains("provider=SunJSSE").contains("minRsaKeySize=3072");
        TlsConfig instance = TlsConfig.builder().provider(java.security.Security.getProvider("SunJSSE")).build();
        assertThat(instance.provider().getName()).isEqualTo("SunJSSE");
        assertThat(instance.providerName()).isEqualTo("SunJSSE");
        assertThat(instance.toBuilder().provider((java.security.Provider) null).build()).isEqualTo(TlsConfig.defaults());
    }
}
