package io.berth.transport.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Http2FrameWriterTest {

    @Test
    void thePrefaceAndSettings() {
        Http2FrameWriter w = new Http2FrameWriter();
        ByteBuffer out = ByteBuffer.allocate(100);
        w.writePreface(out);
        w.writeSettings(out, new Http2Settings().set(Http2Settings.MAX_HEADER_LIST_SIZE, 65536)
                .set(Http2Settings.ENABLE_PUSH, 0));
        w.writeSettingsAck(out);
        assertThat(Hex.of(out.flip())).isEqualTo("505249202a20485454502f322e300d0a0d0a534d0d0a0d0a"
                + "00000c040000000000" + "000200000000" + "000600010000"
                + "000000040100000000");
    }

    /** Everything the writer writes, read back by the reader (the frame format is the same both ways). */
    @Test
    void framesReadBackAsWritten() {
        Http2FrameWriter w = new Http2FrameWriter();
        ByteBuffer out = ByteBuffer.allocate(200_000);
        w.writeSettings(out, new Http2Settings().set(Http2Settings.INITIAL_WINDOW_SIZE, 1 << 20));
        Http2Headers request = Http2Headers.of(":method", "POST", ":scheme", "https", ":authority", "example.com",
                ":path", "/upload", "x-large", "v".repeat(40_000));
        w.writeHeaders(out, 1, request, false);
        byte[] body = new byte[40_000];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) i;
        }
        assertThat(w.writeData(out, 1, ByteBuffer.wrap(body), true)).isTrue();
        w.writeHeaders(out, 3, Http2Headers.of(":method", "GET", ":scheme", "https", ":authority", "example.com",
                ":path", "/"), true);
        w.writeRstStream(out, 3, Http2ErrorCode.CANCEL);
        w.writePing(out, 0x0102030405060708L, false);
        w.writePing(out, -1L, true);
        w.writeWindowUpdate(out, 0, 1 << 20);
        w.writeWindowUpdate(out, 1, Integer.MAX_VALUE);
        w.writeGoAway(out, 0, Http2ErrorCode.NO_ERROR, ByteBuffer.wrap("bye".getBytes(StandardCharsets.US_ASCII)));
        byte[] written = new byte[out.flip().remaining()];
        out.get(written);

        // The 40 KB header block takes a HEADERS frame and two CONTINUATIONs; the body three DATA frames.
        assertThat(frameTypes(written)).isEqualTo("SETTINGS HEADERS CONTINUATION CONTINUATION DATA DATA DATA HEADERS"
                + " RST_STREAM PING PING WINDOW_UPDATE WINDOW_UPDATE GOAWAY");

        StringBuilder seen = new StringBuilder();
        Http2FrameReader reader = new Http2FrameReader(new FrameHarness.Recorder() {
            private int bodyBytes;

            @Override
            public void onData(int streamId, ByteBuffer d, int flow, boolean endOfFrame, boolean endStream) {
                while (d.hasRemaining()) {
                    assertThat(d.get()).isEqualTo(body[bodyBytes++]);
                }
                if (endStream) {
                    seen.append("DATA ").append(streamId).append(' ').append(bodyBytes).append(" end\n");
                }
            }

            @Override
            public void onHeaders(int streamId, Http2Headers headers, boolean endStream) {
                seen.append("HEADERS ").append(streamId).append(endStream ? " end " : " ").append(headers.equals(
                        streamId == 1 ? request : null) ? "same" : headers.toString().replace('\n', ';')).append('\n');
            }

            @Override
            public void onSettings(Http2Settings settings) {
                seen.append("SETTINGS ").append(settings).append('\n');
            }

            @Override
            public void onRstStream(int streamId, int errorCode) {
                seen.append("RST_STREAM ").append(streamId).append(' ').append(Http2ErrorCode.describe(errorCode)).append('\n');
            }

            @Override
            public void onPing(long payload, boolean ack) {
                seen.append("PING ").append(Long.toHexString(payload)).append(ack ? " ack\n" : "\n");
            }

            @Override
            public void onWindowUpdate(int streamId, int increment) {
                seen.append("WINDOW_UPDATE ").append(streamId).append(" +").append(increment).append('\n');
            }

            @Override
            public void onGoAway(int lastStreamId, int errorCode, ByteBuffer debugData) {
                seen.append("GOAWAY ").append(lastStreamId).append(' ').append(Http2ErrorCode.describe(errorCode))
                        .append(' ').append(StandardCharsets.US_ASCII.decode(debugData)).append('\n');
            }
        });
        reader.setMaxHeaderListSize(64 * 1024);
        try {
            reader.read(ByteBuffer.wrap(written));
        } catch (Http2Exception e) {
            throw new AssertionError(e);
        }
        assertThat(seen).hasToString("SETTINGS {SETTINGS_INITIAL_WINDOW_SIZE=1048576}\n"
                + "HEADERS 1 same\n"
                + "DATA 1 40000 end\n"
                + "HEADERS 3 end :method: GET;:scheme: https;:authority: example.com;:path: /;\n"
                + "RST_STREAM 3 CANCEL\n"
                + "PING 102030405060708\n"
                + "PING ffffffffffffffff ack\n"
                + "WINDOW_UPDATE 0 +1048576\n"
                + "WINDOW_UPDATE 1 +2147483647\n"
                + "GOAWAY 0 NO_ERROR bye\n");
    }

    @Test
    void dataIsWrittenAsFarAsTheBufferAllows() {
        Http2FrameWriter w = new Http2FrameWriter();
        ByteBuffer data = ByteBuffer.wrap(new byte[100]);
        ByteBuffer out = ByteBuffer.allocate(9 + 60);
        assertThat(w.writeData(out, 1, data, true)).isFalse();
        assertThat(data.position()).isEqualTo(60);
        assertThat(Hex.of(out.flip()).substring(0, 18)).isEqualTo("00003c000000000001"); // 60 bytes, no END_STREAM
        ByteBuffer small = ByteBuffer.allocate(9);
        assertThat(w.writeData(small, 1, data, true)).isFalse();
        assertThat(small.position()).isZero();
        ByteBuffer rest = ByteBuffer.allocate(100);
        assertThat(w.writeData(rest, 1, data, true)).isTrue();
        assertThat(Hex.of(rest.flip()).substring(0, 18)).isEqualTo("000028000100000001"); // 40 bytes, END_STREAM
        ByteBuffer end = ByteBuffer.allocate(9);
        assertThat(w.writeData(end, 3, ByteBuffer.allocate(0), true)).isTrue();
        assertThat(Hex.of(end.flip())).isEqualTo("000000000100000003");
        assertThat(w.writeData(ByteBuffer.allocate(100), 3, ByteBuffer.allocate(0), false)).isFalse();
    }

    @Test
    void tooLittleRoomWritesNothing() {
        Http2FrameWriter w = new Http2FrameWriter();
        Http2Headers h = Http2Headers.of(":method", "GET", ":authority", "example.com");
        ByteBuffer out = ByteBuffer.allocate(w.headersBound(h) - 1);
        assertThatThrownBy(() -> w.writeHeaders(out, 1, h, true)).isInstanceOf(BufferOverflowException.class);
        assertThatThrownBy(() -> w.writePing(ByteBuffer.allocate(16), 0, false)).isInstanceOf(BufferOverflowException.class);
        assertThatThrownBy(() -> w.writeSettingsAck(ByteBuffer.allocate(8))).isInstanceOf(BufferOverflowException.class);
        assertThat(out.position()).isZero();
        // Nothing was encoded: the first block written still inserts :authority.
        ByteBuffer enough = ByteBuffer.allocate(w.headersBound(h));
        w.writeHeaders(enough, 1, h, true);
        assertThat(w.hpack().table().length()).isEqualTo(1);
    }

    @Test
    void argumentsThatCanNeverBeValidAreRejected() {
        Http2FrameWriter w = new Http2FrameWriter();
        ByteBuffer out = ByteBuffer.allocate(1000);
        assertThatThrownBy(() -> w.writeHeaders(out, 2, Http2Headers.EMPTY, true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a client's stream id must be odd and positive but was 2");
        assertThatThrownBy(() -> w.writeWindowUpdate(out, 1, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("WINDOW_UPDATE increment must be in 1..2^31-1 but was 0");
        assertThatThrownBy(() -> w.writeRstStream(out, 0, Http2ErrorCode.CANCEL))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.writeData(out, 0, ByteBuffer.allocate(1), true))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.setPeerMaxFrameSize(1 << 24)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("peer SETTINGS_MAX_FRAME_SIZE must be in 16384..16777215 but was 16777216");
        assertThatThrownBy(() -> w.writeGoAway(out, 0, Http2ErrorCode.NO_ERROR, ByteBuffer.allocate(16377)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(out.position()).isZero();
        assertThatThrownBy(() -> new Http2Settings().set(Http2Settings.MAX_FRAME_SIZE, 100))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SETTINGS_MAX_FRAME_SIZE must be in 16384..16777215 but was 100");
        assertThatThrownBy(() -> Http2Headers.of("Content-Type", "x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("header name 'Content-Type' has character 'C' at index 0; an HTTP/2 field name must be"
                        + " a lower-case token");
        assertThatThrownBy(() -> Http2Headers.of("x-a", "a\r\nb")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aLargerPeerFrameSizeMeansFewerFrames() {
        Http2FrameWriter w = new Http2FrameWriter();
        w.setPeerMaxFrameSize(1 << 20);
        ByteBuffer out = ByteBuffer.allocate(200_000);
        w.writeData(out, 1, ByteBuffer.allocate(100_000), true);
        byte[] b = new byte[out.flip().remaining()];
        out.get(b);
        assertThat(frameTypes(b)).isEqualTo("DATA");
    }

    private static String frameTypes(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int p = 0; p < b.length; ) {
            int len = (b[p] & 0xFF) << 16 | (b[p + 1] & 0xFF) << 8 | b[p + 2] & 0xFF;
            sb.append(sb.length() > 0 ? " " : "").append(FrameType.name(b[p + 3]));
            p += 9 + len;
        }
        return sb.toString();
    }
}
