package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.TlsConfig;
import io.berth.pool.http.BerthClient;
import io.berth.pool.http.BerthRequest;
import io.berth.pool.http.BerthResponse;
import io.berth.transport.testing.HttpTestServer.Reply;
import io.berth.transport.testing.HttpTestServer;
import io.berth.transport.testing.TestPki;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import jdk.jfr.Event;
import jdk.jfr.Name;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;

/**
 * Issue 12 §2: many virtual threads send requests through one pool to a real TLS server, and none of
 * them pins its carrier while it waits (for a connection, or for its response). Compiled for release
 * 17: virtual threads are started through reflection, and callers skip it where the JDK has none.
 *
 * <p>What it checks, after a warm-up round: every request succeeds; a JFR {@link RecordingStream}
 * with {@code jdk.VirtualThreadPinned} at threshold 0 sees no event, after it saw the one of a
 * must-fail canary (a virtual thread that parks inside a class initializer, which pins on every
 * JDK); no more carrier threads than the scheduler's parallelism, and no platform thread started
 * while the load ran (a pinned carrier would be compensated by another). Run in a JVM with one
 * carrier ({@code -Djdk.virtualThreadScheduler.parallelism=1 -Djdk.virtualThreadScheduler.maxPoolSize=1})
 * anything that held the carrier while waiting would hang it, which the test's bound turns into a
 * failure.
 */
final class VirtualThreadLoad {
    private static final String PINNED = "jdk.VirtualThreadPinned";
    private static final String BODY = "v".repeat(100);

    private VirtualThreadLoad() {
    }

    /** @return whether this JDK has (final) virtual threads */
    static boolean available() {
        return Runtime.version().feature() >= 21;
    }

    /** A JFR event committed after the load: once the stream saw it, it saw everything before it. */
    @Name("io.berth.test.LoadDone")
    static final class LoadDone extends Event {
    }

    /** Parks in its initializer: a virtual thread that initializes it pins. */
    static final class PinsWhileInitializing {
        static {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        static void touch() {
        }
    }

    /**
     * Runs the load against {@code server} (which answers with {@link #reply}) and asserts.
     */
    static void run(HttpTestServer server, int callers, int requestsEach, int maxConnections) throws Exception {
        Backend backend = Backend.builder().server("127.0.0.1", server.port())
                .tls(TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate())).build()).build();
        try (BerthClient client = BerthClient.create(backend, BackendPoolConfig.builder().name("virtual")
                .maxConnections(maxConnections).acquireTimeout(Duration.ofSeconds(60)).build())) {
            assertThat(load(client, callers, 1)).as("warm-up").isEqualTo(callers);

            List<RecordedEvent> pinned = new CopyOnWriteArrayList<>();
            CountDownLatch done = new CountDownLatch(1);
            try (RecordingStream rs = new RecordingStream()) {
                rs.enable(PINNED).withThreshold(Duration.ZERO).withStackTrace();
                rs.enable(LoadDone.class);
                rs.onEvent(PINNED, pinned::add);
                rs.onEvent("io.berth.test.LoadDone", e -> done.countDown());
                rs.startAsync();

                startVirtual(PinsWhileInitializing::touch).join(10_000);
                long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (pinned.isEmpty() && System.nanoTime() < waitUntil) {
                    Thread.sleep(20);
                }
                assertThat(pinned).as("the canary's pinned event: the stream sees pinning").isNotEmpty();
                pinned.clear();

                int parallelism = Integer.getInteger("jdk.virtualThreadScheduler.parallelism",
                        Runtime.getRuntime().availableProcessors());
                int platformBefore = ManagementFactory.getThreadMXBean().getThreadCount();
                long startedBefore = ManagementFactory.getThreadMXBean().getTotalStartedThreadCount();
                AtomicInteger maxCarriers = new AtomicInteger();
                AtomicInteger maxPlatform = new AtomicInteger();
                Thread sampler = new Thread(() -> sample(maxCarriers, maxPlatform), "carrier-sampler");
                sampler.setDaemon(true);
                sampler.start();
                int ok;
                try {
                    ok = load(client, callers, requestsEach);
                } finally {
                    sampler.interrupt();
                    sampler.join(5_000);
                }
                long startedDuring = ManagementFactory.getThreadMXBean().getTotalStartedThreadCount()
                        - startedBefore - 1; // the sampler
                new LoadDone().commit();
                assertThat(done.await(30, TimeUnit.SECONDS)).as("the stream caught up").isTrue();

                assertThat(ok).as("requests that succeeded").isEqualTo(callers * requestsEach);
                assertThat(pinned).as("virtual threads pinned during the load").extracting(VirtualThreadLoad::describe)
                        .isEmpty();
                assertThat(maxCarriers.get()).as("carrier threads").isLessThanOrEqualTo(parallelism);
                assertThat(startedDuring).as("platform threads started during the load").isZero();
                assertThat(maxPlatform.get()).as("platform threads, %d before the load", platformBefore)
                        .isLessThanOrEqualTo(platformBefore + 1); // + the sampler
            }
        }
    }

    /** @return the server's answer to every request */
    static Reply reply() {
        return Reply.ok(BODY);
    }

    /**
     * Starts {@code callers} virtual threads at once, each sending {@code requestsEach} GETs in turn.
     *
     * @return how many succeeded; the first failure, if any, is thrown
     */
    private static int load(BerthClient client, int callers, int requestsEach) throws Exception {
        AtomicInteger ok = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>(callers);
        for (int i = 0; i < callers; i++) {
            threads.add(startVirtual(() -> {
                try {
                    go.await();
                    for (int j = 0; j < requestsEach; j++) {
                        try (BerthResponse r = client.send(BerthRequest.get("/v"))) {
                            if (r.status() == 200 && r.bodyString().equals(BODY)) {
                                ok.incrementAndGet();
                            } else {
                                throw new AssertionError("status " + r.status());
                            }
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }));
        }
        go.countDown();
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(60));
        }
        if (failure.get() != null) {
            throw new AssertionError("a virtual caller failed", failure.get());
        }
        return ok.get();
    }

    private static void sample(AtomicInteger maxCarriers, AtomicInteger maxPlatform) {
        while (!Thread.currentThread().isInterrupted()) {
            int carriers = 0;
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                String n = t.getName();
                if (n.startsWith("ForkJoinPool-") && n.contains("-worker-")) {
                    carriers++; // the virtual-thread scheduler's (the common pool is ForkJoinPool.commonPool-...)
                }
            }
            maxCarriers.accumulateAndGet(carriers, Math::max);
            maxPlatform.accumulateAndGet(ManagementFactory.getThreadMXBean().getThreadCount(), Math::max);
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static String describe(RecordedEvent e) {
        return e.getThread() + " pinned " + e.getDuration() + " at " + (e.getStackTrace() == null ? "?"
                : e.getStackTrace().getFrames().subList(0, Math.min(12, e.getStackTrace().getFrames().size())));
    }

    /** {@code Thread.startVirtualThread(r)}, through reflection: this compiles for release 17. */
    static Thread startVirtual(Runnable r) {
        try {
            Method start = Thread.class.getMethod("startVirtualThread", Runnable.class);
            return (Thread) start.invoke(null, r);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("no virtual threads on " + Runtime.version(), e);
        }
    }
}
