package io.berth.transport;

import io.berth.ResponseTimeoutException;
import io.berth.Server;
import io.berth.spi.Connection;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A connection over a {@code SocketChannel} that stays in non-blocking mode for its whole life, with
 * a {@code Selector} of its own on which the channel is registered once.
 *
 * <p><b>I/O design.</b> Reads and writes first try the non-blocking syscall; only when it cannot make
 * progress does the thread wait in {@link Selector#select(Consumer, long)} (one {@code epoll_wait},
 * no selected-key set, no allocation) with the remaining time, so timeouts are exact and interrupts
 * are seen. The exception is the first read after a write: the response to a request just sent is
 * not there yet, so that read waits first ({@link #responseDue}). A small exchange thus costs
 * {@code write}, {@code epoll_wait}, {@code read}: three syscalls, as many as a blocking
 * {@code SSLSocket} without a timeout makes (it reads a record's header and body separately), fewer
 * than one with {@code SO_TIMEOUT} (about five: {@code read} until {@code EAGAIN}, {@code poll}, two
 * {@code read}s) and than timed reads through a blocking channel's socket adaptor (which toggles
 * {@code O_NONBLOCK} around every read: four {@code fcntl}s). Because the channel is never switched
 * to blocking mode, {@link #liveness()} is a plain non-blocking {@code read}, and an interrupt never
 * closes the channel (only blocking channel operations do that). The price is two file descriptors
 * per connection for the selector (an epoll instance and an eventfd on Linux): three in all.
 *
 * <p><b>Threads.</b> One thread at a time does I/O (the lease holder, or the pool for
 * {@code liveness()} and {@code idle()}); each I/O method holds {@code ioLock}, uncontended, so that
 * buffers and engine state pass safely from one thread to the next. {@link #abort()} may come from
 * any thread at any time: it resets the socket and closes the selector, which wakes a thread waiting
 * in it. Buffers are given back to the {@link BufferPool} by whoever holds {@code ioLock} after the
 * close, never while another thread may still use them.
 */
abstract class NioConnection implements Connection {
    private static final System.Logger LOG = System.getLogger(NioConnection.class.getName());

    /** Selection action that does nothing: we only need to know that the channel became ready. */
    static final Consumer<SelectionKey> NO_ACTION = key -> { };

    private static final int OPEN = 0;
    private static final int CLOSED = 1;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(NioConnection.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final Server server;
    final SocketChannel channel;
    final BufferPool buffers;
    private final Selector selector;
    private final SelectionKey key;
    private final NioConnector connector;
    private final ReentrantLock ioLock = new ReentrantLock();
    private volatile int state; // OPEN -> CLOSED, once, by CAS
    /**
     * Whether a request went out since the last read: its response cannot have arrived yet, so the
     * next read waits before it tries the socket, saving a read that would only say EAGAIN.
     */
    boolean responseDue;

    NioConnection(Server server, SocketChannel channel, Selector selector, NioConnector connector) {
        this.server = server;
        this.channel = channel;
        this.selector = selector;
        this.key = channel.keyFor(selector);
        this.connector = connector;
        this.buffers = connector.buffers();
    }

    @Override
    public final Server server() {
        return server;
    }

    @Override
    public final boolean isOpen() {
        return state == OPEN;
    }

    @Override
    public final int read(ByteBuffer dst, long timeoutNanos) throws IOException {
        if (!dst.hasRemaining()) {
            throw new IllegalArgumentException("dst must have space remaining but was " + dst);
        }
        requirePositive(timeoutNanos);
        beginIo("read from");
        try {
            return doRead(dst, timeoutNanos);
        } catch (IOException | RuntimeException e) {
            throw failure(e, "reading from");
        } finally {
            responseDue = false;
            endIo();
        }
    }

    @Override
    public final void write(ByteBuffer src, long timeoutNanos) throws IOException {
        requirePositive(timeoutNanos);
        beginIo("write to");
        try {
            doWrite(src, timeoutNanos);
            responseDue = true;
        } catch (IOException | RuntimeException e) {
            throw failure(e, "writing to");
        } finally {
            endIo();
        }
    }

    @Override
    public final Liveness liveness() {
        return look(true);
    }

    @Override
    public final Liveness bufferedLiveness() {
        return look(false);
    }

    /** @param read whether to read the socket, or only look at what this connection holds */
    private Liveness look(boolean read) {
        if (!ioLock.tryLock()) {
            return Liveness.ALIVE; // an exchange is under way: not idle, nothing to say
        }
        try {
            if (state != OPEN) {
                return Liveness.CLOSED_BY_PEER;
            }
            return read ? doLiveness() : doBufferedLiveness();
        } catch (IOException | RuntimeException e) {
            // reset, or a TLS record that does not decrypt: either way the server is gone for us
            LOG.log(System.Logger.Level.DEBUG, () -> describe() + ": liveness check failed: " + e);
            return Liveness.CLOSED_BY_PEER;
        } finally {
            endIo();
        }
    }

    @Override
    public final void idle() {
        if (ioLock.tryLock()) {
            try {
                if (state == OPEN) {
                    releaseIdleBuffers();
                }
            } finally {
                endIo();
            }
        }
    }

    @Override
    public final boolean close() {
        if (!STATE.compareAndSet(this, OPEN, CLOSED)) {
            return false;
        }
        boolean graceful = false;
        if (ioLock.tryLock()) { // not held: an exchange is under way, so the engine is not ours to use
            try {
                graceful = writeCloseNotify() && shutdownOutput();
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> describe() + ": graceful close failed, aborting: " + e);
            } finally {
                releaseAllBuffers();
                ioLock.unlock();
            }
        }
        closeChannel(!graceful);
        connector.countClose(graceful);
        return graceful;
    }

    @Override
    public final void abort() {
        if (closeNow(true)) {
            connector.countClose(false);
        }
    }

    /** Closes a connection that never left {@link NioConnector#connect}: not counted. */
    final void discard() {
        closeNow(false);
    }

    /**
     * Closes at once, from any thread: buffers are given back here unless another thread is doing
     * I/O, in which case it gives them back itself ({@link #endIo()}).
     *
     * @return whether this call closed the connection (it was open)
     */
    private boolean closeNow(boolean reset) {
        if (!STATE.compareAndSet(this, OPEN, CLOSED)) {
            return false;
        }
        closeChannel(reset);
        if (ioLock.tryLock()) {
            try {
                releaseAllBuffers();
            } finally {
                ioLock.unlock();
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return describe();
    }

    // ---- what TLS and plain connections do differently

    abstract int doRead(ByteBuffer dst, long timeoutNanos) throws IOException;

    abstract void doWrite(ByteBuffer src, long timeoutNanos) throws IOException;

    abstract Liveness doLiveness() throws IOException;

    /** {@link #doLiveness()} without reading the socket: what this connection already holds. */
    abstract Liveness doBufferedLiveness() throws IOException;

    /** Writes a TLS close_notify without waiting. @return whether it was written completely */
    abstract boolean writeCloseNotify() throws IOException;

    /** Gives back the buffers that hold no pending bytes. Called with {@code ioLock} held. */
    abstract void releaseIdleBuffers();

    /** Gives back all buffers, pending bytes or not. Called with {@code ioLock} held, once closed. */
    abstract void releaseAllBuffers();

    // ---- waiting

    /**
     * Waits until the channel is ready for {@code ops} ({@link SelectionKey#OP_READ} or
     * {@link SelectionKey#OP_WRITE}) or the deadline passes.
     *
     * @return {@code true} if ready (or possibly ready), {@code false} if the deadline passed
     * @throws InterruptedIOException if the thread is interrupted; the flag stays set
     * @throws SocketException if the connection was aborted meanwhile
     */
    final boolean await(int ops, long deadline) throws IOException {
        try {
            if (key.interestOps() != ops) {
                key.interestOps(ops);
            }
            while (true) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedIOException("interrupted while waiting to "
                            + (ops == SelectionKey.OP_READ ? "read from " : "write to ") + server);
                }
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                if (selector.select(NO_ACTION, ceilMillis(remaining)) > 0) {
                    return true;
                }
                if (state != OPEN) {
                    throw closedError();
                }
            }
        } catch (ClosedSelectorException | CancelledKeyException e) {
            throw closedError();
        }
    }

    /** Writes all of {@code src}, waiting up to {@code timeoutNanos} each time the send buffer is full. */
    final void writeFully(ByteBuffer src, long timeoutNanos) throws IOException {
        while (src.hasRemaining()) {
            if (channel.write(src) == 0 && !await(SelectionKey.OP_WRITE, System.nanoTime() + timeoutNanos)) {
                throw new SocketTimeoutException("writing to " + server + " timed out: the send buffer stayed full for "
                        + millis(timeoutNanos) + " (responseTimeout)");
            }
        }
    }

    final ResponseTimeoutException responseTimeout(long timeoutNanos) {
        return new ResponseTimeoutException("no byte from " + server + " in " + millis(timeoutNanos)
                + " (responseTimeout)");
    }

    final SocketException closedError() {
        return new SocketException("connection to " + server + " was closed");
    }

    /** Makes an I/O failure name the server, keeping its type and cause. */
    private IOException failure(Exception e, String doing) {
        if (e instanceof RuntimeException r) {
            if (state != OPEN) { // e.g. a channel closed under us by abort()
                SocketException closed = closedError();
                closed.initCause(r);
                return closed;
            }
            throw r;
        }
        IOException io = (IOException) e;
        if (state != OPEN && !(io instanceof InterruptedIOException) && !(io instanceof SocketTimeoutException)) {
            SocketException closed = closedError();
            closed.initCause(io);
            return closed;
        }
        String msg = io.getMessage();
        if (msg != null && msg.contains(server.toString())) {
            return io;
        }
        String named = doing + " " + server + ": " + msg;
        if (io.getClass() == SocketException.class) {
            return (IOException) new SocketException(named).initCause(io);
        }
        if (io.getClass() == IOException.class) {
            return new IOException(named, io);
        }
        io.addSuppressed(new FailureContext(named));
        return io;
    }

    private void beginIo(String what) throws IOException {
        ioLock.lock();
        if (state != OPEN) {
            ioLock.unlock();
            throw new SocketException("cannot " + what + " " + server + ": the connection is closed");
        }
    }

    /**
     * Unlocks; if the connection was closed meanwhile by another thread, which could not give the
     * buffers back while we used them, gives them back now.
     */
    private void endIo() {
        ioLock.unlock();
        if (state != OPEN && ioLock.tryLock()) {
            try {
                releaseAllBuffers();
            } finally {
                ioLock.unlock();
            }
        }
    }

    private boolean shutdownOutput() throws IOException {
        channel.shutdownOutput();
        return true;
    }

    /** Closes the selector (waking a thread in it) and the channel, with a reset if asked. Never throws. */
    private void closeChannel(boolean reset) {
        if (reset) {
            try {
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.TRACE, () -> server + ": cannot set SO_LINGER 0: " + e);
            }
        }
        closeQuietly(selector, channel);
    }

    static void closeQuietly(Selector selector, SocketChannel channel) {
        if (selector != null) {
            try {
                selector.close(); // deregisters the channel, so that closing it closes its fd at once
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.TRACE, () -> "cannot close a selector: " + e);
            }
        }
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.TRACE, () -> "cannot close a channel: " + e);
            }
        }
    }

    static long ceilMillis(long nanos) {
        return Math.max(1, (nanos + 999_999) / 1_000_000);
    }

    static String millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos) + " ms";
    }

    private static void requirePositive(long timeoutNanos) {
        if (timeoutNanos <= 0) {
            throw new IllegalArgumentException("timeoutNanos must be positive but was " + timeoutNanos);
        }
    }

    /** A suppressed exception that says where a failure of a JDK-typed exception happened. */
    static final class FailureContext extends Exception {
        private static final long serialVersionUID = 1L;

        FailureContext(String message) {
            super(message, null, false, false);
        }
    }
}
