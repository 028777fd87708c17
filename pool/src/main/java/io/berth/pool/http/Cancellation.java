package io.berth.pool.http;

import io.berth.spi.Connection;
import io.berth.transport.http2.Http2Stream;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Lets another thread cancel a {@link BerthClient#send(BerthRequest, Cancellation) send} and the
 * reading of its response body: {@link #cancel()} aborts the connection of the exchange in flight
 * (a TCP reset, which wakes a thread blocked on it), so the exchange fails at once and the
 * connection is discarded as broken, never returned to the pool half-read. On HTTP/2 it resets the
 * exchange's stream (RST_STREAM CANCEL) instead, which wakes the thread waiting on it; the
 * connection's other streams go on. What the adapters use to
 * make {@code Call.cancel()} and call timeouts prompt.
 *
 * <p>One cancellation serves one exchange at a time (several in a row are fine, e.g. redirects):
 * {@code send} attaches the exchange's connection, and the exchange detaches it before the
 * connection goes back to the pool, so a late {@code cancel()} never touches a connection that
 * another request has since acquired. Once cancelled it stays cancelled: later sends with it fail
 * at once. Bytes that arrived before a cancel stay readable; so a small body taken whole with its
 * head (see {@link BerthClient}), whose exchange ended before {@code send} returned, has nothing a
 * cancel could abort and reads to its end.
 *
 * <p>What a cancel cannot cut short: waiting for a connection at {@code maxConnections}, and
 * opening one (connect and TLS handshake). The send fails as soon as it has the connection, without
 * writing anything on it; those waits stay bounded by {@code acquireTimeout}, {@code connectTimeout}
 * and the TLS handshake timeout.
 *
 * <p>Thread-safe. The abort runs under a {@link ReentrantLock}, not a monitor: a virtual thread that
 * waits for it parks instead of pinning its carrier.
 */
public final class Cancellation {
    /**
     * Guards the fields below; held across the abort, so that a connection detached meanwhile is
     * never aborted after another request acquired it.
     */
    private final ReentrantLock lock = new ReentrantLock();
    /**
     * Guarded by {@link #lock}: the exchange in flight, a {@link Connection} (HTTP/1.1) or an
     * {@link Http2Stream}; {@code null} while none is.
     */
    private Object exchange;
    /** Written under {@link #lock}; read without it by {@link #isCanceled()}. */
    private volatile boolean canceled;
    /** Guarded by {@link #lock}: whether {@link #cancel()} aborted the attached connection. */
    private boolean aborted;

    private Cancellation() {
    }

    /** @return a new cancellation, not cancelled */
    public static Cancellation create() {
        return new Cancellation();
    }

    /**
     * Cancels: the exchange in flight, if any, fails promptly with an {@link java.io.IOException},
     * and every later send with this cancellation fails before writing anything. Idempotent; never
     * throws; quick (closing a socket), so it may be called from any thread, e.g. a timer.
     */
    public void cancel() {
        lock.lock();
        try {
            if (canceled) {
                return;
            }
            canceled = true;
            if (exchange != null) {
                aborted = true;
                if (exchange instanceof Http2Stream s) {
                    s.cancel(); // RST_STREAM: the connection's other streams go on
                } else {
                    ((Connection) exchange).abort();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** @return whether {@link #cancel()} was called */
    public boolean isCanceled() {
        return canceled;
    }

    /**
     * Attaches the connection of an exchange about to start.
     *
     * @return {@code false} if already cancelled: the exchange must not start
     * @throws IllegalStateException if another exchange is attached
     */
    boolean attach(Connection c) {
        return attachExchange(c);
    }

    /**
     * Attaches the stream of an HTTP/2 exchange about to start: a cancel resets the stream, not the
     * connection.
     *
     * @return {@code false} if already cancelled: the exchange must not start
     * @throws IllegalStateException if another exchange is attached
     */
    boolean attach(Http2Stream s) {
        return attachExchange(s);
    }

    private boolean attachExchange(Object x) {
        lock.lock();
        try {
            if (canceled) {
                return false;
            }
            if (exchange != null) {
                throw new IllegalStateException("a Cancellation serves one exchange at a time, but "
                        + (exchange instanceof Connection c ? c.describe() : exchange) + " is still in flight");
            }
            exchange = x;
            aborted = false;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Detaches the connection of an exchange that ended, before it goes back to the pool: after this, a
     * {@link #cancel()} no longer touches it.
     *
     * @return whether {@link #cancel()} aborted it while attached
     */
    boolean detach(Object c) {
        lock.lock();
        try {
            if (exchange != c) {
                return false;
            }
            exchange = null;
            boolean wasAborted = aborted;
            aborted = false;
            return wasAborted;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "Cancellation{" + (canceled ? "canceled" : "active") + "}";
    }
}
