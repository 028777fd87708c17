package io.berth.e2e;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.HdrHistogram.Histogram;

/**
 * A closed loop of C caller threads over one client: each caller sends its next GET as soon as the
 * previous response is read and checked. The threads live as long as the load, parked between
 * windows, so they are alive (and their allocation counters readable) when a window's figures are
 * taken. The callers are platform threads, or virtual threads ({@link Threads}); a virtual thread
 * allocates in its carrier's counter, which is read like any other thread's.
 *
 * <p>A window: the coordinating thread reads nginx's counters, the allocation counters of every
 * thread and the process CPU time, releases the callers, sleeps for the window, tells them to stop,
 * waits for each to finish the request it is in, and reads everything again. The window's length is
 * from the release to the last caller's stop; every request completed in it counts. The
 * coordinating thread's own allocation is left out: it only reads counters.
 */
final class Load implements AutoCloseable {
    /** Latencies above this (60 s) are recorded as this. */
    static final long MAX_LATENCY = TimeUnit.SECONDS.toNanos(60);
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /** What the callers run on. */
    enum Threads {
        /** Each caller a platform thread. */
        PLATFORM,
        /** Each caller a virtual thread (JDK 21 and later). */
        VIRTUAL,
        /**
         * Each caller a virtual thread that sends every request from a new virtual thread and waits
         * for it: nothing can be kept per thread.
         */
        VIRTUAL_PER_REQUEST;

