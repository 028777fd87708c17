package io.berth.transport;

import io.berth.ResponseTimeoutException;
import io.berth.Server;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A connection over a {@code SocketChannel} in blocking mode: one file descriptor, no selector. A
 * thread that needs bytes blocks in {@code read} (a platform thread in the kernel, a virtual thread
 * parked by the JDK); every bounded wait is enforced by the {@link Watchdog}, which aborts the
 * connection when a deadline passes.
 *
 * <p><b>I/O design.</b> A small exchange costs two syscalls: {@code write} of the request, then one
 * {@code read} that sleeps in the socket until the response is there (a blocking {@code SSLSocket}
 * makes three, reading a record's header and body apart). Before such a read the read side is
 * armed ({@link Watchdog.Watched#arm}: a clock read and a volatile store) and after it disarmed (a
 * CAS): no lock, no allocation. If the watchdog fired first, the read fails with
 * {@link ResponseTimeoutException}, whatever the aborted socket said, so a timeout is never
 * mistaken for the peer closing. A write is armed the same way, per slice of at most
 * {@link #WRITE_SLICE} bytes (a TLS record is one slice): a peer that stops reading gives a
 * {@link SocketTimeoutException} naming {@code responseTimeout}.
 *
 * <p><b>Liveness.</b> {@link #liveness()} switches the channel to non-blocking mode for one
 * {@code read} and back: four {@code fcntl}s around it, paid only by a reuse after
 * {@code validateAfterIdle}, never by an exchange. {@link #bufferedLiveness()} makes no syscall.
 *
 * <p><b>Interrupts.</b> An interrupt of a thread blocked in a channel operation closes the channel
 * (the JDK's rule for interruptible channels, on platform and virtual threads alike): the operation
 * fails with an {@link InterruptedIOException} naming the server, the thread's interrupt flag stays
 * set, and the connection is broken. Because {@code SO_LINGER} is 0 from the end of {@code connect}
 * on, that close is a reset, as an {@link #abort()} is; a graceful {@link #close()} turns lingering
 * back off first.
 *
 * <p><b>Threads.</b> The read side and the write side each have a lock: one thread at a time on each,
 * both at once allowed (full duplex, for a reader that stays blocked in {@link #readNoDeadline} while
 * callers write; the {@code SSLEngine} allows a concurrent wrap and unwrap). The locks are
 * {@link ReentrantLock}s, uncontended in HTTP/1.1, so that buffers and engine state pass safely from
 * one thread to the next, and so that a virtual thread waiting for one parks instead of pinning its
 * carrier. {@link #abort()} may come from any thread at any time: it closes the channel with a reset,
 * which wakes a thread blocked in it. Each side's buffers are given back to the {@link BufferPool}
 * by whoever holds that side's lock after the close, never while another thread may still use them.
 * So is each side's stage, a direct buffer the channel reads into or writes from while the
 * connection is busy ({@link #channelRead}), from {@link BufferPool#sharedDirect()}.
 */
abstract class NioConnection extends Watchdog.Watched implements DuplexConnection {
    private static final System.Logger LOG = System.getLogger(NioConnection.class.getName());

    /** The most bytes one armed blocking write may carry: the write timeout bounds each slice. */
    static final int WRITE_SLICE = 64 * 1024;

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
    /** Direct buffers the channel reads into and writes from: see {@link #channelRead}. */
    private final BufferPool stages;
    private final NioConnector connector;
    final ReentrantLock readLock = new ReentrantLock();
    final ReentrantLock writeLock = new ReentrantLock();
    private volatile int state; // OPEN -> CLOSED, once, by CAS
    /** Whether {@link NioConnector#connect} returned it: only then are its closes counted. */
    private volatile boolean ready;
    /** {@link #closeOutput} wrote the close_notify and FIN: {@link #close()} has nothing more to write. */
    private volatile boolean outputClosed;
    /**
     * {@link #closeOutput} is under way: a {@link #close()} meanwhile (the reader saw the server's
     * answer to our close_notify before our FIN was out) waits for it, which the linger deadline bounds.
     */
    private volatile boolean closingOutput;
    /** Read side: the timeout of the operation under way, or 0 for none. */
    private long readTimeoutNanos;
    /** Read side: the deadline armed for the operation under way, or 0. */
    private long readArmed;
    /** Read side: the direct buffer {@link #channelRead} reads into, or null; always empty between reads. */
    private ByteBuffer stageIn;
    /** Write side: the direct buffer {@link #writeFully} writes from, or null; always empty between writes. */
    private ByteBuffer stageOut;

    NioConnection(Server server, SocketChannel channel, NioConnector connector) {
        super(Watchdog.SHARED);
        this.server = server;
        this.channel = channel;
        this.connector = connector;
        this.buffers = connector.buffers();
        this.stages = connector.stages();
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
        return readSide(dst, timeoutNanos);
    }

    @Override
    public final int readNoDeadline(ByteBuffer dst) throws IOException {
        if (!dst.hasRemaining()) {
            throw new IllegalArgumentException("dst must have space remaining but was " + dst);
        }
        return readSide(dst, 0);
    }

    private int readSide(ByteBuffer dst, long timeoutNanos) throws IOException {
        beginRead("read from");
        readTimeoutNanos = timeoutNanos;
        try {
            int n = doRead(dst, timeoutNanos);
            if (!endReadWait()) {
                throw responseTimeout(timeoutNanos, null);
            }
            return n;
        } catch (IOException | RuntimeException e) {
            if (!endReadWait()) {
                throw responseTimeout(timeoutNanos, e);
            }
            throw failure(e, "reading from");
        } finally {
            endRead();
        }
    }

    @Override
    public final void write(ByteBuffer src, long timeoutNanos) throws IOException {
        requirePositive(timeoutNanos);
        beginWrite();
        try {
            doWrite(src, timeoutNanos);
        } catch (IOException | RuntimeException e) {
            throw failure(e, "writing to");
        } finally {
            endWrite();
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
        if (!readLock.tryLock()) {
            return Liveness.ALIVE; // a read is under way: not idle, nothing to say
        }
        try {
            if (state != OPEN) {
                return Liveness.CLOSED_BY_PEER;
            }
            if (!read) {
                return doBufferedLiveness();
            }
            if (!writeLock.tryLock()) {
                return Liveness.ALIVE; // a write is under way: not idle either
            }
            try {
                channel.configureBlocking(false);
                try {
                    return doLiveness();
                } finally {
                    channel.configureBlocking(true);
                }
            } finally {
                endWrite();
            }
        } catch (IOException | RuntimeException e) {
            // reset, or a TLS record that does not decrypt: either way the server is gone for us
            LOG.log(System.Logger.Level.DEBUG, () -> describe() + ": liveness check failed: " + e);
            return Liveness.CLOSED_BY_PEER;
        } finally {
            endRead();
        }
    }

    @Override
    public final void idle() {
        if (readLock.tryLock()) {
            try {
                if (state == OPEN) {
                    releaseRead(true);
                }
            } finally {
                endRead();
            }
        }
        if (writeLock.tryLock()) {
            try {
                if (state == OPEN) {
                    releaseWrite(true);
                }
            } finally {
                endWrite();
            }
        }
    }

    @Override
    public final boolean close() {
        if (!STATE.compareAndSet(this, OPEN, CLOSED)) {
            return false;
        }
        boolean graceful = false;
        // Neither side may be in use: the engine is not ours to use then, and the channel's mode
        // cannot change under a blocked thread. Otherwise: abort.
        if (readLock.tryLock()) {
            try {
                boolean writeSide;
                if (closingOutput) {
                    writeLock.lock(); // closeOutput finishes soon: its write is bounded by the watchdog
                    writeSide = true;
                } else {
                    writeSide = writeLock.tryLock();
                }
                if (writeSide) {
                    try {
                        channel.configureBlocking(false); // the close_notify goes out now or never
                        graceful = outputClosed || writeCloseNotify() && shutdownOutput();
                    } catch (IOException | RuntimeException e) {
                        LOG.log(System.Logger.Level.DEBUG, () -> describe() + ": graceful close failed, aborting: " + e);
                    } finally {
                        releaseWrite(false);
                        writeLock.unlock();
                    }
                }
            } finally {
                releaseRead(false);
                readLock.unlock();
            }
        }
        closeChannel(!graceful);
        unwatch();
        connector.countClose(graceful);
        return graceful;
    }

    @Override
    public final boolean closeOutput(ByteBuffer last, long lingerNanos) {
        requirePositive(lingerNanos);
        writeLock.lock();
        closingOutput = true;
        try {
            if (state != OPEN) {
                return false;
            }
            if (last != null) {
                doWrite(last, lingerNanos);
            }
            // Left armed on purpose: the linger deadline. close() unwatches the connection, so a
            // connection closed in time is never fired; one still open then is aborted.
            arm(Watchdog.WRITE, lingerNanos);
            writeCloseNotify(); // blocking mode: the whole record, or the watchdog aborts
            channel.shutdownOutput();
            outputClosed = true;
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> describe() + ": cannot close the output side, aborting: " + e);
            closeNow(true);
            return false;
        } finally {
            closingOutput = false;
            endWrite();
        }
    }

    @Override
    public final void abort() {
        closeNow(true);
    }

    /** The watchdog fired a deadline: abort, which wakes the thread blocked on the channel. */
    @Override
    final void expire(int side) {
        abort();
    }

    /**
     * Called by {@link NioConnector#connect} once the connection is ready: from now on it resets
     * when closed other than gracefully (also when the JDK closes it on an interrupt), and its
     * closes are counted.
     */
    final void ready() throws IOException {
        channel.setOption(StandardSocketOptions.SO_LINGER, 0);
        ready = true;
    }

    /** Closes a connection that never left {@link NioConnector#connect}. */
    final void discard() {
        closeNow(false);
    }

    /**
     * Closes at once, from any thread, counted as an abort if the connection was {@link #ready}
     * (before the channel closes, so that whoever the close wakes sees it counted). Each side's
     * buffers are given back here unless another thread is using that side, in which case it gives
     * them back itself ({@link #endRead()}, {@link #endWrite()}).
     */
    private void closeNow(boolean reset) {
        if (!STATE.compareAndSet(this, OPEN, CLOSED)) {
            return;
        }
        if (ready) {
            connector.countClose(false);
        }
        closeChannel(reset);
        unwatch();
        if (readLock.tryLock()) {
            try {
                releaseRead(false);
            } finally {
                readLock.unlock();
            }
        }
        if (writeLock.tryLock()) {
            try {
                releaseWrite(false);
            } finally {
                writeLock.unlock();
            }
        }
    }

    @Override
    public String toString() {
        return describe();
    }

    // ---- what TLS and plain connections do differently

    /**
     * Reads into {@code dst}, with the read lock held; gets bytes from the socket with
     * {@link #channelRead}, which arms the operation's deadline.
     *
     * @param timeoutNanos the operation's timeout, or 0 for none ({@link #readNoDeadline})
     */
    abstract int doRead(ByteBuffer dst, long timeoutNanos) throws IOException;

    /** Writes all of {@code src}, with the write lock held, through {@link #writeFully}. */
    abstract void doWrite(ByteBuffer src, long timeoutNanos) throws IOException;

    /** Looks at the idle connection, reading the socket, which is in non-blocking mode now. */
    abstract Liveness doLiveness() throws IOException;

    /** {@link #doLiveness()} without reading the socket: what this connection already holds. */
    abstract Liveness doBufferedLiveness() throws IOException;

    /**
     * Writes a TLS close_notify: without waiting from {@link #close()} (the channel is in
     * non-blocking mode then), whole from {@link #closeOutput} (blocking mode, under the watchdog).
     *
     * @return whether it was written completely
     */
    abstract boolean writeCloseNotify() throws IOException;

    /**
     * Gives back the read side's buffers. Called with the read lock held.
     *
     * @param onlyEmpty give back only buffers that hold no pending bytes (the connection stays open)
     */
    abstract void releaseReadBuffers(boolean onlyEmpty);

    /** As {@link #releaseReadBuffers}, for the write side, with the write lock held. */
    abstract void releaseWriteBuffers(boolean onlyEmpty);

    /** Gives back the read side's stage and buffers ({@link #releaseReadBuffers}). With the read lock held. */
    private void releaseRead(boolean onlyEmpty) {
        if (stageIn != null) {
            stages.give(stageIn);
            stageIn = null;
        }
        releaseReadBuffers(onlyEmpty);
    }

    /** As {@link #releaseRead}, for the write side, with the write lock held. */
    private void releaseWrite(boolean onlyEmpty) {
        if (stageOut != null) {
            stages.give(stageOut);
            stageOut = null;
        }
        releaseWriteBuffers(onlyEmpty);
    }

    /** @return how many stages (direct buffers) this connection holds now (for tests) */
    final int heldStages() {
        return (stageIn == null ? 0 : 1) + (stageOut == null ? 0 : 1);
    }

    // ---- blocking I/O under the watchdog

    /**
     * Reads from the channel, blocking until at least one byte arrives, the stream ends or the
     * connection is aborted. The first call of a read operation arms its deadline; the operation
     * disarms it when it ends. With the read lock held.
     *
     * <p>A heap buffer is read through the side's stage, a direct buffer of the connection's own
     * while it is busy: the JDK would otherwise take a temporary direct buffer from a per-thread cache
     * and give it back around every read, and that costs more than the copy itself.
     *
     * @return bytes read, or -1 at the end of the stream
     */
    final int channelRead(ByteBuffer into) throws IOException {
        if (readArmed == 0 && readTimeoutNanos > 0) {
            readArmed = arm(Watchdog.READ, readTimeoutNanos);
        }
        if (into.isDirect()) {
            return channel.read(into);
        }
        ByteBuffer stage = stageIn;
        if (stage == null) {
            stage = stageIn = stages.take();
        }
        stage.clear();
        if (into.remaining() < stage.capacity()) {
            stage.limit(into.remaining());
        }
        int n = channel.read(stage);
        if (n > 0) {
            into.put(stage.flip());
        }
        return n;
    }

    /** Writes some of {@code src}, a heap buffer through the write side's stage (see {@link #channelRead}). */
    private void channelWrite(ByteBuffer src) throws IOException {
        if (src.isDirect()) {
            channel.write(src);
            return;
        }
        ByteBuffer stage = stageOut;
        if (stage == null) {
            stage = stageOut = stages.take();
        }
        int n = Math.min(src.remaining(), stage.capacity());
        stage.clear().put(0, src, src.position(), n).limit(n);
        src.position(src.position() + channel.write(stage));
    }

    /**
     * Arms the read side for a whole operation that does not go through {@link #read} (the TLS
     * handshake), for {@link #endReadWait()} to disarm.
     */
    final void armReadOperation(long timeoutNanos) {
        readTimeoutNanos = timeoutNanos;
        readArmed = arm(Watchdog.READ, timeoutNanos);
    }

    /** @return {@code false} if the watchdog fired the read operation's deadline, else {@code true} */
    final boolean endReadWait() {
        long d = readArmed;
        readTimeoutNanos = 0;
        if (d == 0) {
            return true;
        }
        readArmed = 0;
        return disarm(Watchdog.READ, d);
    }

    /**
     * Writes all of {@code src} to the channel, blocking while the send buffer is full, each slice of
     * at most {@link #WRITE_SLICE} bytes bounded by {@code timeoutNanos}. With the write lock held.
     *
     * @throws SocketTimeoutException naming {@code responseTimeout} if a slice did not go out in time
     */
    final void writeFully(ByteBuffer src, long timeoutNanos) throws IOException {
        while (src.hasRemaining()) {
            int limit = src.limit();
            if (src.remaining() > WRITE_SLICE) {
                src.limit(src.position() + WRITE_SLICE);
            }
            long d = arm(Watchdog.WRITE, timeoutNanos);
            try {
                while (src.hasRemaining()) {
                    channelWrite(src);
                }
            } catch (IOException | RuntimeException e) {
                if (!disarm(Watchdog.WRITE, d)) {
                    throw writeTimeout(timeoutNanos, e);
                }
                throw e;
            } finally {
                src.limit(limit);
            }
            if (!disarm(Watchdog.WRITE, d)) {
                throw writeTimeout(timeoutNanos, null);
            }
        }
    }

    private SocketTimeoutException writeTimeout(long timeoutNanos, Exception cause) {
        SocketTimeoutException e = new SocketTimeoutException("writing to " + server
                + " timed out: the send buffer stayed full for " + millis(timeoutNanos) + " (responseTimeout)");
        return withCause(e, cause);
    }

    private ResponseTimeoutException responseTimeout(long timeoutNanos, Exception cause) {
        return withCause(new ResponseTimeoutException("no byte from " + server + " in " + millis(timeoutNanos)
                + " (responseTimeout)"), cause);
    }

    static <E extends IOException> E withCause(E e, Exception cause) {
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    final SocketException closedError() {
        return new SocketException("connection to " + server + " was closed");
    }

    /** Makes an I/O failure name the server, keeping its type and cause. */
    final IOException failure(Exception e, String doing) {
        if (e instanceof ClosedByInterruptException) {
            // The JDK closed the channel (with a reset: SO_LINGER is 0); the flag is still set.
            InterruptedIOException interrupted = new InterruptedIOException("interrupted while " + doing + " " + server);
            interrupted.initCause(e);
            return interrupted;
        }
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

    private void beginRead(String what) throws IOException {
        readLock.lock();
        if (state != OPEN) {
            readLock.unlock();
            throw new SocketException("cannot " + what + " " + server + ": the connection is closed");
        }
    }

    private void beginWrite() throws IOException {
        writeLock.lock();
        if (state != OPEN) {
            writeLock.unlock();
            throw new SocketException("cannot write to " + server + ": the connection is closed");
        }
    }

    /**
     * Unlocks the read side; if the connection was closed meanwhile by another thread, which could
     * not give that side's buffers back while we used them, gives them back now.
     */
    final void endRead() {
        readLock.unlock();
        if (state != OPEN && readLock.tryLock()) {
            try {
                releaseRead(false);
            } finally {
                readLock.unlock();
            }
        }
    }

    /** As {@link #endRead()}, for the write side. */
    final void endWrite() {
        writeLock.unlock();
        if (state != OPEN && writeLock.tryLock()) {
            try {
                releaseWrite(false);
            } finally {
                writeLock.unlock();
            }
        }
    }

    private boolean shutdownOutput() throws IOException {
        channel.shutdownOutput();
        return true;
    }

    /** Closes the channel, with a reset or gracefully (lingering off). Never throws. */
    private void closeChannel(boolean reset) {
        try {
            // SO_LINGER is 0 once ready (a reset); a graceful close turns lingering off first.
            channel.setOption(StandardSocketOptions.SO_LINGER, reset ? 0 : -1);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.TRACE, () -> server + ": cannot set SO_LINGER: " + e);
        }
        closeQuietly(channel);
    }

    static void closeQuietly(SocketChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.TRACE, () -> "cannot close a channel: " + e);
            }
        }
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
