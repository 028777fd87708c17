package io.berth.pool.jdk;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The executors of a {@link BerthHttpClient} built without one: they run {@code sendAsync} exchanges
 * and read streamed bodies ahead, each task blocking a thread for as long as its exchange waits.
 *
 * <ul>
 *   <li>JDK 21 and later: one new virtual thread per task, named {@code berth-http-N}
 *       ({@code Executors.newThreadPerTaskExecutor}): a thousand exchanges in flight cost a thousand
 *       virtual threads, not platform threads. Reached through {@link MethodHandles}, as the code is
 *       compiled for 17.</li>
 *   <li>JDK 17: at most {@link #PLATFORM_THREADS} daemon platform threads named {@code berth-http-N}
 *       for exchanges, and as many named {@code berth-http-body-N} for reading streamed bodies ahead,
 *       made on demand and ended after 60 s idle. Beyond that many tasks at once, further ones wait in
 *       a FIFO queue for a free thread (as exchanges would wait for a connection at the default
 *       {@code maxConnections} of 64). Bodies have threads of their own because an exchange may wait
 *       for a connection that only the reading of a body releases: in one queue, a thousand callers
 *       of Spring's {@code RestClient} (which reads every body as a stream) stalled until their
 *       acquire timeout.</li>
 * </ul>
 */
final class DefaultExecutor {
    /** The most platform threads of each of the default executors on JDK 17 (and 18 to 20). */
    static final int PLATFORM_THREADS = 64;
    private static final AtomicInteger THREAD_IDS = new AtomicInteger();
    /** {@code Executors.newThreadPerTaskExecutor(ThreadFactory)}, or {@code null} before JDK 21. */
    private static final MethodHandle NEW_THREAD_PER_TASK = threadPerTask();
    /** {@code Thread.ofVirtual().name("berth-http-", 1).factory()}, or {@code null} before JDK 21. */
    private static final ThreadFactory VIRTUAL = virtualFactory();

    /** Runs {@code sendAsync} exchanges. */
    final ExecutorService exchanges;
    /** Reads streamed bodies ahead: {@link #exchanges} itself on JDK 21+. */
    final ExecutorService bodies;

    private DefaultExecutor(ExecutorService exchanges, ExecutorService bodies) {
        this.exchanges = exchanges;
        this.bodies = bodies;
    }

    /** @return whether the default executor uses virtual threads on this JDK */
    static boolean virtual() {
        return VIRTUAL != null && NEW_THREAD_PER_TASK != null;
    }

    static DefaultExecutor create(BerthHttpClient owner) {
        if (virtual()) {
            ThreadFactory threads = r -> VIRTUAL.newThread(BerthHttpClient.owned(owner, r));
            try {
                ExecutorService all = (ExecutorService) NEW_THREAD_PER_TASK.invoke(threads);
                return new DefaultExecutor(all, all);
            } catch (Throwable t) {
                throw new IllegalStateException("could not create the virtual-thread executor", t);
            }
        }
        return new DefaultExecutor(platform(owner, "berth-http-"), platform(owner, "berth-http-body-"));
    }

    private static ExecutorService platform(BerthHttpClient owner, String prefix) {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(PLATFORM_THREADS, PLATFORM_THREADS, 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(BerthHttpClient.owned(owner, r), prefix + THREAD_IDS.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /** Lets the tasks submitted run, takes no new ones. */
    void shutdown() {
        exchanges.shutdown();
        bodies.shutdown();
    }

    /**
     * Interrupts the running tasks, drops the waiting ones.
     *
     * @return the tasks dropped before they ran
     */
    List<Runnable> shutdownNow() {
        List<Runnable> dropped = new ArrayList<>(exchanges.shutdownNow());
        dropped.addAll(bodies.shutdownNow());
        return dropped;
    }

    /** @return whether every thread ended within {@code nanos} */
    boolean awaitTermination(long nanos) throws InterruptedException {
        long deadline = System.nanoTime() + nanos;
        return exchanges.awaitTermination(nanos, TimeUnit.NANOSECONDS)
                && bodies.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    boolean isTerminated() {
        return exchanges.isTerminated() && bodies.isTerminated();
    }

    private static MethodHandle threadPerTask() {
        try {
            return MethodHandles.publicLookup().findStatic(java.util.concurrent.Executors.class,
                    "newThreadPerTaskExecutor", MethodType.methodType(ExecutorService.class, ThreadFactory.class));
        } catch (ReflectiveOperationException e) {
            return null; // before JDK 21
        }
    }

    private static ThreadFactory virtualFactory() {
        try {
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            Class<?> builderClass = Class.forName("java.lang.Thread$Builder");
            Class<?> virtualClass = Class.forName("java.lang.Thread$Builder$OfVirtual");
            Object builder = lookup.findStatic(Thread.class, "ofVirtual", MethodType.methodType(virtualClass))
                    .invoke();
            builder = lookup.findVirtual(virtualClass, "name",
                    MethodType.methodType(virtualClass, String.class, long.class)).invoke(builder, "berth-http-", 1L);
            return (ThreadFactory) lookup.findVirtual(builderClass, "factory",
                    MethodType.methodType(ThreadFactory.class)).invoke(builder);
        } catch (Throwable e) {
            return null; // before JDK 21
        }
    }
}
