package io.berth.transport.http2;

import io.berth.ResponseTimeoutException;
import io.berth.StreamResetException;
import io.berth.TruncatedBodyException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One request and its response on an {@link Http2Connection}: a client stream (RFC 9113 §5.1). Opened
 * by {@link Http2Connection#newStream}, which writes the request head (and a small body); the rest of
 * the request body goes out with {@link #writeData}; the response comes in through
 * {@link #awaitResponseHeaders}, {@link #read} and {@link #trailers}.
 *
 * <p><b>Receiving.</b> The connection's reader hands this stream its frames: it skips interim (1xx)
 * heads, checks the response (RFC 9113 §8.3.2: {@code :status} alone among pseudo-header fields,
 * lower-case names, no connection-specific field, a body matching its {@code content-length}) and
 * buffers the body until the caller reads it, at most the stream's receive window
 * ({@link Http2Options#streamWindowSize()}): the window is credited back (WINDOW_UPDATE) as the caller
 * reads, so a stream nobody reads stalls alone. A malformed response resets the stream
 * (PROTOCOL_ERROR); a body shorter than its {@code content-length} is never passed off as complete
 * ({@link TruncatedBodyException}).
 *
 * <p><b>Failures</b>, thrown by the methods that wait: {@link io.berth.RequestNotProcessedException}
 * when the server did not process the request (a GOAWAY below this stream, REFUSED_STREAM), safe to
 * send again whatever the method; {@link StreamResetException} when the server reset the stream with
 * another code, or Berth reset it on a malformed response; a plain {@link IOException} (with the cause)
 * when the connection failed while the stream was open, in which case the request may have been
 * processed. A wait that times out throws {@link ResponseTimeoutException} and cancels the stream.
 *
 * <p><b>Ending.</b> A stream ends when its response was read to the end ({@link #read} returned -1) or
 * it failed; one the caller abandons earlier must be {@link #cancel() cancelled}, which resets it
 * (RST_STREAM CANCEL) and gives its buffers back.
 *
 * <p>Thread-safe, but meant for one caller at a time (the exchange's thread); {@link #cancel()} may
 * come from any thread. No monitor is held while waiting: waits park on a {@link ReentrantLock}'s
 * condition, so virtual threads unmount.
 */
public final class Http2Stream {
    private static final long NO_LENGTH = -1;
    private static final byte[] NO_BYTES = new byte[0];

    private final Http2Connection connection;
    private final int id;
    private final boolean noBodyExpected;
    private final int windowSize;

    // ---- send side and life on the wire: guarded by the connection's lock
    /** DATA bytes the server lets us send on this stream now; may go negative (SETTINGS). */
    long sendWindow;
    /** We wrote END_STREAM, or will write nothing more (reset). */
    boolean endSent;
    /** The server ended its side (END_STREAM), or the stream was reset. */
    boolean endReceived;
    /** Out of the connection's table: closed on the wire. */
    boolean removed;
    /** Where its HEADERS begin in the connection's output (set once, before the stream is published). */
    long headersAt;
    /** Where its HEADERS (and the DATA that went with them) end in the connection's output. Its caller's. */
    long headersEnd;
    /** When its HEADERS must have been written, or the connection is wedged ({@link System#nanoTime()}). Its caller's. */
    long writeDeadline;
    /** Its caller's write timeout. */
    long writeTimeoutNanos;
    /** Queued for {@link #wake()} after the reader's current read. The reader's own. */
    boolean wakeQueued;
    /** Its HEADERS were seen written. Its caller's. */
    private boolean headersWritten;
    /** The server reset the stream with NO_ERROR after a complete response: stop sending, no error. */
    volatile boolean stopSending;

    // ---- receive side: guarded by lock
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private Http2Headers head;
    private Http2Headers trailers;
    private boolean started;
    private boolean ended;
    private boolean cancelled;
    /** Why the stream failed, or null; written under {@link #lock}. */
    private volatile IOException failure;
    private Chunks.Chunk first;
    private Chunks.Chunk last;
    /** DATA bytes the server may still send on this stream. */
    private long receiveWindow;
    /** Bytes read (or padding received) and not yet credited back with a WINDOW_UPDATE. */
    private int uncredited;
    private long contentLength = NO_LENGTH;
    private long received;
    /** The body ended short of its content-length (the reason of the stream error then). */
    private boolean truncated;
    private volatile boolean complete;

    Http2Stream(Http2Connection connection, int id, boolean headRequest, long sendWindow, int windowSize) {
        this.connection = connection;
        this.id = id;
        this.noBodyExpected = headRequest;
        this.sendWindow = sendWindow;
        this.windowSize = windowSize;
        this.receiveWindow = windowSize;
    }

    /** @return the stream id: odd, positive, increasing in the order streams were opened */
    public int id() {
        return id;
    }

    /** @return the connection this stream belongs to */
    public Http2Connection connection() {
        return connection;
    }

    /**
     * Writes request body bytes as DATA frames, waiting for the stream's and the connection's send
     * windows as needed; with {@code endStream}, ends the request (END_STREAM) once all of {@code src}
     * is written. If the server already sent a complete response and asked us to stop sending
     * (RST_STREAM NO_ERROR), the bytes are discarded.
     *
     * @param src the bytes; its position moves to its limit
     * @param endStream whether these are the request's last bytes
     * @param timeoutNanos how long to wait for the windows to open, and for each write to the socket;
     *     positive
     * @throws java.net.SocketTimeoutException if a window stayed closed for {@code timeoutNanos} (the
     *     stream is cancelled), or a write did not complete in it (the connection fails)
     * @throws StreamResetException if the server reset the stream
     * @throws IOException if the stream or the connection failed, or the stream was cancelled
     * @throws IllegalStateException if the request was already ended
     * @throws IllegalArgumentException if {@code timeoutNanos} is not positive
     */
    public void writeData(ByteBuffer src, boolean endStream, long timeoutNanos) throws IOException {
        Objects.requireNonNull(src, "src");
        Http2Connection.checkTimeout(timeoutNanos);
        connection.writeData(this, src, endStream, timeoutNanos);
    }

    /**
     * Waits for the final response head, skipping interim (1xx) responses.
     *
     * @param timeoutNanos how long to wait for it; positive
     * @return the head: {@code :status} first, then the header fields
     * @throws ResponseTimeoutException if it did not come in time; the stream is cancelled
     * @throws io.berth.RequestNotProcessedException if the server did not process the request
     * @throws StreamResetException if the stream was reset
     * @throws java.io.InterruptedIOException if the thread was interrupted (its flag stays set); the
     *     stream is cancelled
     * @throws IOException if the connection failed, or the stream was cancelled
     * @throws IllegalArgumentException if {@code timeoutNanos} is not positive
     */
    public Http2Headers awaitResponseHeaders(long timeoutNanos) throws IOException {
        Http2Connection.checkTimeout(timeoutNanos);
        lock.lock();
        try {
            long left = timeoutNanos;
            while (head == null) {
                throwIfFailed();
                throwIfCancelled();
                if (!headersWritten && (headersWritten = connection.written(headersEnd))) {
                    continue;
                }
                if (!headersWritten) {
                    // The HEADERS went to another writer: if they are still not out when this
                    // caller's write timeout ends, the connection is wedged (as if it had written them)
                    long untilWrite = writeDeadline - System.nanoTime();
                    if (untilWrite <= 0) {
                        lock.unlock();
                        try {
                            connection.writeOverdue(this);
                        } finally {
                            lock.lock();
                        }
                        headersWritten = true;
                        continue;
                    }
                    if (untilWrite < left) {
                        long slept = untilWrite - await(untilWrite, timeoutNanos, "response head");
                        left -= slept;
                        continue;
                    }
                }
                left = await(left, timeoutNanos, "response head");
            }
            return head;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reads response body bytes, waiting for them if none are buffered.
     *
     * @param dst where to put them; must have space remaining
     * @param timeoutNanos how long to wait for the next byte; positive
     * @return how many bytes were read (at least 1), or -1 at the end of the body (END_STREAM; the
     *     body had its {@code content-length} if it announced one)
     * @throws ResponseTimeoutException if nothing came in time; the stream is cancelled
     * @throws TruncatedBodyException if the body ended short of its {@code content-length}
     * @throws StreamResetException if the stream was reset before the body's end
     * @throws IOException as {@link #awaitResponseHeaders}
     * @throws IllegalArgumentException if {@code dst} is full or {@code timeoutNanos} is not positive
     */
    public int read(ByteBuffer dst, long timeoutNanos) throws IOException {
        if (!dst.hasRemaining()) {
            throw new IllegalArgumentException("dst must have space remaining but was " + dst);
        }
        Http2Connection.checkTimeout(timeoutNanos);
        int n = 0;
        int credit = 0;
        Chunks.Chunk done = null;
        lock.lock();
        try {
            long left = timeoutNanos;
            while (first == null) {
                throwIfCancelled();
                if (ended && failure == null) {
                    return -1;
                }
                throwIfFailed();
                left = await(left, timeoutNanos, "response body bytes");
            }
            while (first != null && dst.hasRemaining()) {
                Chunks.Chunk c = first;
                int k = Math.min(c.end - c.start, dst.remaining());
                dst.put(c.bytes, c.start, k);
                c.start += k;
                n += k;
                if (c.start == c.end) {
                    first = c.next;
                    if (first == null) {
                        last = null;
                    }
                    c.next = done;
                    done = c;
                }
            }
            if (!ended) {
                uncredited += n;
                if (uncredited >= windowSize / 2) {
                    credit = uncredited;
                    uncredited = 0;
                    receiveWindow += credit;
                }
            }
        } finally {
            lock.unlock();
        }
        connection.consumed(this, n, credit, done);
        return n;
    }

    /**
     * Takes the whole body when the response has already ended (END_STREAM came, without error, and
     * with it the check that the body had its {@code content-length}), without trailers, and its
     * body, all buffered, is at most {@code maxBytes}: the caller then needs no further read, and the
     * stream holds nothing more. Otherwise takes nothing.
     *
     * @param maxBytes the largest body to take
     * @return the body (empty for a response without one), or null if nothing was taken: the response
     *     has not ended, failed, was cancelled, has trailers, or its body is larger
     * @throws IllegalArgumentException if {@code maxBytes} is negative
     */
    public byte[] takeEndedBody(int maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must not be negative: " + maxBytes);
        }
        if (!complete) {
            return null; // the common early answer, without the lock
        }
        byte[] bytes;
        Chunks.Chunk done = null;
        lock.lock();
        try {
            int size = bufferedLocked();
            if (cancelled || failure != null || trailers != null || size > maxBytes) {
                return null;
            }
            bytes = size == 0 ? NO_BYTES : new byte[size];
            int n = 0;
            for (Chunks.Chunk c = first; c != null; ) {
                int k = c.end - c.start;
                System.arraycopy(c.bytes, c.start, bytes, n, k);
                n += k;
                c.start = c.end;
                Chunks.Chunk next = c.next;
                c.next = done;
                done = c;
                c = next;
            }
            first = null;
            last = null;
        } finally {
            lock.unlock();
        }
        connection.consumed(this, bytes.length, 0, done);
        return bytes;
    }

    /**
     * @return the trailer fields once the body has ended: {@link Http2Headers#EMPTY} if the response
     *     had none; {@code null} before the end
     */
    public Http2Headers trailers() {
        lock.lock();
        try {
            return ended ? (trailers != null ? trailers : Http2Headers.EMPTY) : null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * @return whether any response frame arrived for this stream (an interim head included): before
     *     one has, a failure of a replayable request may be retried elsewhere
     */
    public boolean responseStarted() {
        lock.lock();
        try {
            return started;
        } finally {
            lock.unlock();
        }
    }

    /** @return whether the response ended (END_STREAM) without error, whether or not its body was read */
    public boolean isComplete() {
        return complete;
    }

    /**
     * Abandons the stream: resets it (RST_STREAM CANCEL) unless it already ended on both sides, drops
     * what it buffered, and fails its waiters. Idempotent; any thread; never blocks on the network (the
     * reset is queued and written by whoever writes next, at once if nobody does). Once the
     * connection's budget of resets ({@link Http2Options#resetBudget}) is spent, no RST_STREAM is sent:
     * the connection drains instead (its capacity drops to 0) and the stream's data is discarded as it
     * arrives.
     */
    public void cancel() {
        Chunks.Chunk dropped;
        int droppedBytes;
        lock.lock();
        try {
            if (cancelled) {
                return;
            }
            cancelled = true;
            if (failure == null && !ended) {
                failure = new IOException("stream " + id + " to " + connection.server() + " was cancelled");
            }
            dropped = first;
            droppedBytes = bufferedLocked();
            first = null;
            last = null;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        connection.cancelled(this, dropped, droppedBytes);
    }

    /** @return e.g. {@code stream 5 to 127.0.0.1:8443} */
    @Override
    public String toString() {
        return "stream " + id + " to " + connection.server();
    }

    // ---------------------------------------------------------------------------------------------
    // Called by the connection's reader

    /**
     * A decoded header block for this stream.
     *
     * @return a stream error to reset the stream with (malformed), or null
     */
    Http2Exception onHeaders(Http2Headers h, boolean endStream) {
        lock.lock();
        try {
            if (cancelled || failure != null) {
                return null; // decoded for HPACK's sake, not needed
            }
            started = true;
            if (head == null) {
                String problem = ResponseChecks.head(h);
                if (problem != null) {
                    return malformed(problem);
                }
                int status = ResponseChecks.status(h);
                if (status < 200) {
                    if (endStream) {
                        return malformed("an interim " + status + " response ends the stream");
                    }
                    if (status == 101) {
                        return malformed("101 Switching Protocols is not allowed in HTTP/2");
                    }
                    return null; // interim: skipped
                }
                long length = ResponseChecks.contentLength(h);
                if (length == ResponseChecks.INVALID) {
                    return malformed("its content-length is invalid: " + h.first("content-length"));
                }
                boolean bodyless = noBodyExpected || status == 204 || status == 304;
                contentLength = bodyless ? NO_LENGTH : length;
                head = h;
            } else {
                if (ended) {
                    return Http2Exception.streamError(id, Http2ErrorCode.STREAM_CLOSED, "a header block arrived on "
                            + this + " after its end");
                }
                if (!endStream) {
                    return malformed("a header block after the response head does not end the stream"
                            + " (trailers must)");
                }
                String problem = ResponseChecks.trailers(h);
                if (problem != null) {
                    return malformed(problem);
                }
                trailers = h;
            }
            if (endStream) {
                Http2Exception short_ = checkLength();
                if (short_ != null) {
                    return short_;
                }
                end();
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A piece of a DATA frame for this stream.
     *
     * @return how many bytes were buffered for the caller (0 if the stream is cancelled or failed):
     *     the connection credits the rest of {@code flowControlled} at once
     * @throws Http2Exception a stream error: reset the stream with its code
     */
    int onData(ByteBuffer data, int flowControlled, boolean endStream, Chunks chunks) throws Http2Exception {
        lock.lock();
        try {
            receiveWindow -= flowControlled;
            if (receiveWindow < 0) {
                throw Http2Exception.streamError(id, Http2ErrorCode.FLOW_CONTROL_ERROR, "the server sent "
                        + -receiveWindow + " bytes beyond the receive window of " + this);
            }
            if (cancelled || failure != null) {
                return 0;
            }
            if (head == null) {
                throw malformed("DATA arrived before the response head");
            }
            if (ended) {
                throw Http2Exception.streamError(id, Http2ErrorCode.STREAM_CLOSED, "DATA arrived on " + this
                        + " after its end");
            }
            int n = data.remaining();
            received += n;
            if (contentLength != NO_LENGTH && received > contentLength) {
                throw malformed("the body exceeds its content-length of " + contentLength + " bytes");
            }
            append(data, chunks);
            uncredited += flowControlled - n; // padding: credited with the next window update
            if (endStream) {
                Http2Exception short_ = checkLength();
                if (short_ != null) {
                    throw short_;
                }
                end();
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Wakes the caller for what {@link #onHeaders} and {@link #onData} delivered: the reader calls this
     * once per stream after each read from the socket, not per frame, so that a caller whose response
     * head and body came in one read wakes once, to find both.
     */
    void wake() {
        lock.lock();
        try {
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Fails the stream (the server reset it, a GOAWAY excluded it, the connection failed), unless it
     * already ended or failed; drops its buffered bytes if it was not ended.
     *
     * @param error what the caller gets
     * @param keepComplete whether a stream whose response ended keeps its buffered body (a reset with
     *     NO_ERROR after a complete response, or a connection failure after it)
     * @return how many buffered bytes were dropped (chunks given back to {@code chunks})
     */
    int fail(IOException error, boolean keepComplete, Chunks chunks) {
        Chunks.Chunk dropped = null;
        int n = 0;
        lock.lock();
        try {
            if (failure != null || cancelled || ended && keepComplete) {
                return 0;
            }
            failure = error;
            dropped = first;
            n = bufferedLocked();
            first = null;
            last = null;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        if (dropped != null) {
            chunks.give(dropped);
        }
        return n;
    }

    /** @return whether the caller has not seen any response frame yet (for REFUSED_STREAM) */
    boolean notStarted() {
        lock.lock();
        try {
            return !started;
        } finally {
            lock.unlock();
        }
    }

    /** @return the failure, if the stream failed */
    IOException failure() {
        return failure;
    }

    /** @return how many stream-window bytes to credit now for padding received (reader), resetting the count */
    int takePaddingCredit() {
        lock.lock();
        try {
            if (ended || cancelled || failure != null || uncredited < windowSize / 2) {
                return 0;
            }
            int credit = uncredited;
            uncredited = 0;
            receiveWindow += credit;
            return credit;
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------------------------------------

    private void append(ByteBuffer data, Chunks chunks) {
        while (data.hasRemaining()) {
            Chunks.Chunk c = last;
            if (c == null || c.end == Chunks.SIZE) {
                c = chunks.take();
                if (last == null) {
                    first = c;
                } else {
                    last.next = c;
                }
                last = c;
            }
            int k = Math.min(Chunks.SIZE - c.end, data.remaining());
            data.get(c.bytes, c.end, k);
            c.end += k;
        }
    }

    private int bufferedLocked() {
        int n = 0;
        for (Chunks.Chunk c = first; c != null; c = c.next) {
            n += c.end - c.start;
        }
        return n;
    }

    private void end() {
        ended = true;
        complete = true;
    }

    private Http2Exception checkLength() {
        if (contentLength != NO_LENGTH && received < contentLength) {
            truncated = true;
            return Http2Exception.streamError(id, Http2ErrorCode.PROTOCOL_ERROR, "the response on " + this
                    + " ended after " + received + " of the " + contentLength + " bytes its content-length announced");
        }
        return null;
    }

    private Http2Exception malformed(String problem) {
        return Http2Exception.streamError(id, Http2ErrorCode.PROTOCOL_ERROR, "the response on " + this
                + " is malformed: " + problem);
    }

    private void throwIfCancelled() throws IOException {
        if (cancelled) {
            throw new IOException(this + " was cancelled");
        }
    }

    private void throwIfFailed() throws IOException {
        IOException f = failure;
        if (f != null) {
            throw f;
        }
    }

    /** Waits on {@link #arrived} with the lock held; on timeout or interrupt cancels the stream and throws. */
    private long await(long left, long timeoutNanos, String what) throws IOException {
        if (left <= 0) {
            lock.unlock();
            try {
                cancel();
            } finally {
                lock.lock();
            }
            throw new ResponseTimeoutException("no " + what + " on " + this + " in "
                    + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms (responseTimeout); the stream was cancelled");
        }
        try {
            return arrived.awaitNanos(left);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            lock.unlock();
            try {
                cancel();
            } finally {
                lock.lock();
            }
            throw new InterruptedIOException("interrupted while waiting for " + what + " on " + this);
        }
    }

    /** Makes a reset of this stream into what its caller gets. */
    IOException resetError(int code, boolean byServer, Http2Exception cause) {
        String name = Http2ErrorCode.describe(code);
        if (truncated) { // set by the reader's thread, which calls this
            TruncatedBodyException t = new TruncatedBodyException(cause.getMessage());
            t.initCause(cause);
            return t;
        }
        StreamResetException e = new StreamResetException(byServer
                ? "the server " + connection.server() + " reset stream " + id + " (" + name + ")"
                : (cause != null ? cause.getMessage() : "stream " + id + " failed") + "; Berth reset the stream ("
                        + name + ")", code, name);
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }
}
