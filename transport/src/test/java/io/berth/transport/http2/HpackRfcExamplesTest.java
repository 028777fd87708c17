package io.berth.transport.http2;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * Every example of RFC 7541 Appendix C.2 to C.6, typed from the RFC text: the wire bytes, the decoded
 * list and the dynamic table after each step, for the decoder and (where the RFC's indexing choices
 * can be reproduced) the encoder, which must produce the same bytes and the same table.
 */
class HpackRfcExamplesTest {

    @Test
    void c1_integers() throws Exception {
        ByteBuffer out = ByteBuffer.allocate(8);
        HpackEncoder.writeInt(out, 0xA0, 5, 10); // C.1.1, after three flag bits 101
        HpackEncoder.writeInt(out, 0x00, 5, 1337); // C.1.2
        HpackEncoder.writeInt(out, 0x00, 8, 42); // C.1.3
        assertThat(Hex.of(out.flip())).isEqualTo("aa" + "1f9a0a" + "2a");
        // 1337 with a 5-bit prefix, read back as a dynamic table size update (001 prefix).
        HpackDecoder d = new HpackDecoder();
        decode(d, "3f9a0a");
        assertThat(d.table().maxSize()).isEqualTo(1337);
    }

    @Test
    void c2_1LiteralWithIndexing() throws Exception {
        HpackDecoder d = new HpackDecoder();
        assertThat(decode(d, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"))
                .isEqualTo(Http2Headers.of("custom-key", "custom-header"));
        assertThat(d.table()).hasToString("[1] (s = 55) custom-key: custom-header\nsize 55");

        HpackEncoder e = new HpackEncoder(4096, HpackEncoder.HUFFMAN_NEVER, true);
        assertThat(encode(e, "custom-key", "custom-header"))
                .isEqualTo("400a637573746f6d2d6b65790d637573746f6d2d686561646572");
        assertThat(e.table()).hasToString("[1] (s = 55) custom-key: custom-header\nsize 55");
    }

    @Test
    void c2_2LiteralWithoutIndexing() throws Exception {
        HpackDecoder d = new HpackDecoder();
        assertThat(decode(d, "040c 2f73 616d 706c 652f 7061 7468")).isEqualTo(Http2Headers.of(":path", "/sample/path"));
        assertThat(d.table()).hasToString("size 0");

        // :path is never indexed by the encoder's own policy: the same bytes.
        HpackEncoder e = new HpackEncoder(4096, HpackEncoder.HUFFMAN_NEVER, false);
        assertThat(encode(e, ":path", "/sample/path")).isEqualTo("040c2f73616d706c652f70617468");
        assertThat(e.table()).hasToString("size 0");
    }

    /** Decoded only: the encoder never-indexes only the fields of its own rule (see HpackEncoderTest). */
    @Test
    void c2_3LiteralNeverIndexed() throws Exception {
        HpackDecoder d = new HpackDecoder();
        assertThat(decode(d, "1008 7061 7373 776f 7264 0673 6563 7265 74"))
                .isEqualTo(Http2Headers.of("password", "secret"));
        assertThat(d.table()).hasToString("size 0");
    }

    @Test
    void c2_4Indexed() throws Exception {
        HpackDecoder d = new HpackDecoder();
        assertThat(decode(d, "82")).isEqualTo(Http2Headers.of(":method", "GET"));
        assertThat(d.table()).hasToString("size 0");
        assertThat(encode(new HpackEncoder(4096), ":method", "GET")).isEqualTo("82");
    }

    private static final String[] REQUEST_1 = {":method", "GET", ":scheme", "http", ":path", "/",
        ":authority", "www.example.com"};
    private static final String[] REQUEST_2 = {":method", "GET", ":scheme", "http", ":path", "/",
        ":authority", "www.example.com", "cache-control", "no-cache"};
    private static final String[] REQUEST_3 = {":method", "GET", ":scheme", "https", ":path", "/index.html",
        ":authority", "www.example.com", "custom-key", "custom-value"};
    private static final String TABLE_1 = "[1] (s = 57) :authority: www.example.com\nsize 57";
    private static final String TABLE_2 = "[1] (s = 53) cache-control: no-cache\n"
            + "[2] (s = 57) :authority: www.example.com\nsize 110";
    private static final String TABLE_3 = "[1] (s = 54) custom-key: custom-value\n"
            + "[2] (s = 53) cache-control: no-cache\n[3] (s = 57) :authority: www.example.com\nsize 164";

    @Test
    void c3_requestsWithoutHuffman() throws Exception {
        String[] wire = {
            "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            "8286 84be 5808 6e6f 2d63 6163 6865",
            "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
        };
        checkSequence(new HpackDecoder(), new HpackEncoder(4096, HpackEncoder.HUFFMAN_NEVER, true), wire,
                new String[][] {REQUEST_1, REQUEST_2, REQUEST_3}, new String[] {TABLE_1, TABLE_2, TABLE_3});
    }

    @Test
    void c4_requestsWithHuffman() throws Exception {
        String[] wire = {
            "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
            "8286 84be 5886 a8eb 1064 9cbf",
            "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        };
        checkSequence(new HpackDecoder(), new HpackEncoder(4096, HpackEncoder.HUFFMAN_ALWAYS, true), wire,
                new String[][] {REQUEST_1, REQUEST_2, REQUEST_3}, new String[] {TABLE_1, TABLE_2, TABLE_3});
    }

    private static final String[] RESPONSE_1 = {":status", "302", "cache-control", "private",
        "date", "Mon, 21 Oct 2013 20:13:21 GMT", "location", "https://www.example.com"};
    private static final String[] RESPONSE_2 = {":status", "307", "cache-control", "private",
        "date", "Mon, 21 Oct 2013 20:13:21 GMT", "location", "https://www.example.com"};
    private static final String[] RESPONSE_3 = {":status", "200", "cache-control", "private",
        "date", "Mon, 21 Oct 2013 20:13:22 GMT", "location", "https://www.example.com",
        "content-encoding", "gzip", "set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"};
    private static final String RTABLE_1 = "[1] (s = 63) location: https://www.example.com\n"
            + "[2] (s = 65) date: Mon, 21 Oct 2013 20:13:21 GMT\n"
            + "[3] (s = 52) cache-control: private\n"
            + "[4] (s = 42) :status: 302\nsize 222";
    private static final String RTABLE_2 = "[1] (s = 42) :status: 307\n"
            + "[2] (s = 63) location: https://www.example.com\n"
            + "[3] (s = 65) date: Mon, 21 Oct 2013 20:13:21 GMT\n"
            + "[4] (s = 52) cache-control: private\nsize 222";
    private static final String RTABLE_3 = "[1] (s = 98) set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600;"
            + " version=1\n"
            + "[2] (s = 52) content-encoding: gzip\n"
            + "[3] (s = 65) date: Mon, 21 Oct 2013 20:13:22 GMT\nsize 215";

    @Test
    void c5_responsesWithoutHuffman() throws Exception {
        String[] wire = {
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133"
                    + "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70"
                    + "6c65 2e63 6f6d",
            "4803 3330 37c1 c0bf",
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d"
                    + "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049"
                    + "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e"
                    + "3d31",
        };
        checkSequence(decoder256(), encoder256(HpackEncoder.HUFFMAN_NEVER), wire, new String[][] {RESPONSE_1, RESPONSE_2, RESPONSE_3},
                new String[] {RTABLE_1, RTABLE_2, RTABLE_3});
    }

    @Test
    void c6_responsesWithHuffman() throws Exception {
        String[] wire = {
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6"
                    + "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
            "4883 640e ffc1 c0bf",
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab"
                    + "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f"
                    + "9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        };
        checkSequence(decoder256(), encoder256(HpackEncoder.HUFFMAN_ALWAYS), wire, new String[][] {RESPONSE_1, RESPONSE_2, RESPONSE_3},
                new String[] {RTABLE_1, RTABLE_2, RTABLE_3});
    }

    /** C.5 and C.6 use a dynamic table of 256 octets, set out of band (no size update on the wire). */
    private static HpackDecoder decoder256() {
        HpackDecoder d = new HpackDecoder();
        d.table().setMaxSize(256);
        return d;
    }

    private static HpackEncoder encoder256(int huffman) {
        HpackEncoder e = new HpackEncoder(4096, huffman, true);
        e.table().setMaxSize(256);
        return e;
    }

    private static void checkSequence(HpackDecoder d, HpackEncoder e, String[] wire, String[][] lists,
            String[] tables) throws Exception {
        for (int i = 0; i < wire.length; i++) {
            assertThat(decode(d, wire[i])).as("decoded list %d", i + 1).isEqualTo(Http2Headers.of(lists[i]));
            assertThat(d.table()).as("decoder table after %d", i + 1).hasToString(tables[i]);
            assertThat(encode(e, lists[i])).as("encoded block %d", i + 1).isEqualTo(Hex.of(Hex.bytes(wire[i])));
            assertThat(e.table()).as("encoder table after %d", i + 1).hasToString(tables[i]);
        }
    }

    static Http2Headers decode(HpackDecoder d, String hex) throws Exception {
        return d.decode(ByteBuffer.wrap(Hex.bytes(hex)), 1);
    }

    static String encode(HpackEncoder e, String... namesAndValues) {
        Http2Headers h = Http2Headers.of(namesAndValues);
        ByteBuffer out = ByteBuffer.allocate(HpackEncoder.bound(h));
        e.encode(h, out);
        return Hex.of(out.flip());
    }
}
