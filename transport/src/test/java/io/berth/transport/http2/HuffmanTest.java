package io.berth.transport.http2;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HuffmanTest {

    @Test
    void theCodeIsCanonicalAndPrefixFreeWithTheRfcLengths() {
        // RFC 7541 Appendix B orders codes by length, then by symbol: recompute them from the lengths.
        Integer[] order = new Integer[257];
        for (int i = 0; i <= 256; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Huffman.length(a) != Huffman.length(b)
                ? Huffman.length(a) - Huffman.length(b) : a - b);
        long code = 0;
        int previousLength = Huffman.length(order[0]);
        for (int i = 0; i < order.length; i++) {
            int sym = order[i];
            if (i > 0) {
                code = (code + 1) << (Huffman.length(sym) - previousLength);
            }
            previousLength = Huffman.length(sym);
            assertThat(Huffman.code(sym)).as("code of symbol %d", sym).isEqualTo((int) code);
        }
        // Spot checks against the table's text: '0' is 00000, 'a' 00011, ' ' 010100, EOS 30 ones.
        assertThat(Huffman.code('0')).isZero();
        assertThat(Huffman.length('0')).isEqualTo(5);
        assertThat(Huffman.code('a')).isEqualTo(0x3);
        assertThat(Huffman.code(' ')).isEqualTo(0x14);
        assertThat(Huffman.length(' ')).isEqualTo(6);
        assertThat(Huffman.code(Huffman.EOS)).isEqualTo(0x3fffffff);
        assertThat(Huffman.length(Huffman.EOS)).isEqualTo(30);
        assertThat(Huffman.code(255)).isEqualTo(0x3ffffee);
        assertThat(Huffman.length(255)).isEqualTo(26);
    }

    @Test
    void everySymbolRoundTripsAloneAndInAString() {
        StringBuilder all = new StringBuilder();
        for (int c = 0; c < 256; c++) {
            String s = String.valueOf((char) c);
            assertThat(roundTrip(s)).as("symbol %d", c).isEqualTo(s);
            all.append((char) c);
        }
        assertThat(roundTrip(all.toString())).isEqualTo(all.toString());
        assertThat(roundTrip(all.reverse().toString())).isEqualTo(all.toString());
    }

    @Test
    void randomStringsRoundTrip() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < 2000; i++) {
            char[] c = new char[rnd.nextInt(64)];
            for (int k = 0; k < c.length; k++) {
                c[k] = (char) (rnd.nextBoolean() ? rnd.nextInt(256) : 'a' + rnd.nextInt(26));
            }
            String s = new String(c);
            assertThat(roundTrip(s)).isEqualTo(s);
        }
    }

    @Test
    void encodedLengthIsWhatEncodeWrites() {
        String s = "www.example.com";
        ByteBuffer out = ByteBuffer.allocate(64);
        Huffman.encode(s, out);
        assertThat(out.position()).isEqualTo(Huffman.encodedLength(s)).isEqualTo(12);
        assertThat(Hex.of(out.flip())).isEqualTo("f1e3c2e5f23a6ba0ab90f4ff"); // RFC 7541 C.4.1
    }

    /** RFC 7541 §5.2: padding of at most 7 bits, all ones (the start of EOS); EOS itself is an error. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "empty string,                  '',        0",
        "'a' and 3 ones of padding,     1f,        1",
        "'aaaaa' and 7 ones of padding, 18c631ff,  5",
        "'a' and 11 ones of padding,    1fff,      -2",
        "8 ones only,                   ff,        -2",
        "'a' and padding 000,           18,        -3",
        "a code cut short (11111110),   fe,        -3",
        "32 ones: EOS,                  ffffffff,  -1",
        "30 ones then 00: EOS,          fffffffc,  -1",
        "'a' then EOS,                  1fffffff fc, -1",
    })
    void paddingAndEos(String what, String hex, int expected) {
        byte[] in = Hex.bytes(hex);
        byte[] out = new byte[16];
        assertThat(Huffman.decode(ByteBuffer.wrap(in), 0, in.length, out, 0)).as(what).isEqualTo(expected);
    }

    private static String roundTrip(String s) {
        ByteBuffer out = ByteBuffer.allocate(Huffman.encodedLength(s));
        Huffman.encode(s, out);
        assertThat(out.hasRemaining()).isFalse();
        byte[] decoded = new byte[s.length() + 8];
        int n = Huffman.decode(out.flip(), 0, out.limit(), decoded, 0);
        assertThat(n).as("decode result").isGreaterThanOrEqualTo(0);
        return new String(decoded, 0, n, StandardCharsets.ISO_8859_1);
    }
}
