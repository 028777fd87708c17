package io.berth.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * A caller waiting for a connection: every server it may use is at its limit, or the idle connection
 * it may use is being checked. Served in FIFO order by {@link WaitQueue}: a releaser hands it a
 * connection (or, on a multiplexed one, an exchange: a {@link StreamLease}), or a
 * {@link ServerEntry.Permit} to open a connection in a slot reserved for it; the pool hands it
 * {@link #CLOSED} on close. The waiter itself may {@link #cancel()} (timeout, interrupt). Exactly one
 * of these wins the CAS on {@link #result}.
 */
final class Waiter {
    /** The pool closed. */
    static final Object CLOSED = new Object();
    /** The waiter gave up. */
    static final Object CANCELLED = new Object();

    private static final VarHandle RESULT;

    static {
        try {
            RESULT = MethodHandles.lookup().findVarHandle(Waiter.class, "result", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final boolean replayable;
    final PinnedSession session;
    /** Wants a newly opened connection, never a reused one (the retry of a request whose connection died). */
    final boolean fresh;
    final Thread thread;
    volatile Object result;

    Waiter(boolean replayable, PinnedSession session, boolean fresh, Thread thread) {
        this.replayable = replayable;
        this.session = session;
        this.fresh = fresh;
        this.thread = thread;
    }

    /** @return whether the waiter took {@code x}; if so it is woken */
    boolean offer(Object x) {
        if (RESULT.compareAndSet(this, null, x)) {
            LockSupport.unpark(thread);
            return true;
        }
        return false;
    }

    /** @return whether the waiter gave up before anything was handed to it */
    boolean cancel() {
        return RESULT.compareAndSet(this, null, CANCELLED);
    }
}
