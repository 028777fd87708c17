package io.berth.transport.http1;

import io.berth.HttpProtocolException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** Test helpers: wire bytes, and feeding a parser input split at chosen offsets. */
final class Wire {
    private Wire() {
    }

    /** @return the ISO-8859-1 bytes of {@code s} */
    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** @return the lines joined, each ended by CRLF, plus the blank line that ends a head */
    static String head(String... lines) {
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            sb.append(l).append("\r\n");
        }
        return sb.append("\r\n").toString();
    }

    /** How buffers are made from pieces of input, to cover the parsers' array and non-array paths. */
    enum BufferKind {
        HEAP,
        /** A heap buffer that is a slice of a larger array: non-zero array offset. */
        HEAP_OFFSET,
        DIRECT
    }

    static ByteBuffer buffer(byte[] b, int from, int to, BufferKind kind) {
        int n = to - from;
        switch (kind) {
            case HEAP:
                return ByteBuffer.wrap(Arrays.copyOfRange(b, from, to));
            case HEAP_OFFSET: {
                byte[] big = new byte[n + 10];
                Arrays.fill(big, (byte) 'Z');
                System.arraycopy(b, from, big, 7, n);
                return ByteBuffer.wrap(big, 3, n + 4).slice().position(4);
            }
            default: {
                ByteBuffer d = ByteBuffer.allocateDirect(n);
                d.put(b, from, n).flip();
                return d;
            }
        }
    }

    /** What a parse of a whole input gave: a head and where it ended, or an error message. */
    record HeadResult(ResponseHead head, int end, String error) {
        static HeadResult of(ResponseHead head, int end) {
            return new HeadResult(head, end, null);
        }

        static HeadResult error(String message) {
            return new HeadResult(null, -1, message);
        }
    }

    /** @return the cut points of two pieces split at {@code at} */
    static int[] cutAt(int at) {
        return new int[] {at};
    }

    /** @return cut points making one-byte pieces */
    static int[] everyByte(int length) {
        int[] cuts = new int[Math.max(0, length - 1)];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = i + 1;
        }
        return cuts;
    }

    /** @return sorted random cut points in (0, length) */
    static int[] randomCuts(SplittableRandom rnd, int length, int maxCuts) {
        if (length < 2) {
            return new int[0];
        }
        int n = rnd.nextInt(maxCuts + 1);
        int[] cuts = new int[n];
        for (int i = 0; i < n; i++) {
            cuts[i] = 1 + rnd.nextInt(length - 1);
        }
        Arrays.sort(cuts);
        return Arrays.stream(cuts).distinct().toArray();
    }

    /**
     * Feeds {@code input} to a fresh-state parser in pieces cut at {@code cuts}, checking the parser's
     * contract on every call: it either returns a head, or returns null having consumed the whole piece.
     * An input that ends before a head does is reported as the error {@code "incomplete"}.
     */
    static HeadResult parse(ResponseParser parser, byte[] input, int[] cuts, BufferKind kind) {
        List<Integer> bounds = new ArrayList<>();
        bounds.add(0);
        for (int c : cuts) {
            bounds.add(c);
        }
        bounds.add(input.length);
        try {
            for (int i = 0; i + 1 < bounds.size(); i++) {
                int from = bounds.get(i);
                int to = bounds.get(i + 1);
                ByteBuffer piece = buffer(input, from, to, kind);
                int startPos = piece.position();
                ResponseHead h = parser.parse(piece);
                if (h != null) {
                    return HeadResult.of(h, from + piece.position() - startPos);
                }
                if (piece.hasRemaining()) {
                    throw new AssertionError("parser returned null without consuming its whole input");
                }
            }
            return HeadResult.error("incomplete");
        } catch (HttpProtocolException e) {
            return HeadResult.error(e.getMessage());
        }
    }

    static HeadResult parse(byte[] input, int[] cuts, BufferKind kind) {
        return parse(new ResponseParser(ResponseParser.DEFAULT_MAX_HEAD_SIZE), input, cuts, kind);
    }
}
