package io.berth.transport.http2;

import io.berth.HandshakeTimeoutException;
import io.berth.RequestNotProcessedException;
import io.berth.RequestNotProcessedException.Reason;
import io.berth.ResponseTimeoutException;
import io.berth.Server;
import io.berth.spi.Connection;
import io.berth.transport.ConnectionReader;
import io.berth.transport.DuplexConnection;
import io.berth.transport.WatchdogTimer;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A client HTTP/2 connection (RFC 9113) over a {@link DuplexConnection}: TLS with ALPN {@code h2}, or
 * cleartext by prior knowledge. It <em>is</em> the {@link Connection} the pool manages
 * ({@linkplain #multiplexed() multiplexed}, of a {@linkplain #capacity() capacity} set by the server),
 * and it opens {@link Http2Stream}s, one per exchange, for the HTTP layer. Opened with
 * {@link #open}, which returns once the server's SETTINGS arrived, so that the capacity is known.
 *
 * <h2>Threads</h2>
 * <p><b>One reader</b> ({@link ConnectionReader#start}: a virtual thread on JDK 21+, a {@code berth-h2-...}
 * daemon thread on 17) reads for the connection's whole life with {@code readNoDeadline}, feeds the
 * {@link Http2FrameReader} and hands each frame to its stream; it answers PING and SETTINGS itself. It
 * ends with the connection: no thread outlives {@link #close()} or {@link #abort()} (after
 * {@code close()}, within {@value #CLOSE_LINGER_MILLIS} ms at most).
 *
 * <p><b>Writers</b> are the callers, and they combine their writes. A caller appends its frames to
 * the connection's output buffer under a short lock (a {@link ReentrantLock} held for no I/O):
 * stream ids are allocated and header blocks HPACK-encoded under it, so header blocks follow each other
 * in the order they were encoded and ids rise. A small request's HEADERS and DATA are appended together.
 * Then the caller writes the buffer to the socket if nobody is writing (a second lock, held across the
 * socket write), else it returns at once: the writer takes what was appended meanwhile in a next round,
 * and looks again after it lets go of the socket, so no appended byte is left behind. Under load one
 * TLS record and one write carry the HEADERS of many streams, and callers do not queue behind the
 * socket. A request body beyond what goes with its HEADERS is written by its caller, holding the
 * socket, in slices as the flow-control windows allow. Frames the connection itself owes the server
 * (SETTINGS and PING acknowledgements, WINDOW_UPDATE, RST_STREAM, GOAWAY) are queued and go with
 * the next write, or are written at once if nobody is writing: the reader never waits for a writer,
 * so it keeps reading while a writer is blocked (a server blocked writing to us is never left unread).
 * Only the GOAWAY of a connection that fails waits for a writer that holds the socket, at most 50 ms,
 * so that a write in progress does not cost the server the reason: the connection ends anyway.
 *
 * <p>A write that cannot complete within its timeout (a server that stopped reading) fails the
 * <em>whole</em> connection: it is aborted, and a body writer waiting for the socket longer than its
 * own timeout aborts it too. A stream whose HEADERS were never handed to a socket write when the
 * connection failed fails with {@link RequestNotProcessedException} ({@link Reason#CONNECTION_FAILED}),
 * which the HTTP layer may retry elsewhere whatever the method: no stream waits behind a wedged
 * socket. A caller whose frames another writer took learns of a failed write from its stream.
 *
 * <p>No monitor is held while waiting: callers park on {@link ReentrantLock} conditions (virtual
 * threads unmount), and no lock is held across a socket read.
 *
 * <h2>Flow control</h2>
 * <p>Receiving: each stream has a window of {@link Http2Options#streamWindowSize()}, credited
 * (WINDOW_UPDATE) as its caller reads, so a stream nobody reads stops only itself. The connection
 * window ({@link Http2Options#connectionWindowSize()}) is credited as DATA <em>arrives</em>, so one
 * unread stream never stalls the others, as long as the bytes buffered in the connection stay below
 * that size; beyond it, as they are read (by any stream). DATA for streams reset or forgotten is
 * credited too.
 * Sending: a writer waits (bounded by its timeout) for both the stream's and the connection's window.
 * A change of the server's SETTINGS_INITIAL_WINDOW_SIZE adjusts every open stream (windows may go
 * negative); a window above 2^31-1 is a FLOW_CONTROL_ERROR.
 *
 * <h2>The server's frames</h2>
 * <ul>
 *   <li><b>SETTINGS</b> are applied, then acknowledged, in order: the acknowledgement is written
 *       only once the header-table and frame sizes are applied to our encoder, so nothing written
 *       after it relies on the old values. Our own SETTINGS (push disabled, our windows and limits)
 *       must be acknowledged within {@link Http2Options#settingsTimeout()}, or the connection
 *       fails (SETTINGS_TIMEOUT).</li>
 *   <li><b>GOAWAY</b>: the capacity drops to 0; the lowest last-stream-id across GOAWAYs counts;
 *       streams above it fail with {@link RequestNotProcessedException} ({@link Reason#GOAWAY}),
 *       those at or below it finish. The connection is closed gracefully once its last stream ended:
 *       the pool does that when it sees capacity 0 and no exchange in flight.</li>
 *   <li><b>RST_STREAM</b>: REFUSED_STREAM before any response is {@link RequestNotProcessedException}
 *       ({@link Reason#REFUSED_STREAM}); any other code {@link io.berth.StreamResetException}.</li>
 *   <li>A <b>connection error</b> ({@link Http2Exception#isConnectionError()}) sends GOAWAY with its
 *       code, then aborts; every open stream fails.</li>
 *   <li>PUSH_PROMISE is a PROTOCOL_ERROR (we send SETTINGS_ENABLE_PUSH 0); so is any frame on a
 *       stream we never opened.</li>
 *   <li><b>Limits</b>: header lists ({@link Http2Options#maxHeaderListSize()}; an oversized one fails
 *       its stream only), CONTINUATION frames per block, SETTINGS parameters per frame, and a budget
 *       of "glitches" (PINGs and SETTINGS beyond the first, empty DATA frames, header blocks for
 *       reset or forgotten streams, unsolicited PING acknowledgements): beyond
 *       {@link Http2Options#glitchBudget()}, GOAWAY(ENHANCE_YOUR_CALM) and abort.</li>
 * </ul>
 *
 * <h2>Resets and liveness</h2>
 * <p>{@link Http2Stream#cancel()} sends RST_STREAM(CANCEL), within a budget
 * ({@link Http2Options#resetBudget()}); once spent, the connection drains (capacity 0) instead of
 * resetting more, as servers punish rapid resets. {@link #ping} measures a round trip (for a check
 * before a request that is not replayable); a missing acknowledgement fails the connection. With
 * {@link Http2Options#pingInterval()} set, an idle connection is PINGed by the watchdog's schedule.
 *
 * <h2>As a {@link Connection}</h2>
 * <p>{@link #capacity()} is 0 after GOAWAY, a failure, {@link #close()}, once stream ids ran out or the
 * reset budget is spent, else the lower of the server's SETTINGS_MAX_CONCURRENT_STREAMS and
 * {@link Http2Options#maxConcurrentStreams()}; {@link #onCapacityChange} listeners hear of every
 * change, from the reader. {@link #liveness()} and {@link #bufferedLiveness()} make no syscall (the
 * reader sees everything): CLOSED_BY_PEER once the reader ended, a GOAWAY came or the connection
 * failed. {@link #close()} writes GOAWAY(NO_ERROR), then closes gracefully (TLS close_notify and FIN);
 * {@link #abort()} resets. {@link #read} and {@link #write} of raw bytes are unsupported: use streams.
 *
 * <p>Thread-safe.
 */
public final class Http2Connection implements Connection {
    private static final System.Logger LOG = System.getLogger(Http2Connection.class.getName());

    /** How long {@link #close()} lets the server take to close its side before the connection is reset. */
    static final long CLOSE_LINGER_MILLIS = 1_000;
    /** The bytes of plaintext the reader asks for at once: more than a TLS record's 16 KiB. */
    private static final int IN_BUFFER = 32 * 1024;
    /** The write buffer: a DATA frame of 16 KiB and more. */
    private static final int OUT_BUFFER = 17 * 1024;
    /** A request body up to this size goes out with its HEADERS, if the windows take all of it. */
    private static final int INLINE_DATA = 16 * 1024;
    /** A write buffer grown beyond this (a burst of large header blocks) is not kept. */
    private static final int MAX_KEPT_BUFFER = 256 * 1024;
    /** The most DATA bytes one writer takes from the windows at once, so that writers interleave. */
    private static final int DATA_SLICE = 64 * 1024;
    /** Control frames the server makes us queue without reading them (a flood): beyond, ENHANCE_YOUR_CALM. */
    private static final int MAX_CONTROL_BYTES = 64 * 1024;
    /** Idle PINGs in a row without streams opened in between: gRPC servers tolerate 2 "strikes". */
    private static final int MAX_IDLE_PINGS = 2;
    private static final int MAX_DEBUG_DATA = 256;
    /**
     * How long a failing connection waits for a writer that holds the socket before it writes its
     * GOAWAY: a write in progress lets go within this (it finds the connection failed and writes
     * nothing more); a wedged one does not, and the connection is aborted without a GOAWAY.
     */
    private static final long GOAWAY_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final int UNLIMITED = -1;

    private final DuplexConnection raw;
    private final Http2Options options;
    private final Server server;

    // ---- connection state: guarded by lock
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled on SETTINGS, window updates, PING acknowledgements and failure. */
    private final Condition changed = lock.newCondition();
    private final StreamTable streams = new StreamTable();
    private int nextStreamId;
    private int highestStreamId;
    private boolean idsExhausted;
    private long sendWindow = Http2Settings.DEFAULT_INITIAL_WINDOW_SIZE;
    private long peerInitialWindow = Http2Settings.DEFAULT_INITIAL_WINDOW_SIZE;
    private long peerMaxConcurrentStreams = UNLIMITED;
    /** Written under the lock; read without it too. */
    private volatile boolean settingsReceived;
    private int goAwayLastStreamId = Integer.MAX_VALUE;
    /** Written under the lock; read without it too. */
    private volatile Http2ConnectionStats.GoAway goAway;
    /** Written under the lock; read without it too. */
    private volatile boolean closing;
    private boolean draining;
    private final RateBudget resets;
    private long pingPayload;
    private boolean pingOutstanding;
    private long pingSentAt;
    private long streamsCarried;
    private long resetsSent;
    private long resetsReceived;

    // ---- read without the lock
    private volatile IOException failure;
    private volatile int capacity;
    private volatile boolean readerEnded;
    private volatile long lastPingRttNanos = -1;
    private volatile Runnable capacityListener;
    private volatile long glitches;
    private volatile long lastReadNanos;
    private volatile int idlePings;

    // ---- output not yet taken by a writer: guarded by writeLock (held briefly, never across I/O)
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Http2FrameWriter writer = new Http2FrameWriter();
    private ByteBuffer out = ByteBuffer.allocate(OUT_BUFFER);
    /** Where {@link #out}'s first byte lies in everything this connection ever wrote. */
    private long outBase;
    /**
     * Everything before this offset of the output was handed to a socket write (or dropped once the
     * connection failed): a stream whose HEADERS begin at or beyond it was never sent. Written under
     * {@link #writeLock}.
     */
    private volatile long attempted;
    /** {@link #out} holds bytes, or control frames are queued, that no writer took yet. */
    private volatile boolean dirty;
    /** Everything before this offset of the output was written. Written under {@link #sendLock}. */
    private volatile long sentUpTo;

    // ---- the socket's sending side: guarded by sendLock (held across socket writes)
    private final ReentrantLock sendLock = new ReentrantLock();
    /** What the holder of {@link #sendLock} writes: {@link #out}'s bytes, swapped out. */
    private ByteBuffer sending = ByteBuffer.allocate(OUT_BUFFER);

    // ---- frames owed to the server, and the receive side's credit: guarded by controlLock
    private final ReentrantLock controlLock = new ReentrantLock();
    private final Http2FrameWriter controlWriter = new Http2FrameWriter(0);
    private ByteBuffer control = ByteBuffer.allocate(256);
    private volatile boolean controlPending;
    /** {@link #close()} wrote the last frame (GOAWAY): nothing more is written. */
    private volatile boolean outputDone;
    private long pendingHeaderTableMin = -1;
    private long pendingHeaderTableFinal = -1;
    private int pendingMaxFrameSize;
    /** DATA bytes the server may still send on the connection. */
    private long receiveWindow;
    /** Bytes consumed (or discarded) and not yet credited back to the connection window. */
    private long connectionUncredited;
    /** Bytes received while the buffer bound was exceeded: credited once they are read. */
    private long connectionDeferred;
    private volatile boolean deferredCredit;

    /** Response bytes buffered in streams, unread. */
    private final AtomicLong buffered = new AtomicLong();
    private final Chunks chunks = new Chunks();

    // ---- the reader's own (one thread)
    private final Http2FrameReader frames;
    private final ByteBuffer in = ByteBuffer.allocate(IN_BUFFER);
    /** Streams that frames of the current read went to: woken once it is handled. */
    private final ArrayList<Http2Stream> toWake = new ArrayList<>();
    private final RateBudget glitchBudget;
    private boolean settingsAcked;
    private boolean firstSettingsSeen;

    private final WatchdogTimer timers;
    private volatile long settingsAckDeadline;
    private volatile Thread reader;

    private Http2Connection(DuplexConnection raw, Http2Options options) {
        this.raw = raw;
        this.options = options;
        this.server = raw.server();
        this.nextStreamId = options.firstStreamId();
        this.resets = new RateBudget(options.resetBudget(), options.resetPeriodNanos());
        this.glitchBudget = new RateBudget(options.glitchBudget(), options.glitchPeriodNanos());
        this.receiveWindow = options.connectionWindowSize();
        this.frames = new Http2FrameReader(new Handler());
        frames.setMaxHeaderListSize(options.maxHeaderListSize());
        frames.setMaxContinuations(options.maxContinuations());
        this.timers = new WatchdogTimer("h2 " + server, this::settingsAckOverdue, this::idlePingDue);
    }

    /**
     * Opens an HTTP/2 connection over {@code raw}: writes the client preface, our SETTINGS
     * (SETTINGS_ENABLE_PUSH 0, SETTINGS_INITIAL_WINDOW_SIZE, SETTINGS_MAX_HEADER_LIST_SIZE, and the
     * frame and table sizes where they differ from the protocol's) and a WINDOW_UPDATE raising the
     * connection window, starts the reader, and waits for the server's first SETTINGS, so that the
     * capacity is known when this returns. On failure {@code raw} is aborted.
     *
     * @param raw a connection on which nothing was read or written yet: TLS that negotiated {@code h2},
     *     or plain TCP to a server known to speak HTTP/2 (prior knowledge)
     * @param options the settings
     * @return the connection, its capacity known
     * @throws HandshakeTimeoutException if the server's SETTINGS did not come within
     *     {@link Http2Options#settingsTimeout()}
     * @throws Http2Exception if the server broke the protocol, e.g. its first frame was not SETTINGS
     *     (PROTOCOL_ERROR)
     * @throws InterruptedIOException if the thread was interrupted (its flag stays set)
     * @throws IOException if writing or reading failed, or the server closed the connection
     */
    public static Http2Connection open(DuplexConnection raw, Http2Options options) throws IOException {
        Objects.requireNonNull(raw, "raw");
        Objects.requireNonNull(options, "options");
        Http2Connection c = new Http2Connection(raw, options);
        try {
            c.start();
        } catch (IOException | RuntimeException | Error e) {
            c.fail(e instanceof IOException io ? io : new IOException(e), null, true);
            throw e;
        }
        return c;
    }

    private void start() throws IOException {
        Http2Settings ours = new Http2Settings()
                .set(Http2Settings.ENABLE_PUSH, 0)
                .set(Http2Settings.INITIAL_WINDOW_SIZE, options.streamWindowSize())
                .set(Http2Settings.MAX_HEADER_LIST_SIZE, options.maxHeaderListSize());
        if (options.headerTableSize() != Http2Settings.DEFAULT_HEADER_TABLE_SIZE) {
            ours.set(Http2Settings.HEADER_TABLE_SIZE, options.headerTableSize());
        }
        if (options.maxFrameSize() != Http2Settings.DEFAULT_MAX_FRAME_SIZE) {
            ours.set(Http2Settings.MAX_FRAME_SIZE, options.maxFrameSize());
        }
        writeLock.lock();
        try {
            writer.writePreface(out);
            writer.writeSettings(out, ours);
            int raise = options.connectionWindowSize() - Http2Settings.DEFAULT_INITIAL_WINDOW_SIZE;
            if (raise > 0) {
                writer.writeWindowUpdate(out, 0, raise);
            }
            dirty = true;
        } finally {
            writeLock.unlock();
        }
        acquireSend(options.writeTimeoutNanos(), false);
        try {
            writeRounds(options.writeTimeoutNanos());
        } finally {
            releaseSend();
        }
        lastReadNanos = System.nanoTime();
        settingsAckDeadline = timers.schedule(WatchdogTimer.FIRST, options.settingsTimeoutNanos());
        reader = ConnectionReader.start("h2-" + server, this::readLoop);
        lock.lock();
        try {
            long left = options.settingsTimeoutNanos();
            while (!settingsReceived && failure == null) {
                if (left <= 0) {
                    HandshakeTimeoutException e = new HandshakeTimeoutException("no HTTP/2 SETTINGS from " + server
                            + " in " + millis(options.settingsTimeoutNanos()) + " (settingsTimeout)");
                    lock.unlock();
                    try {
                        fail(e, Http2ErrorCode.SETTINGS_TIMEOUT, true);
                    } finally {
                        lock.lock();
                    }
                    throw e;
                }
                left = changed.awaitNanos(left);
            }
            if (failure != null) {
                throw failure;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the HTTP/2 SETTINGS of " + server);
        } finally {
            lock.unlock();
        }
        if (options.pingIntervalNanos() > 0) {
            timers.schedule(WatchdogTimer.SECOND, options.pingIntervalNanos());
        }
    }

    // =============================================================================================
    // Streams

    /**
     * Opens a stream: writes the request head as a HEADERS frame (and CONTINUATIONs).
     *
     * @param request the request head: {@code :method}, {@code :scheme}, {@code :authority} and
     *     {@code :path} first, then header fields without connection-specific ones
     * @param endStream whether the request has no body (END_STREAM on the HEADERS frame)
     * @param writeTimeoutNanos how long a write to the socket this caller makes may take; positive
     * @return the stream
     * @throws RequestNotProcessedException if the request was not written: the connection failed or
     *     is closing, the server sent GOAWAY, its stream limit is reached, or stream ids ran out; it
     *     may be sent on another connection whatever its method
     * @throws java.net.SocketTimeoutException if the write did not complete in time (the connection
     *     fails)
     * @throws IOException if writing failed (the connection fails; the request may have been sent)
     * @throws IllegalArgumentException if the request has no {@code :method} or the timeout is not positive
     */
    public Http2Stream newStream(Http2Headers request, boolean endStream, long writeTimeoutNanos) throws IOException {
        return newStream(request, null, endStream, writeTimeoutNanos);
    }

    /**
     * Opens a stream with a request body: writes the request head and as much of {@code body} as the
     * flow-control windows allow in one write, then the rest as the windows open.
     *
     * @param request the request head, as for {@link #newStream(Http2Headers, boolean, long)}
     * @param body the request body, or {@code null}; written from its position to its limit
     * @param endStream whether {@code body} is the whole request body (END_STREAM after it); if not,
     *     continue with {@link Http2Stream#writeData}
     * @param writeTimeoutNanos how long each write, and each wait for a window, may take; positive
     * @return the stream
     * @throws RequestNotProcessedException as {@link #newStream(Http2Headers, boolean, long)}
     * @throws java.net.SocketTimeoutException if a write did not complete in time (the connection
     *     fails), or a window stayed closed that long (the stream is cancelled)
     * @throws io.berth.StreamResetException if the server reset the stream while its body was written
     * @throws IOException if writing failed
     * @throws IllegalArgumentException as {@link #newStream(Http2Headers, boolean, long)}
     */
    public Http2Stream newStream(Http2Headers request, ByteBuffer body, boolean endStream, long writeTimeoutNanos)
            throws IOException {
        Objects.requireNonNull(request, "request");
        checkTimeout(writeTimeoutNanos);
        String method = request.first(":method");
        if (method == null) {
            throw new IllegalArgumentException("the request has no :method: " + request);
        }
        int inline = body == null ? 0 : body.remaining();
        long deadline = System.nanoTime() + writeTimeoutNanos;
        Http2Stream s;
        boolean capacityChanged = false;
        long mark;
        writeLock.lock();
        try {
            appendControl();
            lock.lock();
            try {
                IOException refused = refusal();
                if (refused != null) {
                    throw refused;
                }
                int id = nextStreamId;
                s = new Http2Stream(this, id, method.equals("HEAD"), peerInitialWindow, options.streamWindowSize());
                nextStreamId = id + 2;
                if (nextStreamId < 0) {
                    idsExhausted = true;
                    capacityChanged = updateCapacity();
                }
                s.headersAt = outBase + out.position();
                streams.put(s);
                highestStreamId = id;
                streamsCarried++;
                idlePings = 0;
                // A small body goes with its HEADERS if the windows take all of it now; any other
                // is written apart, as the windows open
                if (inline > INLINE_DATA || inline > Math.min(s.sendWindow, sendWindow)) {
                    inline = 0;
                } else {
                    s.sendWindow -= inline;
                    sendWindow -= inline;
                }
                s.endSent = endStream && (body == null || inline == body.remaining());
            } finally {
                lock.unlock();
            }
            room(writer.headersBound(request) + (inline > 0 ? inline + Http2FrameWriter.FRAME_HEADER_LENGTH
                    * (1 + inline / Http2Settings.DEFAULT_MAX_FRAME_SIZE) : 0));
            writer.writeHeaders(out, s.id(), request, s.endSent && inline == 0);
            if (inline > 0) {
                int limit = body.limit();
                body.limit(body.position() + inline);
                try {
                    if (!writer.writeData(out, s.id(), body, s.endSent)) {
                        throw new IllegalStateException("no room for " + inline + " bytes of DATA"); // room() made it
                    }
                } finally {
                    body.limit(limit);
                }
            }
            mark = outBase + out.position();
            dirty = true;
        } finally {
            writeLock.unlock();
        }
        s.headersEnd = mark;
        s.writeDeadline = deadline;
        s.writeTimeoutNanos = writeTimeoutNanos;
        try {
            flush(mark, writeTimeoutNanos);
        } catch (IOException e) {
            throw writeFailed(s, e);
        }
        if (capacityChanged) {
            capacityChanged();
        }
        if (body != null && (body.hasRemaining() || endStream && !s.endSent)) {
            writeData(s, body, endStream, Math.max(1, deadline - System.nanoTime()));
        }
        return s;
    }

    /** @return whether the output up to {@code offset} was written to the socket */
    boolean written(long offset) {
        return sentUpTo >= offset;
    }

    /**
     * A stream's HEADERS, taken by another writer, were not written within its caller's write timeout:
     * the connection is wedged (a server that stopped reading), and fails as a whole, as it would
     * have if the caller had been writing them itself. The stream learns why from its failure.
     */
    void writeOverdue(Http2Stream s) {
        if (written(s.headersEnd) || failure != null) {
            return;
        }
        fail(new SocketTimeoutException("HTTP/2 connection to " + server + ": another write held the connection for "
                + millis(s.writeTimeoutNanos) + "; the connection was aborted"), null, true);
    }

    /**
     * What the writer of a stream learns when a write failed: that the server did not process the
     * stream, if its GOAWAY said so meanwhile (the stream's id is above its last stream id), whatever
     * the write met; else the write's failure. A server may close the connection right after its
     * GOAWAY (nginx does once its last stream ended), so a stream opened as the GOAWAY was on its way
     * often fails to be written at all: that must not hide the protocol's guarantee that it may be
     * sent again. An interrupt stays an interrupt.
     */
    private IOException writeFailed(Http2Stream s, IOException e) {
        IOException f = s.failure();
        if (f instanceof RequestNotProcessedException n && f != e
                && !(e instanceof InterruptedIOException && !(e instanceof SocketTimeoutException))) {
            return new RequestNotProcessedException(n.reason(), n.getMessage() + " (writing it failed: " + e + ")", e);
        }
        return e;
    }

    /** @return why no stream may be opened now, or null; with the lock held */
    private IOException refusal() {
        IOException f = failure;
        if (f != null) {
            return new RequestNotProcessedException(Reason.CONNECTION_FAILED, "HTTP/2 connection to " + server
                    + " failed before the request was written: " + f.getMessage(), f);
        }
        if (goAway != null) {
            return new RequestNotProcessedException(Reason.GOAWAY, "HTTP/2 connection to " + server
                    + " takes no new stream after the server's " + goAway, null);
        }
        if (closing || draining || idsExhausted) {
            return new RequestNotProcessedException(Reason.CONNECTION_CLOSING, "HTTP/2 connection to " + server
                    + " takes no new stream: " + (closing ? "it is closing" : draining
                    ? "it spent its budget of " + options.resetBudget() + " stream resets per " + options.resetPeriod()
                    + " and is draining" : "its stream ids are used up"), null);
        }
        if (peerMaxConcurrentStreams != UNLIMITED && streams.size() >= peerMaxConcurrentStreams
                || streams.size() >= options.maxConcurrentStreams()) {
            return new RequestNotProcessedException(Reason.STREAM_LIMIT, "HTTP/2 connection to " + server
                    + " carries " + streams.size() + " streams, its limit (server "
                    + (peerMaxConcurrentStreams == UNLIMITED ? "unlimited" : peerMaxConcurrentStreams) + ", ours "
                    + options.maxConcurrentStreams() + ")", null);
        }
        return null;
    }

    /** Writes request body bytes of a stream: see {@link Http2Stream#writeData}. */
    void writeData(Http2Stream s, ByteBuffer src, boolean endStream, long timeoutNanos) throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            int n;
            boolean last;
            lock.lock();
            try {
                while (true) {
                    if (s.stopSending) {
                        src.position(src.limit());
                        return;
                    }
                    IOException f = s.failure();
                    if (f != null) {
                        throw f;
                    }
                    if (s.endSent) {
                        throw new IllegalStateException(s + " already ended its request body");
                    }
                    if (failure != null) {
                        throw new IOException("HTTP/2 connection to " + server + " failed while " + s
                                + " was writing its body", failure);
                    }
                    int want = Math.min(src.remaining(), DATA_SLICE);
                    long window = Math.min(s.sendWindow, sendWindow);
                    if (want == 0 || window > 0) {
                        n = (int) Math.min(want, Math.max(0, window));
                        break;
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        lock.unlock();
                        try {
                            s.cancel();
                        } finally {
                            lock.lock();
                        }
                        throw new SocketTimeoutException("the flow-control window of " + s + " (" + s.sendWindow
                                + " bytes) or of the connection (" + sendWindow + ") stayed closed for "
                                + millis(timeoutNanos) + "; the stream was cancelled");
                    }
                    changed.awaitNanos(left);
                }
                s.sendWindow -= n;
                sendWindow -= n;
                last = endStream && n == src.remaining();
                if (last) {
                    s.endSent = true;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while " + s + " waited for a flow-control window");
            } finally {
                lock.unlock();
            }
            acquireSend(Math.max(1, deadline - System.nanoTime()), false);
            try {
                putData(s, src, n, last, timeoutNanos);
            } catch (IOException e) {
                throw writeFailed(s, e);
            } finally {
                releaseSend();
            }
            if (last) {
                closeIfDone(s);
                return;
            }
            if (!src.hasRemaining() && !endStream) {
                return;
            }
        }
    }

    /**
     * With {@link #sendLock} held: writes {@code n} bytes of {@code src} as DATA frames, after what
     * {@link #out} holds, in as many writes as they need.
     */
    private void putData(Http2Stream s, ByteBuffer src, int n, boolean endStream, long timeoutNanos)
            throws IOException {
        int limit = src.limit();
        src.limit(src.position() + n);
        try {
            boolean done;
            do {
                writeLock.lock();
                try {
                    appendControl();
                    done = writer.writeData(out, s.id(), src, endStream);
                    takeOut();
                } finally {
                    writeLock.unlock();
                }
                writeSending(timeoutNanos);
            } while (!done);
        } finally {
            src.limit(limit);
        }
    }

    /**
     * Sends a PING and waits for its acknowledgement: one round trip, recorded as the last RTT. If a
     * PING is already outstanding, waits for that one instead. A missing acknowledgement fails the
     * connection as a whole (it is aborted).
     *
     * @param timeoutNanos how long to wait for the acknowledgement; positive
     * @throws ResponseTimeoutException if it did not come in time; the connection is aborted
     * @throws InterruptedIOException if the thread was interrupted (its flag stays set)
     * @throws IOException if the connection failed or is closing
     * @throws IllegalArgumentException if the timeout is not positive
     */
    public void ping(long timeoutNanos) throws IOException {
        checkTimeout(timeoutNanos);
        long deadline = System.nanoTime() + timeoutNanos;
        long payload;
        boolean send = false;
        lock.lock();
        try {
            if (failure != null || closing) {
                throw new IOException("cannot PING " + server + ": the HTTP/2 connection "
                        + (failure != null ? "failed" : "is closing"), failure);
            }
            if (!pingOutstanding) {
                pingPayload = pingPayload + 1;
                pingOutstanding = true;
                pingSentAt = System.nanoTime();
                send = true;
            }
            payload = pingPayload;
        } finally {
            lock.unlock();
        }
        if (send) {
            queueControl(c -> controlWriter.writePing(c, payload, false), Http2Settings.DEFAULT_MAX_FRAME_SIZE);
            drainControl();
        }
        lock.lock();
        try {
            while (pingOutstanding && pingPayload == payload && failure == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    ResponseTimeoutException e = new ResponseTimeoutException("no PING acknowledgement from " + server
                            + " in " + millis(timeoutNanos) + " (pingTimeout); the HTTP/2 connection was aborted");
                    lock.unlock();
                    try {
                        fail(e, null, true);
                    } finally {
                        lock.lock();
                    }
                    throw e;
                }
                changed.awaitNanos(left);
            }
            if (failure != null) {
                throw new IOException("the HTTP/2 connection to " + server + " failed while waiting for a PING"
                        + " acknowledgement", failure);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a PING acknowledgement from " + server);
        } finally {
            lock.unlock();
        }
    }

    /**
     * @return how long the server has been silent: nanoseconds since the reader last received bytes
     *     (or since the connection opened). A connection that heard from its server within
     *     {@code validateAfterIdle} is proven alive; one silent longer is PINGed before a request that
     *     is not replayable.
     */
    public long silentNanos() {
        return System.nanoTime() - lastReadNanos;
    }

    @Override
    public Http2ConnectionStats streamStats() {
        return stats();
    }

    /** @return a snapshot of the connection's state, for the pool's rows */
    public Http2ConnectionStats stats() {
        long rtt = lastPingRttNanos;
        controlLock.lock();
        long receive;
        try {
            receive = receiveWindow;
        } finally {
            controlLock.unlock();
        }
        lock.lock();
        try {
            return new Http2ConnectionStats("h2", streams.size(), peerMaxConcurrentStreams, capacity, sendWindow,
                    receive, buffered.get(), streamsCarried, goAway, resetsSent, resetsReceived, glitches,
                    rtt < 0 ? null : Duration.ofNanos(rtt));
        } finally {
            lock.unlock();
        }
    }

    // =============================================================================================
    // Connection

    @Override
    public Server server() {
        return raw.server();
    }

    /** @throws UnsupportedOperationException always: an HTTP/2 connection carries streams ({@link #newStream}) */
    @Override
    public int read(ByteBuffer dst, long timeoutNanos) {
        throw new UnsupportedOperationException("an HTTP/2 connection carries streams: use newStream, not read");
    }

    /** @throws UnsupportedOperationException always: an HTTP/2 connection carries streams ({@link #newStream}) */
    @Override
    public void write(ByteBuffer src, long timeoutNanos) {
        throw new UnsupportedOperationException("an HTTP/2 connection carries streams: use newStream, not write");
    }

    /** @return CLOSED_BY_PEER once the reader ended, a GOAWAY arrived or the connection failed; else ALIVE. No syscall. */
    @Override
    public Liveness liveness() {
        return readerEnded || failure != null || goAway != null || closing ? Liveness.CLOSED_BY_PEER
                : Liveness.ALIVE;
    }

    /** @return the same as {@link #liveness()}, which makes no syscall either */
    @Override
    public Liveness bufferedLiveness() {
        return liveness();
    }

    /** Gives back the received-bytes chunks the connection keeps while nothing is buffered. */
    @Override
    public void idle() {
        chunks.clear();
    }

    /** @return {@code true} */
    @Override
    public boolean multiplexed() {
        return true;
    }

    /**
     * @return 0 after GOAWAY, a failure, {@link #close()}, once stream ids ran out or the reset budget is
     *     spent; else the lower of the server's SETTINGS_MAX_CONCURRENT_STREAMS and
     *     {@link Http2Options#maxConcurrentStreams()}
     */
    @Override
    public int capacity() {
        return capacity;
    }

    /** Registers the listener told (from the reader, or the thread that caused it) when {@link #capacity()} changed. */
    @Override
    public void onCapacityChange(Runnable listener) {
        capacityListener = Objects.requireNonNull(listener, "listener");
    }

    @Override
    public boolean tlsSessionResumed() {
        return raw.tlsSessionResumed();
    }

    @Override
    public String tlsProtocol() {
        return raw.tlsProtocol();
    }

    /** @return {@code h2} */
    @Override
    public String applicationProtocol() {
        return "h2";
    }

    @Override
    public boolean isOpen() {
        return failure == null && !closing && raw.isOpen();
    }

    /**
     * Closes gracefully: fails any stream still open (the pool closes a connection only once its
     * exchanges ended), writes GOAWAY(NO_ERROR), then a TLS close_notify and FIN; the reader closes
     * the socket when the server closes its side, or resets it after {@value #CLOSE_LINGER_MILLIS} ms.
     * Idempotent; never throws; waits at most {@link Http2Options#writeTimeout()} for a writer.
     *
     * @return whether the GOAWAY, close_notify and FIN were written; {@code false} if the connection
     *     was closed or failed already, or had to be aborted
     */
    @Override
    public boolean close() {
        Http2Stream[] open;
        lock.lock();
        try {
            if (failure != null || closing) {
                return false;
            }
            closing = true;
            updateCapacity();
            open = streams.snapshot();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        for (Http2Stream s : open) {
            dropBuffered(s.fail(new IOException("HTTP/2 connection to " + server + " was closed while " + s
                    + " was open"), true, chunks));
        }
        capacityChanged();
        timers.close();
        boolean graceful = false;
        try {
            if (sendLock.tryLock(options.writeTimeoutNanos(), TimeUnit.NANOSECONDS)) {
                try {
                    writeLock.lock();
                    try {
                        appendControl();
                        room(Http2FrameWriter.FRAME_HEADER_LENGTH + 8);
                        writer.writeGoAway(out, 0, Http2ErrorCode.NO_ERROR, ByteBuffer.allocate(0));
                        outputDone = true;
                        takeOut();
                    } finally {
                        writeLock.unlock();
                    }
                    sending.flip();
                    // what others left, GOAWAY, close_notify and FIN in one call: the server's
                    // answering close cannot come between them
                    graceful = raw.closeOutput(sending, TimeUnit.MILLISECONDS.toNanos(CLOSE_LINGER_MILLIS));
                } finally {
                    sending.clear();
                    sendLock.unlock();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!graceful) {
            raw.abort();
        }
        chunks.clear();
        return graceful;
    }

    /** Aborts: every open stream fails, the socket is reset. Idempotent; never throws; any thread. */
    @Override
    public void abort() {
        fail(new SocketException("HTTP/2 connection to " + server + " was aborted"), null, true);
        raw.abort();
    }

    /** @return e.g. {@code h2 127.0.0.1:8443 TLSv1.3 TLS_AES_128_GCM_SHA256, 3 streams (server limit 100)} */
    @Override
    public String describe() {
        int open;
        long limit;
        lock.lock();
        try {
            open = streams.size();
            limit = peerMaxConcurrentStreams;
        } finally {
            lock.unlock();
        }
        return "h2 " + raw.describe() + ", " + open + (open == 1 ? " stream" : " streams") + " (server limit "
                + (limit == UNLIMITED ? "none" : String.valueOf(limit)) + ")";
    }

    @Override
    public String toString() {
        return describe();
    }

    /** @return whether the reader thread is still running (for tests) */
    boolean readerAlive() {
        Thread t = reader;
        return t != null && t.isAlive();
    }

    /** @return why the connection failed, or null (for tests) */
    IOException failure() {
        return failure;
    }

    /** @return the received-bytes chunks kept (for tests) */
    int keptChunks() {
        return chunks.kept();
    }

    // =============================================================================================
    // Called by streams

    /**
     * A stream's caller read (or a stream dropped) {@code n} bytes: credits the stream
     * ({@code streamCredit}, computed under its lock) and, for as many bytes as were deferred, the
     * connection; gives back emptied chunks. Crediting deferred bytes as any stream reads, not once
     * the buffered total is below the bound again, keeps the streams that are read flowing while
     * unread ones hold the bound.
     */
    void consumed(Http2Stream s, int n, int streamCredit, Chunks.Chunk emptied) {
        if (emptied != null) {
            chunks.give(emptied);
        }
        buffered.addAndGet(-n);
        boolean queued = false;
        if (streamCredit > 0 || deferredCredit) {
            controlLock.lock();
            try {
                if (streamCredit > 0 && failure == null) {
                    putControl(c -> controlWriter.writeWindowUpdate(c, s.id(), streamCredit), 13);
                    queued = true;
                }
                if (connectionDeferred > 0) {
                    long release = Math.min(n, connectionDeferred);
                    connectionDeferred -= release;
                    connectionUncredited += release;
                    deferredCredit = connectionDeferred > 0;
                    queued |= creditConnectionLocked();
                }
            } finally {
                controlLock.unlock();
            }
        }
        if (queued) {
            drainControl();
        }
    }

    /** A stream was cancelled by its caller: resets it (within the budget) and gives back its buffers. */
    void cancelled(Http2Stream s, Chunks.Chunk dropped, int droppedBytes) {
        if (dropped != null) {
            chunks.give(dropped);
        }
        dropBuffered(droppedBytes);
        boolean reset = false;
        boolean capacityChanged = false;
        lock.lock();
        try {
            if (s.removed || failure != null) {
                return;
            }
            if (s.endSent && s.endReceived) {
                remove(s);
                return;
            }
            if (resets.tryTake(System.nanoTime())) {
                remove(s);
                s.endSent = true;
                s.endReceived = true;
                resetsSent++;
                reset = true;
            } else if (!draining) {
                draining = true;
                capacityChanged = updateCapacity();
                LOG.log(System.Logger.Level.DEBUG, () -> describe() + ": reset budget spent; draining instead of"
                        + " resetting " + s);
            }
        } finally {
            lock.unlock();
        }
        if (reset) {
            queueControl(c -> controlWriter.writeRstStream(c, s.id(), Http2ErrorCode.CANCEL), 13);
            drainControl();
        }
        if (capacityChanged) {
            capacityChanged();
        }
    }

    // =============================================================================================
    // The reader

    private void readLoop() {
        Throwable cause = null;
        boolean endOfStream = false;
        try {
            while (true) {
                in.clear();
                int n = raw.readNoDeadline(in);
                if (n < 0) {
                    endOfStream = true;
                    break;
                }
                if (options.pingIntervalNanos() > 0) {
                    lastReadNanos = System.nanoTime();
                }
                in.flip();
                try {
                    frames.read(in);
                } finally {
                    wakeDelivered();
                }
                drainControl();
            }
        } catch (Http2Exception | RuntimeException | Error e) {
            cause = e;
        } catch (IOException e) {
            cause = e;
        } finally {
            readerEnded(endOfStream, cause);
        }
    }

    /** Queues a stream that frames were delivered to, for one wake-up after the current read. Reader only. */
    private void delivered(Http2Stream s) {
        if (!s.wakeQueued) {
            s.wakeQueued = true;
            toWake.add(s);
        }
    }

    /** Wakes the callers of the streams the last read delivered to. Reader only. */
    private void wakeDelivered() {
        for (int i = 0, n = toWake.size(); i < n; i++) {
            Http2Stream s = toWake.get(i);
            s.wakeQueued = false;
            s.wake();
        }
        toWake.clear();
    }

    private void readerEnded(boolean endOfStream, Throwable cause) {
        readerEnded = true;
        if (endOfStream) {
            if (!closing && failure == null) {
                fail(new EOFException(server + " closed the HTTP/2 connection" + (goAway != null ? " after its "
                        + goAwayDescription() : " without GOAWAY")), null, false);
            }
            raw.close(); // the server closed its side; we close ours gracefully, or we asked for it
        } else if (cause instanceof Http2Exception e) {
            LOG.log(System.Logger.Level.DEBUG, () -> describe() + ": connection error: " + e);
            fail(e, e.errorCode(), true);
        } else if (cause instanceof IOException e) {
            if (failure == null && !closing) {
                fail(e, null, true);
            }
            raw.abort();
        } else if (cause != null) {
            LOG.log(System.Logger.Level.WARNING, () -> describe() + ": the HTTP/2 reader failed: " + cause);
            fail(new IOException("the HTTP/2 reader of " + server + " failed", cause), Http2ErrorCode.INTERNAL_ERROR,
                    true);
        }
        timers.close();
        chunks.clear();
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        capacityChanged();
    }

    /** Handles the server's frames, on the reader's thread. */
    private final class Handler implements Http2FrameReader.Handler {
        @Override
        public void onData(int streamId, ByteBuffer data, int flowControlled, boolean endOfFrame, boolean endStream)
                throws Http2Exception {
            if (endOfFrame && flowControlled == 0 && !endStream) {
                glitch("an empty DATA frame without END_STREAM on stream " + streamId);
            }
            Http2Stream s = stream(streamId, "DATA");
            int accepted = 0;
            if (s != null) {
                if (endStream) {
                    endReceived(s); // before the stream wakes its caller: the stream limit counts it no more
                }
                // Counted before the stream can hand the bytes to its reader, whose read subtracts them:
                // counted after, a snapshot taken then could see the bytes read but not received.
                int offered = data.remaining();
                buffered.addAndGet(offered);
                try {
                    accepted = s.onData(data, flowControlled, endStream, chunks);
                } catch (Http2Exception e) {
                    resetStream(s, e.errorCode().code(), e);
                }
                delivered(s);
                if (accepted != offered) {
                    buffered.addAndGet(accepted - offered);
                }
            }
            creditConnection(flowControlled, accepted);
            if (s != null) {
                int padding = s.takePaddingCredit();
                if (padding > 0) {
                    queueControl(c -> controlWriter.writeWindowUpdate(c, streamId, padding), 13);
                }
            }
        }

        @Override
        public void onHeaders(int streamId, Http2Headers headers, boolean endStream) throws Http2Exception {
            Http2Stream s = stream(streamId, "HEADERS");
            if (s == null) {
                glitch("a header block for stream " + streamId + ", which is closed");
                return;
            }
            if (endStream) {
                endReceived(s); // before the stream wakes its caller: the stream limit counts it no more
            }
            Http2Exception error = s.onHeaders(headers, endStream);
            if (error != null) {
                resetStream(s, error.errorCode().code(), error);
            }
            delivered(s);
        }

        @Override
        public void onRstStream(int streamId, int errorCode) throws Http2Exception {
            Http2Stream s = stream(streamId, "RST_STREAM");
            lock.lock();
            try {
                resetsReceived++;
                if (s == null || s.removed) {
                    return;
                }
            } finally {
                lock.unlock();
            }
            int dropped = 0;
            if (errorCode == Http2ErrorCode.NO_ERROR.code() && s.isComplete()) {
                s.stopSending = true; // a complete response; the server needs no more of the request
            } else {
                IOException error;
                if (errorCode == Http2ErrorCode.REFUSED_STREAM.code() && s.notStarted()) {
                    error = new RequestNotProcessedException(Reason.REFUSED_STREAM, "the server " + server
                            + " refused stream " + streamId + " (REFUSED_STREAM) before processing it", null);
                } else {
                    error = s.resetError(errorCode, true, null);
                }
                dropped = s.fail(error, false, chunks);
            }
            lock.lock();
            try {
                endedByServer(s);
            } finally {
                lock.unlock();
            }
            dropBuffered(dropped);
        }

        @Override
        public void onSettings(Http2Settings settings) throws Http2Exception {
            if (firstSettingsSeen) {
                glitch("SETTINGS " + settings);
            }
            firstSettingsSeen = true;
            boolean capacityChanged;
            lock.lock();
            try {
                if (settings.has(Http2Settings.MAX_CONCURRENT_STREAMS)) {
                    peerMaxConcurrentStreams = settings.get(Http2Settings.MAX_CONCURRENT_STREAMS, 0);
                }
                if (settings.has(Http2Settings.INITIAL_WINDOW_SIZE)) {
                    long value = settings.get(Http2Settings.INITIAL_WINDOW_SIZE, 0);
                    long delta = value - peerInitialWindow;
                    peerInitialWindow = value;
                    if (delta != 0) {
                        for (Http2Stream s : streams.snapshot()) {
                            s.sendWindow += delta;
                            if (s.sendWindow > Http2Settings.MAX_WINDOW_SIZE) {
                                throw Http2Exception.connectionError(Http2ErrorCode.FLOW_CONTROL_ERROR,
                                        "SETTINGS_INITIAL_WINDOW_SIZE " + value + " takes the send window of " + s
                                                + " to " + s.sendWindow + ", beyond 2^31-1");
                            }
                        }
                    }
                }
                capacityChanged = updateCapacity();
            } finally {
                lock.unlock();
            }
            if (capacityChanged) {
                capacityChanged(); // before open() returns: a listener registered then hears only of later changes
            }
            lock.lock();
            try {
                settingsReceived = true;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            long table = settings.get(Http2Settings.HEADER_TABLE_SIZE, -1);
            int frameSize = (int) settings.get(Http2Settings.MAX_FRAME_SIZE, 0);
            controlLock.lock();
            try {
                if (table >= 0) {
                    pendingHeaderTableMin = pendingHeaderTableMin < 0 ? table : Math.min(pendingHeaderTableMin, table);
                    pendingHeaderTableFinal = table;
                }
                if (frameSize > 0) {
                    pendingMaxFrameSize = frameSize;
                }
                putControl(controlWriter::writeSettingsAck, Http2Settings.DEFAULT_MAX_FRAME_SIZE);
            } finally {
                controlLock.unlock();
            }
        }

        @Override
        public void onSettingsAck() throws Http2Exception {
            if (settingsAcked) {
                glitch("an unsolicited SETTINGS acknowledgement");
                return;
            }
            settingsAcked = true;
            timers.cancel(WatchdogTimer.FIRST, settingsAckDeadline);
            frames.setMaxFrameSize(options.maxFrameSize());
            frames.setHeaderTableSizeLimit(options.headerTableSize());
        }

        @Override
        public void onPing(long payload, boolean ack) throws Http2Exception {
            if (!ack) {
                glitch("PING");
                queueControl(c -> controlWriter.writePing(c, payload, true), Http2Settings.DEFAULT_MAX_FRAME_SIZE);
                return;
            }
            lock.lock();
            try {
                if (pingOutstanding && payload == pingPayload) {
                    pingOutstanding = false;
                    lastPingRttNanos = System.nanoTime() - pingSentAt;
                    changed.signalAll();
                    return;
                }
            } finally {
                lock.unlock();
            }
            glitch("an unsolicited PING acknowledgement");
        }

        @Override
        public void onGoAway(int lastStreamId, int errorCode, ByteBuffer debugData) {
            int n = Math.min(debugData.remaining(), MAX_DEBUG_DATA);
            byte[] bytes = new byte[n];
            debugData.get(bytes);
            String debug = new String(bytes, StandardCharsets.ISO_8859_1);
            Http2Stream[] above;
            boolean capacityChanged;
            lock.lock();
            try {
                goAwayLastStreamId = Math.min(goAwayLastStreamId, lastStreamId);
                goAway = new Http2ConnectionStats.GoAway(errorCode, Http2ErrorCode.describe(errorCode),
                        goAwayLastStreamId, debug);
                above = streams.snapshot();
                int k = 0;
                for (Http2Stream s : above) {
                    if (s.id() > goAwayLastStreamId) {
                        above[k++] = s;
                    }
                }
                above = java.util.Arrays.copyOf(above, k);
                capacityChanged = updateCapacity();
            } finally {
                lock.unlock();
            }
            LOG.log(System.Logger.Level.DEBUG, () -> describe() + ": " + goAwayDescription());
            int[] dropped = new int[above.length];
            for (int i = 0; i < above.length; i++) {
                Http2Stream s = above[i];
                dropped[i] = s.fail(new RequestNotProcessedException(Reason.GOAWAY, "the server " + server
                        + " did not process stream " + s.id() + ": its " + goAwayDescription(), null), false, chunks);
            }
            lock.lock();
            try {
                for (Http2Stream s : above) {
                    endedByServer(s);
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            for (int d : dropped) {
                dropBuffered(d);
            }
            if (capacityChanged) {
                capacityChanged();
            }
        }

        @Override
        public void onWindowUpdate(int streamId, int increment) throws Http2Exception {
            Http2Stream reset = null;
            lock.lock();
            try {
                if (streamId == 0) {
                    sendWindow += increment;
                    if (sendWindow > Http2Settings.MAX_WINDOW_SIZE) {
                        throw Http2Exception.connectionError(Http2ErrorCode.FLOW_CONTROL_ERROR, "WINDOW_UPDATE of "
                                + increment + " takes the connection's send window to " + sendWindow
                                + ", beyond 2^31-1");
                    }
                } else {
                    Http2Stream s = streamLocked(streamId, "WINDOW_UPDATE");
                    if (s == null) {
                        return;
                    }
                    s.sendWindow += increment;
                    if (s.sendWindow > Http2Settings.MAX_WINDOW_SIZE) {
                        reset = s;
                    }
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            if (reset != null) {
                resetStream(reset, Http2ErrorCode.FLOW_CONTROL_ERROR.code(), Http2Exception.streamError(streamId,
                        Http2ErrorCode.FLOW_CONTROL_ERROR, "WINDOW_UPDATE of " + increment + " takes the send window"
                        + " of " + reset + " beyond 2^31-1"));
            }
        }

        @Override
        public void onStreamError(Http2Exception error) throws Http2Exception {
            Http2Stream s = stream(error.streamId(), "a frame");
            if (s != null) {
                resetStream(s, error.errorCode().code(), error);
            }
        }
    }

    /** The reader's view of a stream: null for a closed one; a connection error for one never opened. */
    private Http2Stream stream(int streamId, String frame) throws Http2Exception {
        lock.lock();
        try {
            return streamLocked(streamId, frame);
        } finally {
            lock.unlock();
        }
    }

    private Http2Stream streamLocked(int streamId, String frame) throws Http2Exception {
        Http2Stream s = streams.get(streamId);
        if (s != null) {
            return s;
        }
        if ((streamId & 1) == 0) {
            throw Http2Exception.connectionError(Http2ErrorCode.PROTOCOL_ERROR, frame + " on stream " + streamId
                    + ", which the server may not open (we disabled push)");
        }
        if (streamId > highestStreamId) {
            throw Http2Exception.connectionError(Http2ErrorCode.PROTOCOL_ERROR, frame + " on stream " + streamId
                    + ", which we never opened (highest " + highestStreamId + ")");
        }
        return null;
    }

    /** The reader saw END_STREAM on a stream. */
    private void endReceived(Http2Stream s) {
        lock.lock();
        try {
            s.endReceived = true;
            closeIfDoneLocked(s);
        } finally {
            lock.unlock();
        }
    }

    private void closeIfDone(Http2Stream s) {
        lock.lock();
        try {
            closeIfDoneLocked(s);
        } finally {
            lock.unlock();
        }
    }

    private void closeIfDoneLocked(Http2Stream s) {
        if (s.endSent && s.endReceived && !s.removed) {
            remove(s);
        }
    }

    private void remove(Http2Stream s) {
        s.removed = true;
        streams.remove(s.id());
        changed.signalAll();
    }

    /** Resets a stream on a protocol error of the server's (not budgeted: the server caused it). */
    private void resetStream(Http2Stream s, int code, Http2Exception cause) {
        int dropped = s.fail(s.resetError(code, false, cause), false, chunks);
        boolean send;
        lock.lock();
        try {
            send = endedByServer(s);
            if (send) {
                resetsSent++;
            }
        } finally {
            lock.unlock();
        }
        if (send) {
            Http2ErrorCode c = Http2ErrorCode.of(code);
            queueControl(b -> controlWriter.writeRstStream(b, s.id(), c != null ? c : Http2ErrorCode.PROTOCOL_ERROR), 13);
        }
        LOG.log(System.Logger.Level.DEBUG, () -> describe() + ": reset " + s + ": " + cause.getMessage());
        dropBuffered(dropped);
    }

    /**
     * Removes a stream the server ended (RST_STREAM, a GOAWAY below it, a stream error of its own) and
     * marks both its sides ended; with the lock held. Its caller failed the stream (or stopped its
     * sending) first: a writer or reader that finds it ended must find why, not take the end for its
     * own (a body writer would have thrown IllegalStateException, "already ended its request body").
     *
     * @return whether it was still there
     */
    private boolean endedByServer(Http2Stream s) {
        if (s.removed) {
            return false;
        }
        remove(s);
        s.endSent = true;
        s.endReceived = true;
        return true;
    }

    /** Counts a server oddity; beyond the budget, a connection error (ENHANCE_YOUR_CALM). Reader only. */
    private void glitch(String what) throws Http2Exception {
        glitches = glitches + 1;
        if (!glitchBudget.tryTake(System.nanoTime())) {
            throw Http2Exception.connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, "the server " + server
                    + " exceeded " + options.glitchBudget() + " glitches per " + options.glitchPeriod()
                    + " (last: " + what + ")");
        }
    }

    /**
     * DATA arrived: {@code flowControlled} bytes count against the connection window, {@code accepted}
     * of them were buffered for a stream's caller; the rest is credited at once, and so are the
     * accepted bytes while the connection buffers less than its bound. Reader only.
     */
    private void creditConnection(int flowControlled, int accepted) throws Http2Exception {
        if (flowControlled == 0) {
            return;
        }
        controlLock.lock();
        try {
            receiveWindow -= flowControlled;
            if (receiveWindow < 0) {
                throw Http2Exception.connectionError(Http2ErrorCode.FLOW_CONTROL_ERROR, "the server sent "
                        + -receiveWindow + " bytes beyond the connection's receive window");
            }
            connectionUncredited += flowControlled - accepted;
            if (accepted > 0) {
                if (buffered.get() <= options.connectionWindowSize()) {
                    connectionUncredited += accepted;
                } else {
                    connectionDeferred += accepted;
                    deferredCredit = true;
                }
            }
            creditConnectionLocked();
        } finally {
            controlLock.unlock();
        }
    }

    /**
     * With controlLock held: queues a connection WINDOW_UPDATE once half the window is owed, or once
     * the server has less than half of it left (deferred bytes of unread streams hold the rest), so
     * that the streams being read keep flowing in what remains.
     */
    private boolean creditConnectionLocked() {
        int half = options.connectionWindowSize() / 2;
        if (connectionUncredited > 0 && (connectionUncredited >= half || receiveWindow < half)) {
            int credit = (int) connectionUncredited;
            connectionUncredited = 0;
            receiveWindow += credit;
            putControl(c -> controlWriter.writeWindowUpdate(c, 0, credit), 13);
            return true;
        }
        return false;
    }

    private void dropBuffered(int bytes) {
        if (bytes > 0) {
            consumed(null, bytes, 0, null);
        }
    }

    // =============================================================================================
    // Timers (run on the watchdog thread: must not block)

    private void settingsAckOverdue() {
        if (failure != null || closing || !settingsReceived) {
            return; // without the server's SETTINGS, open() fails on its own timeout
        }
        Http2Exception e = Http2Exception.connectionError(Http2ErrorCode.SETTINGS_TIMEOUT, "the server " + server
                + " did not acknowledge our SETTINGS in " + millis(options.settingsTimeoutNanos()) + " (settingsTimeout)");
        ConnectionReader.start("h2-fail-" + server, () -> fail(e, e.errorCode(), true));
    }

    private void idlePingDue() {
        if (failure != null || closing) {
            return;
        }
        long interval = options.pingIntervalNanos();
        long idleFor = System.nanoTime() - lastReadNanos;
        if (idleFor < interval) {
            timers.schedule(WatchdogTimer.SECOND, interval - idleFor);
            return;
        }
        timers.schedule(WatchdogTimer.SECOND, interval);
        if (idlePings >= MAX_IDLE_PINGS || pingOutstandingNow()) {
            return;
        }
        idlePings = idlePings + 1;
        ConnectionReader.start("h2-ping-" + server, () -> {
            try {
                ping(options.pingTimeoutNanos());
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> describe() + ": idle PING failed: " + e);
            }
        });
    }

    // =============================================================================================
    // Writing

    /**
     * After appending to {@link #out} up to {@code mark} (with {@link #dirty} set): makes sure the bytes
     * get written. If nobody is writing, this caller writes them, with whatever others append
     * meanwhile, in rounds until nothing is left; if somebody is, that writer takes them (it looks for
     * more before it lets go of the socket), and this returns at once.
     *
     * @throws IOException if a write that carried bytes before {@code mark} failed (the connection failed)
     */
    private void flush(long mark, long timeoutNanos) throws IOException {
        while (sendLock.tryLock()) {
            try {
                writeRounds(timeoutNanos);
            } catch (IOException e) {
                if (sentUpTo < mark) {
                    throw e;
                }
                return;
            } finally {
                sendLock.unlock();
            }
            if (!dirty) {
                return;
            }
        }
    }

    /** As {@link #flush}, for frames of the connection's own: a failure has failed the connection already. */
    private void flushQuietly() {
        while (dirty && !outputDone && failure == null && sendLock.tryLock()) {
            try {
                writeRounds(options.writeTimeoutNanos());
            } catch (IOException e) {
                // the connection failed (writeSending did that); what was left is moot
            } finally {
                sendLock.unlock();
            }
        }
    }

    /** With {@link #sendLock} held: writes what {@link #out} holds (and queued control frames) until nothing is left. */
    private void writeRounds(long timeoutNanos) throws IOException {
        while (dirty) {
            dirty = false;
            boolean took;
            writeLock.lock();
            try {
                appendControl();
                took = takeOut();
            } finally {
                writeLock.unlock();
            }
            if (took) {
                writeSending(timeoutNanos);
            }
        }
    }

    /**
     * With {@link #writeLock} and {@link #sendLock} held: swaps {@link #out}, with what it holds, for
     * the empty {@link #sending} buffer.
     *
     * @return whether it held anything
     */
    private boolean takeOut() {
        int n = out.position();
        if (n == 0) {
            return false;
        }
        ByteBuffer taken = out;
        out = sending;
        sending = taken;
        outBase += n;
        attempted = outBase;
        return true;
    }

    /**
     * With {@link #sendLock} held: writes {@link #sending}. A failure fails the connection; after one
     * (or after {@link #close()} wrote its GOAWAY) nothing is written.
     *
     * @throws IOException if the write failed, or the connection had failed before it
     */
    private void writeSending(long timeoutNanos) throws IOException {
        sending.flip();
        try {
            IOException f = failure;
            if (f != null) {
                throw new IOException("HTTP/2 connection to " + server + " failed before this was written: "
                        + f.getMessage(), f);
            }
            if (!sending.hasRemaining() || outputDone) {
                return;
            }
            try {
                raw.write(sending, timeoutNanos);
            } catch (IOException | RuntimeException e) {
                IOException io = e instanceof IOException x ? x : new IOException("writing to " + server + " failed", e);
                fail(io, null, true);
                throw io;
            }
            sentUpTo = attempted;
        } finally {
            sending.clear();
            if (sending.capacity() > MAX_KEPT_BUFFER) {
                sending = ByteBuffer.allocate(OUT_BUFFER);
            }
        }
    }

    /**
     * Takes the socket's sending side within {@code timeoutNanos}; if that fails the connection is
     * wedged: it is aborted, and the caller gets a {@link RequestNotProcessedException} if it had not
     * written its request's HEADERS yet ({@code beforeHeaders}), else the timeout.
     */
    private void acquireSend(long timeoutNanos, boolean beforeHeaders) throws IOException {
        boolean locked;
        try {
            locked = sendLock.tryLock(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting to write to " + server);
        }
        if (!locked) {
            SocketTimeoutException stuck = new SocketTimeoutException("HTTP/2 connection to " + server
                    + ": another write held the connection for " + millis(timeoutNanos) + "; the connection was aborted");
            fail(stuck, null, true);
            if (!beforeHeaders) {
                throw stuck;
            }
            throw new RequestNotProcessedException(Reason.CONNECTION_FAILED, stuck.getMessage()
                    + " before the request was written", stuck);
        }
    }

    /** Lets go of the socket's sending side, then writes what others appended meanwhile, if nobody does. */
    private void releaseSend() {
        sendLock.unlock();
        flushQuietly();
    }

    /** With {@link #writeLock} held: makes room for {@code n} more bytes in {@link #out}, growing it. */
    private void room(int n) {
        if (out.remaining() < n) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(out.capacity() * 2, out.position() + n));
            out.flip();
            bigger.put(out);
            out = bigger;
        }
    }

    /** Writes queued control frames, unless somebody is writing already (who then takes them too). */
    private void drainControl() {
        if (controlPending && !outputDone) {
            dirty = true;
            flushQuietly();
        }
    }

    /**
     * With {@link #writeLock} held: applies the server's pending frame and header-table sizes to our
     * encoder, then appends the queued control frames (their SETTINGS acknowledgements included) to
     * {@link #out}, so that everything written after an acknowledgement follows what it acknowledged.
     */
    private void appendControl() {
        if (!controlPending) {
            return;
        }
        controlLock.lock();
        try {
            if (pendingMaxFrameSize > 0) {
                writer.setPeerMaxFrameSize(pendingMaxFrameSize);
                pendingMaxFrameSize = 0;
            }
            if (pendingHeaderTableMin >= 0) {
                writer.setPeerHeaderTableSize(pendingHeaderTableMin);
                writer.setPeerHeaderTableSize(pendingHeaderTableFinal);
                pendingHeaderTableMin = -1;
                pendingHeaderTableFinal = -1;
            }
            control.flip();
            if (failure == null) {
                room(control.remaining());
                out.put(control);
            }
            control.clear();
            controlPending = false;
        } finally {
            controlLock.unlock();
        }
    }

    /** Encodes a control frame into the queue. */
    private interface ControlFrame {
        void write(ByteBuffer b);
    }

    private void queueControl(ControlFrame frame, int maxBytes) {
        controlLock.lock();
        try {
            putControl(frame, maxBytes);
        } finally {
            controlLock.unlock();
        }
    }

    /** With controlLock held. A server that makes us queue too much without reading it is failed. */
    private void putControl(ControlFrame frame, int maxBytes) {
        if (control.remaining() < maxBytes) {
            int need = control.position() + maxBytes;
            if (need > MAX_CONTROL_BYTES) {
                Http2Exception e = Http2Exception.connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, "the server "
                        + server + " does not read the frames it makes us send (" + control.position()
                        + " bytes queued)");
                ConnectionReader.start("h2-fail-" + server, () -> fail(e, null, true));
                return;
            }
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(need, control.capacity() * 2));
            control.flip();
            bigger.put(control);
            control = bigger;
        }
        frame.write(control);
        controlPending = true;
    }

    // =============================================================================================
    // Failure

    /**
     * Fails the connection once: every open stream fails, with GOAWAY({@code goAwayCode}) first if
     * given (written once the socket's sending side is free, waiting at most {@link #GOAWAY_WAIT_NANOS}
     * for a writer that holds it), then the socket is aborted, or left to the caller to close if
     * {@code abort} is false. Any thread; without a GOAWAY to write, never waits for a writer; with
     * one, it is called by the reader, a thread of its own or the opening caller, never under a lock.
     */
    private void fail(IOException cause, Http2ErrorCode goAwayCode, boolean abort) {
        Http2Stream[] open;
        lock.lock();
        try {
            if (failure != null) {
                return;
            }
            failure = cause;
            updateCapacity();
            open = streams.snapshot();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        long handedOver = attempted; // read after failure was set: see writeSending
        for (Http2Stream s : open) {
            if (s.headersAt >= handedOver) {
                dropBuffered(s.fail(new RequestNotProcessedException(Reason.CONNECTION_FAILED, "HTTP/2 connection to "
                        + server + " failed before " + s + " was written: " + cause.getMessage(), cause), true, chunks));
                continue;
            }
            IOException e = cause instanceof EOFException
                    ? new EOFException(cause.getMessage() + " while " + s + " was open")
                    : new IOException("HTTP/2 connection to " + server + " failed while " + s + " was open: "
                            + cause.getMessage(), cause);
            if (cause instanceof EOFException) {
                e.initCause(cause);
            }
            dropBuffered(s.fail(e, true, chunks));
        }
        if (goAwayCode != null && takeSendForGoAway()) {
            try {
                byte[] debug = String.valueOf(cause.getMessage()).getBytes(StandardCharsets.ISO_8859_1);
                ByteBuffer d = ByteBuffer.wrap(debug, 0, Math.min(debug.length, MAX_DEBUG_DATA));
                ByteBuffer frame = ByteBuffer.allocate(Http2FrameWriter.FRAME_HEADER_LENGTH + 8 + d.remaining());
                new Http2FrameWriter(0).writeGoAway(frame, 0, goAwayCode, d); // 0: we processed no server stream
                frame.flip();
                raw.write(frame, options.writeTimeoutNanos());
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> server + ": cannot write GOAWAY(" + goAwayCode + "): " + e);
            } finally {
                sendLock.unlock();
            }
        }
        if (abort) {
            raw.abort();
        }
        timers.close();
        capacityChanged();
    }

    /**
     * Takes {@link #sendLock} for a failing connection's GOAWAY: at once if free, else once a writer
     * lets go, within {@link #GOAWAY_WAIT_NANOS} (or the write timeout, if shorter). An interrupted
     * thread only tries once.
     *
     * @return whether it holds the lock
     */
    private boolean takeSendForGoAway() {
        try {
            return sendLock.tryLock(Math.min(GOAWAY_WAIT_NANOS, options.writeTimeoutNanos()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return sendLock.tryLock();
        }
    }

    // =============================================================================================
    // Small things

    /** Recomputes {@link #capacity}; with the lock held. @return whether it changed */
    private boolean updateCapacity() {
        int c;
        if (failure != null || closing || draining || idsExhausted || goAway != null) {
            c = 0;
        } else if (peerMaxConcurrentStreams == UNLIMITED) {
            c = options.maxConcurrentStreams();
        } else {
            c = (int) Math.min(peerMaxConcurrentStreams, options.maxConcurrentStreams());
        }
        boolean changed = c != capacity;
        capacity = c;
        return changed;
    }

    private void capacityChanged() {
        Runnable l = capacityListener;
        if (l != null) {
            try {
                l.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> describe() + ": the capacity listener failed: " + e);
            }
        }
    }

    private String goAwayDescription() {
        Http2ConnectionStats.GoAway g = goAway;
        return g == null ? "no GOAWAY" : g.toString();
    }

    private boolean pingOutstandingNow() {
        lock.lock();
        try {
            return pingOutstanding;
        } finally {
            lock.unlock();
        }
    }

    static void checkTimeout(long timeoutNanos) {
        if (timeoutNanos <= 0) {
            throw new IllegalArgumentException("timeout must be positive but was " + timeoutNanos + " ns");
        }
    }

    private static String millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos) + " ms";
    }
}
