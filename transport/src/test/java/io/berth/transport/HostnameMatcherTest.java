package io.berth.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.TestPki;
import java.security.cert.CertificateException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@ExtendWith(Hygiene.class)
class HostnameMatcherTest {
    @ParameterizedTest(name = "{0} vs {1} -> {2}")
    @CsvSource({
        "backend.test, backend.test, true",
        "Backend.Test, backend.TEST, true",
        "backend.test., backend.test, true",
        "backend.test, backend.test., true",
        "a.backend.test, backend.test, false",
        "backend.test, a.backend.test, false",
        "a.backend.test, *.backend.test, true",
        "backend.test, *.backend.test, false",
        "a.b.backend.test, *.backend.test, false",
        "a.test, *.test, false",
        "x.a.test, *.*.test, false",
        "foo.test, f*.test, false",
        "foo.bar.example.com, foo.*.example.com, false",
        "bar.example.com, ba*.example.com, false",
        "bar.example.com, *ar.example.com, false",
        "example.com, *.com, false",
        "example.co.uk, *.co.uk, false",
        "a.example.co.uk, *.example.co.uk, true",
        "x.foo.ck, *.foo.ck, false",
        "a.www.ck, *.www.ck, true",
        "a.example.com, *.example.com., true",
        "xn--bcher-kva.example.com, XN--BCHER-KVA.EXAMPLE.COM, true",
        "a.xn--bcher-kva.example, *.XN--Bcher-kva.example, true",
        "a.example.com, *., false",
        "a.example.com, *, false",
        "a.example..com, *.example..com, false",
        "'', backend.test, false",
    })
    void dnsNames(String name, String pattern, boolean matches) {
        assertThat(HostnameMatcher.dnsMatches(name, pattern)).isEqualTo(matches);
    }

    @Test
    void ipLiteralsAreParsedWithoutLookups() {
        assertThat(HostnameMatcher.ipLiteral("127.0.0.1")).isNotNull();
        assertThat(HostnameMatcher.ipLiteral("::1")).isEqualTo(HostnameMatcher.ipLiteral("[0:0:0:0:0:0:0:1]"));
        assertThat(HostnameMatcher.ipLiteral("backend.test")).isNull();
        assertThat(HostnameMatcher.ipLiteral("1.2.3")).isNull();
        assertThat(HostnameMatcher.ipLiteral("cafe")).isNull();
    }

    @Test
    void certificates() {
        assertThatCode(() -> HostnameMatcher.verify("backend.test", TestPki.SERVER.certificate()))
                .doesNotThrowAnyException();
        assertThatCode(() -> HostnameMatcher.verify("127.0.0.1", TestPki.SERVER.certificate()))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> HostnameMatcher.verify("127.0.0.1", TestPki.BACKEND_TEST_ONLY.certificate()))
                .isExactlyInstanceOf(CertificateException.class)
                .hasMessageContaining("127.0.0.1").hasMessageContaining("backend.test");
        assertThatThrownBy(() -> HostnameMatcher.verify("10.9.8.7.example", TestPki.WRONG_HOST.certificate()))
                .isExactlyInstanceOf(CertificateException.class);
        assertThatCode(() -> HostnameMatcher.verify("10.9.8.7", TestPki.WRONG_HOST.certificate()))
                .doesNotThrowAnyException();
    }
}