        /** @return the mode named {@code platform}, {@code virtual} or {@code virtual-per-request} */
        static Threads named(String name) {
            return valueOf(name.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
        }

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    private final Peer peer;
    private final Target target;
    private final Threads threads;
    private final Caller[] callers;
    private final Client shared;
    private final CyclicBarrier start;
    private final CyclicBarrier end;
    private volatile boolean stop;
    private volatile boolean shutdown;
    private boolean broken;

    /** The figures of one window. */
    record Window(long requests, long errors, Exception firstError, long nanos, long allocatedBytes, long cpuNanos,
            long userNanos, long newConnections, long nginxRequests, long nginxCpuNanos, long nginxRunNanos,
            long nginxWaitNanos, List<String> threadsEnded, Histogram latency) {

        double requestsPerSecond() {
            return requests * 1e9 / nanos;
        }

        double bytesPerRequest() {
            return requests == 0 ? Double.NaN : (double) allocatedBytes / requests;
        }

        double cpuMicrosPerRequest() {
            return requests == 0 ? Double.NaN : cpuNanos / 1e3 / requests;
        }

        /** @return the user-mode part of {@link #cpuMicrosPerRequest()} (NaN where /proc is missing) */
        double userMicrosPerRequest() {
            return requests == 0 || userNanos < 0 ? Double.NaN : userNanos / 1e3 / requests;
        }

        /**
         * @return nginx's worker CPU time per request it served in the window (NaN where unknown):
         *     what the client costs the server; from its scheduler's run time (nanoseconds) where the
         *     kernel keeps one, else from its CPU time in 10 ms ticks
         */
        double nginxMicrosPerRequest() {
            long nanos = nginxRunNanos >= 0 ? nginxRunNanos : nginxCpuNanos;
            return nginxRequests <= 0 || nanos < 0 ? Double.NaN : nanos / 1e3 / nginxRequests;
        }

        /**
         * @return how long nginx's worker waited, runnable, for a CPU per request it served (NaN where
         *     unknown): the CPU the machine's other threads, the client's among them, took from it
         */
        double nginxWaitMicrosPerRequest() {
            return nginxRequests <= 0 || nginxWaitNanos < 0 ? Double.NaN : nginxWaitNanos / 1e3 / nginxRequests;
        }

        /**
         * @return the share of the window, in per cent, nginx's worker was runnable (on a CPU or waiting
         *     for one; NaN where unknown): near 100, it never waited for a request, so it was the
         *     bottleneck
         */
        double nginxRunnablePercent() {
            return nginxRunNanos < 0 || nginxWaitNanos < 0 ? Double.NaN : (nginxRunNanos + nginxWaitNanos) * 100.0 / nanos;
        }

        /** @return the latency at a percentile in microseconds */
        double micros(double percentile) {
            return latency.getValueAtPercentile(percentile) / 1e3;
        }
    }

    Load(Peer peer, Target target, int concurrency, Threads threads) throws Exception {
        this.peer = peer;
        this.target = target;
        this.threads = threads;
        this.callers = new Caller[concurrency];
        this.start = new CyclicBarrier(concurrency + 1);
        this.end = new CyclicBarrier(concurrency + 1);
        Client one = null;
        try {
            one = peer.clientPerCaller() ? null : peer.pooled(target, concurrency);
            for (int i = 0; i < concurrency; i++) {
                callers[i] = new Caller(one != null ? one : peer.pooled(target, concurrency));
            }
        } catch (Exception e) {
            closeClients(one);
            throw e;
        }
        this.shared = one;
        for (int i = 0; i < concurrency; i++) {
            if (threads == Threads.PLATFORM) {
                Thread t = new Thread(callers[i]::loop, "e2e-" + peer.name() + "-" + concurrency + "-" + i);
                t.setDaemon(true);
                t.start();
            } else {
                startVirtual(callers[i]::loop);
            }
        }
    }

    Peer peer() {
        return peer;
    }

    /** @return the {@code X-TLS} header of one cold-path request: what TLS the client negotiated */
    String probeTls() throws Exception {
        return callers[0].client.getTls();
    }

    /**
     * Runs the loop for a while without taking figures other than errors and nginx's counts.
     *
     * @return the errors in that time, and the first one; the connections nginx accepted and the
     *     requests it served
     */
    Window warmUp(long nanos) throws Exception {
        NginxStatus n0 = NginxStatus.read(target);
        long t0 = System.nanoTime();
        cycle(nanos);
        long t1 = System.nanoTime();
        NginxStatus n1 = NginxStatus.read(target);
        return collect(t1 - t0, 0, 0, -1, n1.connectionsSince(n0), n1.requestsSince(n0), -1, -1, -1, List.of(), false);
    }

    /** Runs one measured window. */
    Window measure(long nanos) throws Exception {
        NginxStatus n0 = NginxStatus.read(target);
        long self = Thread.currentThread().getId();
        Map<Long, Long> alloc0 = allocation();
        Map<Long, String> names0 = names(alloc0);
        long started0 = THREADS.getTotalStartedThreadCount();
        long cpu0 = OS.getProcessCpuTime();
        long user0 = processUserNanos();
        long t0 = System.nanoTime();
        cycle(nanos);
        long t1 = System.nanoTime();
        long cpu1 = OS.getProcessCpuTime();
        long user1 = processUserNanos();
        long started1 = THREADS.getTotalStartedThreadCount();
        Map<Long, Long> alloc1 = allocation();
        NginxStatus n1 = NginxStatus.read(target);

        long bytes = 0;
        List<String> ended = new ArrayList<>();
        int newAlive = 0;
        for (Map.Entry<Long, Long> e : alloc1.entrySet()) {
            if (e.getKey() == self) {
                continue;
            }
            Long before = alloc0.get(e.getKey());
            if (before == null) {
                newAlive++;
                bytes += e.getValue();
            } else {
                bytes += e.getValue() - before;
            }
        }
        for (Long id : alloc0.keySet()) {
            if (!alloc1.containsKey(id)) {
                // Its allocation in the window is lost. Pool threads differ by a trailing number only.
                ended.add(names0.getOrDefault(id, "#" + id).replaceAll("\\d+$", "*"));
            }
        }
        for (long i = (started1 - started0) - newAlive; i > 0; i--) {
            ended.add("short-lived"); // started and ended within the window: no name known
        }
        return collect(t1 - t0, bytes, cpu1 - cpu0, user0 < 0 || user1 < 0 ? -1 : user1 - user0,
                n1.connectionsSince(n0), n1.requestsSince(n0), n1.workerCpuSince(n0), n1.workerRunSince(n0),
                n1.workerWaitSince(n0), ended, true);
    }

    /**
     * The process's CPU time in user mode, from {@code /proc/self/stat} (Linux; in clock ticks of
     * 10 ms, so a 2 s window of a busy client has a resolution of a few per cent): with the process
     * CPU time it splits a client's cost into its own code and the kernel's (syscalls, TCP).
     *
     * @return nanoseconds, or -1 where it cannot be read
     */
    private static long processUserNanos() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[11]) * 10_000_000L; // utime, field 14; USER_HZ is 100 on Linux
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** @return the names of these threads, those still alive */
    private static Map<Long, String> names(Map<Long, Long> threads) {
        Map<Long, String> names = new HashMap<>();
        for (ThreadInfo info : THREADS.getThreadInfo(threads.keySet().stream().mapToLong(Long::longValue).toArray())) {
            if (info != null) {
                names.put(info.getThreadId(), info.getThreadName());
            }
        }
        return names;
    }

