package io.berth.transport.http1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ChunkedEncodingTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"1, 1", "9, 9", "10, a", "15, f", "16, 10", "255, ff", "256, 100", "17408, 4400",
            "9223372036854775807, 7fffffffffffffff"})
    void chunkHeaderIsMinimalLowerCaseHex(long size, String hex) {
        byte[] dst = new byte[ChunkedEncoding.MAX_CHUNK_HEADER + 4];
        int n = ChunkedEncoding.writeChunkHeader(size, dst, 2);
        assertThat(n).isEqualTo(ChunkedEncoding.chunkHeaderLength(size)).isEqualTo(hex.length() + 2);
        assertThat(new String(dst, 2, n, StandardCharsets.US_ASCII)).isEqualTo(hex + "\r\n");
    }

    @Test
    void lastChunkAndChunkEnd() {
        byte[] dst = new byte[8];
        assertThat(ChunkedEncoding.writeLastChunk(dst, 1)).isEqualTo(5);
        assertThat(new String(dst, 1, 5, StandardCharsets.US_ASCII)).isEqualTo("0\r\n\r\n");
        assertThat(ChunkedEncoding.writeChunkEnd(dst, 6)).isEqualTo(2);
        assertThat(new String(dst, 6, 2, StandardCharsets.US_ASCII)).isEqualTo("\r\n");
    }

    @Test
    void rejectsNonPositiveSizesAndShortArrays() {
        assertThatThrownBy(() -> ChunkedEncoding.writeChunkHeader(0, new byte[20], 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive");
        assertThatThrownBy(() -> ChunkedEncoding.chunkHeaderLength(-3)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ChunkedEncoding.writeChunkHeader(255, new byte[3], 0))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> ChunkedEncoding.writeLastChunk(new byte[4], 0))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void encodedBodiesDecodeToTheSameBytes() throws Exception {
        SplittableRandom rnd = new SplittableRandom(42);
        for (int round = 0; round < 200; round++) {
            byte[] body = new byte[rnd.nextInt(3000)];
            for (int i = 0; i < body.length; i++) {
                body[i] = (byte) rnd.nextInt(256);
            }
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            byte[] header = new byte[ChunkedEncoding.MAX_CHUNK_HEADER];
            int p = 0;
            while (p < body.length) {
                int n = Math.min(body.length - p, 1 + rnd.nextInt(700));
                wire.write(header, 0, ChunkedEncoding.writeChunkHeader(n, header, 0));
                wire.write(body, p, n);
                wire.write(header, 0, ChunkedEncoding.writeChunkEnd(header, 0));
                p += n;
            }
            wire.write(header, 0, ChunkedEncoding.writeLastChunk(header, 0));
            ChunkedDecoder d = new ChunkedDecoder(1024);
            ByteBuffer in = ByteBuffer.wrap(wire.toByteArray());
            byte[] out = new byte[body.length + 1];
            int got = 0;
            int n;
            while ((n = d.read(in, out, got, out.length - got)) > 0) {
                got += n;
            }
            assertThat(d.isDone()).isTrue();
            assertThat(Arrays.copyOf(out, got)).isEqualTo(body);
        }
    }
}
