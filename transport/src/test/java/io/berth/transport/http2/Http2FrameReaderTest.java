package io.berth.transport.http2;

import static io.berth.transport.http2.FrameType.CONTINUATION;
import static io.berth.transport.http2.FrameType.DATA;
import static io.berth.transport.http2.FrameType.GOAWAY;
import static io.berth.transport.http2.FrameType.HEADERS;
import static io.berth.transport.http2.FrameType.PING;
import static io.berth.transport.http2.FrameType.PRIORITY;
import static io.berth.transport.http2.FrameType.PUSH_PROMISE;
import static io.berth.transport.http2.FrameType.RST_STREAM;
import static io.berth.transport.http2.FrameType.SETTINGS;
import static io.berth.transport.http2.FrameType.WINDOW_UPDATE;
import static io.berth.transport.http2.Frames.afterPreface;
import static io.berth.transport.http2.Frames.concat;
import static io.berth.transport.http2.Frames.frame;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class Http2FrameReaderTest {
    static final int END_STREAM = 0x1;
    static final int ACK = 0x1;
    static final int END_HEADERS = 0x4;
    static final int PADDED = 0x8;
    static final int PRIORITY_FLAG = 0x20;

    /** A valid sequence of every frame type, with a header block in three frames and padded DATA. */
    static byte[] validSequence() {
        HpackEncoder encoder = new HpackEncoder(4096);
        byte[] block1 = block(encoder, ":status", "200", "content-type", "text/plain", "content-length", "11",
                "server", "test");
        byte[] block2 = block(encoder, ":status", "200", "server", "test", "x-trailer", "yes");
        int half = block1.length / 2;
        return concat(
                frame(SETTINGS, 0, 0, "0001 00001000  0003 00000064  0004 0000ffff  0005 00004000  0099 00000007"),
                frame(SETTINGS, ACK, 0, ""),
                frame(HEADERS, PADDED | PRIORITY_FLAG, 1, concat(Hex.bytes("03 00000000 0f"),
                        java.util.Arrays.copyOfRange(block1, 0, half), Hex.bytes("000000"))),
                frame(CONTINUATION, 0, 1, ""),
                frame(CONTINUATION, END_HEADERS, 1, java.util.Arrays.copyOfRange(block1, half, block1.length)),
                frame(DATA, PADDED, 1, "04 68656c6c6f20 00000000"),
                frame(DATA, END_STREAM, 1, "776f726c64"),
                frame(WINDOW_UPDATE, 0, 0, "000003e8"),
                frame(WINDOW_UPDATE, 0, 1, "8000000a"),
                frame(PING, 0, 0, "0102030405060708"),
                frame(PING, ACK, 0, "ffffffffffffffff"),
                frame(PRIORITY, 0, 3, "80000001 ff"),
                frame(0x20, 0x3, 5, "aabbcc"),
                frame(HEADERS, END_HEADERS | END_STREAM, 3, block2),
                frame(RST_STREAM, 0, 3, "00000008"),
                frame(GOAWAY, 0, 0, "00000003 00000000 627965"),
                frame(DATA, END_STREAM, 5, ""));
    }

    static final String VALID_RESULT = "SETTINGS {SETTINGS_HEADER_TABLE_SIZE=4096, SETTINGS_MAX_CONCURRENT_STREAMS=100,"
            + " SETTINGS_INITIAL_WINDOW_SIZE=65535, SETTINGS_MAX_FRAME_SIZE=16384}\n"
            + "SETTINGS ACK\n"
            + "HEADERS 1\n:status: 200\ncontent-type: text/plain\ncontent-length: 11\nserver: test\n"
            + "DATA 1 flow 11 68656c6c6f20\n"
            + "DATA 1 flow 5 end 776f726c64\n"
            + "WINDOW_UPDATE 0 +1000\n"
            + "WINDOW_UPDATE 1 +10\n"
            + "PING 102030405060708\n"
            + "PING ffffffffffffffff ack\n"
            + "PRIORITY 3 on 1 weight 256 exclusive\n"
            + "unknown type 0x20 flags 3 on 5 length 3\n"
            + "HEADERS 3 end\n:status: 200\nserver: test\nx-trailer: yes\n"
            + "RST_STREAM 3 CANCEL\n"
            + "GOAWAY 3 NO_ERROR 627965\n"
            + "DATA 5 flow 0 end \n"
            + "end";

    static byte[] block(HpackEncoder encoder, String... namesAndValues) {
        Http2Headers h = Http2Headers.of(namesAndValues);
        ByteBuffer out = ByteBuffer.allocate(HpackEncoder.bound(h));
        encoder.encode(h, out);
        byte[] b = new byte[out.flip().remaining()];
        out.get(b);
        return b;
    }

    @Test
    void aValidSequenceGivesEveryFrame() {
        byte[] input = validSequence();
        for (FrameHarness.Kind kind : FrameHarness.Kind.values()) {
            assertThat(FrameHarness.run(input, new int[0], false, kind)).as("%s buffer", kind).isEqualTo(VALID_RESULT);
        }
    }

    @Test
    @Timeout(30)
    void everySplitPointGivesTheSameFrames() {
        byte[] input = validSequence();
        for (int at = 1; at < input.length; at++) {
            assertThat(FrameHarness.run(input, new int[] {at}, false)).as("split at %d", at).isEqualTo(VALID_RESULT);
        }
        int[] everyByte = new int[input.length - 1];
        for (int i = 0; i < everyByte.length; i++) {
            everyByte[i] = i + 1;
        }
        for (FrameHarness.Kind kind : FrameHarness.Kind.values()) {
            assertThat(FrameHarness.run(input, everyByte, false, kind)).as("byte by byte, %s", kind)
                    .isEqualTo(VALID_RESULT);
        }
    }

    @Test
    void dataIsHandedOutInPlaceAndInPiecesAsItArrives() throws Exception {
        byte[] input = afterPreface(frame(DATA, PADDED | END_STREAM, 1, "02 616263 0000"));
        StringBuilder calls = new StringBuilder();
        ByteBuffer[] whole = new ByteBuffer[1];
        Http2FrameReader reader = new Http2FrameReader(new FrameHarness.Recorder() {
            @Override
            public void onData(int streamId, ByteBuffer d, int flow, boolean endOfFrame, boolean endStream) {
                calls.append(d.remaining()).append('/').append(flow).append(endOfFrame ? " eof" : "")
                        .append(endStream ? " end" : "").append(d == whole[0] ? " same buffer" : "").append(';');
            }
        });
        whole[0] = ByteBuffer.wrap(input);
        reader.read(whole[0]);
        assertThat(calls).hasToString("3/6 eof end same buffer;");
        // Split after the Pad Length, then inside the data, then inside the padding.
        calls.setLength(0);
        Http2FrameReader split = new Http2FrameReader(new FrameHarness.Recorder() {
            @Override
            public void onData(int streamId, ByteBuffer d, int flow, boolean endOfFrame, boolean endStream) {
                calls.append(d.remaining()).append('/').append(flow).append(endOfFrame ? " eof" : "")
                        .append(endStream ? " end" : "").append(';');
            }
        });
        int p = Frames.SETTINGS_EMPTY.length + 9;
        split.read(ByteBuffer.wrap(input, 0, p + 1));
        split.read(ByteBuffer.wrap(input, p + 1, 2));
        split.read(ByteBuffer.wrap(input, p + 3, 2));
        split.read(ByteBuffer.wrap(input, p + 5, 1));
        assertThat(calls).hasToString("2/3;1/2;0/1 eof end;");
    }

    /** Connection errors: input after the preface, push enabled?, code, message. */
    static Stream<Arguments> connectionErrors() {
        byte[] headersOpen = frame(HEADERS, 0, 1, "82");
        return Stream.of(
                Arguments.of("first frame not SETTINGS", frame(PING, 0, 0, "0000000000000000"), false,
                        Http2ErrorCode.PROTOCOL_ERROR,
                        "the server's first frame must be SETTINGS but was PING frame of 8 bytes on stream 0"),
                Arguments.of("first frame a SETTINGS ACK", frame(SETTINGS, ACK, 0, ""), false,
                        Http2ErrorCode.PROTOCOL_ERROR,
                        "the server's first frame must be SETTINGS but was SETTINGS frame of 0 bytes on stream 0"),
                Arguments.of("frame over SETTINGS_MAX_FRAME_SIZE", afterPreface(frame(16385, DATA, 0, 1, new byte[0])),
                        false, Http2ErrorCode.FRAME_SIZE_ERROR,
                        "DATA frame of 16385 bytes on stream 1 exceeds SETTINGS_MAX_FRAME_SIZE 16384"),
                Arguments.of("DATA on stream 0", afterPreface(frame(DATA, 0, 0, "00")), false,
                        Http2ErrorCode.PROTOCOL_ERROR, "DATA frame of 1 bytes on stream 0 (it must be on a stream)"),
                Arguments.of("HEADERS on stream 0", afterPreface(frame(HEADERS, END_HEADERS, 0, "82")), false,
                        Http2ErrorCode.PROTOCOL_ERROR, "HEADERS frame of 1 bytes on stream 0 (it must be on a stream)"),
                Arguments.of("PRIORITY on stream 0", afterPreface(frame(PRIORITY, 0, 0, "0000000110")), false,
                        Http2ErrorCode.PROTOCOL_ERROR, "PRIORITY frame of 5 bytes on stream 0 (it must be on a stream)"),
                Arguments.of("RST_STREAM on stream 0", afterPreface(frame(RST_STREAM, 0, 0, "00000008")), false,
                        Http2ErrorCode.PROTOCOL_ERROR,
                        "RST_STREAM frame of 4 bytes on stream 0 (it must be on a stream)"),
                Arguments.of("PUSH_PROMISE on stream 0", afterPreface(frame(PUSH_PROMISE, END_HEADERS, 0, "0000000282")),
                        true, Http2ErrorCode.PROTOCOL_ERROR,
                        "PUSH_PROMISE frame of 5 bytes on stream 0 (it must be on a stream)"),
                Arguments.of("CONTINUATION on stream 0", afterPreface(headersOpen, frame(CONTINUATION, END_HEADERS, 0, "")),
                        false, Http2ErrorCode.PROTOCOL_ERROR,
                        "CONTINUATION frame of 0 bytes on stream 0 (it must be on a stream)"),
                Arguments.of("SETTINGS on a stream", afterPreface(frame(SETTINGS, 0, 1, "")), false,
                        Http2ErrorCode.PROTOCOL_ERROR, "SETTINGS frame of 0 bytes on stream 1 (it must be on stream 0)"),
                Arguments.of("PING on a stream", afterPreface(frame(PING, 0, 1, "0000000000000000")), false,
                        Http2ErrorCode.PROTOCOL_ERROR, "PING frame of 8 bytes on stream 1 (it must be on stream 0)"),
                Arguments.of("GOAWAY on a stream", afterPreface(frame(GOAWAY, 0, 1, "0000000000000000")), false,
                        Http2ErrorCode.PROTOCOL_ERROR, "GOAWAY frame of 8 bytes on stream 1 (it must be on stream 0)"),
                Arguments.of("SETTINGS ACK with a payload", afterPreface(frame(SETTINGS, ACK, 0, "000100000000")), false,
                        Http2ErrorCode.FRAME_SIZE_ERROR, "SETTINGS frame of 6 bytes on stream 0 is an ACK with a payload"),
                Arguments.of("SETTINGS of 5 bytes", afterPreface(frame(SETTINGS, 0, 0, "0001000000")), false,
                        Http2ErrorCode.FRAME_SIZE_ERROR, "SETTINGS frame of 5 bytes on stream 0 is not a multiple of 6 bytes"),
                Arguments.of("SETTINGS_ENABLE_PUSH 2", afterPreface(frame(SETTINGS, 0, 0, "000200000002")), false,
                        Http2ErrorCode.PROTOCOL_ERROR,
                        "SETTINGS frame of 6 bytes on stream 0: SETTINGS_ENABLE_PUSH must be 0 or 1 but was 2"),
                Arguments.of("SETTINGS_ENABLE_PUSH 1 from a server", afterPreface(frame(SETTINGS, 0, 0, "000200000001")),
                        false, Http2ErrorCode.PROTOCOL_ERROR,
                        "SETTINGS frame of 6 bytes on stream 0: SETTINGS_ENABLE_PUSH is 1, which a server must not send"),
                Arguments.of("SETTINGS_INITIAL_WINDOW_SIZE 2^31", afterPreface(frame(SETTINGS, 0, 0, "000480000000")),
                        false, Http2ErrorCode.FLOW_CONTROL_ERROR, "SETTINGS frame of 6 bytes on stream 0:"
                                + " SETTINGS_INITIAL_WINDOW_SIZE must be <= 2^31-1 but was 2147483648"),
                Arguments.of("SETTINGS_MAX_FRAME_SIZE 16383", afterPreface(frame(SETTINGS, 0, 0, "000500003fff")), false,
                        Http2ErrorCode.PROTOCOL_ERROR, "SETTINGS frame of 6 bytes on stream 0:"
                                + " SETTINGS_MAX_FRAME_SIZE must be in 16384..16777215 but was 16383"),
                Arguments.of("SETTINGS_MAX_FRAME_SIZE 2^24", afterPreface(frame(SETTINGS, 0, 0, "000501000000")), false,
                        Http2ErrorCode.PROTOCOL_ERROR, "SETTINGS frame of 6 bytes on stream 0:"
                                + " SETTINGS_MAX_FRAME_SIZE must be in 16384..16777215 but was 16777216"),
                Arguments.of("PING of 7 bytes", afterPreface(frame(PING, 0, 0, "00000000000000")), false,
                        Http2ErrorCode.FRAME_SIZE_ERROR, "PING frame of 7 bytes on stream 0 must have 8 bytes"),
                Arguments.of("RST_STREAM of 3 bytes", afterPreface(frame(RST_STREAM, 0, 1, "000008")), false,
                        Http2ErrorCode.FRAME_SIZE_ERROR, "RST_STREAM frame of 3 bytes on stream 1 must have 4 bytes"),
                Arguments.of("WINDOW_UPDATE of 5 bytes", afterPreface(frame(WINDOW_UPDATE, 0, 1, "0000000100")), false,
                        Http2ErrorCode.FRAME_SIZE_ERROR, "WINDOW_UPDATE frame of 5 bytes on stream 1 must have 4 bytes"),
                Arguments.of("GOAWAY of 7 bytes", afterPreface(frame(GOAWAY, 0, 0, "00000000000000")), false,
                        Http2ErrorCode.FRAME_SIZE_ERROR,
                        "GOAWAY frame of 7 bytes on stream 0 is too short for its last stream id and error code"),
                Arguments.of("zero WINDOW_UPDATE on the connection", afterPreface(frame(WINDOW_UPDATE, 0, 0, "80000000")),
                        false, Http2ErrorCode.PROTOCOL_ERROR,
                        "WINDOW_UPDATE frame of 4 bytes on stream 0 has a zero increment"),
                Arguments.of("padded DATA of 0 bytes", afterPreface(frame(DATA, PADDED, 1, "")), false,
                        Http2ErrorCode.FRAME_SIZE_ERROR, "DATA frame of 0 bytes on stream 1 is too short for its Pad Length"),
                Arguments.of("DATA padding too long", afterPreface(frame(DATA, PADDED, 1, "03 0000")), false,
                        Http2ErrorCode.PROTOCOL_ERROR,
                        "DATA frame of 3 bytes on stream 1 has 3 bytes of padding but only 2 bytes after its Pad Length"),
                Arguments.of("padded HEADERS of 0 bytes", afterPreface(frame(HEADERS, PADDED | END_HEADERS, 1, "")), false,
                        Http2ErrorCode.FRAME_SIZE_ERROR,
                        "HEADERS frame of 0 bytes on stream 1 is too short for its Pad Length"),
                Arguments.of("HEADERS padding too long", afterPreface(frame(HEADERS, PADDED | END_HEADERS, 1, "05 82")),
                        false, Http2ErrorCode.PROTOCOL_ERROR,
                        "HEADERS frame of 2 bytes on stream 1 has 5 bytes of padding but only 1 bytes after its fixed fields"),
                Arguments.of("HEADERS too short for its priority", afterPreface(frame(HEADERS, PRIORITY_FLAG, 1, "000000")),
                        false, Http2ErrorCode.FRAME_SIZE_ERROR,
                        "HEADERS frame of 3 bytes on stream 1 is too short for its priority fields"),
                Arguments.of("PUSH_PROMISE while push is off", afterPreface(frame(PUSH_PROMISE, END_HEADERS, 1, "0000000282")),
                        false, Http2ErrorCode.PROTOCOL_ERROR,
                        "PUSH_PROMISE frame of 5 bytes on stream 1 but we sent SETTINGS_ENABLE_PUSH = 0"),
                Arguments.of("PUSH_PROMISE of an odd stream", afterPreface(frame(PUSH_PROMISE, END_HEADERS, 1, "0000000382")),
                        true, Http2ErrorCode.PROTOCOL_ERROR,
                        "PUSH_PROMISE frame of 5 bytes on stream 1 promises stream 3 (a server's streams are even and non-zero)"),
                Arguments.of("PUSH_PROMISE too short", afterPreface(frame(PUSH_PROMISE, END_HEADERS, 1, "000000")),
                        true, Http2ErrorCode.FRAME_SIZE_ERROR,
                        "PUSH_PROMISE frame of 3 bytes on stream 1 is too short for its promised stream id"),
                Arguments.of("CONTINUATION alone", afterPreface(frame(CONTINUATION, END_HEADERS, 1, "82")), false,
                        Http2ErrorCode.PROTOCOL_ERROR,
                        "CONTINUATION frame of 1 bytes on stream 1 without a HEADERS or PUSH_PROMISE frame before it"),
                Arguments.of("DATA inside a header block", afterPreface(headersOpen, frame(DATA, 0, 1, "00")), false,
                        Http2ErrorCode.PROTOCOL_ERROR, "DATA frame of 1 bytes on stream 1 inside the header block of"
                                + " stream 1 (only its CONTINUATION frames may follow until END_HEADERS)"),
                Arguments.of("PING inside a header block", afterPreface(headersOpen, frame(PING, 0, 0, "0000000000000000")),
                        false, Http2ErrorCode.PROTOCOL_ERROR, "PING frame of 8 bytes on stream 0 inside the header block"
                                + " of stream 1 (only its CONTINUATION frames may follow until END_HEADERS)"),
                Arguments.of("unknown frame inside a header block", afterPreface(headersOpen, frame(0x42, 0, 1, "")),
                        false, Http2ErrorCode.PROTOCOL_ERROR, "type 0x42 frame of 0 bytes on stream 1 inside the header"
                                + " block of stream 1 (only its CONTINUATION frames may follow until END_HEADERS)"),
                Arguments.of("CONTINUATION of another stream", afterPreface(headersOpen, frame(CONTINUATION, END_HEADERS, 3, "")),
                        false, Http2ErrorCode.PROTOCOL_ERROR,
                        "CONTINUATION frame of 0 bytes on stream 3 inside the header block of stream 1"),
                Arguments.of("endless empty CONTINUATIONs", afterPreface(headersOpen, frame(CONTINUATION, 0, 1, ""),
                        frame(CONTINUATION, 0, 1, ""), frame(CONTINUATION, 0, 1, ""), frame(CONTINUATION, 0, 1, ""),
                        frame(CONTINUATION, 0, 1, "")), false, Http2ErrorCode.ENHANCE_YOUR_CALM,
                        "header block of stream 1 has more than 4 CONTINUATION frames"),
                Arguments.of("header block over its byte limit", afterPreface(frame(HEADERS, 0, 1, new byte[1100]),
                        frame(CONTINUATION, END_HEADERS, 1, new byte[1100])), false, Http2ErrorCode.ENHANCE_YOUR_CALM,
                        "header block of stream 1 exceeds 2048 bytes"),
                Arguments.of("HPACK error", afterPreface(frame(HEADERS, END_HEADERS, 1, "80")), false,
                        Http2ErrorCode.COMPRESSION_ERROR, "HPACK: header block of stream 1, offset 0: indexed field with index 0"),
                Arguments.of("HPACK error in a block of three frames", afterPreface(headersOpen,
                        frame(CONTINUATION, 0, 1, "80"), frame(CONTINUATION, END_HEADERS, 1, "")), false,
                        Http2ErrorCode.COMPRESSION_ERROR, "HPACK: header block of stream 1, offset 1: indexed field with index 0"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("connectionErrors")
    void connectionErrorsAreThrownAndFailTheReader(String name, byte[] input, boolean push, Http2ErrorCode code,
            String message) {
        String whole = FrameHarness.run(input, new int[0], push);
        assertThat(whole).endsWith("error " + code + " " + message);
        assertThat(FrameHarness.run(input, everyByte(input.length), push)).isEqualTo(whole);
    }

    /** Stream errors: the reader reports them and goes on (a PING follows each). */
    static Stream<Arguments> streamErrors() {
        HpackEncoder big = new HpackEncoder(4096);
        byte[] tooLarge = block(big, "x-a", "a".repeat(500), "x-b", "b".repeat(500));
        return Stream.of(
                Arguments.of("zero WINDOW_UPDATE on a stream", frame(WINDOW_UPDATE, 0, 1, "00000000"),
                        "stream error 1 PROTOCOL_ERROR WINDOW_UPDATE frame of 4 bytes on stream 1 has a zero increment"),
                Arguments.of("PRIORITY of 4 bytes", frame(PRIORITY, 0, 1, "00000000"),
                        "stream error 1 FRAME_SIZE_ERROR PRIORITY frame of 4 bytes on stream 1 must have 5 bytes"),
                Arguments.of("PRIORITY on itself", frame(PRIORITY, 0, 1, "00000001 10"),
                        "stream error 1 PROTOCOL_ERROR PRIORITY frame of 5 bytes on stream 1 makes the stream depend on itself"),
                Arguments.of("HEADERS depending on itself", frame(HEADERS, PRIORITY_FLAG | END_HEADERS, 3, "00000003 10 82"),
                        "stream error 3 PROTOCOL_ERROR HEADERS frame on stream 3 makes the stream depend on itself"),
                Arguments.of("header list over the limit", frame(HEADERS, END_HEADERS, 5, tooLarge),
                        "stream error 5 PROTOCOL_ERROR header list of stream 5 is 1070 bytes (name + value + 32 per"
                                + " field), over the limit of 1024; the block was decoded to keep the HPACK table in step"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("streamErrors")
    void streamErrorsAreReportedAndReadingGoesOn(String name, byte[] frame, String line) {
        byte[] input = afterPreface(frame, frame(PING, 0, 0, "0000000000000001"));
        String whole = FrameHarness.run(input, new int[0], false);
        assertThat(whole).isEqualTo("SETTINGS {}\n" + line + "\nPING 1\nend");
        assertThat(FrameHarness.run(input, everyByte(input.length), false)).isEqualTo(whole);
    }

    @Test
    void aPushPromiseIsDecodedWhenPushIsEnabled() {
        byte[] input = afterPreface(frame(PUSH_PROMISE, PADDED, 1, "02 00000002 8287 0000"),
                frame(CONTINUATION, END_HEADERS, 1, "8441 0b6578616d706c652e636f6d"));
        assertThat(FrameHarness.run(input, new int[0], true)).isEqualTo("SETTINGS {}\n"
                + "PUSH_PROMISE 1 promises 2\n:method: GET\n:scheme: https\n:path: /\n:authority: example.com\nend");
        assertThat(FrameHarness.run(input, everyByte(input.length), true)).isEqualTo(
                FrameHarness.run(input, new int[0], true));
    }

    @Test
    void aLargeBlockIsAStreamErrorAndItsBufferIsLetGo() throws Exception {
        HpackEncoder encoder = new HpackEncoder(4096);
        byte[] big = block(encoder, "x-a", "a".repeat(40_000), "x-b", "b".repeat(40_000));
        StringBuilder seen = new StringBuilder();
        Http2FrameReader reader = new Http2FrameReader(new FrameHarness.Recorder() {
            @Override
            public void onStreamError(Http2Exception error) {
                seen.append(error.errorCode()).append(' ').append(error.streamId());
            }
        });
        // 50 KB of Huffman-coded block, decoding to 80 KB: over the 64 KiB list limit, within the block limit.
        byte[][] frames = new byte[(big.length + 15_999) / 16_000 + 1][];
        frames[0] = Frames.SETTINGS_EMPTY;
        for (int i = 1, p = 0; i < frames.length; i++, p += 16_000) {
            int end = Math.min(big.length, p + 16_000);
            frames[i] = frame(i == 1 ? HEADERS : CONTINUATION, end == big.length ? END_HEADERS : 0, 1,
                    java.util.Arrays.copyOfRange(big, p, end));
        }
        reader.read(ByteBuffer.wrap(concat(frames)));
        assertThat(seen).hasToString("PROTOCOL_ERROR 1");
        assertThat(reader.bufferedCapacity()).isLessThanOrEqualTo(16 * 1024);
    }

    @Test
    void aFailedReaderRefusesInput() {
        Http2FrameReader reader = new Http2FrameReader(new FrameHarness.Recorder());
        assertThatThrownBy(() -> reader.read(ByteBuffer.wrap(frame(PING, 0, 0, "0000000000000000"))))
                .isInstanceOf(Http2Exception.class);
        assertThatThrownBy(() -> reader.read(ByteBuffer.wrap(Frames.SETTINGS_EMPTY)))
                .isInstanceOf(IllegalStateException.class).hasMessage("the reader failed on an earlier error");
    }

    @Test
    void aLargerMaxFrameSizeAdmitsLargerFrames() throws Exception {
        int[] received = new int[1];
        Http2FrameReader reader = new Http2FrameReader(new FrameHarness.Recorder() {
            @Override
            public void onData(int streamId, ByteBuffer d, int flow, boolean endOfFrame, boolean endStream) {
                received[0] += flow;
            }
        });
        reader.setMaxFrameSize(20000);
        reader.read(ByteBuffer.wrap(afterPreface(frame(DATA, 0, 1, new byte[20000]))));
        assertThat(reader.atFrameBoundary()).isTrue();
        assertThat(received[0]).isEqualTo(20000);
        assertThatThrownBy(() -> reader.setMaxFrameSize(16383)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxFrameSize must be in 16384..16777215 but was 16383");
    }

    static int[] everyByte(int length) {
        int[] cuts = new int[Math.max(0, length - 1)];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = i + 1;
        }
        return cuts;
    }
}