    /** Every live thread's allocated bytes, by id; threads that ended between the calls are absent. */
    private static Map<Long, Long> allocation() {
        long[] ids = THREADS.getAllThreadIds();
        long[] bytes = THREADS.getThreadAllocatedBytes(ids);
        Map<Long, Long> m = new HashMap<>(ids.length * 2);
        for (int i = 0; i < ids.length; i++) {
            if (bytes[i] >= 0) {
                m.put(ids[i], bytes[i]);
            }
        }
        return m;
    }

    private void cycle(long nanos) throws Exception {
        if (broken) {
            throw new IllegalStateException(peer.name() + ": an earlier window did not end");
        }
        try {
            start.await(60, TimeUnit.SECONDS);
            TimeUnit.NANOSECONDS.sleep(nanos);
            stop = true;
            end.await(nanos / 1_000_000 + 60_000, TimeUnit.MILLISECONDS);
            stop = false;
        } catch (TimeoutException | BrokenBarrierException e) {
            broken = true;
            throw new IllegalStateException(peer.name() + ": a caller did not finish its request within 60 s", e);
        }
    }

    private Window collect(long nanos, long bytes, long cpu, long user, long conns, long nginxRequests,
            long nginxCpu, long nginxRun, long nginxWait, List<String> ended, boolean latency) {
        long ok = 0;
        long errors = 0;
        Exception first = null;
        Histogram merged = latency ? new Histogram(MAX_LATENCY, 2) : null;
        for (Caller c : callers) {
            ok += c.ok;
            errors += c.errors;
            if (first == null) {
                first = c.firstError;
            }
            c.firstError = null;
            if (merged != null) {
                merged.add(c.histogram);
            }
        }
        return new Window(ok, errors, first, nanos, bytes, cpu, user, conns, nginxRequests, nginxCpu, nginxRun, nginxWait,
                ended, merged);
    }

    @Override
    public void close() {
        shutdown = true;
        if (!broken) {
            try {
                start.await(10, TimeUnit.SECONDS); // the callers see shutdown and end
            } catch (Exception e) {
                // they are daemon threads; the clients are closed below anyway
            }
        }
        closeClients(shared);
    }

    private void closeClients(Client one) {
        for (Caller c : callers) {
            if (c != null && c.client != one) {
                closeQuietly(c.client);
            }
        }
        if (one != null) {
            closeQuietly(one);
        }
    }

    /** {@code Thread.startVirtualThread(r)}, through reflection: the harness compiles for release 17. */
    static Thread startVirtual(Runnable r) {
        try {
            return (Thread) Thread.class.getMethod("startVirtualThread", Runnable.class).invoke(null, r);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("virtual threads need JDK 21 or later; this is " + Runtime.version(), e);
        }
    }

    private void closeQuietly(Client c) {
        try {
            c.close();
        } catch (Exception e) {
            System.err.println(peer.name() + ": closing the client failed: " + e);
        }
    }

    /** One caller thread's client and figures. Its fields are read by the coordinator after a barrier. */
    private final class Caller {
        final Client client;
        final Histogram histogram = new Histogram(MAX_LATENCY, 2);
        long ok;
        long errors;
        Exception firstError;
        /** {@link Threads#VIRTUAL_PER_REQUEST}: one request, run on a new virtual thread each time. */
        private final Runnable request = this::requestOnce;
        private Exception requestFailure;

        Caller(Client client) {
            this.client = client;
        }

        private void requestOnce() {
            try {
                client.get();
            } catch (Exception e) {
                requestFailure = e;
            }
        }

        private void get() throws Exception {
            if (threads != Threads.VIRTUAL_PER_REQUEST) {
                client.get();
                return;
            }
            requestFailure = null;
            startVirtual(request).join(); // join: the request's writes happen-before what follows
            if (requestFailure != null) {
                throw requestFailure;
            }
        }

        void loop() {
            try {
                for (;;) {
                    start.await();
                    if (shutdown) {
                        return;
                    }
                    histogram.reset();
                    long n = 0;
                    long failed = 0;
                    while (!stop) {
                        long t0 = System.nanoTime();
                        try {
                            get();
                            histogram.recordValue(Math.min(System.nanoTime() - t0, MAX_LATENCY));
                            n++;
                        } catch (Exception e) {
                            failed++;
                            if (firstError == null) {
                                firstError = e;
                            }
                            Thread.sleep(10); // a failing client must not spin
                        }
                    }
                    ok = n;
                    errors = failed;
                    end.await();
                }
            } catch (InterruptedException | BrokenBarrierException e) {
                // the load is closing
            }
        }
    }
}
