package io.berth.pool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * A caller waiting for a connection at {@code maxConnections}. Served in FIFO order: a releaser
 * hands it a connection, or a permit to open one in a freed slot; the pool hands it {@link #CLOSED}
 * on close. The waiter itself may {@link #cancel()} (timeout, interrupt). Exactly one of these wins
 * the CAS on {@link #result}.
 */
final class Waiter {
    /** The waiter may open a new connection: a slot was reserved for it. */
    static final Object PERMIT = new Object();
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
    final SessionImpl session;
    final Thread thread;
    volatile Object result;

    Waiter(boolean replayable, SessionImpl session, Thread thread) {
        this.replayable = replayable;
        this.session = session;
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
