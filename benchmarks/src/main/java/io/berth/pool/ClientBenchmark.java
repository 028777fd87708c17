package io.berth.pool;

import io.berth.Backend;
import io.berth.BackendPool;
import io.berth.BackendPoolConfig;
import io.berth.PurgeScheduler;
import io.berth.Server;
import io.berth.pool.http.BerthClient;
import io.berth.pool.http.BerthRequest;
import io.berth.pool.http.BerthResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Berth's own work for one request, without I/O: the whole path of the end-to-end benchmark's
 * caller ({@code BerthRequest.get} -> {@code BerthClient.send} -> acquire under the policy -> request
 * head encoded and written -> response head parsed, the body that came with it taken, the connection
 * released -> the body handed out by {@code bodyBytes()}),
 * over in-memory connections that answer every request with nginx's response to it (5 header fields,
 * a 100-byte body). What the end-to-end benchmark adds on top is TLS and the kernel.
 *
 * <p>{@code getThroughOwnApi}: the default settings (SAFE reuse, gzip requested, validateAfterIdle
 * 5 ms), warm caches. {@code getAfterSwitch} and {@code yieldOnly}: the same after a context switch
 * before every request (64 threads), and the switch alone. Run from the repository root:
 * <pre>{@code
 * mvn -B -q -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/benchmarks.jar ClientBenchmark.getThroughOwnApi -prof gc
 * java -jar benchmarks/target/benchmarks.jar 'ClientBenchmark.(getAfterSwitch|yieldOnly)' -f 3
 * }</pre>
 * Results and the machine they came from: {@code benchmarks/README.md}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ClientBenchmark {
    /** Threads of {@link #getAfterSwitch}: the end-to-end benchmark's highest concurrency. */
    static final int SWITCHING = 64;

    /** What nginx 1.22 sends for the end-to-end benchmark's GET (a 100-byte body). */
    static final byte[] RESPONSE = ("HTTP/1.1 200 OK\r\n"
            + "Server: nginx/1.22.1\r\n"
            + "Date: Wed, 25 Nov 2026 20:00:00 GMT\r\n"
            + "Content-Type: text/plain\r\n"
            + "Content-Length: 100\r\n"
            + "Connection: keep-alive\r\n"
            + "\r\n"
            + "x".repeat(100)).getBytes(StandardCharsets.ISO_8859_1);

    private BackendPool pool;
    private BerthClient client;

    @Setup
    public void setup() {
        Backend backend = Backend.of("https://api.backend.test");
        BackendPoolConfig config = BackendPoolConfig.builder().purgeScheduler(PurgeScheduler.disabled()).build();
        pool = Berth.newPool(backend, config, (server, timeout) -> new Answering(server));
        client = BerthClient.over(pool);
    }

    @TearDown
    public void tearDown() {
        pool.close();
    }

    @Benchmark
    public byte[] getThroughOwnApi() throws Exception {
        try (BerthResponse r = client.send(BerthRequest.get("/hot"))) {
            return r.bodyBytes();
        }
    }

    /**
     * The same request from {@link #SWITCHING} threads, each giving up its CPU before every request,
     * so that every request starts after a context switch, with the caches as other threads left
     * them: as end to end, where a caller waits for its response in a read and 64 callers share two
     * CPUs with nginx. Each thread keeps its own connection (the default {@code maxConnections} is 64).
     * Throughput over all threads: the CPU time of one request is the number of CPUs over the
     * throughput, less the same figure for {@link #yieldOnly}.
     */
    @Benchmark
    @Threads(SWITCHING)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public byte[] getAfterSwitch() throws Exception {
        Thread.yield();
        return getThroughOwnApi();
    }

    /** {@link #getAfterSwitch}'s loop without the request: the switch alone. */
    @Benchmark
    @Threads(SWITCHING)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void yieldOnly() {
        Thread.yield();
    }

    /** Answers each request, once it is written, with {@link #RESPONSE}. One exchange at a time. */
    static final class Answering extends StubConnection {
        private int offset = RESPONSE.length;

        Answering(Server server) {
            super(server);
        }

        @Override
        public int read(ByteBuffer dst, long timeoutNanos) {
            if (offset == RESPONSE.length) {
                throw new IllegalStateException("read with no response due: the benchmark would wait forever");
            }
            int n = Math.min(dst.remaining(), RESPONSE.length - offset);
            dst.put(RESPONSE, offset, n);
            offset += n;
            return n;
        }

        @Override
        public void write(ByteBuffer src, long timeoutNanos) {
            src.position(src.limit());
            offset = 0;
        }
    }
}
