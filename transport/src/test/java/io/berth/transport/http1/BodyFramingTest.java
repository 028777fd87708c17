package io.berth.transport.http1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.HttpProtocolException;
import io.berth.transport.http1.ResponseHead.Version;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BodyFramingTest {

    /** status, HEAD request?, header names and values, expected framing. */
    static Stream<Arguments> framings() {
        return Stream.of(
                Arguments.of(200, false, new String[] {"Content-Length", "42"}, "FIXED(42)"),
                Arguments.of(200, false, new String[] {"Content-Length", "0"}, "NONE"),
                Arguments.of(200, false, new String[] {"Content-Length", "007"}, "FIXED(7)"),
                Arguments.of(200, false, new String[] {"Content-Length", "9223372036854775807"},
                        "FIXED(9223372036854775807)"),
                Arguments.of(200, false, new String[] {"Content-Length", "5", "content-length", "5"}, "FIXED(5)"),
                Arguments.of(200, false, new String[] {"Content-Length", "5, 5,5"}, "FIXED(5)"),
                Arguments.of(200, false, new String[] {"Transfer-Encoding", "chunked"}, "CHUNKED"),
                Arguments.of(200, false, new String[] {"Transfer-Encoding", "CHUNKED"}, "CHUNKED"),
                Arguments.of(200, false, new String[] {"Transfer-Encoding", " chunked ,"}, "CHUNKED"),
                Arguments.of(200, false, new String[] {"Transfer-Encoding", ", chunked"}, "CHUNKED"),
                Arguments.of(200, false, new String[0], "UNTIL_CLOSE"),
                Arguments.of(500, false, new String[] {"Connection", "close"}, "UNTIL_CLOSE"),
                // No body whatever the headers say: HEAD, 1xx, 204, 304.
                Arguments.of(200, true, new String[] {"Content-Length", "42"}, "NONE"),
                Arguments.of(200, true, new String[] {"Transfer-Encoding", "chunked"}, "NONE"),
                Arguments.of(200, true, new String[0], "NONE"),
                Arguments.of(100, false, new String[] {"Content-Length", "42"}, "NONE"),
                Arguments.of(103, false, new String[] {"Transfer-Encoding", "chunked"}, "NONE"),
                Arguments.of(204, false, new String[] {"Content-Length", "42"}, "NONE"),
                Arguments.of(204, false, new String[] {"Transfer-Encoding", "chunked", "Content-Length", "3"}, "NONE"),
                Arguments.of(304, false, new String[] {"Content-Length", "42"}, "NONE"),
                Arguments.of(304, false, new String[] {"Transfer-Encoding", "chunked"}, "NONE"),
                Arguments.of(205, false, new String[] {"Content-Length", "0"}, "NONE"));
    }

    @ParameterizedTest(name = "{0} head={1} {2} -> {3}")
    @MethodSource("framings")
    void decidesFraming(int status, boolean headRequest, String[] headers, String expected) throws Exception {
        ResponseHead head = ResponseHead.of(Version.HTTP_1_1, status, "", HeaderFields.of(headers));
        assertThat(BodyFraming.of(head, headRequest)).hasToString(expected);
    }

    /** Smuggling vectors and other invalid framing: headers, message fragment. */
    static Stream<Arguments> invalidFramings() {
        return Stream.of(
                Arguments.of(new String[] {"Transfer-Encoding", "chunked", "Content-Length", "5"},
                        "both Transfer-Encoding and Content-Length"),
                Arguments.of(new String[] {"Content-Length", "5", "Transfer-Encoding", "identity"},
                        "both Transfer-Encoding and Content-Length"),
                Arguments.of(new String[] {"Content-Length", "5", "Content-Length", "6"},
                        "conflicting Content-Length values 5 and 6 in 2 fields"),
                Arguments.of(new String[] {"Content-Length", "5, 6"}, "conflicting Content-Length values 5 and 6"),
                Arguments.of(new String[] {"Content-Length", "-1"}, "invalid Content-Length '-1': only decimal digits"),
                Arguments.of(new String[] {"Content-Length", "+5"}, "invalid Content-Length '+5'"),
                Arguments.of(new String[] {"Content-Length", "0x10"}, "invalid Content-Length '0x10'"),
                Arguments.of(new String[] {"Content-Length", "1 2"}, "invalid Content-Length '1 2'"),
                Arguments.of(new String[] {"Content-Length", "5.0"}, "invalid Content-Length '5.0'"),
                Arguments.of(new String[] {"Content-Length", ""}, "invalid Content-Length '': empty value"),
                Arguments.of(new String[] {"Content-Length", "5,"}, "empty value"),
                Arguments.of(new String[] {"Content-Length", "9223372036854775808"}, "larger than 9223372036854775807"),
                Arguments.of(new String[] {"Content-Length", "99999999999999999999999"}, "larger than"),
                Arguments.of(new String[] {"Transfer-Encoding", "gzip, chunked"}, "unsupported transfer-coding 'gzip'"),
                Arguments.of(new String[] {"Transfer-Encoding", "chunked, gzip"}, "unsupported transfer-coding 'gzip'"),
                Arguments.of(new String[] {"Transfer-Encoding", "identity"}, "unsupported transfer-coding 'identity'"),
                Arguments.of(new String[] {"Transfer-Encoding", "chunked;q=1"}, "unsupported transfer-coding"),
                Arguments.of(new String[] {"Transfer-Encoding", "xchunked"}, "unsupported transfer-coding 'xchunked'"),
                Arguments.of(new String[] {"Transfer-Encoding", "chunked, chunked"}, "chunked applied more than once"),
                Arguments.of(new String[] {"Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked"},
                        "chunked applied more than once"),
                Arguments.of(new String[] {"Transfer-Encoding", ""}, "empty Transfer-Encoding"),
                Arguments.of(new String[] {"Transfer-Encoding", " , "}, "empty Transfer-Encoding"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("invalidFramings")
    void rejectsSmugglingVectorsAndInvalidLengths(String[] headers, String message) {
        ResponseHead head = ResponseHead.of(Version.HTTP_1_1, 200, "OK", HeaderFields.of(headers));
        assertThatThrownBy(() -> BodyFraming.of(head, false)).isInstanceOf(HttpProtocolException.class)
                .hasMessageContaining(message);
    }

    @Test
    void transferEncodingInHttp10IsFaultyFraming() {
        ResponseHead head = ResponseHead.of(Version.HTTP_1_0, 200, "OK", HeaderFields.of("Transfer-Encoding", "chunked"));
        assertThatThrownBy(() -> BodyFraming.of(head, false)).isInstanceOf(HttpProtocolException.class)
                .hasMessage("Transfer-Encoding in an HTTP/1.0 response");
    }

    @Test
    void longServerValuesAreClippedInMessages() {
        String v = "x".repeat(10_000);
        ResponseHead head = ResponseHead.of(Version.HTTP_1_1, 200, "OK", HeaderFields.of("Content-Length", v));
        assertThatThrownBy(() -> BodyFraming.of(head, false)).isInstanceOf(HttpProtocolException.class)
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(200));
    }

    @Test
    void fixedRejectsNegativeLengths() {
        assertThatThrownBy(() -> BodyFraming.fixed(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(BodyFraming.fixed(0)).isSameAs(BodyFraming.NONE);
        assertThat(BodyFraming.fixed(3)).isEqualTo(BodyFraming.fixed(3)).hasSameHashCodeAs(BodyFraming.fixed(3));
    }
}
