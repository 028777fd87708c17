package io.berth.transport.http2;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Throughput and allocation of the HTTP/2 codec on one thread, with the per-connection state (HPACK
 * tables, reader, writer, buffers) reused as a connection reuses it, and the dynamic tables warm.
 *
 * <ul>
 *   <li>{@code decodeResponseHead}: HPACK-decode the header block of a typical response head
 *       ({@code :status}, {@code content-type}, {@code content-length}, {@code date}, {@code server},
 *       {@code cache-control}, {@code vary}, {@code x-request-id}: the fields of
 *       {@code CodecBenchmark}'s HTTP/1.1 head) as our encoder sends it the second time: table
 *       references, and literals for the fields it does not index.</li>
 *   <li>{@code readResponse}: the same block in a HEADERS frame and a 100-byte DATA frame through
 *       {@link Http2FrameReader} (frame parsing, HPACK, handler calls).</li>
 *   <li>{@code encodeRequestHead}: {@link Http2FrameWriter#writeHeaders} of a GET with 8 fields
 *       (pseudo-header fields included) into a reused buffer.</li>
 * </ul>
 * Run from the repository root:
 * <pre>{@code
 * mvn -B -q -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/benchmarks.jar Http2CodecBenchmark -prof gc
 * }</pre>
 * Results and the machine they came from: {@code benchmarks/results/http2-codec.md}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class Http2CodecBenchmark {
    static final Http2Headers RESPONSE = Http2Headers.of(":status", "200",
            "date", "Tue, 25 Nov 2026 16:34:00 GMT",
            "server", "nginx",
            "content-type", "application/json",
            "cache-control", "no-cache",
            "vary", "Accept-Encoding",
            "x-request-id", "5f1c2a9e-3b7d-4c1a-9e2f-0a1b2c3d4e5f",
            "content-length", "97");
    static final Http2Headers REQUEST = Http2Headers.of(":method", "GET",
            ":scheme", "https",
            ":authority", "api.backend.test",
            ":path", "/v1/items/12345",
            "accept", "application/json",
            "user-agent", "berth/0.1",
            "accept-encoding", "gzip",
            "x-request-id", "5f1c2a9e-3b7d-4c1a-9e2f-0a1b2c3d4e5f");

    private final HpackDecoder decoder = new HpackDecoder();
    private ByteBuffer warmBlock;
    private Http2FrameReader reader;
    private ByteBuffer responseFrames;
    private Blackhole sink;
    private final Http2FrameWriter writer = new Http2FrameWriter();
    private final ByteBuffer out = ByteBuffer.allocate(4096);

    @Setup
    public void setUp(Blackhole bh) throws Http2Exception {
        sink = bh;
        HpackEncoder server = new HpackEncoder(4096);
        ByteBuffer first = encode(server, RESPONSE);
        warmBlock = encode(server, RESPONSE);
        decoder.decode(first, 1);
        decoder.decode(warmBlock, 3);
        System.out.println("\nfirst block " + first.remaining() + " bytes, warm block " + warmBlock.remaining()
                + " bytes, head " + RESPONSE.listSize() + " bytes by the list-size rule");

        reader = new Http2FrameReader(new Sink());
        ByteBuffer setup = ByteBuffer.allocate(1024);
        setup.put(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // the server's empty SETTINGS
        frame(setup, 1, 0x4, 1, first);
        setup.flip();
        reader.read(setup);
        ByteBuffer frames = ByteBuffer.allocate(1024);
        frame(frames, 1, 0x4, 3, warmBlock.duplicate());
        frame(frames, 0, 0x1, 3, ByteBuffer.wrap(new byte[100]));
        responseFrames = frames.flip();
        System.out.println("response frames " + responseFrames.remaining() + " bytes");
        out.clear();
        writer.writeHeaders(out, 1, REQUEST, true);
        System.out.println("first request HEADERS " + out.position() + " bytes");
        out.clear();
        writer.writeHeaders(out, 3, REQUEST, true);
        System.out.println("warm request HEADERS " + out.position() + " bytes");
    }

    @Benchmark
    public Http2Headers decodeResponseHead() throws Http2Exception {
        return decoder.decode(warmBlock, 5);
    }

    @Benchmark
    public void readResponse() throws Http2Exception {
        responseFrames.rewind();
        reader.read(responseFrames);
    }

    @Benchmark
    public int encodeRequestHead() {
        out.clear();
        writer.writeHeaders(out, 5, REQUEST, true);
        return out.position();
    }

    private static ByteBuffer encode(HpackEncoder encoder, Http2Headers headers) {
        ByteBuffer b = ByteBuffer.allocate(HpackEncoder.bound(headers));
        encoder.encode(headers, b);
        return b.flip();
    }

    private static void frame(ByteBuffer out, int type, int flags, int stream, ByteBuffer payload) {
        int n = payload.remaining();
        out.put((byte) (n >>> 16)).put((byte) (n >>> 8)).put((byte) n).put((byte) type).put((byte) flags)
                .putInt(stream).put(payload);
    }

    /** Consumes what the reader hands out, as a connection would, without keeping it. */
    private final class Sink implements Http2FrameReader.Handler {
        @Override
        public void onData(int streamId, ByteBuffer data, int flowControlled, boolean endOfFrame, boolean endStream) {
            sink.consume(data.remaining() + flowControlled);
        }

        @Override
        public void onHeaders(int streamId, Http2Headers headers, boolean endStream) {
            sink.consume(headers);
        }

        @Override
        public void onRstStream(int streamId, int errorCode) {
        }

        @Override
        public void onSettings(Http2Settings settings) {
        }

        @Override
        public void onSettingsAck() {
        }

        @Override
        public void onPing(long payload, boolean ack) {
        }

        @Override
        public void onGoAway(int lastStreamId, int errorCode, ByteBuffer debugData) {
        }

        @Override
        public void onWindowUpdate(int streamId, int increment) {
        }

        @Override
        public void onStreamError(Http2Exception error) {
            throw new IllegalStateException(error);
        }
    }
}
