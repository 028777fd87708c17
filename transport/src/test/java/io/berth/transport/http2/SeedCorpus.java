package io.berth.transport.http2;

import static io.berth.transport.http2.FrameType.CONTINUATION;
import static io.berth.transport.http2.FrameType.DATA;
import static io.berth.transport.http2.FrameType.HEADERS;
import static io.berth.transport.http2.FrameType.SETTINGS;
import static io.berth.transport.http2.Frames.afterPreface;
import static io.berth.transport.http2.Frames.frame;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes the hand-made seeds of {@link Http2FrameReaderFuzzTest} into
 * {@code src/test/resources/.../Http2FrameReaderFuzzTestInputs/<method>/}: run its {@code main} from
 * the {@code transport} directory after changing a seed, and commit the files. For
 * {@code splitAnywhere} each seed gets 8 trailing bytes, from which the fuzzed-data provider takes its
 * numbers (it reads them from the end).
 */
final class SeedCorpus {
    private SeedCorpus() {
    }

    static Map<String, byte[]> seeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        seeds.put("valid-every-frame", Http2FrameReaderTest.validSequence());
        seeds.put("valid-response-and-data", FrameMutationTest.VALID[1]);
        seeds.put("valid-push-promise", FrameMutationTest.VALID[2]);
        byte[] open = frame(HEADERS, 0, 1, "82");
        byte[] empty = frame(CONTINUATION, 0, 1, "");
        seeds.put("invalid-continuation-flood", afterPreface(open, empty, empty, empty, empty, empty, empty));
        seeds.put("invalid-hpack-index-0", afterPreface(frame(HEADERS, 0x4, 1, "80")));
        seeds.put("invalid-huffman-eos", afterPreface(frame(HEADERS, 0x4, 1, "0084ffffffff00")));
        seeds.put("invalid-table-size-update", afterPreface(frame(HEADERS, 0x4, 1, "82 3fe21f")));
        seeds.put("invalid-data-padding", afterPreface(frame(DATA, 0x8, 1, "05 0000")));
        seeds.put("invalid-initial-window", frame(SETTINGS, 0, 0, "000480000000"));
        seeds.put("stream-error-list-size", afterPreface(frame(HEADERS, 0x4, 1, Http2FrameReaderTest.block(
                new HpackEncoder(4096), "x-a", "a".repeat(600), "x-b", "b".repeat(600)))));
        return seeds;
    }

    public static void main(String[] args) throws Exception {
        Path base = Path.of("src/test/resources/io/berth/transport/http2/Http2FrameReaderFuzzTestInputs");
        for (Map.Entry<String, byte[]> e : seeds().entrySet()) {
            Path whole = base.resolve("wholeAndByteByByte").resolve(e.getKey());
            Files.createDirectories(whole.getParent());
            Files.write(whole, e.getValue());
            Path split = base.resolve("splitAnywhere").resolve(e.getKey());
            Files.createDirectories(split.getParent());
            Files.write(split, Frames.concat(e.getValue(), Hex.bytes("0110 0020 0030 0301")));
        }
    }
}
