package io.berth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BackendTest {

    @Test
    void urlGivesSchemeHostAndDefaultPort() {
        Backend b = Backend.of("https://api.example.com");
        assertThat(b.isSecure()).isTrue();
        assertThat(b.server()).isEqualTo(Server.of("api.example.com", 443));
        assertThat(b.tls()).isEqualTo(TlsConfig.defaults());
        assertThat(b).hasToString("https://api.example.com:443");
        Backend plain = Backend.of("http://10.0.0.5:8080/");
        assertThat(plain.isSecure()).isFalse();
        assertThat(plain.server().isIpLiteral()).isTrue();
        assertThatThrownBy(plain::tls).isInstanceOf(IllegalStateException.class);
        assertThat(Backend.of("https://[::1]:8443").server()).hasToString("[::1]:8443");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "ftp://x.test|backend URL must start with https:// or http:// but was 'ftp://x.test'",
        "https://x.test/v1|backend URL must not have a path ('/v1'): give the path with each request; URL was 'https://x.test/v1'",
        "https://x.test?a=1|backend URL must not have a query or fragment but was 'https://x.test?a=1'",
        "https://u:p@x.test|backend URL must not carry user info but was 'https://u:p@x.test'",
        "https://|backend URL is malformed: 'https://' (Expected authority)",
        "x.test:443|backend URL must start with https:// or http:// but was 'x.test:443'"
    })
    void malformedUrlsAreRejectedWithTheReason(String url, String message) {
        assertThatThrownBy(() -> Backend.of(url)).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    }

    @Test
    void serversMustBeDistinctAndValid() {
        assertThatThrownBy(() -> Backend.builder().server("a.test", 1).server("A.test", 1))
                .hasMessage("servers must be distinct but A.test:1 was given twice");
        assertThatThrownBy(() -> Backend.builder().build())
                .hasMessage("servers must hold at least one server but was empty");
        assertThatThrownBy(() -> Server.of("a.test", 70000)).hasMessage("server port must be 1..65535 but was 70000");
        assertThatThrownBy(() -> Server.of("a b", 1))
                .hasMessage("server host must be a DNS name or an IP literal but was 'a b' (character ' ' at 1)");
        assertThatThrownBy(() -> Backend.builder().secure(false).server("a.test", 80).tls(TlsConfig.defaults()).build())
                .hasMessage("tls must not be set for a plain http backend");
    }

    @Test
    void equalBackendsAreInterchangeable() {
        assertThat(Backend.of("https://A.test:443")).isEqualTo(Backend.of("https://a.test"))
                .hasSameHashCodeAs(Backend.of("https://a.test"));
        Backend noSni = Backend.of("https://a.test").toBuilder().tls(TlsConfig.builder().sni(false).build()).build();
        assertThat(noSni).isNotEqualTo(Backend.of("https://a.test"));
    }
}
