package io.berth.pool;

import com.zaxxer.hikari.util.ConcurrentBag;
import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.PurgeScheduler;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.apache.commons.pool2.BasePooledObjectFactory;
import org.apache.commons.pool2.PooledObject;
import org.apache.commons.pool2.impl.DefaultPooledObject;
import org.apache.commons.pool2.impl.GenericObjectPool;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The whole pool: one acquire and one release of an idle connection per operation, 8 connections
 * shared by the benchmark threads, no I/O (stub connections), against Apache commons-pool2's
 * {@code GenericObjectPool} and HikariCP's {@code ConcurrentBag}.
 *
 * <p>Berth's acquire does more than the others: it reads the clock twice, asks the connection for
 * liveness (a stub answer here; a non-blocking read on a real socket), applies the reuse policy and
 * the expiry rules, and keeps statistics. commons-pool2 is configured without validation and JMX;
 * the bag is HikariCP's raw structure without its pool around it.
 *
 * <p>Berth's pool is what {@code Berth.newPool} returns, over 1 or 3 servers ({@code servers}) of 8
 * connections each; with one server a caller first tries the connection it used last.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar PoolBenchmark -t 1 -prof gc -p impl=berth}
 * and again with {@code -t 2}; the others with {@code -p servers=1}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PoolBenchmark {
    private static final int SIZE = 8;

    @Param({"berth", "commonsPool2", "hikariBag"})
    public String impl;

    /** Servers of Berth's backend (the others have no notion of them: they run once, at 1). */
    @Param({"1", "3"})
    public int servers;

    private io.berth.BackendPool berth;
    private GenericObjectPool<Object> commons;
    private ConcurrentBag<BagEntry> bag;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        if (servers != 1 && !impl.equals("berth")) {
            throw new IllegalArgumentException("only Berth has servers: run the others with -p servers=1");
        }
        switch (impl) {
            case "berth": {
                BackendPoolConfig config = BackendPoolConfig.builder().name("bench").maxConnections(SIZE)
                        .purgeScheduler(PurgeScheduler.disabled()).build();
                Backend.Builder backend = Backend.builder();
                for (int i = 0; i < servers; i++) {
                    backend.server("backend" + i + ".test", 443);
                }
                // What Berth.newPool returns (over stub connections instead of TLS).
                berth = Berth.newPool(backend.build(), config, (server, timeout) -> new StubConnection(server));
                Lease[] leases = new Lease[SIZE * servers];
                for (int i = 0; i < leases.length; i++) {
                    leases[i] = berth.acquire(true);
                }
                for (Lease l : leases) {
                    berth.release(l, Outcome.REUSABLE);
                }
                break;
            }
            case "commonsPool2": {
                GenericObjectPoolConfig<Object> c = new GenericObjectPoolConfig<>();
                c.setMaxTotal(SIZE);
                c.setMaxIdle(SIZE);
                c.setJmxEnabled(false);
                c.setTestOnBorrow(false);
                c.setTestOnReturn(false);
                commons = new GenericObjectPool<>(new BasePooledObjectFactory<Object>() {
                    @Override
                    public Object create() {
                        return new Object();
                    }

                    @Override
                    public PooledObject<Object> wrap(Object o) {
                        return new DefaultPooledObject<>(o);
                    }
                }, c);
                commons.addObjects(SIZE);
                break;
            }
            case "hikariBag": {
                bag = new ConcurrentBag<>(waiting -> { });
                for (int i = 0; i < SIZE; i++) {
                    bag.add(new BagEntry());
                }
                break;
            }
            default:
                throw new IllegalArgumentException(impl);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        if (berth != null) {
            berth.close();
        }
        if (commons != null) {
            commons.close();
        }
        if (bag != null) {
            bag.close();
        }
    }

    @Benchmark
    public Object acquireRelease() throws Exception {
        switch (impl) {
            case "berth": {
                Lease l = berth.acquire(true);
                berth.release(l, Outcome.REUSABLE);
                return l;
            }
            case "commonsPool2": {
                Object o = commons.borrowObject();
                commons.returnObject(o);
                return o;
            }
            default: {
                BagEntry e = bag.borrow(1, TimeUnit.SECONDS);
                bag.requite(e);
                return e;
            }
        }
    }

    /** The state a ConcurrentBag entry must carry. */
    static final class BagEntry implements ConcurrentBag.IConcurrentBagEntry {
        private static final AtomicIntegerFieldUpdater<BagEntry> STATE =
                AtomicIntegerFieldUpdater.newUpdater(BagEntry.class, "state");
        volatile int state;

        @Override
        public boolean compareAndSet(int expect, int update) {
            return STATE.compareAndSet(this, expect, update);
        }

        @Override
        public void setState(int update) {
            state = update;
        }

        @Override
        public int getState() {
            return state;
        }
    }
}
