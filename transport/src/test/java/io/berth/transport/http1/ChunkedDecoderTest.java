package io.berth.transport.http1;

import static io.berth.transport.http1.Wire.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.HttpProtocolException;
import io.berth.transport.http1.Wire.BufferKind;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ChunkedDecoderTest {
    private static final String NEXT = "HTTP/1.1 200 OK\r\n"; // bytes after the body must stay unread

    /** What decoding an input gave: body, trailers and where the body ended; or an error. */
    record Decoded(String body, HeaderFields trailers, int end, String error) {
    }

    static Decoded decode(byte[] input, int[] cuts, int dstLen, BufferKind kind, int maxHeadSize) {
        ChunkedDecoder d = new ChunkedDecoder(maxHeadSize, 8);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        byte[] dst = new byte[dstLen + 2];
        List<Integer> bounds = new ArrayList<>();
        bounds.add(0);
        for (int c : cuts) {
            bounds.add(c);
        }
        bounds.add(input.length);
        try {
            for (int i = 0; i + 1 < bounds.size(); i++) {
                int from = bounds.get(i);
                ByteBuffer piece = Wire.buffer(input, from, bounds.get(i + 1), kind);
                int start = piece.position();
                while (true) {
                    int n = d.read(piece, dst, 1, dstLen);
                    assertThat(n).isBetween(0, dstLen);
                    body.write(dst, 1, n);
                    if (n == 0) {
                        break;
                    }
                }
                if (d.isDone()) {
                    return new Decoded(body.toString(StandardCharsets.ISO_8859_1), d.trailers(),
                            from + piece.position() - start, null);
                }
                assertThat(piece.hasRemaining()).as("read returned 0 with input left").isFalse();
            }
            return new Decoded(body.toString(StandardCharsets.ISO_8859_1), d.trailers(), -1, "incomplete");
        } catch (HttpProtocolException e) {
            return new Decoded(null, null, -1, e.getMessage());
        }
    }

    static Decoded decode(String input) {
        return decode(bytes(input), new int[0], 1 << 16, BufferKind.HEAP, 1024);
    }

    static Stream<Arguments> valid() {
        return Stream.of(
                Arguments.of("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", HeaderFields.EMPTY),
                Arguments.of("empty body", "0\r\n\r\n", "", HeaderFields.EMPTY),
                Arguments.of("several chunks", "3\r\nabc\r\n1\r\nd\r\n4\r\nefgh\r\n0\r\n\r\n", "abcdefgh",
                        HeaderFields.EMPTY),
                Arguments.of("hex sizes", "A\r\n0123456789\r\nb\r\nabcdefghijk\r\n0\r\n\r\n",
                        "0123456789abcdefghijk", HeaderFields.EMPTY),
                Arguments.of("leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello", HeaderFields.EMPTY),
                Arguments.of("sixteen digits", "000000000000000a\r\n0123456789\r\n0\r\n\r\n", "0123456789",
                        HeaderFields.EMPTY),
                Arguments.of("CRLF inside data", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n", HeaderFields.EMPTY),
                Arguments.of("extensions", "5;name=value;flag\r\nhello\r\n0;last\r\n\r\n", "hello", HeaderFields.EMPTY),
                Arguments.of("extensions with BWS", "5 ; a = b ;c\t;d=\"x\" \r\nhello\r\n0 \t;e\r\n\r\n", "hello",
                        HeaderFields.EMPTY),
                Arguments.of("quoted extension", "5;q=\"a \\\"quoted\\\" ;=\\\\ value\"\r\nhello\r\n0\r\n\r\n", "hello",
                        HeaderFields.EMPTY),
                Arguments.of("trailers", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nexpires:  never \r\n\r\n", "hello",
                        HeaderFields.of("X-Checksum", "abc", "Expires", "never")),
                Arguments.of("binary data", "3\r\n\0\u00ff\n\r\n0\r\n\r\n", "\0\u00ff\n", HeaderFields.EMPTY));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valid")
    void decodesValidBodies(String name, String encoded, String body, HeaderFields trailers) {
        Decoded d = decode(encoded + NEXT);
        assertThat(d.error()).isNull();
        assertThat(d.body()).isEqualTo(body);
        assertThat(d.trailers()).isEqualTo(trailers);
        assertThat(d.end()).isEqualTo(encoded.length());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valid")
    void sameResultSplitAtEveryOffsetAndWithTinyReads(String name, String encoded) {
        byte[] input = bytes(encoded + NEXT);
        Decoded whole = decode(input, new int[0], 1 << 16, BufferKind.HEAP, 1024);
        for (BufferKind kind : BufferKind.values()) {
            for (int dstLen : new int[] {1, 3, 1 << 16}) {
                for (int at = 1; at < input.length; at++) {
                    assertThat(decode(input, Wire.cutAt(at), dstLen, kind, 1024))
                            .as("%s dst %d split at %d", kind, dstLen, at).isEqualTo(whole);
                }
                assertThat(decode(input, Wire.everyByte(input.length), dstLen, kind, 1024)).isEqualTo(whole);
            }
        }
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("empty size", "\r\nhello\r\n0\r\n\r\n",
                        "chunked body at byte 0: chunk size must start with a hex digit but found 0x0D (CR)"),
                Arguments.of("non-hex size", "g\r\n", "chunk size must start with a hex digit but found 0x67 ('g')"),
                Arguments.of("negative size", "-5\r\nhello\r\n", "chunk size must start with a hex digit but found 0x2D"),
                Arguments.of("signed size", "+5\r\nhello\r\n", "must start with a hex digit"),
                Arguments.of("0x prefix", "0x5\r\nhello\r\n", "invalid character 0x78 ('x') in the chunk size"),
                Arguments.of("bare LF after size", "5\nhello\r\n0\r\n\r\n",
                        "chunked body at byte 1: bare LF in a chunk-size line"),
                Arguments.of("bare CR after size", "5\rhello\r\n", "chunked body at byte 2: bare CR in a chunk-size line"),
                Arguments.of("bare LF after extension", "5;a=b\nhello\r\n", "bare LF in a chunk-size line"),
                Arguments.of("seventeen digits", "00000000000000005\r\nhello\r\n", "more than 16 hex digits"),
                Arguments.of("overflow 2^63", "8000000000000000\r\n", "chunk size overflows"),
                Arguments.of("overflow 2^64-1", "ffffffffffffffff\r\n", "chunk size overflows"),
                Arguments.of("trailing whitespace", "5 \r\nhello\r\n0\r\n\r\n",
                        "whitespace after the chunk size not followed by a chunk extension"),
                Arguments.of("empty extension", "5;\r\nhello\r\n", "chunk extension must start with a token but found 0x0D"),
                Arguments.of("extension without name", "5;=x\r\nhello\r\n", "chunk extension must start with a token"),
                Arguments.of("extension without value", "5;a=\r\nhello\r\n",
                        "chunk extension value must be a token or a quoted-string but starts with 0x0D"),
                Arguments.of("space in extension", "5;a b\r\nhello\r\n", "invalid character 0x62 ('b') in a chunk extension"),
                Arguments.of("junk after value", "5;a=b c\r\nhello\r\n", "invalid character 0x63 ('c') in a chunk extension"),
                Arguments.of("junk after quote", "5;a=\"x\"y\r\nhello\r\n", "invalid character 0x79 ('y')"),
                Arguments.of("unterminated quote", "5;a=\"x\r\nhello\r\n\"\r\n",
                        "invalid character 0x0D (CR) in a quoted chunk extension value"),
                Arguments.of("NUL in extension", "5;a\0\r\nhello\r\n", "invalid character 0x00 (NUL) in a chunk extension name"),
                Arguments.of("NUL in quoted extension", "5;a=\"\0\"\r\n", "invalid character 0x00 (NUL) in a quoted"),
                Arguments.of("bad escape", "5;a=\"\\\0\"\r\n", "invalid escaped character 0x00"),
                Arguments.of("data too long", "5\r\nhelloX\r\n0\r\n\r\n",
                        "chunked body at byte 8: chunk data not followed by CRLF (found 0x58 ('X') after the chunk's last byte)"),
                Arguments.of("data too short", "5\r\nhell\r\n0\r\n\r\n", "chunk data not followed by CRLF"),
                Arguments.of("LF after data", "5\r\nhello\n0\r\n\r\n", "chunk data not followed by CRLF (found 0x0A (LF)"),
                Arguments.of("bare CR after data", "5\r\nhello\r0\r\n\r\n", "chunk data not followed by CRLF (bare CR"),
                Arguments.of("bad trailer name", "0\r\nBad Name: x\r\n\r\n",
                        "chunked trailer line 1: invalid character 0x20 (SP) in the field name"),
                Arguments.of("trailer obs-fold", "0\r\nX: a\r\n b\r\n\r\n", "chunked trailer line 2: obsolete line folding"),
                Arguments.of("trailer space before colon", "0\r\nX : a\r\n\r\n",
                        "chunked trailer line 1: whitespace between field name and colon"),
                Arguments.of("trailer bare LF", "0\r\nX: a\n\r\n", "chunked trailer line 1: bare LF"),
                Arguments.of("bare LF ending trailers", "0\r\n\n", "chunked trailer line 1: bare LF"),
                Arguments.of("trailer NUL", "0\r\nX: a\0\r\n\r\n", "invalid character 0x00 (NUL) in the value of X"),
                Arguments.of("too many trailers", "0\r\n" + "X: 1\r\n".repeat(9) + "\r\n",
                        "chunked trailer line 9: more than 8 field lines"),
                Arguments.of("chunk line too long", "5;" + "a".repeat(5000) + "\r\nhello\r\n",
                        "chunked body at byte 4096: chunk-size line longer than 4096 bytes"),
                Arguments.of("trailers too large", "0\r\nX: " + "a".repeat(2000) + "\r\n\r\n",
                        "chunked trailer section exceeds the limit of 1024 bytes (in line 1)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void rejectsInvalidEncodingsWhereverTheInputIsSplit(String name, String encoded, String message) {
        byte[] input = bytes(encoded);
        Decoded whole = decode(input, new int[0], 1 << 16, BufferKind.HEAP, 1024);
        assertThat(whole.error()).contains(message);
        int step = input.length > 200 ? 97 : 1;
        for (BufferKind kind : BufferKind.values()) {
            for (int at = 1; at < input.length; at += step) {
                assertThat(decode(input, Wire.cutAt(at), 2, kind, 1024)).as("%s split at %d", kind, at).isEqualTo(whole);
            }
        }
    }

    @Test
    void completesEagerlyWhenTheEndIsAlreadyBuffered() throws Exception {
        ChunkedDecoder d = new ChunkedDecoder(1024);
        ByteBuffer in = ByteBuffer.wrap(bytes("5\r\nhello\r\n0\r\nA: b\r\n\r\nNEXT"));
        byte[] dst = new byte[5];
        assertThat(d.read(in, dst, 0, 5)).isEqualTo(5);
        assertThat(d.isDone()).isTrue();
        assertThat(d.trailers().first("a")).isEqualTo("b");
        assertThat(in.remaining()).isEqualTo(4);
        assertThat(d.read(in, dst, 0, 5)).isZero();
        assertThat(in.remaining()).isEqualTo(4);
    }

    @Test
    void stopsInsideDataWhenTheDestinationIsFull() throws Exception {
        ChunkedDecoder d = new ChunkedDecoder(1024);
        ByteBuffer in = ByteBuffer.wrap(bytes("a\r\n0123456789\r\n0\r\n\r\n"));
        byte[] dst = new byte[4];
        assertThat(d.read(in, dst, 0, 4)).isEqualTo(4);
        assertThat(d.available(in)).isEqualTo(6);
        assertThat(d.read(in, dst, 0, 0)).isZero();
        assertThat(d.isDone()).isFalse();
        assertThat(d.skip(in)).isEqualTo(6);
        assertThat(d.isDone()).isTrue();
        assertThat(d.bytesConsumed()).isEqualTo(20);
    }

    @Test
    void hugeChunkSizeIsAcceptedAndThenAwaitsData() throws Exception {
        ChunkedDecoder d = new ChunkedDecoder(1024);
        ByteBuffer in = ByteBuffer.wrap(bytes("7fffffffffffffff\r\nabc"));
        byte[] dst = new byte[10];
        assertThat(d.read(in, dst, 0, 10)).isEqualTo(3);
        assertThat(d.isDone()).isFalse();
    }

    @Test
    void resetAfterErrorAndReuse() throws Exception {
        ChunkedDecoder d = new ChunkedDecoder(1024);
        byte[] dst = new byte[10];
        assertThatThrownBy(() -> d.read(ByteBuffer.wrap(bytes("z\r\n")), dst, 0, 10))
                .isInstanceOf(HttpProtocolException.class);
        assertThatThrownBy(() -> d.read(ByteBuffer.wrap(bytes("0\r\n\r\n")), dst, 0, 10))
                .isInstanceOf(IllegalStateException.class);
        d.reset();
        assertThat(d.read(ByteBuffer.wrap(bytes("1\r\nx\r\n0\r\nT: 1\r\n\r\n")), dst, 0, 10)).isEqualTo(1);
        assertThat(d.isDone()).isTrue();
        assertThat(d.trailers().size()).isEqualTo(1);
        d.reset();
        assertThat(d.isDone()).isFalse();
        assertThat(d.trailers()).isSameAs(HeaderFields.EMPTY);
        assertThat(d.bytesConsumed()).isZero();
    }

    @Test
    void trailerBufferStaysWithinTheLimit() {
        ChunkedDecoder d = new ChunkedDecoder(512);
        byte[] dst = new byte[10];
        assertThatThrownBy(() -> {
            d.read(ByteBuffer.wrap(bytes("0\r\nX: ")), dst, 0, 10);
            for (int i = 0; i < 100; i++) {
                d.read(ByteBuffer.wrap(bytes("y".repeat(50))), dst, 0, 10);
                assertThat(d.bufferCapacity()).isLessThanOrEqualTo(512);
            }
        }).isInstanceOf(HttpProtocolException.class).hasMessageContaining("exceeds the limit of 512 bytes");
    }

    @Test
    void rejectsBadArguments() {
        ChunkedDecoder d = new ChunkedDecoder(1024);
        assertThatThrownBy(() -> d.read(ByteBuffer.allocate(1), new byte[2], 1, 2))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> new ChunkedDecoder(8)).isInstanceOf(IllegalArgumentException.class);
    }
}
