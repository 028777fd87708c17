package io.berth.transport.http1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class HeaderFieldsTest {
    private final HeaderFields fields = HeaderFields.of(
            "Content-Type", "text/plain",
            "Set-Cookie", "a=1",
            "Connection", "keep-alive, Upgrade",
            "set-cookie", "b=2",
            "connection", " TE ,, close\t");

    @Test
    void indexedAccessKeepsOrderAndSpelling() {
        assertThat(fields.size()).isEqualTo(5);
        assertThat(fields.name(3)).isEqualTo("set-cookie");
        assertThat(fields.value(3)).isEqualTo("b=2");
        assertThatThrownBy(() -> fields.name(5)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> fields.value(-1)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void lookupIgnoresCase() {
        assertThat(fields.first("CONTENT-type")).isEqualTo("text/plain");
        assertThat(fields.first("Set-Cookie")).isEqualTo("a=1");
        assertThat(fields.first("Missing")).isNull();
        assertThat(fields.values("SET-COOKIE")).containsExactly("a=1", "b=2");
        assertThat(fields.values("missing")).isEmpty();
        assertThat(fields.contains("content-TYPE")).isTrue();
        assertThat(fields.contains("Content")).isFalse();
    }

    static Stream<Arguments> tokens() {
        return Stream.of(
                Arguments.of("Connection", "keep-alive", true),
                Arguments.of("connection", "KEEP-ALIVE", true),
                Arguments.of("Connection", "upgrade", true),
                Arguments.of("Connection", "te", true),
                Arguments.of("Connection", "close", true),
                Arguments.of("Connection", "keep", false),
                Arguments.of("Connection", "", false),
                Arguments.of("Connection", "alive", false),
                Arguments.of("Content-Type", "text/plain", true),
                Arguments.of("Missing", "x", false));
    }

    @ParameterizedTest(name = "{0} has {1}: {2}")
    @MethodSource("tokens")
    void containsTokenSearchesCommaListsAcrossRepeatedFields(String name, String token, boolean expected) {
        assertThat(fields.containsToken(name, token)).isEqualTo(expected);
    }

    @Test
    void toMapIsCaseInsensitiveOrderedAndUnmodifiable() {
        Map<String, List<String>> map = fields.toMap();
        assertThat(map.keySet()).containsExactly("Connection", "Content-Type", "Set-Cookie");
        assertThat(map.get("SET-COOKIE")).containsExactly("a=1", "b=2");
        assertThat(map.get("connection")).containsExactly("keep-alive, Upgrade", " TE ,, close\t");
        assertThatThrownBy(() -> map.put("x", List.of())).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> map.get("Set-Cookie").add("c")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void builderAddsSetsAndRemoves() {
        HeaderFields h = HeaderFields.builder()
                .add("Accept", "a")
                .add("X-Trace", "1")
                .add("accept", "b")
                .set("ACCEPT", "c")
                .add("X-Gone", "g")
                .remove("x-gone")
                .build();
        assertThat(h).isEqualTo(HeaderFields.of("X-Trace", "1", "ACCEPT", "c"));
        HeaderFields derived = h.toBuilder().add("Y", "2").build();
        assertThat(derived.size()).isEqualTo(3);
        assertThat(h.size()).isEqualTo(2);
        assertThat(HeaderFields.builder().build()).isSameAs(HeaderFields.EMPTY);
    }

    @Test
    void builderGrowsBeyondItsInitialCapacity() {
        HeaderFields.Builder b = HeaderFields.builder();
        for (int i = 0; i < 100; i++) {
            b.add("X-" + i, "v" + i);
        }
        HeaderFields h = b.build();
        assertThat(h.size()).isEqualTo(100);
        assertThat(h.first("x-99")).isEqualTo("v99");
    }

    static Stream<Arguments> badFields() {
        return Stream.of(
                Arguments.of("", "v", "header name must not be empty"),
                Arguments.of("Bad Name", "v", "header name 'Bad Name' has character 0x20 (SP) at index 3"),
                Arguments.of("Bad:Name", "v", "header name 'Bad:Name' has character 0x3A (':')"),
                Arguments.of("Caf\u00e9", "v", "header name 'Caf\\u00E9' has character 0xE9"),
                Arguments.of("X-Split", "a\r\nInjected: yes", "value of header X-Split has character 0x0D (CR) at index 1"),
                Arguments.of("X-Lf", "a\nb", "value of header X-Lf has character 0x0A (LF)"),
                Arguments.of("X-Nul", "a\0b", "value of header X-Nul has character 0x00 (NUL)"),
                Arguments.of("X-Del", "a\u007f", "value of header X-Del has character 0x7F"),
                Arguments.of("X-Wide", "snow \u2603", "value of header X-Wide has character U+2603"));
    }

    @ParameterizedTest(name = "{2}")
    @MethodSource("badFields")
    void builderRejectsBadNamesAndValuesNamingTheHeader(String name, String value, String message) {
        assertThatThrownBy(() -> HeaderFields.builder().add(name, value))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
        assertThatThrownBy(() -> HeaderFields.builder().set(name, value))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
    }

    @Test
    void tabsAndLatin1AreValidValues() {
        HeaderFields h = HeaderFields.of("X", "a\tb \u00e9\u00ff");
        assertThat(h.first("x")).isEqualTo("a\tb \u00e9\u00ff");
    }

    @Test
    void nullsAndOddCountsAreRejected() {
        assertThatThrownBy(() -> HeaderFields.of("A")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pairs");
        assertThatThrownBy(() -> HeaderFields.of("A", null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("A");
        assertThatThrownBy(() -> HeaderFields.builder().remove(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void equalityAndToString() {
        assertThat(HeaderFields.of("A", "1")).isEqualTo(HeaderFields.of("A", "1"))
                .hasSameHashCodeAs(HeaderFields.of("A", "1"))
                .isNotEqualTo(HeaderFields.of("a", "1"));
        assertThat(HeaderFields.of("A", "1", "B", "2")).hasToString("A: 1\nB: 2\n");
    }
}
