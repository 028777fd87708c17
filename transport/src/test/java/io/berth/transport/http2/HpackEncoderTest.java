package io.berth.transport.http2;

import static io.berth.transport.http2.HpackRfcExamplesTest.encode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HpackEncoderTest {

    @Test
    void sensitiveFieldsAreNeverIndexed() {
        HpackEncoder e = new HpackEncoder(4096, HpackEncoder.HUFFMAN_NEVER, false);
        // authorization (static 23): 0001 1111 then 23 - 15 = 8.
        assertThat(encode(e, "authorization", "Basic dXNlcjpwYXNz")).isEqualTo("1f081242617369632064584e6c636a707759584e7a");
        assertThat(encode(e, "authorization", "Basic dXNlcjpwYXNz")).startsWith("1f08");
        assertThat(encode(e, "proxy-authorization", "x")).isEqualTo("1f220178"); // static 49
        assertThat(encode(e, "cookie", "sid=1234567890abcde")).startsWith("1f11"); // 19 chars: static 32
        assertThat(e.table().length()).isZero();
    }

    @Test
    void aLongCookieIsIndexed() {
        HpackEncoder e = new HpackEncoder(4096);
        String cookie = "session=0123456789abcdef0123456789";
        assertThat(encode(e, "cookie", cookie)).startsWith("60"); // literal with indexing, name 32
        assertThat(encode(e, "cookie", cookie)).isEqualTo("be");
    }

    @Test
    void aRepeatedRequestCostsOneByteForItsRepeatedFields() {
        HpackEncoder e = new HpackEncoder(4096);
        String[] request = {":method", "GET", ":scheme", "https", ":authority", "api.example.com",
            ":path", "/v1/items/1", "user-agent", "berth/0.1", "accept", "application/json"};
        String first = encode(e, request);
        request[7] = "/v1/items/2";
        String second = encode(e, request);
        // :method GET (82), :scheme https (87), then :authority and user-agent and accept from the
        // dynamic table, :path as a literal without indexing (name 4) each time.
        assertThat(second).startsWith("8287c0").contains("04").endsWith("bfbe");
        assertThat(second.length() / 2).isLessThan(first.length() / 3);
        assertThat(e.table().toString()).doesNotContain(":path");
    }

    @Test
    void changingValuesAreNotIndexed() {
        HpackEncoder e = new HpackEncoder(4096);
        encode(e, "content-length", "12", "if-none-match", "\"abc\"", "date", "x", "x-custom", "v");
        assertThat(e.table()).hasToString("[1] (s = 41) x-custom: v\nsize 41");
    }

    @Test
    void aShrunkThenGrownTableSignalsTheMinimumThenTheFinalSize() {
        HpackEncoder e = new HpackEncoder(4096);
        encode(e, "x-a", "1");
        e.setPeerTableSize(0);
        e.setPeerTableSize(4096);
        assertThat(encode(e, ":method", "GET")).isEqualTo("20" + "3fe11f" + "82");
        assertThat(e.table().length()).isZero();
        assertThat(encode(e, ":method", "GET")).isEqualTo("82");
    }

    @Test
    void aShrunkTableSignalsTheNewSizeOnce() {
        HpackEncoder e = new HpackEncoder(4096);
        e.setPeerTableSize(1000);
        assertThat(encode(e, ":method", "GET")).isEqualTo("3fc907" + "82");
        assertThat(encode(e, ":method", "GET")).isEqualTo("82");
        assertThat(e.table().maxSize()).isEqualTo(1000);
    }

    @Test
    void aLargerPeerTableThanOurOwnLimitChangesNothing() {
        HpackEncoder e = new HpackEncoder(4096);
        e.setPeerTableSize(65536);
        assertThat(encode(e, ":method", "GET")).isEqualTo("82");
        HpackEncoder none = new HpackEncoder(0);
        assertThat(encode(none, ":method", "GET", "x-a", "b")).isEqualTo("20" + "82" + "0003782d6101" + "62");
        assertThat(none.table().length()).isZero();
    }

    @Test
    void tooLittleRoomWritesNothingAndChangesNothing() {
        HpackEncoder e = new HpackEncoder(4096);
        e.setPeerTableSize(100);
        Http2Headers h = Http2Headers.of("x-a", "b");
        ByteBuffer small = ByteBuffer.allocate(HpackEncoder.bound(h) - 1);
        assertThatThrownBy(() -> e.encode(h, small)).isInstanceOf(BufferOverflowException.class);
        assertThat(small.position()).isZero();
        assertThat(e.table().length()).isZero();
        assertThat(encode(e, "x-a", "b")).startsWith("3f45"); // the update is still pending
    }

    /** Seeded lists with repeats, a small table (evictions) and setting changes: decode(encode(x)) = x. */
    @Test
    void encoderAndDecoderStayInStep() throws Exception {
        SplittableRandom rnd = new SplittableRandom(42);
        String[] names = {":authority", ":path", "user-agent", "cookie", "x-trace", "accept", "authorization",
            "content-length", "x-big"};
        HpackEncoder e = new HpackEncoder(512);
        HpackDecoder d = new HpackDecoder();
        for (int block = 0; block < 500; block++) {
            if (rnd.nextInt(20) == 0) {
                long size = rnd.nextInt(600);
                e.setPeerTableSize(size);
                d.setTableSizeLimit(size);
            }
            Http2Headers.Builder b = Http2Headers.builder();
            int n = rnd.nextInt(12);
            for (int i = 0; i < n; i++) {
                String name = names[rnd.nextInt(names.length)];
                String value = name.equals("x-big") ? "v".repeat(rnd.nextInt(400)) : "v" + rnd.nextInt(6);
                b.add(name, value);
            }
            Http2Headers h = b.build();
            ByteBuffer out = ByteBuffer.allocate(HpackEncoder.bound(h));
            e.encode(h, out);
            assertThat(d.decode(out.flip(), 1)).as("block %d", block).isEqualTo(h);
            assertThat(d.table()).as("table after block %d", block).hasToString(e.table().toString());
        }
    }
}
