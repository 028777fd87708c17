package io.berth.testing;

import io.berth.PurgeScheduler;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A {@link PurgeScheduler} for tests: it queues tasks and runs them only when told to, on the
 * calling thread (usually after advancing a fake ticker). Shared by the modules' tests through the
 * api test-jar. Thread-safe.
 */
public final class ManualPurgeScheduler implements PurgeScheduler {
    private final List<Task> queue = new ArrayList<>();

    /** A new scheduler with nothing queued. */
    public ManualPurgeScheduler() {
    }

    @Override
    public synchronized Future<?> schedule(Runnable task, long delay, TimeUnit unit) {
        Task t = new Task(task, unit.toNanos(delay));
        queue.add(t);
        return t;
    }

    /**
     * Runs every task queued now, in the order scheduled, whatever its delay. Tasks they schedule
     * wait for the next call.
     *
     * @return how many tasks ran
     */
    public int runPending() {
        List<Task> batch;
        synchronized (this) {
            batch = new ArrayList<>(queue);
            queue.clear();
        }
        int ran = 0;
        for (Task t : batch) {
            if (t.start()) {
                t.task.run();
                ran++;
            }
        }
        return ran;
    }

    /** @return how many tasks wait to run */
    public synchronized int pending() {
        int n = 0;
        for (Task t : queue) {
            if (!t.isDone()) {
                n++;
            }
        }
        return n;
    }

    /**
     * @param unit the unit of the result
     * @return the delay the most recently scheduled pending task asked for, or -1 if none is pending
     */
    public synchronized long lastDelay(TimeUnit unit) {
        for (int i = queue.size() - 1; i >= 0; i--) {
            if (!queue.get(i).isDone()) {
                return unit.convert(queue.get(i).delayNanos, TimeUnit.NANOSECONDS);
            }
        }
        return -1;
    }

    private static final class Task implements Future<Void> {
        final Runnable task;
        final long delayNanos;
        private int state; // 0 pending, 1 started, 2 cancelled

        Task(Runnable task, long delayNanos) {
            this.task = task;
            this.delayNanos = delayNanos;
        }

        synchronized boolean start() {
            if (state != 0) {
                return false;
            }
            state = 1;
            return true;
        }

        @Override
        public synchronized boolean cancel(boolean mayInterruptIfRunning) {
            if (state != 0) {
                return false;
            }
            state = 2;
            return true;
        }

        @Override
        public synchronized boolean isCancelled() {
            return state == 2;
        }

        @Override
        public synchronized boolean isDone() {
            return state != 0;
        }

        @Override
        public Void get() throws ExecutionException {
            if (isCancelled()) {
                throw new CancellationException();
            }
            return null;
        }

        @Override
        public Void get(long timeout, TimeUnit unit) throws ExecutionException {
            return get();
        }
    }
}
