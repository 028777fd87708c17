package io.berth;

import java.util.Objects;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs a pool's maintenance: purge passes every {@code purgeDelay}, expiry of idle connections,
 * checks for connections the server closed, and opening connections up to {@code minIdle}.
 *
 * <p>A pool schedules one task at a time and schedules the next when it runs. A task runs
 * quickly, except that it may open connections for {@code minIdle} (bounded by
 * {@code connectTimeout}). If {@link #schedule} throws, the pool logs it once at WARNING and
 * tries again later; it keeps working, and expired connections are still caught when acquired.
 *
 * <p>Implementations must be thread-safe.
 *
 * @since 1.0
 */
@FunctionalInterface
public interface PurgeScheduler {
    /**
     * Runs {@code task} once after {@code delay}.
     *
     * @param task what to run
     * @param delay how long to wait, zero or more
     * @param unit the unit of {@code delay}
     * @return a future that cancels the task
     */
    Future<?> schedule(Runnable task, long delay, TimeUnit unit);

    /**
     * The default: one daemon thread named {@code berth-purge}, shared by all pools that use it.
     * It starts with the first pool and stops when the last one closes, so no thread outlives
     * the pools.
     *
     * @return the shared scheduler
     */
    static PurgeScheduler shared() {
        return SharedPurgeScheduler.INSTANCE;
    }

    /**
     * Runs maintenance on an application's executor. The pool never shuts it down.
     *
     * @param executor the executor
     * @return a scheduler backed by it
     */
    static PurgeScheduler using(ScheduledExecutorService executor) {
        Objects.requireNonNull(executor, "executor");
        return executor::schedule;
    }

    /**
     * A scheduler that never runs anything: the pool's maintenance (purges, expiry of idle
     * connections, noticing closes by the server, {@code minIdle}, health checks) does not happen
     * in the background. Expired and closed connections are still caught when acquired. For
     * benchmarks and for tests that drive maintenance themselves.
     *
     * @return the disabled scheduler
     */
    static PurgeScheduler disabled() {
        return DisabledPurgeScheduler.INSTANCE;
    }
}
