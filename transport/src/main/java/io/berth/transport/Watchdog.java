package io.berth.transport;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One daemon thread, {@code berth-watchdog}, that enforces every bounded wait of every connection of
 * this JVM: connects, TLS handshakes, reads awaiting a response, writes to a peer that stopped
 * reading. A connection waits in a plain blocking call; if its deadline passes first, the watchdog
 * aborts the connection (a reset), which wakes the blocked thread with an exception that the
 * connection then reports as the timeout it was.
 *
 * <p><b>Deadlines.</b> Each {@link Watched} object has two deadline words, one per side (read,
 * write), each {@code 0} (disarmed), a {@link System#nanoTime()} deadline, or {@link #FIRED}. The
 * thread doing I/O arms its side with a volatile store before it blocks and disarms it with a CAS
 * after; the watchdog fires an overdue side with a CAS from that deadline to {@code FIRED} and only
 * then aborts. Exactly one of the two CASes wins, so an operation either completes or times out,
 * never both, and a timeout is never mistaken for a close by the peer. Arming and disarming take no
 * lock and allocate nothing; the arming thread reads one shared volatile word ({@link #wakeAt}) and
 * wakes the watchdog only when its deadline is nearer than the one the watchdog sleeps towards.
 *
 * <p><b>Why nothing is missed.</b> Before it scans, the watchdog sets {@code wakeAt} to
 * {@code SCANNING}; after it, to the earliest deadline it saw (or {@code NONE}). An arming thread
 * stores its deadline, then reads {@code wakeAt} (both volatile, so in one total order): either the
 * scan saw the deadline, or the thread saw {@code SCANNING}, {@code NONE} or a later wake-up time
 * and unparked the watchdog, whose next park then returns at once and rescans. A deadline at or
 * after the wake-up time the thread saw is found by the scan at that time.
 *
 * <p><b>Registry.</b> Objects register when their connection (or connect attempt) starts and
 * deregister when it closes, under a {@link ReentrantLock} (not on the hot path); the table is an
 * {@link AtomicReferenceArray} that the watchdog reads without the lock. The scan costs one pass
 * over the registered objects per wake-up: with uniform timeouts that is about once per timeout
 * period, however many exchanges ran meanwhile (a deadline armed later than the one the watchdog
 * sleeps towards does not wake it). With nothing armed it sleeps until an arm wakes it: once after
 * every lull of at least a timeout period, so an idle JVM with open connections never wakes it.
 *
 * <p><b>Life.</b> The thread starts with the first registration and ends once nothing has been
 * registered for {@link #LINGER_NANOS}: a JVM without open connections has no watchdog thread.
 *
 * <p>Thread-safe.
 */
final class Watchdog {
    private static final System.Logger LOG = System.getLogger(Watchdog.class.getName());

    /** The deadline word of a side the watchdog fired. */
    static final long FIRED = Long.MIN_VALUE;
    /** The read side (also the whole connect and TLS handshake). */
    static final int READ = 0;
    /** The write side. */
    static final int WRITE = 1;
    /** How long the thread waits, with nothing registered, before it ends. */
    static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    /** {@link #wakeAt}: nothing armed; the watchdog parks until an arm unparks it. */
    private static final long NONE = Long.MAX_VALUE;
    /** {@link #wakeAt}: a scan is under way; every arm unparks the watchdog, which then rescans. */
    private static final long SCANNING = Long.MIN_VALUE;

    /** The watchdog of all connections. */
    static final Watchdog SHARED = new Watchdog("berth-watchdog");

    private final String name;
    private final ReentrantLock registry = new ReentrantLock();
    /** Registered objects; written under {@link #registry}, read by the watchdog without it. */
    private volatile AtomicReferenceArray<Watched> table = new AtomicReferenceArray<>(64);
    /** One past the highest slot in use; written under {@link #registry}. */
    private volatile int top;
    /** Guarded by {@link #registry}. */
    private int registered;
    /** Guarded by {@link #registry}: the lowest slot that may be free. */
    private int freeHint;
    /** The running watchdog thread, or null; written under {@link #registry}. */
    private volatile Thread thread;
    /** When the watchdog wakes next: a deadline, {@link #NONE} or {@link #SCANNING}. */
    private volatile long wakeAt = NONE;
    /** How many scans the watchdog made (written by its thread only; for tests). */
    private volatile long scans;

    Watchdog(String name) {
        this.name = name;
    }

    /** Registers an object whose deadlines are to be watched; starts the thread if it is not running. */
    void register(Watched w) {
        registry.lock();
        try {
            AtomicReferenceArray<Watched> t = table;
            int slot = freeHint;
            while (slot < t.length() && t.get(slot) != null) {
                slot++;
            }
            if (slot == t.length()) {
                AtomicReferenceArray<Watched> grown = new AtomicReferenceArray<>(t.length() * 2);
                for (int i = 0; i < t.length(); i++) {
                    grown.set(i, t.get(i));
                }
                table = grown;
                t = grown;
            }
            t.set(slot, w);
            w.slot = slot;
            freeHint = slot + 1;
            if (slot >= top) {
                top = slot + 1;
            }
            registered++;
            if (thread == null) {
                Thread th = new Thread(this::run, name);
                th.setDaemon(true);
                th.setContextClassLoader(null); // hold no application's class loader
                thread = th;
                th.start();
            }
        } finally {
            registry.unlock();
        }
    }

    /** Deregisters an object; idempotent. Its deadlines are no longer watched. */
    void deregister(Watched w) {
        Thread wake = null;
        registry.lock();
        try {
            int slot = w.slot;
            if (slot < 0) {
                return;
            }
            AtomicReferenceArray<Watched> t = table;
            t.set(slot, null);
            w.slot = -1;
            if (slot < freeHint) {
                freeHint = slot;
            }
            int newTop = top;
            while (newTop > 0 && t.get(newTop - 1) == null) {
                newTop--;
            }
            top = newTop;
            if (--registered == 0) {
                wake = thread; // so that it starts lingering now
            }
        } finally {
            registry.unlock();
        }
        if (wake != null) {
            LockSupport.unpark(wake);
        }
    }

    /** @return whether the watchdog thread is running (for tests) */
    boolean isRunning() {
        return thread != null;
    }

    /** @return how many times the watchdog woke and scanned, since this JVM started (for tests) */
    long scans() {
        return scans;
    }

    /** Called after a side was armed with {@code deadline}: wakes the watchdog if it must look sooner. */
    private void armed(long deadline) {
        long w = wakeAt;
        if (w == NONE || w == SCANNING || deadline - w < 0) {
            LockSupport.unpark(thread);
        }
    }

    private void run() {
        while (true) {
            Thread.interrupted(); // nobody should; a set flag would make every park return at once
            wakeAt = SCANNING;
            scans++; // only this thread writes it
            long now = System.nanoTime();
            long next = scan(now);
            wakeAt = next;
            if (next != NONE) {
                LockSupport.parkNanos(this, next - System.nanoTime());
            } else if (top > 0) {
                LockSupport.park(this);
            } else {
                LockSupport.parkNanos(this, LINGER_NANOS);
                if (retireIfUnused()) {
                    return;
                }
            }
        }
    }

    /** @return whether the thread may end: nothing is registered; if so, the next registration starts another */
    private boolean retireIfUnused() {
        registry.lock();
        try {
            if (registered != 0) {
                return false;
            }
            thread = null;
            wakeAt = NONE;
            return true;
        } finally {
            registry.unlock();
        }
    }

    /** Fires every overdue side. @return the earliest deadline still armed, or {@link #NONE} */
    private long scan(long now) {
        long next = NONE;
        AtomicReferenceArray<Watched> t = table;
        int n = Math.min(top, t.length());
        for (int i = 0; i < n; i++) {
            Watched w = t.get(i);
            if (w != null) {
                next = check(w, READ, now, next);
                next = check(w, WRITE, now, next);
            }
        }
        return next;
    }

    private static long check(Watched w, int side, long now, long next) {
        long d = w.deadline(side);
        if (d == 0 || d == FIRED) {
            return next;
        }
        if (now - d >= 0) {
            if (w.fire(side, d)) {
                try {
                    w.expire(side);
                } catch (RuntimeException | Error e) {
                    LOG.log(System.Logger.Level.WARNING, () -> "the watchdog could not abort " + w + ": " + e);
                }
            }
            return next;
        }
        return next == NONE || d - next < 0 ? d : next;
    }

    /**
     * Something with deadlines the watchdog enforces: a connection, or a connect attempt. Each side is
     * armed and disarmed by one thread at a time (the one doing that side's I/O).
     */
    abstract static class Watched {
        private static final VarHandle READ_DEADLINE;
        private static final VarHandle WRITE_DEADLINE;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                READ_DEADLINE = l.findVarHandle(Watched.class, "readDeadline", long.class);
                WRITE_DEADLINE = l.findVarHandle(Watched.class, "writeDeadline", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final Watchdog watchdog;
        @SuppressWarnings("unused") // through READ_DEADLINE
        private volatile long readDeadline;
        @SuppressWarnings("unused") // through WRITE_DEADLINE
        private volatile long writeDeadline;
        /** The slot in the watchdog's table, or -1; guarded by the watchdog's registry lock. */
        int slot = -1;

        Watched(Watchdog watchdog) {
            this.watchdog = watchdog;
        }

        /** @return a side's deadline word */
        final long deadline(int side) {
            return side == READ ? (long) READ_DEADLINE.getVolatile(this) : (long) WRITE_DEADLINE.getVolatile(this);
        }

        /** @return whether the watchdog fired the side armed with {@code deadline} (it was still armed) */
        final boolean fire(int side, long deadline) {
            return side == READ ? READ_DEADLINE.compareAndSet(this, deadline, FIRED)
                    : WRITE_DEADLINE.compareAndSet(this, deadline, FIRED);
        }

        /** Starts being watched. */
        final void watch() {
            watchdog.register(this);
        }

        /** Stops being watched; idempotent. */
        final void unwatch() {
            watchdog.deregister(this);
        }

        /**
         * Arms a side: if it is not disarmed within {@code timeoutNanos}, the watchdog fires it.
         * Takes no lock and allocates nothing.
         *
         * @return the deadline, to pass to {@link #disarm}; never 0
         */
        final long arm(int side, long timeoutNanos) {
            long d = System.nanoTime() + timeoutNanos;
            if (d == 0 || d == FIRED) {
                d = FIRED + 1; // two values no deadline may take; off by a nanosecond at worst
            }
            if (side == READ) { // each VarHandle a constant at its call site, so that the JIT inlines it
                READ_DEADLINE.setVolatile(this, d);
            } else {
                WRITE_DEADLINE.setVolatile(this, d);
            }
            watchdog.armed(d);
            return d;
        }

        /**
         * Disarms a side armed with {@code deadline}.
         *
         * @return {@code true} if disarmed in time, {@code false} if the watchdog fired it (the
         *     connection is being aborted)
         */
        final boolean disarm(int side, long deadline) {
            return side == READ ? READ_DEADLINE.compareAndSet(this, deadline, 0L)
                    : WRITE_DEADLINE.compareAndSet(this, deadline, 0L);
        }

        /**
         * Called once by the watchdog thread when a side's deadline passed: abort, so that the
         * thread blocked on that side wakes. Must not block.
         *
         * @param side {@link #READ} or {@link #WRITE}
         */
        abstract void expire(int side);
    }
}
