package io.berth.transport.http1;

import static io.berth.transport.http1.Wire.bytes;
import static io.berth.transport.http1.Wire.head;

import io.berth.transport.testing.ByteMutations;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Seeded random mutation of valid responses (bit flips, byte overwrites with bytes the grammar cares
 * about, insertions, deletions, duplicated ranges), each parsed whole and at random split points with
 * random read sizes. The codec must return a valid result or throw {@link io.berth.HttpProtocolException},
 * never anything else, never hang, never buffer beyond its limits, and give the same result however
 * the input is split. Run with {@code -Dmutation.seed=N} to replay a seed printed by a failure, and
 * {@code -Dmutation.count=N} for a longer run.
 */
class ResponseMutationTest {
    static final byte[][] VALID = {
            bytes(head("HTTP/1.1 200 OK", "Content-Type: text/plain", "Content-Length: 5") + "hello"),
            bytes(head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Connection: keep-alive")
                    + "5;a=b\r\nhello\r\n3;q=\"x y\"\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n"),
            bytes(head("HTTP/1.1 100 Continue") + head("HTTP/1.1 204 No Content", "Date: x")),
            bytes(head("HTTP/1.0 302 Found", "Location: /x", "Connection: keep-alive", "Keep-Alive: timeout=5, max=9",
                    "Content-Length: 0")),
            bytes(head("HTTP/1.1 500 Oops", "Server: test") + "until close"),
            bytes(head("HTTP/1.1 200 OK", "Set-Cookie: a=1", "set-cookie: b=2", "Content-Length: 3, 3") + "abc"),
    };
    private static final byte[] INTERESTING = bytes("\r\n \t:;=\"\\,0123456789abcdefABCDEF\0\u007f\u0080\u00ffHTP/.-");

    @Test
    @Timeout(60)
    void mutatedResponsesGiveAValidResultOrAProtocolError() {
        long seed = Long.getLong("mutation.seed", 0x5EED_C0DECL);
        int count = Integer.getInteger("mutation.count", 5000);
        SplittableRandom master = new SplittableRandom(seed);
        for (int i = 0; i < count; i++) {
            long iterationSeed = master.nextLong();
            SplittableRandom rnd = new SplittableRandom(iterationSeed);
            byte[] input = mutate(VALID[rnd.nextInt(VALID.length)], rnd);
            try {
                String whole = ParserHarness.run(input, new int[0], 1 << 16);
                for (int k = 0; k < 3; k++) {
                    int[] cuts = Wire.randomCuts(rnd, input.length, 8);
                    int dstLen = 1 + rnd.nextInt(16);
                    String split = ParserHarness.run(input, cuts, dstLen);
                    if (!split.equals(whole)) {
                        throw new AssertionError("split at " + Arrays.toString(cuts) + " (reads of " + dstLen
                                + ") gave\n" + split + "\nbut whole gave\n" + whole);
                    }
                }
            } catch (Throwable t) {
                throw new AssertionError("mutation.seed=" + seed + " iteration " + i + " (iteration seed "
                        + iterationSeed + "), input hex " + HexFormat.of().formatHex(input) + "\n"
                        + new String(input, StandardCharsets.ISO_8859_1), t);
            }
        }
    }

    static byte[] mutate(byte[] base, SplittableRandom rnd) {
        return ByteMutations.mutate(base, rnd, INTERESTING, 4);
    }
}
