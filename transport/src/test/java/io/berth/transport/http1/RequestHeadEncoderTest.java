package io.berth.transport.http1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class RequestHeadEncoderTest {
    private final RequestHeadEncoder encoder = new RequestHeadEncoder();

    static String text(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return new String(a, StandardCharsets.ISO_8859_1);
    }

    @Test
    void writesRequestLineHeadersAndBlankLine() {
        ByteBuffer b = encoder.encode("GET", "/a/b?c=d", HeaderFields.of("Host", "x.test", "Accept", "*/*",
                "X-Latin", "caf\u00e9\tok"));
        assertThat(text(b)).isEqualTo("GET /a/b?c=d HTTP/1.1\r\nHost: x.test\r\nAccept: */*\r\n"
                + "X-Latin: caf\u00e9\tok\r\n\r\n");
        assertThat(b.position()).isZero();
    }

    @Test
    void addsTheBodyFramingAskedFor() {
        assertThat(text(encoder.encode("POST", "/", HeaderFields.of("Host", "h"), 1234567890123L)))
                .isEqualTo("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1234567890123\r\n\r\n");
        assertThat(text(encoder.encode("POST", "/", HeaderFields.of("Host", "h"), 0)))
                .isEqualTo("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
        assertThat(text(encoder.encode("PUT", "/", HeaderFields.EMPTY, RequestHeadEncoder.CHUNKED)))
                .isEqualTo("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        assertThat(text(encoder.encode("GET", "/", HeaderFields.EMPTY, RequestHeadEncoder.NO_BODY)))
                .isEqualTo("GET / HTTP/1.1\r\n\r\n");
        assertThatThrownBy(() -> encoder.encode("GET", "/", HeaderFields.EMPTY, -3))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "/p", "*", "http://example.test/x", "https://a.test:8443/?q", "urn:x-a:b",
            "/%20encoded", "/a;b=c/d?e=f&g#frag"})
    void acceptsTargetForms(String target) {
        assertThat(text(encoder.encode("OPTIONS", target, HeaderFields.EMPTY))).startsWith("OPTIONS " + target + " HTTP/1.1\r\n");
    }

    static Stream<Arguments> badRequests() {
        return Stream.of(
                Arguments.of("", "/", HeaderFields.EMPTY, "method must not be empty"),
                Arguments.of("GE T", "/", HeaderFields.EMPTY, "method 'GE T' has character 0x20 (SP) at index 2"),
                Arguments.of("GET\r\n", "/", HeaderFields.EMPTY, "method 'GET\\u000D\\u000A' has character 0x0D (CR)"),
                Arguments.of("G\u00c9T", "/", HeaderFields.EMPTY, "has character 0xC9"),
                Arguments.of("GET", "", HeaderFields.EMPTY, "request target must not be empty"),
                Arguments.of("GET", "a/b", HeaderFields.EMPTY, "request target 'a/b' must start with '/'"),
                Arguments.of("GET", "**", HeaderFields.EMPTY, "must start with '/'"),
                Arguments.of("GET", "1http://x", HeaderFields.EMPTY, "must start with '/'"),
                Arguments.of("GET", "/a b", HeaderFields.EMPTY, "request target '/a b' has character 0x20 (SP) at index 2"),
                Arguments.of("GET", "/a\r\nX: y", HeaderFields.EMPTY, "has character 0x0D (CR)"),
                Arguments.of("GET", "/a\nb", HeaderFields.EMPTY, "has character 0x0A (LF)"),
                Arguments.of("GET", "/\0", HeaderFields.EMPTY, "has character 0x00 (NUL)"),
                Arguments.of("GET", "/\t", HeaderFields.EMPTY, "has character 0x09 (HTAB)"),
                Arguments.of("GET", "/caf\u00e9", HeaderFields.EMPTY, "has character 0xE9"),
                Arguments.of("GET", "/\u007f", HeaderFields.EMPTY, "has character 0x7F"));
    }

    @ParameterizedTest(name = "{3}")
    @MethodSource("badRequests")
    void rejectsBadMethodsAndTargets(String method, String target, HeaderFields headers, String message) {
        assertThatThrownBy(() -> encoder.encode(method, target, headers))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
    }

    @Test
    void rejectsBadHeadersNamingThem() {
        // HeaderFields validates too; a package-private constructor lets the encoder's own checks be seen.
        HeaderFields badName = new HeaderFields(new String[] {"Bad Name", "v"});
        assertThatThrownBy(() -> encoder.encode("GET", "/", badName)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("header name 'Bad Name'");
        HeaderFields crlf = new HeaderFields(new String[] {"X-Inject", "a\r\nEvil: 1"});
        assertThatThrownBy(() -> encoder.encode("GET", "/", crlf)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("value of header X-Inject has character 0x0D (CR)");
        HeaderFields nul = new HeaderFields(new String[] {"X-Nul", "a\0"});
        assertThatThrownBy(() -> encoder.encode("GET", "/", nul)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("X-Nul");
        HeaderFields empty = new HeaderFields(new String[] {"", "v"});
        assertThatThrownBy(() -> encoder.encode("GET", "/", empty)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("header name must not be empty");
    }

    @Test
    void reusesItsArrayAndGrowsForLargeHeads() {
        ByteBuffer first = encoder.encode("GET", "/", HeaderFields.EMPTY);
        int capacity = encoder.capacity();
        ByteBuffer second = encoder.encode("GET", "/other", HeaderFields.of("A", "b"));
        assertThat(second).isSameAs(first);
        assertThat(encoder.capacity()).isEqualTo(capacity);
        String big = "v".repeat(10_000);
        assertThat(text(encoder.encode("GET", "/", HeaderFields.of("Big", big)))).contains("Big: " + big + "\r\n");
        assertThat(encoder.capacity()).isGreaterThan(10_000);
        assertThat(text(encoder.encode("GET", "/", HeaderFields.EMPTY))).isEqualTo("GET / HTTP/1.1\r\n\r\n");
    }

    @Test
    void aRequestLikeTheLastIsWrittenTheSameWhateverCameBetween() {
        HeaderFields h = HeaderFields.of("Host", "x.test", "Accept-Encoding", "gzip");
        String get = "GET /a HTTP/1.1\r\nHost: x.test\r\nAccept-Encoding: gzip\r\n\r\n";
        assertThat(text(encoder.encode("GET", "/a", h))).isEqualTo(get);
        assertThat(text(encoder.encode("GET", "/a", h))).isEqualTo(get);
        assertThat(text(encoder.encode("GET", "/b", h))).isEqualTo(get.replace("/a", "/b"));
        assertThat(text(encoder.encode("HEAD", "/b", h))).isEqualTo(get.replace("/a", "/b").replace("GET", "HEAD"));
        assertThat(text(encoder.encode("HEAD", "/b", h, 3))).isEqualTo(get.replace("/a", "/b").replace("GET", "HEAD")
                .replace("\r\n\r\n", "\r\nContent-Length: 3\r\n\r\n"));
        HeaderFields equalButAnother = HeaderFields.of("Host", "x.test", "Accept-Encoding", "br");
        assertThat(text(encoder.encode("GET", "/a", equalButAnother))).isEqualTo(get.replace("gzip", "br"));
        assertThat(text(encoder.encode("GET", "/a", h))).isEqualTo(get);
        // A rejected request overwrote part of the array: the next one is written whole again.
        assertThatThrownBy(() -> encoder.encode("GET", "/a", HeaderFields.of("Host", "x.test", "X", "a\u0100")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(text(encoder.encode("GET", "/a", h))).isEqualTo(get);
        assertThatThrownBy(() -> encoder.encode("GET", "/z b", h)).isInstanceOf(IllegalArgumentException.class);
        assertThat(text(encoder.encode("GET", "/a", h))).isEqualTo(get);
    }
}
