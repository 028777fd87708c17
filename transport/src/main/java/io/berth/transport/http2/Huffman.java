package io.berth.transport.http2;

import java.nio.ByteBuffer;

/**
 * The Huffman code of HPACK (RFC 7541 §5.2 and Appendix B): string literals of header fields may be
 * sent with it.
 *
 * <p>Decoding walks a table-driven automaton four bits at a time. Its states are the 256 inner nodes
 * of the code tree; the entry of a state and a nibble gives the next state and the symbol completed
 * on the way, if any (codes are at least 5 bits long, so one nibble completes at most one). Reaching
 * EOS (the 30-bit all-ones code) is an error, and so is ending anywhere but at the root or on an
 * all-ones path of at most 7 bits from it: padding longer than 7 bits, or padding that is not a
 * prefix of EOS (RFC 7541 §5.2). The tables are built once from the code table, which is typed from
 * Appendix B.
 *
 * <p>Stateless and thread-safe.
 */
final class Huffman {
    /** {@link #decode} result: the string holds the EOS symbol. */
    static final int EOS_DECODED = -1;
    /** {@link #decode} result: the padding is longer than 7 bits. */
    static final int PADDING_TOO_LONG = -2;
    /** {@link #decode} result: the padding is not all ones (or a code is cut short). */
    static final int PADDING_NOT_ONES = -3;

    static final int EOS = 256;

    // Appendix B: code (aligned to the least significant bit) and length in bits of each symbol 0..256.
    private static final int[] CODES = {
            0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7,
            0xfffffe8, 0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec,
            0xfffffed, 0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3,
            0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb,
            0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa,
            0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18,
            0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
            0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc,
            0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62,
            0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
            0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72,
            0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22,
            0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26,
            0x27, 0x6, 0x74, 0x75, 0x28, 0x29, 0x2a, 0x7,
            0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78,
            0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd, 0xffffffc,
            0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9,
            0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf,
            0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3,
            0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef,
            0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde,
            0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec,
            0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef,
            0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1,
            0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
            0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed,
            0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2,
            0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5,
            0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3,
            0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
            0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea,
            0x7ffffeb, 0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
            0x3fffffff,
    };
    private static final byte[] LENGTHS = {
            13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
            28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
            6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
            5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
            13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
            7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
            15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
            6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
            20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
            24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
            22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
            21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
            26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
            19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
            20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
            26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
            30,
    };

    private static final int EMIT = 1 << 16;
    private static final int FAIL = 1 << 17;
    /** Per state and nibble: next state (bits 0-7), symbol (bits 8-15), EMIT, FAIL. */
    private static final int[] FSM = new int[256 * 16];
    /** Per state: whether a string may end there (root, or at most 7 one-bits from it). */
    private static final boolean[] ACCEPT = new boolean[256];
    /** Per state: bits since the last completed symbol. */
    private static final int[] DEPTH = new int[256];
    /** Per state: whether those bits are all ones. */
    private static final boolean[] ALL_ONES = new boolean[256];

    static {
        // The code tree: inner node i has children kids[2i] and kids[2i+1]; a leaf is -(symbol + 1).
        int[] kids = new int[512];
        boolean[] allOnes = ALL_ONES;
        allOnes[0] = true;
        int nodes = 1;
        for (int sym = 0; sym <= EOS; sym++) {
            int n = 0;
            for (int bit = LENGTHS[sym] - 1; bit >= 0; bit--) {
                int b = (CODES[sym] >>> bit) & 1;
                int slot = 2 * n + b;
                if (bit == 0) {
                    kids[slot] = -(sym + 1);
                } else {
                    if (kids[slot] == 0) {
                        kids[slot] = nodes;
                        DEPTH[nodes] = DEPTH[n] + 1;
                        allOnes[nodes] = allOnes[n] && b == 1;
                        nodes++;
                    }
                    n = kids[slot];
                }
            }
        }
        if (nodes != 256) {
            throw new AssertionError("the Huffman code must have 256 inner nodes but has " + nodes);
        }
        for (int s = 0; s < 256; s++) {
            ACCEPT[s] = allOnes[s] && DEPTH[s] <= 7;
            for (int v = 0; v < 16; v++) {
                int n = s;
                int entry = 0;
                for (int i = 3; i >= 0; i--) {
                    int c = kids[2 * n + ((v >>> i) & 1)];
                    if (c < 0) {
                        int sym = -c - 1;
                        if (sym == EOS) {
                            entry = FAIL;
                            break;
                        }
                        entry = EMIT | sym << 8;
                        n = 0;
                    } else {
                        n = c;
                    }
                }
                FSM[s << 4 | v] = (entry & FAIL) != 0 ? FAIL : entry | n;
            }
        }
    }

    private Huffman() {
    }

    /**
     * Decodes {@code len} bytes of {@code in} from absolute index {@code pos} into {@code out} from
     * {@code outPos}; {@code out} must have room for {@code len * 8 / 5} bytes after {@code outPos}.
     *
     * @return the index in {@code out} after the last decoded byte, or one of the negative error results
     */
    static int decode(ByteBuffer in, int pos, int len, byte[] out, int outPos) {
        int state = 0;
        int o = outPos;
        for (int i = pos, end = pos + len; i < end; i++) {
            int b = in.get(i) & 0xFF;
            int e = FSM[state << 4 | b >>> 4];
            if ((e & FAIL) != 0) {
                return EOS_DECODED;
            }
            if ((e & EMIT) != 0) {
                out[o++] = (byte) (e >>> 8);
            }
            e = FSM[(e & 0xFF) << 4 | b & 0xF];
            if ((e & FAIL) != 0) {
                return EOS_DECODED;
            }
            if ((e & EMIT) != 0) {
                out[o++] = (byte) (e >>> 8);
            }
            state = e & 0xFF;
        }
        if (!ACCEPT[state]) {
            return ALL_ONES[state] ? PADDING_TOO_LONG : PADDING_NOT_ONES;
        }
        return o;
    }

    /** @return the number of bytes {@code s} takes Huffman-coded (each char must be at most 0xFF) */
    static int encodedLength(String s) {
        long bits = 0;
        for (int i = 0, n = s.length(); i < n; i++) {
            bits += LENGTHS[s.charAt(i) & 0xFF];
        }
        return (int) ((bits + 7) >>> 3);
    }

    /** Writes {@code s} (chars at most 0xFF) Huffman-coded, padded with the most significant bits of EOS. */
    static void encode(String s, ByteBuffer out) {
        long acc = 0;
        int bits = 0;
        for (int i = 0, n = s.length(); i < n; i++) {
            int sym = s.charAt(i) & 0xFF;
            int len = LENGTHS[sym];
            acc = acc << len | CODES[sym];
            bits += len;
            while (bits >= 8) {
                bits -= 8;
                out.put((byte) (acc >>> bits));
            }
            acc &= (1L << bits) - 1;
        }
        if (bits > 0) {
            out.put((byte) (acc << (8 - bits) | 0xFF >>> bits));
        }
    }

    /** @return the code of {@code sym}, aligned to the least significant bit (for tests) */
    static int code(int sym) {
        return CODES[sym];
    }

    /** @return the length in bits of the code of {@code sym} (for tests) */
    static int length(int sym) {
        return LENGTHS[sym];
    }
}
