package io.berth.transport.http1;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.Outcome;
import io.berth.transport.http1.ResponseHead.Version;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class KeepAliveTest {
    private static final BodyFraming FIXED = BodyFraming.fixed(10);

    static Stream<Arguments> decisions() {
        Outcome t5m100 = Outcome.keepAlive(Duration.ofSeconds(5), 100);
        return Stream.of(
                Arguments.of(Version.HTTP_1_1, new String[0], FIXED, Outcome.REUSABLE),
                Arguments.of(Version.HTTP_1_1, new String[] {"Connection", "close"}, FIXED, Outcome.NOT_REUSABLE),
                Arguments.of(Version.HTTP_1_1, new String[] {"Connection", "Keep-Alive, CLOSE"}, FIXED, Outcome.NOT_REUSABLE),
                Arguments.of(Version.HTTP_1_1, new String[] {"Connection", "te", "connection", "close"}, FIXED,
                        Outcome.NOT_REUSABLE),
                Arguments.of(Version.HTTP_1_1, new String[] {"Connection", "closed"}, FIXED, Outcome.REUSABLE),
                Arguments.of(Version.HTTP_1_1, new String[0], BodyFraming.UNTIL_CLOSE, Outcome.NOT_REUSABLE),
                Arguments.of(Version.HTTP_1_1, new String[0], BodyFraming.CHUNKED, Outcome.REUSABLE),
                Arguments.of(Version.HTTP_1_1, new String[0], BodyFraming.NONE, Outcome.REUSABLE),
                Arguments.of(Version.HTTP_1_0, new String[0], FIXED, Outcome.NOT_REUSABLE),
                Arguments.of(Version.HTTP_1_0, new String[] {"Connection", "keep-alive"}, FIXED, Outcome.REUSABLE),
                Arguments.of(Version.HTTP_1_0, new String[] {"Connection", "Keep-Alive"}, FIXED, Outcome.REUSABLE),
                Arguments.of(Version.HTTP_1_0, new String[] {"Connection", "keep-alive, close"}, FIXED,
                        Outcome.NOT_REUSABLE),
                Arguments.of(Version.HTTP_1_0, new String[] {"Connection", "keep-alive"}, BodyFraming.UNTIL_CLOSE,
                        Outcome.NOT_REUSABLE),
                Arguments.of(Version.HTTP_1_0, new String[] {"Keep-Alive", "timeout=5"}, FIXED, Outcome.NOT_REUSABLE),
                // Hints.
                Arguments.of(Version.HTTP_1_1, new String[] {"Keep-Alive", "timeout=5, max=100"}, FIXED, t5m100),
                Arguments.of(Version.HTTP_1_1, new String[] {"Keep-Alive", "max=100,timeout=5"}, FIXED, t5m100),
                Arguments.of(Version.HTTP_1_1, new String[] {"Keep-Alive", " TIMEOUT = 5 , Max=100 "}, FIXED, t5m100),
                Arguments.of(Version.HTTP_1_1, new String[] {"Keep-Alive", "timeout=\"5\", max=100"}, FIXED, t5m100),
                Arguments.of(Version.HTTP_1_1, new String[] {"Keep-Alive", "timeout=5", "Keep-Alive", "max=100"}, FIXED,
                        t5m100),
                Arguments.of(Version.HTTP_1_0, new String[] {"Connection", "keep-alive", "Keep-Alive", "timeout=5, max=100"},
                        FIXED, t5m100),
                Arguments.of(Version.HTTP_1_1, new String[] {"Keep-Alive", "timeout=30"}, FIXED,
                        Outcome.keepAlive(Duration.ofSeconds(30), -1)),
                Arguments.of(Version.HTTP_1_1, new String[] {"Keep-Alive", "max=0"}, FIXED, Outcome.keepAlive(null, 0)),
                Arguments.of(Version.HTTP_1_1, new String[] {"Keep-Alive", "timeout=0"}, FIXED,
                        Outcome.keepAlive(Duration.ZERO, -1)),
                Arguments.of(Version.HTTP_1_1, new String[] {"Keep-Alive", "max=99999999999"}, FIXED,
                        Outcome.keepAlive(null, Integer.MAX_VALUE)),
                // Malformed hints are ignored.
                Arguments.of(Version.HTTP_1_1, new String[] {"Keep-Alive", "timeout=-5, max=x"}, FIXED, Outcome.REUSABLE),
                Arguments.of(Version.HTTP_1_1, new String[] {"Keep-Alive", "timeout=5s"}, FIXED, Outcome.REUSABLE),
                Arguments.of(Version.HTTP_1_1, new String[] {"Keep-Alive", "timeout="}, FIXED, Outcome.REUSABLE),
                Arguments.of(Version.HTTP_1_1, new String[] {"Keep-Alive", "timeout=9999999999999999999999"}, FIXED,
                        Outcome.REUSABLE),
                Arguments.of(Version.HTTP_1_1, new String[] {"Keep-Alive", "=5, timeouts=3, xmax=2"}, FIXED,
                        Outcome.REUSABLE),
                Arguments.of(Version.HTTP_1_1, new String[] {"Keep-Alive", ""}, FIXED, Outcome.REUSABLE),
                Arguments.of(Version.HTTP_1_1, new String[] {"Keep-Alive", "timeout=5", "Connection", "close"}, FIXED,
                        Outcome.NOT_REUSABLE));
    }

    @ParameterizedTest(name = "{0} {1} {2} -> {3}")
    @MethodSource("decisions")
    void decides(Version version, String[] headers, BodyFraming framing, Outcome expected) {
        ResponseHead head = ResponseHead.of(version, 200, "OK", HeaderFields.of(headers));
        assertThat(KeepAlive.decide(head, framing)).isEqualTo(expected);
    }

    @Test
    void withoutHintsTheConstantsAreReturned() {
        ResponseHead h11 = ResponseHead.of(Version.HTTP_1_1, 200, "OK", HeaderFields.EMPTY);
        assertThat(KeepAlive.decide(h11, FIXED)).isSameAs(Outcome.REUSABLE);
        ResponseHead close = ResponseHead.of(Version.HTTP_1_1, 200, "OK", HeaderFields.of("Connection", "close"));
        assertThat(KeepAlive.decide(close, FIXED)).isSameAs(Outcome.NOT_REUSABLE);
        ResponseHead bad = ResponseHead.of(Version.HTTP_1_1, 200, "OK", HeaderFields.of("Keep-Alive", "x"));
        assertThat(KeepAlive.decide(bad, FIXED)).isSameAs(Outcome.REUSABLE);
    }
}
