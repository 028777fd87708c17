package io.berth.pool;

import io.berth.ReusePolicy;
import io.berth.Server;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import org.jctools.queues.MpmcArrayQueue;
import org.jctools.queues.atomic.MpmcAtomicArrayQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The idle set alone: one take and one put back per operation, with 8 idle connections shared by
 * all benchmark threads, against the structures a pool could use instead.
 *
 * <ul>
 *   <li>{@code berth}: {@link SlotTable}, most recently used first (LIFO by stamp), lock-free, no allocation;</li>
 *   <li>{@code mpmc} / {@code mpmcAtomic}: JCTools {@code MpmcArrayQueue} / {@code MpmcAtomicArrayQueue}, FIFO, lock-free;</li>
 *   <li>{@code clDeque}: {@code ConcurrentLinkedDeque} used as a stack (LIFO), lock-free, allocates a node per push;</li>
 *   <li>{@code lbDeque}: {@code LinkedBlockingDeque} as a stack (LIFO), one lock;</li>
 *   <li>{@code abq}: {@code ArrayBlockingQueue}, FIFO, one lock.</li>
 * </ul>
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar IdleSetBenchmark -t 1 -prof gc} and again
 * with {@code -t 2}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class IdleSetBenchmark {
    private static final int SIZE = 8;

    @Param({"berth", "mpmc", "mpmcAtomic", "clDeque", "lbDeque", "abq"})
    public String impl;

    private Idle idle;

    interface Idle {
        Object take();

        void put(Object o);
    }

    @Setup
    public void setup() {
        Server server = Server.of("backend.test", 443);
        Object[] entries = new Object[SIZE];
        switch (impl) {
            case "berth": {
                SlotTable set = new SlotTable(SlotTable.SEGMENT_SIZE);
                for (int i = 0; i < SIZE; i++) {
                    PooledConnection c = new PooledConnection(null, null, i + 1, new StubConnection(server), 0,
                            Long.MAX_VALUE);
                    c.index = set.register(c, false);
                    entries[i] = c;
                }
                idle = new Idle() {
                    private long stamp;

                    @Override
                    public Object take() {
                        return set.pollMostRecent(true, ReusePolicy.SAFE);
                    }

                    @Override
                    public void put(Object o) {
                        set.add(((PooledConnection) o).index, ++stamp);
                    }
                };
                break;
            }
            case "mpmc":
                idle = queue(new MpmcArrayQueue<>(SIZE * 2));
                break;
            case "mpmcAtomic":
                idle = queue(new MpmcAtomicArrayQueue<>(SIZE * 2));
                break;
            case "clDeque":
                idle = stack(new ConcurrentLinkedDeque<>());
                break;
            case "lbDeque":
                idle = stack(new LinkedBlockingDeque<>());
                break;
            case "abq":
                idle = queue(new ArrayBlockingQueue<>(SIZE * 2));
                break;
            default:
                throw new IllegalArgumentException(impl);
        }
        if (!impl.equals("berth")) {
            for (int i = 0; i < SIZE; i++) {
                idle.put(new Object());
            }
        } else {
            for (Object e : entries) {
                idle.put(e);
            }
        }
    }

    /** A FIFO queue as an idle set: take the head, put back at the tail. */
    private static Idle queue(java.util.Queue<Object> q) {
        return new Idle() {
            @Override
            public Object take() {
                return q.poll();
            }

            @Override
            public void put(Object o) {
                q.offer(o);
            }
        };
    }

    /** A deque used as a stack (LIFO): take and put back at the head. */
    private static Idle stack(java.util.Deque<Object> d) {
        return new Idle() {
            @Override
            public Object take() {
                return d.pollFirst();
            }

            @Override
            public void put(Object o) {
                d.offerFirst(o);
            }
        };
    }

    @Benchmark
    public Object takeAndPut() {
        Object o = idle.take();
        idle.put(o);
        return o;
    }
}
