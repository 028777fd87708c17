package io.berth.transport.http1;

import io.berth.HttpProtocolException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Runs a whole response (head, framing decision, chunked body) through the codec with the input split
 * at given points, checks the codec's invariants on every call, and describes the result as a string,
 * so that two runs of the same bytes with different splits can be compared.
 *
 * <p>Invariants checked: only {@link HttpProtocolException} escapes; a parse that returns no head has
 * consumed its whole input; a chunked read that returns 0 has consumed its whole input or finished;
 * no internal buffer grows beyond its limit; every call makes progress (so nothing can hang).
 * Shared by the seeded mutation test and the Jazzer fuzz test.
 */
final class ParserHarness {
    static final int MAX_HEAD = 2048;
    static final int MAX_FIELDS = 32;

    private ParserHarness() {
    }

    /**
     * @param input the response bytes
     * @param cuts sorted split points in (0, input.length), may repeat
     * @param dstLen the size of the body reads, at least 1
     * @return a description of what the codec made of the input
     */
    static String run(byte[] input, int[] cuts, int dstLen) {
        ResponseParser parser = new ResponseParser(MAX_HEAD, MAX_FIELDS);
        ChunkedDecoder decoder = new ChunkedDecoder(MAX_HEAD, MAX_FIELDS);
        StringBuilder result = new StringBuilder();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        byte[] dst = new byte[dstLen];
        ResponseHead head = null;
        BodyFraming framing = null;
        int from = 0;
        try {
            for (int i = 0; i <= cuts.length; i++) {
                int to = i < cuts.length ? cuts[i] : input.length;
                if (to <= from) {
                    continue;
                }
                ByteBuffer piece = ByteBuffer.wrap(input, from, to - from);
                from = to;
                while (piece.hasRemaining()) {
                    if (head == null) {
                        head = parser.parse(piece);
                        check(parser.bufferCapacity() <= MAX_HEAD, "parser buffered beyond its limit");
                        if (head == null) {
                            check(!piece.hasRemaining(), "parse returned null with input left");
                            break;
                        }
                        check(head.headers().size() <= MAX_FIELDS, "more fields than the limit");
                        check(head.statusCode() >= 100 && head.statusCode() <= 599, "status out of range");
                        if (head.isInformational()) {
                            result.append("interim ").append(head.statusCode()).append('\n');
                            parser.reset();
                            head = null;
                            continue;
                        }
                        result.append(head);
                        framing = BodyFraming.of(head, false);
                        result.append("framing ").append(framing).append('\n');
                        KeepAlive.decide(head, framing); // must not throw
                        if (framing.kind() != BodyFraming.Kind.CHUNKED) {
                            result.append("rest ").append(piece.remaining() + input.length - from);
                            return result.toString();
                        }
                        continue; // the body may start in a later piece
                    }
                    int before = piece.remaining();
                    int n = decoder.read(piece, dst, 0, dst.length);
                    check(n >= 0 && n <= dst.length, "read out of range");
                    check(decoder.bufferCapacity() <= MAX_HEAD, "decoder buffered beyond its limit");
                    body.write(dst, 0, n);
                    if (decoder.isDone()) {
                        result.append("body ").append(Arrays.toString(body.toByteArray())).append('\n');
                        result.append("trailers ").append(decoder.trailers());
                        result.append("rest ").append(piece.remaining() + input.length - from);
                        return result.toString();
                    }
                    check(n > 0 || !piece.hasRemaining(), "read returned 0 with input left");
                    check(piece.remaining() < before || n > 0, "no progress");
                }
            }
            return result.append(head == null ? "incomplete head" : "incomplete body").toString();
        } catch (HttpProtocolException e) {
            return result.append("error ").append(e.getMessage()).toString();
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
