package io.berth.transport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The price of a zero-wait look at an idle socket with the channel in blocking mode: what
 * {@code Connection.liveness()} pays before a reuse after {@code validateAfterIdle}. Both on an idle
 * loopback TCP connection with nothing to read:
 *
 * <ul>
 *   <li>{@code nonBlockingRead}: one {@code read} of a channel that stays non-blocking (what the
 *       selector design did): {@code EAGAIN}.</li>
 *   <li>{@code switchedRead}: {@code configureBlocking(false)}, that {@code read}, and
 *       {@code configureBlocking(true)}: two {@code fcntl}s per switch ({@code F_GETFL},
 *       {@code F_SETFL}), what the blocking design does.</li>
 * </ul>
 *
 * <p>Run:
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar LivenessBenchmark -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LivenessBenchmark {
    private ServerSocketChannel listener;
    private SocketChannel nonBlocking;
    private SocketChannel blocking;
    private SocketChannel[] servers;
    private final ByteBuffer probe = ByteBuffer.allocate(1);

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        nonBlocking = SocketChannel.open(listener.getLocalAddress());
        nonBlocking.configureBlocking(false);
        blocking = SocketChannel.open(listener.getLocalAddress());
        servers = new SocketChannel[] {listener.accept(), listener.accept()};
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        nonBlocking.close();
        blocking.close();
        for (SocketChannel s : servers) {
            s.close();
        }
        listener.close();
    }

    @Benchmark
    public int nonBlockingRead() throws IOException {
        return nonBlocking.read(probe.clear());
    }

    @Benchmark
    public int switchedRead() throws IOException {
        blocking.configureBlocking(false);
        try {
            return blocking.read(probe.clear());
        } finally {
            blocking.configureBlocking(true);
        }
    }
}
