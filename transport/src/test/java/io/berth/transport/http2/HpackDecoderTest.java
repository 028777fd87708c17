package io.berth.transport.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class HpackDecoderTest {
    private static final Consumer<HpackDecoder> DEFAULTS = d -> { };

    /** Malformed blocks: set-up, block (hex), the representation's offset and what is wrong. */
    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("index 0", DEFAULTS, "80", 0, "indexed field with index 0"),
                Arguments.of("index past both tables", DEFAULTS, "82 be", 1,
                        "index 62 is beyond the static table (61 entries) and the dynamic table (0 entries)"),
                Arguments.of("literal name index past both tables", DEFAULTS, "7f00 0161", 0,
                        "index 63 is beyond the static table (61 entries) and the dynamic table (0 entries)"),
                Arguments.of("integer above 2^31-1", DEFAULTS, "ff ffffffff0f", 0, "integer larger than 2^31-1"),
                Arguments.of("integer of six continuation bytes", DEFAULTS, "ff 8080808080 00", 0,
                        "integer with more than five continuation bytes"),
                Arguments.of("integer cut short", DEFAULTS, "82 ff 80", 1, "integer cut short by the end of the block"),
                Arguments.of("string longer than the block", DEFAULTS, "40 05 61", 0,
                        "string literal of 5 bytes exceeds the 1 bytes left in the block"),
                Arguments.of("name missing", DEFAULTS, "40", 0, "string literal missing at the end of the block"),
                Arguments.of("value missing", DEFAULTS, "41", 0, "string literal missing at the end of the block"),
                Arguments.of("Huffman EOS", DEFAULTS, "00 84ffffffff 00", 0, "Huffman-coded string holds the EOS symbol"),
                Arguments.of("Huffman padding of 11 bits", DEFAULTS, "00 821fff 00", 0, "Huffman padding longer than 7 bits"),
                Arguments.of("Huffman padding not ones", DEFAULTS, "00 8118 00", 0, "Huffman padding is not all ones"),
                Arguments.of("size update after a field", DEFAULTS, "82 20", 1,
                        "dynamic table size update after a header field (it must start the block)"),
                Arguments.of("size update above the setting", DEFAULTS, "3fe21f", 0,
                        "dynamic table size update to 4097 exceeds the SETTINGS_HEADER_TABLE_SIZE of 4096"),
                Arguments.of("three size updates", DEFAULTS, "20 20 20 82", 2,
                        "more than two dynamic table size updates at the start of a block"),
                Arguments.of("no size update after the setting was lowered",
                        (Consumer<HpackDecoder>) d -> d.setTableSizeLimit(0), "82", 0,
                        "missing dynamic table size update: SETTINGS_HEADER_TABLE_SIZE was lowered to 0 below"
                                + " the table size 4096"),
                Arguments.of("empty block after the setting was lowered",
                        (Consumer<HpackDecoder>) d -> d.setTableSizeLimit(100), "", 0,
                        "missing dynamic table size update: SETTINGS_HEADER_TABLE_SIZE was lowered to 100 below"
                                + " the table size 4096"),
                Arguments.of("first update above the smallest setting",
                        (Consumer<HpackDecoder>) d -> {
                            d.setTableSizeLimit(100);
                            d.setTableSizeLimit(4096);
                        }, "3fe11f 82", 0,
                        "dynamic table size update to 4096 but SETTINGS_HEADER_TABLE_SIZE was lowered to 100"
                                + " (the first update must signal the smallest size)"),
                Arguments.of("too many insertions", (Consumer<HpackDecoder>) d -> d.setMaxInsertsPerBlock(2),
                        "4103616161 4103616161 4103616161", 10,
                        "more than 2 dynamic table insertions in one header block"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void malformedBlocksAreCompressionErrors(String name, Consumer<HpackDecoder> setUp, String hex, int offset,
            String what) {
        HpackDecoder d = new HpackDecoder();
        setUp.accept(d);
        assertThatThrownBy(() -> d.decode(ByteBuffer.wrap(Hex.bytes(hex)), 7))
                .isInstanceOfSatisfying(Http2Exception.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(Http2ErrorCode.COMPRESSION_ERROR);
                    assertThat(e.isConnectionError()).isTrue();
                    assertThat(e.streamId()).isZero();
                })
                .hasMessage("HPACK: header block of stream 7, offset " + offset + ": " + what);
    }

    @Test
    void aListOverTheLimitIsAStreamErrorAndTheTableStaysInStep() throws Exception {
        HpackDecoder d = new HpackDecoder();
        d.setMaxHeaderListSize(100);
        // Three literals with indexing of ":authority: aaa" (45 bytes each by the list-size rule).
        ByteBuffer block = ByteBuffer.wrap(Hex.bytes("4103616161 4103616162 4103616163"));
        assertThatThrownBy(() -> d.decode(block, 5))
                .isInstanceOfSatisfying(Http2Exception.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(Http2ErrorCode.PROTOCOL_ERROR);
                    assertThat(e.isConnectionError()).isFalse();
                    assertThat(e.streamId()).isEqualTo(5);
                })
                .hasMessage("header list of stream 5 is 135 bytes (name + value + 32 per field), over the limit"
                        + " of 100; the block was decoded to keep the HPACK table in step");
        assertThat(d.table()).hasToString("[1] (s = 45) :authority: aac\n[2] (s = 45) :authority: aab\n"
                + "[3] (s = 45) :authority: aaa\nsize 135");
        // The next block refers to the entries the dropped fields inserted.
        assertThat(d.decode(ByteBuffer.wrap(Hex.bytes("be c0")), 7))
                .isEqualTo(Http2Headers.of(":authority", "aac", ":authority", "aaa"));
    }

    @Test
    void aListAtTheLimitIsDecoded() throws Exception {
        HpackDecoder d = new HpackDecoder();
        d.setMaxHeaderListSize(90);
        assertThat(d.decode(ByteBuffer.wrap(Hex.bytes("4103616161 4103616162")), 1)).hasToString(
                ":authority: aaa\n:authority: aab\n");
    }

    @Test
    void theSmallestSizeThenTheFinalOneAreAccepted() throws Exception {
        HpackDecoder d = new HpackDecoder();
        d.decode(ByteBuffer.wrap(Hex.bytes("4103616161")), 1);
        d.setTableSizeLimit(0);
        d.setTableSizeLimit(4096);
        assertThat(d.decode(ByteBuffer.wrap(Hex.bytes("20 3fe11f 82")), 3)).isEqualTo(Http2Headers.of(":method", "GET"));
        assertThat(d.table()).hasToString("size 0");
        assertThat(d.table().maxSize()).isEqualTo(4096);
        // Satisfied: the next block needs no update.
        assertThat(d.decode(ByteBuffer.wrap(Hex.bytes("82")), 5)).isEqualTo(Http2Headers.of(":method", "GET"));
    }

    @Test
    void aRaisedLimitNeedsNoUpdateAndAllowsALargerTable() throws Exception {
        HpackDecoder d = new HpackDecoder();
        d.setTableSizeLimit(8192);
        assertThat(d.decode(ByteBuffer.wrap(Hex.bytes("82")), 1)).hasToString(":method: GET\n");
        d.decode(ByteBuffer.wrap(Hex.bytes("3fe13f")), 3); // 8192
        assertThat(d.table().maxSize()).isEqualTo(8192);
    }

    @Test
    void namesAreKeptAsSentAndPseudoFieldsFlagged() throws Exception {
        HpackDecoder d = new HpackDecoder();
        // :status 200 (static), then a literal "X-Up: v" without indexing, then content-type literal.
        Http2Headers h = d.decode(ByteBuffer.wrap(Hex.bytes("88 0004582d5570 0176 5f0a746578742f706c61696e")), 1);
        assertThat(h).hasToString(":status: 200\nX-Up: v\ncontent-type: text/plain\n");
        assertThat(h.isPseudo(0)).isTrue();
        assertThat(h.isPseudo(1)).isFalse();
        assertThat(h.regularStart()).isEqualTo(1);
        assertThat(h.first("content-type")).isEqualTo("text/plain");
    }

    @Test
    void repeatedLiteralsShareTheirStrings() throws Exception {
        HpackDecoder d = new HpackDecoder();
        // "content-length: 1234" as a literal without indexing, twice, in two blocks.
        byte[] block = Hex.bytes("0f0d 0431323334");
        Http2Headers first = d.decode(ByteBuffer.wrap(block), 1);
        Http2Headers second = d.decode(ByteBuffer.wrap(block), 3);
        assertThat(second.value(0)).isEqualTo("1234").isSameAs(first.value(0));
        assertThat(second.name(0)).isSameAs(StaticTable.name(28));
    }

    @Test
    void anEntryLargerThanTheTableEmptiesIt() throws Exception {
        HpackDecoder d = new HpackDecoder();
        d.decode(ByteBuffer.wrap(Hex.bytes("3f11 4103616161")), 1); // max size 48: one 45-byte entry fits
        assertThat(d.table()).hasToString("[1] (s = 45) :authority: aaa\nsize 45");
        d.decode(ByteBuffer.wrap(Hex.bytes("410461616161")), 3); // 46 bytes: evicts, fits
        assertThat(d.table()).hasToString("[1] (s = 46) :authority: aaaa\nsize 46");
        d.decode(ByteBuffer.wrap(Hex.bytes("4110" + "61".repeat(16))), 5); // 58 > 48
        assertThat(d.table()).hasToString("size 0");
    }
}
