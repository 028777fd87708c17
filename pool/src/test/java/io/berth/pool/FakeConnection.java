package io.berth.pool;

import io.berth.Server;
import io.berth.spi.Connection;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/** An in-memory connection whose liveness a test sets, and which records how it was closed. */
final class FakeConnection implements Connection {
    final Server server;
    final int n;
    final boolean resumed;
    /** What a socket read would find: the server's side. */
    volatile Liveness liveness = Liveness.ALIVE;
    /** What the connection already holds, found without a read. */
    volatile Liveness buffered = Liveness.ALIVE;
    volatile boolean closedGracefully;
    volatile boolean aborted;
    /** Callers holding it, for tests that count them: closing it while one does is a violation. */
    final AtomicInteger holders = new AtomicInteger();
    final AtomicInteger idleCalls = new AtomicInteger();
    final AtomicInteger livenessChecks = new AtomicInteger();
    final AtomicInteger bufferedChecks = new AtomicInteger();
    /** Whether it carries several exchanges at once, like an HTTP/2 connection; fixed at creation. */
    final boolean multiplexed;
    /** Exchanges it may carry at once now (an HTTP/2 server's limit, changing while it lives). */
    volatile int capacity = 1;
    /** The pool's listener for capacity changes, if it registered one. */
    volatile Runnable capacityListener;
    /** How long a socket read by {@link #liveness()} takes: a slow check. */
    volatile long livenessDelayMillis;

    private final AtomicInteger openCounter;

    FakeConnection(Server server, int n, boolean resumed) {
        this(server, n, resumed, new AtomicInteger(1));
    }

    FakeConnection(Server server, int n, boolean resumed, AtomicInteger openCounter) {
        this(server, n, resumed, openCounter, false);
    }

    FakeConnection(Server server, int n, boolean resumed, AtomicInteger openCounter, boolean multiplexed) {
        this.multiplexed = multiplexed;
        this.server = server;
        this.n = n;
        this.resumed = resumed;
        this.openCounter = openCounter;
    }

    @Override
    public Server server() {
        return server;
    }

    @Override
    public int read(ByteBuffer dst, long timeoutNanos) {
        throw new UnsupportedOperationException("engine tests do no I/O");
    }

    @Override
    public void write(ByteBuffer src, long timeoutNanos) {
        throw new UnsupportedOperationException("engine tests do no I/O");
    }

    /**
     * Misuse by the pool (probing or closing a closed connection, closing one a caller holds): a test
     * asserts there is none.
     */
    static final AtomicInteger VIOLATIONS = new AtomicInteger();

    @Override
    public Liveness liveness() {
        if (!isOpen()) {
            VIOLATIONS.incrementAndGet();
            throw new AssertionError("liveness() of closed connection " + n);
        }
        livenessChecks.incrementAndGet();
        long delay = livenessDelayMillis;
        if (delay > 0) {
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return liveness;
    }

    @Override
    public Liveness bufferedLiveness() {
        if (!isOpen()) {
            VIOLATIONS.incrementAndGet();
            throw new AssertionError("bufferedLiveness() of closed connection " + n);
        }
        bufferedChecks.incrementAndGet();
        return buffered;
    }

    @Override
    public boolean multiplexed() {
        return multiplexed;
    }

    @Override
    public int capacity() {
        return multiplexed ? capacity : 1;
    }

    @Override
    public void onCapacityChange(Runnable listener) {
        capacityListener = listener;
    }

    /** Changes the capacity as a server's SETTINGS would, and tells the pool. */
    void changeCapacity(int n) {
        capacity = n;
        Runnable l = capacityListener;
        if (l != null) {
            l.run();
        }
    }

    @Override
    public void idle() {
        idleCalls.incrementAndGet();
    }

    @Override
    public boolean tlsSessionResumed() {
        return resumed;
    }

    @Override
    public boolean isOpen() {
        return !closedGracefully && !aborted;
    }

    @Override
    public synchronized boolean close() {
        if (!isOpen()) {
            VIOLATIONS.incrementAndGet();
            return false;
        }
        if (holders.get() != 0) {
            VIOLATIONS.incrementAndGet(); // closed under a caller that holds it (tests that count holders)
        }
        closedGracefully = true;
        openCounter.decrementAndGet();
        return true;
    }

    @Override
    public synchronized void abort() {
        if (holders.get() != 0) {
            VIOLATIONS.incrementAndGet(); // aborted under a caller that holds it (tests that count holders)
        }
        if (isOpen()) {
            aborted = true;
            openCounter.decrementAndGet();
        } else {
            VIOLATIONS.incrementAndGet();
        }
    }

    @Override
    public String describe() {
        return server + " fake#" + n;
    }
}
