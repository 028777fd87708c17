package io.berth.transport.http2;

import static io.berth.transport.http2.FrameType.DATA;
import static io.berth.transport.http2.FrameType.HEADERS;
import static io.berth.transport.http2.FrameType.PUSH_PROMISE;
import static io.berth.transport.http2.FrameType.SETTINGS;
import static io.berth.transport.http2.FrameType.WINDOW_UPDATE;
import static io.berth.transport.http2.Frames.concat;
import static io.berth.transport.http2.Frames.frame;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.transport.testing.ByteMutations;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Seeded random mutation of valid frame sequences (bit flips, overwrites with bytes the format cares
 * about, insertions, deletions, duplicated ranges, truncation), each read whole, byte by byte and at
 * random split points, through {@link FrameHarness}: the result must be frames or a typed HTTP/2
 * error, nothing else, with every call consuming its input, no buffer beyond its limit, and the same
 * result however the input is split. Run with {@code -Dmutation.seed=N} to replay a seed printed by a
 * failure, and {@code -Dmutation.count=N} for a longer run.
 */
class FrameMutationTest {
    static final byte[][] VALID = valid();
    private static final byte[] INTERESTING = Hex.bytes("00 01 03 04 05 06 07 08 09 0a 0f 10 1f 20 21 24 25 28 3f 40"
            + " 41 5f 7f 80 81 82 87 88 be bf c0 fe ff");

    static byte[][] valid() {
        HpackEncoder encoder = new HpackEncoder(4096);
        byte[] response = Http2FrameReaderTest.block(encoder, ":status", "200", "content-type", "application/json",
                "date", "Mon, 21 Oct 2013 20:13:21 GMT", "server", "nginx");
        byte[] again = Http2FrameReaderTest.block(encoder, ":status", "200", "content-type", "application/json",
                "server", "nginx", "set-cookie", "a=b");
        HpackEncoder shrunk = new HpackEncoder(4096);
        shrunk.setPeerTableSize(100);
        byte[] withUpdate = Http2FrameReaderTest.block(shrunk, ":status", "404", "x-reason", "gone");
        return new byte[][] {
            Http2FrameReaderTest.validSequence(),
            concat(frame(SETTINGS, 0, 0, "000300000064 000400010000"), frame(HEADERS, 0x4, 1, response),
                    frame(DATA, 0, 1, "7b7d"), frame(DATA, 0x9, 1, "02 0a 0000"), frame(WINDOW_UPDATE, 0, 0, "00000400"),
                    frame(HEADERS, 0x5, 3, again)),
            concat(Frames.SETTINGS_EMPTY, frame(PUSH_PROMISE, 0x4, 1, concat(Hex.bytes("00000002"), withUpdate)),
                    frame(HEADERS, 0x5, 2, "88")),
        };
    }

    @Test
    @Timeout(60)
    void mutatedFramesGiveFramesOrATypedError() {
        long seed = Long.getLong("mutation.seed", 0x5EED_F2A3EL);
        int count = Integer.getInteger("mutation.count", 2000);
        SplittableRandom master = new SplittableRandom(seed);
        Set<String> errorKinds = new HashSet<>();
        int complete = 0;
        for (int i = 0; i < count; i++) {
            long iterationSeed = master.nextLong();
            SplittableRandom rnd = new SplittableRandom(iterationSeed);
            int which = rnd.nextInt(VALID.length);
            boolean push = which == 2 || rnd.nextInt(4) == 0;
            byte[] input = mutate(VALID[which], rnd);
            try {
                String whole = checkSplitsAgree(input, push, rnd);
                if (whole.endsWith("\nend") || whole.equals("end")) {
                    complete++;
                }
                int e = whole.lastIndexOf('\n') + 1;
                if (whole.startsWith("error ", e)) {
                    errorKinds.add(whole.substring(e).split(" ")[1]);
                }
            } catch (Throwable t) {
                throw new AssertionError("mutation.seed=" + seed + " iteration " + i + " (iteration seed "
                        + iterationSeed + "), push " + push + ", input hex " + Hex.of(input), t);
            }
        }
        // Not vacuous: the mutations reach both ends and many kinds of error.
        assertThat(complete).as("inputs read to the end").isGreaterThan(count / 20);
        assertThat(errorKinds).as("error codes reached").contains("PROTOCOL_ERROR", "FRAME_SIZE_ERROR",
                "COMPRESSION_ERROR", "FLOW_CONTROL_ERROR");
    }

    /** The invariant check: whole, byte by byte and at random splits, the reader gives the same result. */
    static String checkSplitsAgree(byte[] input, boolean push, SplittableRandom rnd) {
        String whole = FrameHarness.run(input, new int[0], push);
        String bytewise = FrameHarness.run(input, Http2FrameReaderTest.everyByte(input.length), push,
                FrameHarness.Kind.values()[rnd.nextInt(3)]);
        if (!bytewise.equals(whole)) {
            throw new AssertionError("byte by byte gave\n" + bytewise + "\nbut whole gave\n" + whole);
        }
        for (int k = 0; k < 2; k++) {
            int[] cuts = randomCuts(rnd, input.length, 8);
            String split = FrameHarness.run(input, cuts, push);
            if (!split.equals(whole)) {
                throw new AssertionError("split at " + Arrays.toString(cuts) + " gave\n" + split + "\nbut whole gave\n"
                        + whole);
            }
        }
        return whole;
    }

    /** Must-fail canary: a reader that leaves input unconsumed is caught, so the checker is not vacuous. */
    @Test
    void canaryTheCheckerCatchesUnconsumedInput() {
        byte[] input = VALID[1];
        assertThatThrownBy(() -> FrameHarness.run(input, new int[] {input.length / 2}, false, FrameHarness.Kind.HEAP,
                true)).isInstanceOf(AssertionError.class).hasMessage("read left input unconsumed");
    }

    static int[] randomCuts(SplittableRandom rnd, int length, int maxCuts) {
        if (length < 2) {
            return new int[0];
        }
        int[] cuts = new int[rnd.nextInt(maxCuts + 1)];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = 1 + rnd.nextInt(length - 1);
        }
        Arrays.sort(cuts);
        return cuts;
    }

    static byte[] mutate(byte[] base, SplittableRandom rnd) {
        return ByteMutations.mutate(base, rnd, INTERESTING, 3);
    }
}
