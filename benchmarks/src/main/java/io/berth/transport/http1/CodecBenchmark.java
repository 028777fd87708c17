package io.berth.transport.http1;

import io.berth.HttpProtocolException;
import io.berth.Outcome;
import io.berth.Server;
import io.berth.spi.Connection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Throughput and allocation of the HTTP/1.1 codec on one thread, with the per-connection state
 * (parser, chunked decoder, encoder, buffers) reused as a pooled connection reuses it.
 *
 * <ul>
 *   <li>{@code parseFixed}: a typical small response, 9 header fields and a 100-byte
 *       {@code Content-Length} body: head parse, framing and keep-alive decisions, body copy.</li>
 *   <li>{@code parseChunked}: the same with a chunked 100-byte body (two chunks, one extension) and a
 *       trailer field.</li>
 *   <li>{@code encodeRequest}: a GET head with 5 header fields.</li>
 *   <li>{@code exchangeFixed}: a whole exchange through {@link Http1Codec} over an in-memory
 *       connection: request written, head read, body streamed, listener called.</li>
 * </ul>
 * Each op handles one message, so MB/s = message bytes / (ns/op) × 1000; the message sizes are printed
 * at setup. Run from the repository root:
 * <pre>{@code
 * mvn -B -q -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/benchmarks.jar http1.CodecBenchmark -prof gc
 * }</pre>
 * {@code -prof gc} adds {@code gc.alloc.rate.norm}, the bytes allocated per op. Results and the machine
 * they came from: {@code benchmarks/results/codec.md}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CodecBenchmark {
    static final String HEAD_FIELDS = "Date: Tue, 25 Nov 2026 16:34:00 GMT\r\n"
            + "Server: nginx\r\n"
            + "Content-Type: application/json\r\n"
            + "Connection: keep-alive\r\n"
            + "Keep-Alive: timeout=5, max=100\r\n"
            + "Cache-Control: no-cache\r\n"
            + "Vary: Accept-Encoding\r\n"
            + "X-Request-Id: 5f1c2a9e-3b7d-4c1a-9e2f-0a1b2c3d4e5f\r\n";
    static final String BODY = "{\"id\":12345,\"name\":\"berth\",\"tags\":[\"pool\",\"tls\",\"http\"],"
            + "\"ok\":true,\"score\":0.97,\"pad\":\"xxxxxxxxxxxx\"}";

    private final byte[] fixed = ascii("HTTP/1.1 200 OK\r\n" + HEAD_FIELDS + "Content-Length: " + BODY.length()
            + "\r\n\r\n" + BODY);
    private final byte[] chunked = ascii("HTTP/1.1 200 OK\r\n" + HEAD_FIELDS + "Transfer-Encoding: chunked\r\n\r\n"
            + "28\r\n" + BODY.substring(0, 40) + "\r\n"
            + Integer.toHexString(BODY.length() - 40) + ";ext=1\r\n" + BODY.substring(40) + "\r\n"
            + "0\r\nX-Checksum: 9f86d081\r\n\r\n");
    private final ByteBuffer fixedIn = ByteBuffer.wrap(fixed);
    private final ByteBuffer chunkedIn = ByteBuffer.wrap(chunked);
    private final byte[] dst = new byte[4096];
    private final ResponseParser parser = new ResponseParser(ResponseParser.DEFAULT_MAX_HEAD_SIZE);
    private final ChunkedDecoder decoder = new ChunkedDecoder(ResponseParser.DEFAULT_MAX_HEAD_SIZE);
    private final RequestHeadEncoder encoder = new RequestHeadEncoder();
    private final HeaderFields requestHeaders = HeaderFields.of("Host", "api.backend.test", "Accept",
            "application/json", "User-Agent", "berth/0.1", "Accept-Encoding", "gzip", "X-Request-Id",
            "5f1c2a9e-3b7d-4c1a-9e2f-0a1b2c3d4e5f");

    private ReplayConnection replay;
    private Http1Codec connection;
    private final Outcome[] last = new Outcome[1];
    private final ExchangeListener listener = o -> last[0] = o;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        if (BODY.length() != 100) {
            throw new IllegalStateException("body is " + BODY.length() + " bytes");
        }
        replay = new ReplayConnection(fixed);
        connection = Http1Codec.of(replay);
        System.out.println("\nmessage bytes: fixed " + fixed.length + ", chunked " + chunked.length
                + ", request head " + encoder.encode("GET", "/v1/items/12345?fields=all", requestHeaders).remaining());
        // Check once that every benchmark does what it says.
        if (!parseFixed().reusable() || !parseChunked().reusable()) {
            throw new IllegalStateException("unexpected outcome");
        }
    }

    @Benchmark
    public Outcome parseFixed() throws HttpProtocolException {
        ByteBuffer in = fixedIn.clear();
        parser.reset();
        ResponseHead head = parser.parse(in);
        BodyFraming framing = BodyFraming.of(head, false);
        int n = (int) framing.length();
        in.get(dst, 0, n);
        return KeepAlive.decide(head, framing);
    }

    @Benchmark
    public Outcome parseChunked() throws HttpProtocolException {
        ByteBuffer in = chunkedIn.clear();
        parser.reset();
        decoder.reset();
        ResponseHead head = parser.parse(in);
        BodyFraming framing = BodyFraming.of(head, false);
        int off = 0;
        while (!decoder.isDone()) {
            off += decoder.read(in, dst, off, dst.length - off);
        }
        if (decoder.trailers().size() != 1 || off != 100) {
            throw new IllegalStateException();
        }
        return KeepAlive.decide(head, framing);
    }

    @Benchmark
    public ByteBuffer encodeRequest() {
        return encoder.encode("GET", "/v1/items/12345?fields=all", requestHeaders);
    }

    @Benchmark
    public Outcome exchangeFixed(Blackhole bh) throws IOException {
        replay.rewind();
        connection.writeRequest("GET", "/v1/items/12345?fields=all", requestHeaders, null, 1_000_000_000L);
        ResponseHead head = connection.readResponseHead(1_000_000_000L, false);
        ResponseBody body = connection.body(head, false, 1_000_000_000L, listener);
        int n;
        while ((n = body.read(dst, 0, dst.length)) >= 0) {
            bh.consume(n);
        }
        body.close();
        return last[0];
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** An in-memory connection that answers every request with the same response bytes. */
    static final class ReplayConnection implements Connection {
        private final byte[] response;
        private int offset;

        ReplayConnection(byte[] response) {
            this.response = response;
        }

        void rewind() {
            offset = 0;
        }

        @Override
        public Server server() {
            return Server.of("api.backend.test", 443);
        }

        @Override
        public int read(ByteBuffer dst, long timeoutNanos) {
            if (offset == response.length) {
                return -1;
            }
            int n = Math.min(dst.remaining(), response.length - offset);
            dst.put(response, offset, n);
            offset += n;
            return n;
        }

        @Override
        public void write(ByteBuffer src, long timeoutNanos) {
            src.position(src.limit());
        }

        @Override
        public Liveness liveness() {
            return Liveness.ALIVE;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public boolean close() {
            return true;
        }

        @Override
        public void abort() {
        }

        @Override
        public String describe() {
            return "replay";
        }
    }
}
