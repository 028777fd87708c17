package io.berth;

import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The shared {@link PurgeScheduler}: one daemon thread, started by the first scheduled task and
 * shut down when no task is pending, so that closing the last pool leaves no thread behind.
 *
 * <p>A pool always has one task pending while it is open (it schedules the next pass from inside
 * the running one, before the running one counts as done), so the thread lives exactly as long as
 * some pool is open.
 */
final class SharedPurgeScheduler implements PurgeScheduler {
    static final SharedPurgeScheduler INSTANCE = new SharedPurgeScheduler();

    /**
     * Guards {@link #executor} and {@link #pending}: a lock, not a monitor, because scheduling takes
     * the executor's own lock and may park.
     */
    private final ReentrantLock lock = new ReentrantLock();
    private ScheduledThreadPoolExecutor executor;
    private int pending;

    private SharedPurgeScheduler() {
    }

    @Override
    public Future<?> schedule(Runnable task, long delay, TimeUnit unit) {
        Tracked tracked = new Tracked(task);
        lock.lock();
        try {
            if (executor == null) {
                executor = new ScheduledThreadPoolExecutor(1, r -> {
                    Thread t = new Thread(r, "berth-purge");
                    t.setDaemon(true);
                    return t;
                });
                executor.setRemoveOnCancelPolicy(true);
                executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            }
            pending++;
            tracked.future = executor.schedule(tracked, delay, unit);
        } finally {
            lock.unlock();
        }
        return tracked;
    }

    private void done() {
        ScheduledThreadPoolExecutor toStop = null;
        lock.lock();
        try {
            if (--pending == 0) {
                toStop = executor;
                executor = null;
            }
        } finally {
            lock.unlock();
        }
        if (toStop != null) {
            toStop.shutdown();
        }
    }

    /** @return whether the thread is running (for tests) */
    boolean isRunning() {
        lock.lock();
        try {
            return executor != null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Counts a task done when it has run, or when it was cancelled before it started. A task
     * cancelled while it runs (a pool rescheduling itself from inside its pass) is counted when it
     * ends, so the thread never stops under a running task.
     */
    private final class Tracked implements Runnable, Future<Object> {
        private final Runnable task;
        volatile ScheduledFuture<?> future;
        private boolean finished;
        private boolean started;

        Tracked(Runnable task) {
            this.task = task;
        }

        private boolean finish() {
            synchronized (this) {
                if (finished) {
                    return false;
                }
                finished = true;
            }
            done();
            return true;
        }

        @Override
        public void run() {
            synchronized (this) {
                if (finished) {
                    return;
                }
                started = true;
            }
            try {
                task.run();
            } finally {
                finish();
            }
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = future.cancel(mayInterruptIfRunning);
            boolean countNow;
            synchronized (this) {
                countNow = cancelled && !started;
            }
            if (countNow) {
                finish();
            }
            return cancelled;
        }

        @Override
        public boolean isCancelled() {
            return future.isCancelled();
        }

        @Override
        public boolean isDone() {
            return future.isDone();
        }

        @Override
        public Object get() throws InterruptedException, java.util.concurrent.ExecutionException {
            return future.get();
        }

        @Override
        public Object get(long timeout, TimeUnit unit)
                throws InterruptedException, java.util.concurrent.ExecutionException,
                java.util.concurrent.TimeoutException {
            return future.get(timeout, unit);
        }
    }
}
