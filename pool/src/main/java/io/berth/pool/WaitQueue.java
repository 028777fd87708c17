package io.berth.pool;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The one FIFO of callers waiting for a connection, for the whole backend: a connection released, or
 * a slot freed, on any server goes to the longest waiter that can use it.
 *
 * <p>No wake-up is lost: a waiter first counts and enqueues itself and only then looks for idle
 * connections and free slots; whoever frees something first makes it available and then looks for
 * waiters, and looks again while {@link #waiting()} says somebody is still on the way in. With
 * sequentially consistent atomics one of the two sees the other, and exactly one party wins the
 * waiter's {@link Waiter#result} CAS.
 *
 * <p>Thread-safe and lock-free.
 */
final class WaitQueue {
    private final ConcurrentLinkedQueue<Waiter> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger waiting = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong waits = new java.util.concurrent.atomic.AtomicLong();

    /** @return callers waiting, or on their way into the queue */
    int waiting() {
        return waiting.get();
    }

    /** @return acquisitions that had to wait, since the pool started */
    long waits() {
        return waits.get();
    }

    /**
     * Enqueues a waiter (count first, then the queue: see the class comment).
     *
     * @param firstTime whether this acquisition waits for the first time (it is counted once)
     */
    void enqueue(Waiter w, boolean firstTime) {
        waiting.incrementAndGet();
        queue.offer(w);
        if (firstTime) {
            waits.incrementAndGet();
        }
    }

    /** @return whether the waiter gave up before anything was handed to it; if so it left the queue */
    boolean cancel(Waiter w) {
        if (w.cancel()) {
            waiting.decrementAndGet();
            queue.remove(w);
            return true;
        }
        return false;
    }

    /**
     * Offers something to the longest waiter for which {@code choose} returns a gift.
     *
     * @param choose the gift for a waiter, or {@code null} if it can use nothing this offer has
     * @return the gift the waiter took, or {@code null} if nobody took one
     */
    Object offer(Function<Waiter, Object> choose) {
        for (Waiter w : queue) {
            if (w.result != null) {
                continue; // served or gone already; it leaves the queue itself
            }
            Object gift = choose.apply(w);
            if (gift != null && w.offer(gift)) {
                waiting.decrementAndGet();
                queue.remove(w);
                return gift;
            }
        }
        return null;
    }

    /** Wakes every waiter with {@link Waiter#CLOSED}. */
    void closeAll() {
        Waiter w;
        while ((w = queue.poll()) != null) {
            if (w.offer(Waiter.CLOSED)) {
                waiting.decrementAndGet();
            }
        }
    }
}
