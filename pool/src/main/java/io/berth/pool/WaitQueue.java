package io.berth.pool;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The one FIFO of callers waiting for a connection, for the whole backend: a connection released, or
 * a slot freed, on any server goes to the longest waiter that can use it.
 *
 * <h2>No lost wake-up</h2>
 * A waiter first enqueues itself, then counts itself ({@link #waiting()}, {@link #arrivals()}), and
 * only then looks for idle connections and free slots. Whoever frees something reads
 * {@link #arrivals()}, offers it to the waiters in the queue, makes it available if nobody took it,
 * and reads {@link #arrivals()} again: if it changed, a waiter may have looked before the thing was
 * available, so it takes it back and offers it again. With sequentially consistent atomics, a waiter
 * that counted itself before the first read is in the queue when it is walked, and one that counted
 * itself later either sees the thing made available or makes the second read differ. Nobody spins
 * on a thread that is on its way in; each repetition serves a newer arrival. Exactly one party wins
 * a waiter's {@link Waiter#result} CAS.
 *
 * <p>Thread-safe and lock-free.
 */
final class WaitQueue {
    private final ConcurrentLinkedQueue<Waiter> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger waiting = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong arrivals = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong waits = new java.util.concurrent.atomic.AtomicLong();

    /** @return callers waiting (in the queue, or leaving it) */
    int waiting() {
        return waiting.get();
    }

    /** @return how many times a caller entered the queue: see the class comment */
    long arrivals() {
        return arrivals.get();
    }

    /** @return acquisitions that had to wait, since the pool started */
    long waits() {
        return waits.get();
    }

    /**
     * Enqueues a waiter (the queue first, then the counts: see the class comment).
     *
     * @param firstTime whether this acquisition waits for the first time (it is counted once)
     */
    void enqueue(Waiter w, boolean firstTime) {
        queue.offer(w);
        waiting.incrementAndGet();
        arrivals.incrementAndGet();
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
