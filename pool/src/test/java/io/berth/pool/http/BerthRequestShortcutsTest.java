package io.berth.pool.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.pool.http.BerthRequest.Body;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class BerthRequestShortcutsTest {
    private static String written(BerthRequest r, java.nio.charset.Charset cs) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        r.body().writeTo(out);
        return out.toString(cs);
    }

    @Test
    void postPutPatchAndDeleteCarryTheirBodyAndContentType() throws IOException {
        BerthRequest post = BerthRequest.post("/v1/orders", "application/json", Body.of("{\"a\":1}"));
        assertThat(post.method()).isEqualTo("POST");
        assertThat(post.target()).isEqualTo("/v1/orders");
        assertThat(post.headers()).containsEntry("Content-Type", List.of("application/json"));
        assertThat(written(post, StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
        assertThat(post.body().contentLength()).isEqualTo(7);
        assertThat(post.isReplayable(false)).isFalse();
        assertThat(post.isReplayable(true)).isFalse(); // no Idempotency-Key

        BerthRequest put = BerthRequest.put("/v1/items/7", "text/plain; charset=ISO-8859-1",
                Body.of("caf\u00e9", StandardCharsets.ISO_8859_1));
        assertThat(put.method()).isEqualTo("PUT");
        assertThat(put.body().contentLength()).isEqualTo(4);
        assertThat(written(put, StandardCharsets.ISO_8859_1)).isEqualTo("caf\u00e9");
        assertThat(put.isReplayable(false)).isTrue();

        BerthRequest patch = BerthRequest.patch("/v1/items/7", null, Body.of(new byte[] {1, 2, 3}));
        assertThat(patch.method()).isEqualTo("PATCH");
        assertThat(patch.headers()).doesNotContainKey("Content-Type");
        assertThat(patch.isReplayable(false)).isFalse();

        BerthRequest delete = BerthRequest.delete("/v1/items/7");
        assertThat(delete.method()).isEqualTo("DELETE");
        assertThat(delete.body()).isNull();
        assertThat(delete.isReplayable(false)).isTrue();

        BerthRequest deleteOnce = BerthRequest.delete("/v1/items", "application/json",
                Body.ofStream(new ByteArrayInputStream(new byte[] {'[', ']'}), 2));
        assertThat(deleteOnce.isReplayable(false)).as("a one-shot body is not replayable").isFalse();
    }

    @Test
    void badArgumentsAreRefusedByName() {
        assertThatThrownBy(() -> BerthRequest.post("v1/orders", null, Body.of("x")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("target");
        assertThatThrownBy(() -> BerthRequest.put("/x", null, null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("body");
        assertThatThrownBy(() -> BerthRequest.post("/x", "text/plain\r\nX-Evil: 1", Body.of("x")))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
