package io.berth;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** {@link PurgeScheduler#disabled()}: never runs a task. */
enum DisabledPurgeScheduler implements PurgeScheduler {
    INSTANCE;

    /** Never completes: the task is dropped. */
    private static final Future<?> NEVER = new CompletableFuture<Void>();

    @Override
    public Future<?> schedule(Runnable task, long delay, TimeUnit unit) {
        return NEVER;
    }

    @Override
    public String toString() {
        return "PurgeScheduler.disabled()";
    }
}
