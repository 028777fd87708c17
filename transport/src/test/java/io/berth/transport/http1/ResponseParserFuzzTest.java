package io.berth.transport.http1;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;

/**
 * Jazzer fuzz tests of the response codec: the head parser, the framing decision, the keep-alive
 * decision and the chunked decoder, through {@link ParserHarness}, whose invariants they share with
 * {@link ResponseMutationTest}: a valid result or an {@link io.berth.HttpProtocolException}, nothing
 * else; no hang; no buffering beyond the limits; the same result however the input is split.
 *
 * <p>Plain {@code mvn verify} replays the committed inputs under
 * {@code src/test/resources/io/berth/transport/http1/ResponseParserFuzzTestInputs/<method>/} (regression
 * mode), in their own Surefire execution (tag {@code fuzz}) because Jazzer's agent instruments every
 * class of the JVM it is loaded in. To fuzz for real, one method per run (see {@code transport/FUZZING.md}):
 * <pre>{@code
 * JAZZER_FUZZ=1 mvn -pl transport -am verify -Dtest='ResponseParserFuzzTest#splitAnywhere' \
 *     -Dsurefire.failIfNoSpecifiedTests=false
 * }</pre>
 */
@Tag("fuzz")
class ResponseParserFuzzTest {

    /** The input is a response; split points and read size are picked by the fuzzer too. */
    @FuzzTest(maxDuration = "60s")
    void splitAnywhere(FuzzedDataProvider data) {
        int cutCount = data.consumeInt(0, 8);
        int[] cuts = new int[cutCount];
        for (int i = 0; i < cutCount; i++) {
            cuts[i] = data.consumeInt(1, 4096);
        }
        int dstLen = data.consumeInt(1, 64);
        byte[] input = data.consumeRemainingAsBytes();
        int[] inRange = Arrays.stream(cuts).filter(c -> c < input.length).sorted().toArray();
        String whole = ParserHarness.run(input, new int[0], 1 << 16);
        String split = ParserHarness.run(input, inRange, dstLen);
        if (!split.equals(whole)) {
            throw new AssertionError("split at " + Arrays.toString(inRange) + " (reads of " + dstLen + ") gave\n"
                    + split + "\nbut whole gave\n" + whole);
        }
    }

    /** The raw input is a response, parsed whole and byte by byte. */
    @FuzzTest(maxDuration = "60s")
    void wholeAndByteByByte(byte[] input) {
        String whole = ParserHarness.run(input, new int[0], 1 << 16);
        String bytewise = ParserHarness.run(input, Wire.everyByte(input.length), 1);
        if (!bytewise.equals(whole)) {
            throw new AssertionError("byte by byte gave\n" + bytewise + "\nbut whole gave\n" + whole);
        }
    }
}
