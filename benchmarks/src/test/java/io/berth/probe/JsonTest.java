package io.berth.probe;

import static io.berth.probe.MiniJson.at;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    private static final String NASTY = "quote \" backslash \\ newline \n tab \t bell \u0007 line-sep \u2028 é";

    @Test
    void writesNestedValuesOnOneLineThatParseBack() {
        String text = new Json().beginObject()
                .member("s", NASTY)
                .member("n", -42L)
                .member("t", true)
                .name("none").nullValue()
                .name("empty").beginObject().endObject()
                .name("list").beginArray().value(1L).value("two").beginObject().member("k", false).endObject()
                .beginArray().endArray().value((String) null).endArray()
                .endObject().toString();

        assertThat(text).doesNotContain("\n").doesNotContain("\u2028");
        Object json = MiniJson.parse(text);
        assertThat(List.copyOf(((Map<?, ?>) json).keySet())).isEqualTo(List.of("s", "n", "t", "none", "empty", "list"));
        assertThat(at(json, "s")).isEqualTo(NASTY);
        assertThat(at(json, "n")).isEqualTo(-42L);
        assertThat(at(json, "t")).isEqualTo(true);
        assertThat(at(json, "none")).isNull();
        assertThat(at(json, "empty")).isEqualTo(Map.of());
        assertThat(((List<?>) at(json, "list")).subList(0, 4)).isEqualTo(List.of(1L, "two", Map.of("k", false), List.of()));
        assertThat((List<?>) at(json, "list")).hasSize(5);
        assertThat(at(json, "list", 4)).isNull();
    }
}
