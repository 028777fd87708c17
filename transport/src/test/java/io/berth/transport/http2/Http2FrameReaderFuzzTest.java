package io.berth.transport.http2;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;

/**
 * Jazzer fuzz tests of the HTTP/2 frame reader with its HPACK decoder, through {@link FrameHarness},
 * whose invariants they share with {@link FrameMutationTest}: frames or a typed
 * {@link Http2Exception} (a connection error), nothing else; every call consumes its input; no
 * buffer beyond its limit; the same result however the input is split.
 *
 * <p>Plain {@code mvn verify} replays the committed inputs under
 * {@code src/test/resources/io/berth/transport/http2/Http2FrameReaderFuzzTestInputs/<method>/}
 * (regression mode), in the {@code fuzz-tests} Surefire execution (tag {@code fuzz}). To fuzz for
 * real, one method per run (see {@code transport/FUZZING.md}):
 * <pre>{@code
 * JAZZER_FUZZ=1 mvn -pl transport -am verify -Dtest='Http2FrameReaderFuzzTest#splitAnywhere' \
 *     -Dsurefire.failIfNoSpecifiedTests=false
 * }</pre>
 */
@Tag("fuzz")
class Http2FrameReaderFuzzTest {

    /** The input is what a server sends; whether push is on and the split points are picked too. */
    @FuzzTest(maxDuration = "60s")
    void splitAnywhere(FuzzedDataProvider data) {
        boolean push = data.consumeBoolean();
        int cutCount = data.consumeInt(0, 8);
        int[] cuts = new int[cutCount];
        for (int i = 0; i < cutCount; i++) {
            cuts[i] = data.consumeInt(1, 4096);
        }
        byte[] input = data.consumeRemainingAsBytes();
        int[] inRange = Arrays.stream(cuts).filter(c -> c < input.length).sorted().toArray();
        String whole = FrameHarness.run(input, new int[0], push);
        String split = FrameHarness.run(input, inRange, push);
        if (!split.equals(whole)) {
            throw new AssertionError("split at " + Arrays.toString(inRange) + " gave\n" + split + "\nbut whole gave\n"
                    + whole);
        }
    }

    /** The raw input is what a server sends (push off), read whole and byte by byte. */
    @FuzzTest(maxDuration = "60s")
    void wholeAndByteByByte(byte[] input) {
        String whole = FrameHarness.run(input, new int[0], false);
        String bytewise = FrameHarness.run(input, Http2FrameReaderTest.everyByte(input.length), false);
        if (!bytewise.equals(whole)) {
            throw new AssertionError("byte by byte gave\n" + bytewise + "\nbut whole gave\n" + whole);
        }
    }
}
