package io.berth.transport;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Arming and disarming one deadline, as every blocking read or write of an exchange does: Berth's
 * {@link Watchdog} (a volatile deadline per connection that the watchdog thread scans) against a
 * sorted list under a lock, the structure of OkHttp's {@code AsyncTimeout} (okio: a singly linked
 * list ordered by deadline, walked to insert and to remove, a {@code ReentrantLock} and a
 * {@code Condition} signalled when the head changes, one watchdog thread awaiting it).
 *
 * <p>{@code others}: how many other connections have a deadline armed meanwhile, each armed earlier
 * with the same timeout, so that a new deadline is the latest (as with one {@code responseTimeout}
 * for a whole pool: the list's worst case, a walk to its end). The watchdog thread of either is
 * running and sleeps towards the earliest deadline, 30 s away.
 *
 * <p>Run:
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar WatchdogBenchmark -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class WatchdogBenchmark {
    private static final long TIMEOUT = TimeUnit.SECONDS.toNanos(30);

    @Param({"0", "64", "1024"})
    int others;

    private Watchdog watchdog;
    private Watched[] armed;
    private SortedTimeouts sorted;
    private SortedTimeouts.Node[] sortedArmed;

    /** One connection's deadlines, per benchmark thread. */
    @State(Scope.Thread)
    public static class Mine {
        Watched watched;
        SortedTimeouts.Node node;

        @Setup(Level.Trial)
        public void setUp(WatchdogBenchmark b) {
            watched = new Watched(b.watchdog);
            watched.watch();
            node = new SortedTimeouts.Node();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            watched.unwatch();
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        watchdog = new Watchdog("berth-bench-watchdog");
        sorted = new SortedTimeouts();
        armed = new Watched[others];
        sortedArmed = new SortedTimeouts.Node[others];
        for (int i = 0; i < others; i++) {
            armed[i] = new Watched(watchdog);
            armed[i].watch();
            armed[i].arm(Watchdog.READ, TIMEOUT);
            sortedArmed[i] = new SortedTimeouts.Node();
            sorted.enter(sortedArmed[i], TIMEOUT);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (int i = 0; i < others; i++) {
            armed[i].unwatch();
            sorted.exit(sortedArmed[i]);
        }
        sorted.close();
    }

    @Benchmark
    @Threads(1)
    public boolean berthWatchdog(Mine m) {
        long d = m.watched.arm(Watchdog.READ, TIMEOUT);
        return m.watched.disarm(Watchdog.READ, d);
    }

    @Benchmark
    @Threads(2)
    public boolean berthWatchdog2(Mine m) {
        return berthWatchdog(m);
    }

    @Benchmark
    @Threads(1)
    public boolean sortedList(Mine m) {
        sorted.enter(m.node, TIMEOUT);
        return sorted.exit(m.node);
    }

    @Benchmark
    @Threads(2)
    public boolean sortedList2(Mine m) {
        return sortedList(m);
    }

    /** A watched object whose expiry does nothing: the benchmark never lets a deadline pass. */
    static final class Watched extends Watchdog.Watched {
        Watched(Watchdog watchdog) {
            super(watchdog);
        }

        @Override
        void expire(int side) {
        }
    }

    /**
     * The shape of okio's {@code AsyncTimeout} queue, written for this comparison: nodes in a list
     * ordered by deadline behind a head sentinel, under one lock; a watchdog thread awaits the head's
     * deadline on a condition, signalled when a node becomes the head.
     */
    static final class SortedTimeouts {
        static final class Node {
            Node next;
            long deadline;
            boolean inQueue;
        }

        private final ReentrantLock lock = new ReentrantLock();
        private final Condition headChanged = lock.newCondition();
        private final Node head = new Node();
        private final Thread watchdog;
        private volatile boolean closed;

        SortedTimeouts() {
            watchdog = new Thread(this::watch, "bench-sorted-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
        }

        void enter(Node node, long timeoutNanos) {
            long now = System.nanoTime();
            lock.lock();
            try {
                node.deadline = now + timeoutNanos;
                node.inQueue = true;
                Node prev = head;
                while (prev.next != null && prev.next.deadline - node.deadline <= 0) {
                    prev = prev.next;
                }
                node.next = prev.next;
                prev.next = node;
                if (prev == head) {
                    headChanged.signal();
                }
            } finally {
                lock.unlock();
            }
        }

        /** @return whether it was still queued (did not time out) */
        boolean exit(Node node) {
            lock.lock();
            try {
                if (!node.inQueue) {
                    return false;
                }
                node.inQueue = false;
                for (Node prev = head; prev.next != null; prev = prev.next) {
                    if (prev.next == node) {
                        prev.next = node.next;
                        node.next = null;
                        return true;
                    }
                }
                return false;
            } finally {
                lock.unlock();
            }
        }

        private void watch() {
            lock.lock();
            try {
                while (!closed) {
                    Node first = head.next;
                    long wait = first == null ? TimeUnit.SECONDS.toNanos(60) : first.deadline - System.nanoTime();
                    if (wait > 0) {
                        headChanged.awaitNanos(wait);
                    } else {
                        head.next = first.next;
                        first.inQueue = false; // timed out; the real one would now abort its socket
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                lock.unlock();
            }
        }

        void close() {
            closed = true;
            watchdog.interrupt();
        }
    }
}
