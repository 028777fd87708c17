package io.berth.pool;

import io.berth.PurgeScheduler;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * A periodic task on a {@link PurgeScheduler}: the task returns the delay until its next run, or -1
 * to stop. Rescheduling cancels the pending run; a scheduler that throws is reported once (through
 * {@link ListenerGuard}) and the run is retried when {@link #kick} is called, e.g. at the next
 * release. The lock guards only the pending future, never the task.
 *
 * <p>Thread-safe.
 */
final class Scheduled {
    private final PurgeScheduler scheduler;
    private final ListenerGuard guard;
    private final LongSupplier task;
    private final long retryNanos;
    private final Runnable run = this::run;
    private final ReentrantLock lock = new ReentrantLock();
    private Future<?> pending; // guarded by lock
    private boolean stopped; // guarded by lock
    private volatile boolean stalled;

    /**
     * @param task runs once and returns nanoseconds until its next run, or -1 to stop
     * @param retryNanos the delay after a run that threw
     */
    Scheduled(PurgeScheduler scheduler, ListenerGuard guard, LongSupplier task, long retryNanos) {
        this.scheduler = scheduler;
        this.guard = guard;
        this.task = task;
        this.retryNanos = retryNanos;
    }

    /** (Re)schedules the next run in {@code delayNanos}, replacing the pending one. */
    void schedule(long delayNanos) {
        lock.lock();
        try {
            if (stopped) {
                return;
            }
            if (pending != null && !pending.isDone()) {
                pending.cancel(false);
            }
            try {
                pending = scheduler.schedule(run, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
                stalled = false;
            } catch (RuntimeException e) {
                pending = null;
                stalled = true;
                guard.schedulerFailed(e);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Schedules again if the scheduler refused the last time. Cheap when it did not. */
    void kick(long delayNanos) {
        if (stalled) {
            schedule(delayNanos);
        }
    }

    /** Cancels the pending run; nothing runs after. */
    void stop() {
        lock.lock();
        try {
            stopped = true;
            if (pending != null) {
                pending.cancel(false);
                pending = null;
            }
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        lock.lock();
        try {
            pending = null; // this run is under way: a reschedule must not cancel it
        } finally {
            lock.unlock();
        }
        long next;
        try {
            next = task.getAsLong();
        } catch (RuntimeException | Error e) {
            guard.maintenanceFailed(e);
            next = retryNanos;
        }
        if (next >= 0) {
            schedule(next);
        }
    }
}
