package io.berth.transport.http1;

import io.berth.HttpProtocolException;
import io.berth.Outcome;
import io.berth.ResponseTimeoutException;
import io.berth.spi.Attachment;
import io.berth.spi.Connection;
import io.berth.transport.BufferPool;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;

/**
 * The HTTP/1.1 codec of one {@link Connection}: it writes a request, reads the response head, and
 * streams the response body, one exchange at a time, and tells an {@link ExchangeListener} how each
 * exchange ended. It uses the connection; it is not one: the pool keeps the connection, and the HTTP
 * layer keeps the codec with it ({@link io.berth.Lease#attach}), made on its first exchange.
 *
 * <p>An exchange is three calls, in order:
 * <ol>
 *   <li>{@link #writeRequest} sends the head and the body;</li>
 *   <li>{@link #readResponseHead} reads the final response head, skipping 1xx interim responses;</li>
 *   <li>{@link #body} returns the body as a {@link ResponseBody}, which calls its listener exactly once
 *       when the body ends, is closed or fails. Call it for every response, even one without a body:
 *       the listener is then called at once. Before it, {@link #takeArrivedBody} may take a small
 *       body that arrived with the head as an array instead, and end the exchange at once; when it
 *       returns null, call {@code body}.</li>
 * </ol>
 * The next exchange may start once the listener was told {@linkplain Outcome#reusable() reusable}.
 * If {@code writeRequest} or {@code readResponseHead} throws an {@link IOException} or an
 * {@link IllegalStateException} from the request body, the connection is broken: release it with
 * {@link Outcome#BROKEN}. An {@link IllegalArgumentException} from {@code writeRequest} is thrown
 * before anything is written, and leaves the connection as it was.
 *
 * <p>Bytes that arrive beyond a response (a server may not send anything unasked) end the exchange
 * {@linkplain Outcome#NOT_REUSABLE not reusable}: once an exchange is over the codec holds no byte.
 *
 * <p>Buffers: while an exchange runs, the codec holds two buffers of {@link BufferPool#BUFFER_SIZE}
 * bytes from the {@link BufferPool}, and keeps them from one exchange to the next; {@link #idle()}
 * and {@link #closed()} (the pool calls them, as the codec is the connection's {@link Attachment}) give
 * them back, so an idle connection holds none. The codec state (parser, chunked decoder, request
 * encoder) is created once per connection and reused.
 *
 * <p>Not thread-safe: an exchange is driven by one thread at a time (the lease holder), as the SPI
 * says; to break one from another thread, abort the connection.
 */
public final class Http1Codec implements Attachment {
    /** The default limit of a response head, and of a trailer section: 64 KiB. */
    public static final int DEFAULT_MAX_HEAD_SIZE = ResponseParser.DEFAULT_MAX_HEAD_SIZE;
    /** How long a request with {@code Expect: 100-continue} waits for 100 before it sends its body anyway. */
    public static final Duration DEFAULT_EXPECT_CONTINUE_TIMEOUT = Duration.ofSeconds(1);
    /** Closing a body before its end drains it only if at most this many bytes remain to be read. */
    static final int DRAIN_MAX_BYTES = 64 * 1024;
    /** Closing a body before its end drains it for at most this long. */
    static final long DRAIN_MAX_NANOS = 50_000_000L;
    private static final byte[] NO_BYTES = new byte[0];

    private static final int IDLE = 0;
    private static final int WRITING = 1;
    private static final int REQUEST_SENT = 2;
    private static final int HEAD_READ = 3;
    private static final int BODY = 4;
    /** The last exchange was broken or not reusable: no further exchange. */
    private static final int RETIRED = 5;

    private final Connection connection;
    private final BufferPool buffers;
    private final int maxHeadSize;
    private final long expectContinueNanos;
    private final Sink sink = new Sink();

    private RequestHeadEncoder encoder;
    /** The last request header fields found without framing headers. */
    private HeaderFields checkedHeaders;
    private ResponseParser parser;
    private ChunkedDecoder decoder;
    /** Received bytes, kept in read mode: [position, limit) are unread. Null while idle. */
    private ByteBuffer in;
    /** Request bytes waiting to be written, in write mode. Null while idle. */
    private ByteBuffer out;

    private int state = IDLE;
    private boolean responseStarted;
    private boolean forceNotReusable;
    private ResponseHead finalHeadEarly;
    private ResponseHead head;
    private boolean headRequest;
    private BodyFraming framing;
    /**
     * The framing and keep-alive decision of the last head they were decided for: a parser hands out
     * the same {@link ResponseHead} again for a repeated head, which needs no new decision.
     */
    private ResponseHead framedHead;
    private boolean framedHeadRequest;
    private BodyFraming lastFraming;
    private ResponseHead decidedHead;
    private BodyFraming decidedFraming;
    private Outcome decided;

    private Http1Codec(Connection connection, int maxHeadSize, long expectContinueNanos, BufferPool buffers) {
        this.connection = connection;
        this.maxHeadSize = maxHeadSize;
        this.expectContinueNanos = expectContinueNanos;
        this.buffers = buffers;
    }

    /**
     * Makes the codec of a connection, with the default limits: {@link #DEFAULT_MAX_HEAD_SIZE} and
     * {@link #DEFAULT_EXPECT_CONTINUE_TIMEOUT}.
     *
     * @param connection the connection to the server
     * @return the codec
     * @throws NullPointerException if {@code connection} is null
     */
    public static Http1Codec of(Connection connection) {
        return of(connection, DEFAULT_MAX_HEAD_SIZE, DEFAULT_EXPECT_CONTINUE_TIMEOUT);
    }

    /**
     * Makes the codec of a connection.
     *
     * @param connection the connection to the server
     * @param maxHeadSize the most bytes of a response head, and of a chunked body's trailer section;
     *     at least 256
     * @param expectContinueTimeout how long a request with {@code Expect: 100-continue} waits for
     *     {@code 100 Continue} before it sends its body anyway; positive
     * @return the codec
     * @throws IllegalArgumentException if a limit is out of range
     * @throws NullPointerException if an argument is null
     */
    public static Http1Codec of(Connection connection, int maxHeadSize, Duration expectContinueTimeout) {
        return of(connection, maxHeadSize, expectContinueTimeout, BufferPool.shared());
    }

    static Http1Codec of(Connection connection, int maxHeadSize, Duration expectContinueTimeout,
            BufferPool buffers) {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(expectContinueTimeout, "expectContinueTimeout");
        Objects.requireNonNull(buffers, "buffers");
        if (maxHeadSize < 256) {
            throw new IllegalArgumentException("maxHeadSize must be >= 256 but was " + maxHeadSize);
        }
        if (expectContinueTimeout.isNegative() || expectContinueTimeout.isZero()) {
            throw new IllegalArgumentException("expectContinueTimeout must be positive but was "
                    + expectContinueTimeout);
        }
        long nanos;
        try {
            nanos = expectContinueTimeout.toNanos();
        } catch (ArithmeticException e) {
            nanos = Long.MAX_VALUE;
        }
        return new Http1Codec(connection, maxHeadSize, nanos, buffers);
    }

    /** @return the connection the codec speaks over */
    public Connection connection() {
        return connection;
    }

    // ---------------------------------------------------------------------------------------------
    // The exchange

    /**
     * Sends a request: its head and, if it has one, its body.
     *
     * <p>Body framing comes from {@link RequestBody#contentLength()}: a length sends
     * {@code Content-Length}, -1 sends {@code Transfer-Encoding: chunked}; without a body neither is
     * sent. The body is buffered, so a small one goes out in the same write as the head.
     *
     * <p>With {@code Expect: 100-continue} and a non-empty body, the head is sent alone and the body
     * waits for {@code 100 Continue}, but for at most the expect-continue timeout, after which it is
     * sent anyway. If a final response arrives first, the body is not sent, the response is kept for
     * {@link #readResponseHead}, and the exchange will end {@linkplain Outcome#NOT_REUSABLE not
     * reusable} (the server may still expect the body).
     *
     * @param method the method, a token such as {@code GET}
     * @param target the request target: {@code /path?query}, an absolute URI, or {@code *}
     * @param headers the header fields, {@code Host} included; without {@code Content-Length} and
     *     {@code Transfer-Encoding}, which the connection sets
     * @param body the body, or {@code null} for none
     * @param timeoutNanos how long each write may wait for the socket's send buffer to drain; positive
     * @throws IllegalArgumentException if the method, the target or a header is invalid, the headers set
     *     the body framing, the body's length is below -1 or the timeout is not positive; the message
     *     names what; nothing was written
     * @throws IllegalStateException if an exchange is already under way, the connection was retired by
     *     the previous exchange, or the body wrote more or fewer bytes than its length
     * @throws HttpProtocolException if the server answered the 100-continue wait with an invalid or
     *     unsupported response
     * @throws IOException if writing failed or the body's source failed
     */
    public void writeRequest(String method, String target, HeaderFields headers, RequestBody body,
            long timeoutNanos) throws IOException {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(headers, "headers");
        checkTimeout(timeoutNanos, "timeoutNanos");
        requireState(IDLE, "writeRequest");
        if (headers != checkedHeaders) { // immutable: the fields the last request passed with pass again
            checkNoFramingHeader(headers, "Content-Length");
            checkNoFramingHeader(headers, "Transfer-Encoding");
            checkedHeaders = headers;
        }
        long length = RequestHeadEncoder.NO_BODY;
        if (body != null) {
            length = body.contentLength();
            if (length < -1) {
                throw new IllegalArgumentException("RequestBody.contentLength() must be >= 0, or -1 if unknown,"
                        + " but was " + length);
            }
        }
        if (encoder == null) {
            encoder = new RequestHeadEncoder();
        }
        ByteBuffer headBytes = encoder.encode(method, target, headers, length); // throws IAE before any write
        boolean expectContinue = body != null && length != 0 && headers.containsToken("Expect", "100-continue");

        startExchange();
        state = WRITING;
        boolean sent = false;
        try {
            if (headBytes.remaining() <= out.remaining()) {
                out.put(headBytes);
            } else {
                connection.write(headBytes, timeoutNanos);
            }
            if (body != null && expectContinue) {
                flushOut(timeoutNanos);
                if (!awaitContinue()) {
                    forceNotReusable = true; // the server may still wait for the body we do not send
                    sent = true;
                    return;
                }
            }
            if (body != null) {
                sink.open(length, timeoutNanos);
                try {
                    body.writeTo(sink);
                    sink.finish();
                } finally {
                    sink.close();
                }
            }
            flushOut(timeoutNanos);
            sent = true;
        } finally {
            state = sent ? REQUEST_SENT : RETIRED;
        }
    }

    /**
     * Reads the final response head, skipping interim 1xx responses.
     *
     * @param responseTimeoutNanos how long each read may wait for the server's next byte; positive
     * @param headRequest whether the request's method was HEAD (its response has no body)
     * @return the final head (status 200 to 599)
     * @throws HttpProtocolException if the head is invalid, exceeds the size limit, frames its body
     *     invalidly, is {@code 101 Switching Protocols} (unsupported), or the server closed the connection
     *     before the head ended
     * @throws ResponseTimeoutException if the server sent nothing for {@code responseTimeoutNanos}
     * @throws IOException if reading failed
     * @throws IllegalArgumentException if the timeout is not positive
     * @throws IllegalStateException if no request was written
     */
    public ResponseHead readResponseHead(long responseTimeoutNanos, boolean headRequest) throws IOException {
        checkTimeout(responseTimeoutNanos, "responseTimeoutNanos");
        requireState(REQUEST_SENT, "readResponseHead");
        state = RETIRED; // until the head is read
        ResponseHead h = finalHeadEarly;
        finalHeadEarly = null;
        while (h == null) {
            h = parser.parse(in);
            if (h == null) {
                if (fill(responseTimeoutNanos, Integer.MAX_VALUE) < 0) {
                    throw closedDuringHead();
                }
            } else if (h.isInformational()) {
                checkNotUpgrade(h);
                parser.reset();
                h = null;
            }
        }
        if (h != framedHead || headRequest != framedHeadRequest) {
            lastFraming = BodyFraming.of(h, headRequest);
            framedHead = h;
            framedHeadRequest = headRequest;
        }
        framing = lastFraming;
        head = h;
        this.headRequest = headRequest;
        state = HEAD_READ;
        return h;
    }

    /**
     * Returns the response body, streamed as it arrives. The listener is called exactly once: when the
     * body's end has been read (at once if it has none), when it is closed, or when it fails.
     *
     * @param head the head {@link #readResponseHead} returned
     * @param headRequest whether the request's method was HEAD, as given to {@code readResponseHead}
     * @param responseTimeoutNanos how long each read may wait for the server's next byte; positive
     * @param listener told how the exchange ended
     * @return the body
     * @throws IllegalArgumentException if the head is not the one just read, {@code headRequest}
     *     differs, or the timeout is not positive
     * @throws IllegalStateException if no head was read
     * @throws NullPointerException if {@code head} or {@code listener} is null
     */
    public ResponseBody body(ResponseHead head, boolean headRequest, long responseTimeoutNanos,
            ExchangeListener listener) {
        Objects.requireNonNull(head, "head");
        Objects.requireNonNull(listener, "listener");
        checkTimeout(responseTimeoutNanos, "responseTimeoutNanos");
        requireState(HEAD_READ, "body");
        checkHead(head, headRequest);
        state = BODY;
        return new ResponseBody(this, head, framing, responseTimeoutNanos, listener);
    }

    private void checkHead(ResponseHead head, boolean headRequest) {
        if (head != this.head) {
            throw new IllegalArgumentException("not the head this connection read last");
        }
        if (headRequest != this.headRequest) {
            throw new IllegalArgumentException("headRequest is " + headRequest
                    + " but readResponseHead was told " + this.headRequest);
        }
    }

    /**
     * Takes the whole body of the response just read when it has already arrived with its head, and
     * ends the exchange there: the listener is told how it ended before this returns, as a
     * {@link ResponseBody} would tell it at the body's end. It takes a body of at most
     * {@code maxBytes} framed by {@code Content-Length} whose bytes are all buffered, and a response
     * without a body; anything else stays on the connection: this returns null and the exchange goes
     * on with {@link #body}. Taking it costs one copy, and lets the connection go before the caller
     * reads the body.
     *
     * @param head the head {@link #readResponseHead} returned
     * @param headRequest whether the request's method was HEAD, as given to {@code readResponseHead}
     * @param maxBytes the largest body to take; 0 takes only a response without a body
     * @param listener told how the exchange ended, if the body was taken
     * @return the body (a shared empty array for a response without one), or null if it was not taken
     * @throws IllegalArgumentException if the head is not the one just read, {@code headRequest}
     *     differs, or {@code maxBytes} is negative
     * @throws IllegalStateException if no head was read
     * @throws NullPointerException if {@code head} or {@code listener} is null
     */
    public byte[] takeArrivedBody(ResponseHead head, boolean headRequest, int maxBytes, ExchangeListener listener) {
        Objects.requireNonNull(head, "head");
        Objects.requireNonNull(listener, "listener");
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must not be negative: " + maxBytes);
        }
        requireState(HEAD_READ, "takeArrivedBody");
        checkHead(head, headRequest);
        BodyFraming f = framing;
        byte[] bytes;
        if (f.kind() == BodyFraming.Kind.NONE) {
            bytes = NO_BYTES;
        } else if (f.kind() == BodyFraming.Kind.FIXED && f.length() <= maxBytes && in.remaining() >= f.length()) {
            bytes = new byte[(int) f.length()];
            in.get(bytes);
        } else {
            return null;
        }
        state = BODY;
        listener.exchangeCompleted(finishExchange(keepAlive(head, f)));
        return bytes;
    }

    /**
     * @return whether any byte of a response has arrived since the current exchange's request was
     *     written: before one has, a failed exchange of a replayable request may be retried elsewhere
     */
    public boolean responseStarted() {
        return responseStarted;
    }

    // ---------------------------------------------------------------------------------------------
    // Used by ResponseBody

    ByteBuffer in() {
        return in;
    }

    ChunkedDecoder decoder() {
        if (decoder == null) {
            decoder = new ChunkedDecoder(maxHeadSize);
        }
        return decoder;
    }

    /**
     * @return how the exchange of {@code head} ends once its body is read to the end:
     *     {@link KeepAlive#decide}, decided again only for another head or framing
     */
    Outcome keepAlive(ResponseHead head, BodyFraming framing) {
        if (head != decidedHead || framing != decidedFraming) {
            decided = KeepAlive.decide(head, framing);
            decidedHead = head;
            decidedFraming = framing;
        }
        return decided;
    }

    /**
     * Reads more bytes into {@link #in}, at most {@code max}.
     *
     * @return how many bytes arrived, or -1 at the end of the stream
     */
    int fill(long timeoutNanos, long max) throws IOException {
        if (in.hasRemaining()) {
            in.compact();
        } else {
            in.clear();
        }
        if (!in.hasRemaining()) {
            in.flip();
            throw new IllegalStateException("receive buffer full");
        }
        if (max < in.remaining()) {
            in.limit(in.position() + (int) max);
        }
        int n;
        try {
            n = connection.read(in, timeoutNanos);
        } finally {
            in.flip();
        }
        if (n == 0) {
            throw new IOException(connection.describe() + ": Connection.read returned 0 bytes");
        }
        if (n > 0) {
            responseStarted = true;
        }
        return n;
    }

    /**
     * Ends the current exchange: called by the body, before it calls its listener.
     *
     * @param decided the outcome the body decided
     * @return the outcome to report: {@code decided}, or {@link Outcome#NOT_REUSABLE} if bytes beyond the
     *     response are buffered or the request body was not sent
     */
    Outcome finishExchange(Outcome decided) {
        Outcome outcome = decided;
        if (outcome.reusable() && (in.hasRemaining() || forceNotReusable)) {
            outcome = Outcome.NOT_REUSABLE;
        }
        in.clear().flip(); // empty: nothing is left in the buffers once an exchange is over
        head = null;
        framing = null;
        state = outcome.reusable() ? IDLE : RETIRED;
        return outcome;
    }

    // ---------------------------------------------------------------------------------------------
    // Attachment: the pool tells the codec of its connection's life

    /** Gives this codec's buffers back to the buffer pool while the connection is idle. */
    @Override
    public void idle() {
        releaseBuffers();
    }

    /** Gives this codec's buffers back, unless an exchange is under way (it may still use them). */
    @Override
    public void closed() {
        releaseBuffers();
    }

    @Override
    public String toString() {
        return "Http1Codec[" + connection.describe() + "]";
    }

    // ---------------------------------------------------------------------------------------------

    private void startExchange() {
        if (in == null) {
            in = buffers.take();
            in.flip(); // read mode, empty
        }
        if (out == null) {
            out = buffers.take();
        }
        out.clear();
        if (parser == null) {
            parser = new ResponseParser(maxHeadSize);
        } else {
            parser.reset();
        }
        if (decoder != null) {
            decoder.reset();
        }
        responseStarted = false;
        forceNotReusable = false;
        finalHeadEarly = null;
        head = null;
        framing = null;
    }

    private void releaseBuffers() {
        if (state == IDLE || state == RETIRED) {
            if (in != null) {
                ByteBuffer b = in;
                in = null;
                buffers.give(b);
            }
            if (out != null) {
                ByteBuffer b = out;
                out = null;
                buffers.give(b);
            }
        }
    }

    /**
     * Waits for {@code 100 Continue} after a head with {@code Expect: 100-continue}.
     *
     * @return {@code true} to send the body (100 arrived, or the wait timed out); {@code false} if a
     *     final response arrived first (kept in {@link #finalHeadEarly})
     */
    private boolean awaitContinue() throws IOException {
        long deadline = System.nanoTime() + expectContinueNanos;
        while (true) {
            ResponseHead h = parser.parse(in);
            if (h != null) {
                checkNotUpgrade(h);
                if (!h.isInformational()) {
                    finalHeadEarly = h;
                    return false;
                }
                parser.reset();
                if (h.statusCode() == 100) {
                    return true;
                }
                continue; // another interim response (102, 103): keep waiting
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return true;
            }
            try {
                if (fill(left, Integer.MAX_VALUE) < 0) {
                    throw closedDuringHead();
                }
            } catch (ResponseTimeoutException e) {
                return true; // no answer in time: send the body anyway (RFC 9110 §10.1.1)
            }
        }
    }

    private HttpProtocolException closedDuringHead() {
        if (!responseStarted) {
            return new HttpProtocolException("server closed the connection before sending any response byte ("
                    + connection.describe() + ")");
        }
        return new HttpProtocolException("server closed the connection after " + parser.bytesConsumed()
                + " bytes of a response head (" + connection.describe() + ")");
    }

    private static void checkNotUpgrade(ResponseHead h) throws HttpProtocolException {
        if (h.statusCode() == 101) {
            throw new HttpProtocolException("101 Switching Protocols is not supported: Berth sends no Upgrade");
        }
    }

    private void flushOut(long timeoutNanos) throws IOException {
        out.flip();
        try {
            if (out.hasRemaining()) {
                connection.write(out, timeoutNanos);
            }
        } finally {
            out.clear();
        }
    }

    private void requireState(int expected, String method) {
        if (state != expected) {
            throw new IllegalStateException(method + "() called " + describeState());
        }
    }

    private String describeState() {
        switch (state) {
            case IDLE:
                return "before writeRequest()";
            case WRITING:
                return "while a request is being written, or after writing it failed";
            case REQUEST_SENT:
                return "after writeRequest(), before readResponseHead()";
            case HEAD_READ:
                return "after readResponseHead(), before body()";
            case BODY:
                return "while a response body is open";
            default:
                return "after the previous exchange retired the connection (broken or not reusable)";
        }
    }

    private static void checkNoFramingHeader(HeaderFields headers, String name) {
        if (headers.contains(name)) {
            throw new IllegalArgumentException("header " + name + " must not be set: the connection frames"
                    + " the body from RequestBody.contentLength()");
        }
    }

    private static void checkTimeout(long nanos, String name) {
        if (nanos <= 0) {
            throw new IllegalArgumentException(name + " must be positive but was " + nanos);
        }
    }

    /**
     * The {@link BodySink} handed to request bodies: it frames their bytes into {@link #out}, flushing
     * it when full. For a chunked body, each flush is one chunk: room for the largest chunk header is
     * kept before the data, and the header is written into it when the chunk is sealed.
     */
    private final class Sink implements BodySink {
        private boolean open;
        private boolean chunked;
        private long declared;
        private long written;
        private long timeoutNanos;
        /** Chunked: where in {@link #out} the current chunk's header room starts. */
        private int chunkStart;

        void open(long length, long timeoutNanos) {
            this.open = true;
            this.chunked = length < 0;
            this.declared = length;
            this.written = 0;
            this.timeoutNanos = timeoutNanos;
            if (chunked) {
                startChunk();
            }
        }

        void close() {
            open = false;
        }

        @Override
        public void write(byte[] src, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, src.length);
            accept(len);
            while (len > 0) {
                int n = Math.min(room(), len);
                if (n == 0) {
                    flushFull();
                    continue;
                }
                out.put(src, off, n);
                off += n;
                len -= n;
            }
        }

        @Override
        public void write(ByteBuffer src) throws IOException {
            accept(src.remaining());
            while (src.hasRemaining()) {
                int n = Math.min(room(), src.remaining());
                if (n == 0) {
                    flushFull();
                    continue;
                }
                out.put(out.position(), src, src.position(), n);
                out.position(out.position() + n);
                src.position(src.position() + n);
            }
        }

        /** Checks and counts bytes about to be written. */
        private void accept(int len) {
            if (!open) {
                throw new IllegalStateException("BodySink used after RequestBody.writeTo returned");
            }
            if (!chunked && len > declared - written) {
                open = false;
                throw new IllegalStateException("RequestBody wrote more than its contentLength() of "
                        + declared + " bytes");
            }
            written += len;
        }

        /** Called after writeTo returned: checks the length, or seals the last chunk and ends the body. */
        void finish() throws IOException {
            if (!chunked) {
                if (written != declared) {
                    throw new IllegalStateException("RequestBody wrote " + written + " bytes but its"
                            + " contentLength() is " + declared);
                }
                return;
            }
            sealChunk();
            if (out.remaining() < ChunkedEncoding.LAST_CHUNK_LENGTH) {
                flushOut(timeoutNanos);
            }
            int p = out.position();
            ChunkedEncoding.writeLastChunk(out.array(), out.arrayOffset() + p);
            out.position(p + ChunkedEncoding.LAST_CHUNK_LENGTH);
        }

        private int room() {
            return chunked ? out.remaining() - ChunkedEncoding.CHUNK_TRAILER_LENGTH : out.remaining();
        }

        private void flushFull() throws IOException {
            if (chunked) {
                sealChunk();
                flushOut(timeoutNanos);
                startChunk();
            } else {
                flushOut(timeoutNanos);
            }
        }

        private void startChunk() {
            if (out.remaining() < ChunkedEncoding.MAX_CHUNK_HEADER + ChunkedEncoding.CHUNK_TRAILER_LENGTH + 1) {
                throw new IllegalStateException("send buffer too small for a chunk");
            }
            chunkStart = out.position();
            out.position(chunkStart + ChunkedEncoding.MAX_CHUNK_HEADER);
        }

        /**
         * Writes the current chunk's header and CRLF around its data. If the header is shorter than the
         * room kept for it, the data moves down so that no gap is left; without data the room is given up.
         */
        private void sealChunk() {
            byte[] a = out.array();
            int base = out.arrayOffset();
            int dataStart = chunkStart + ChunkedEncoding.MAX_CHUNK_HEADER;
            int dataLen = out.position() - dataStart;
            if (dataLen == 0) {
                out.position(chunkStart);
                return;
            }
            int headerLen = ChunkedEncoding.chunkHeaderLength(dataLen);
            int newDataStart = chunkStart + headerLen;
            System.arraycopy(a, base + dataStart, a, base + newDataStart, dataLen);
            ChunkedEncoding.writeChunkHeader(dataLen, a, base + chunkStart);
            int end = newDataStart + dataLen;
            ChunkedEncoding.writeChunkEnd(a, base + end);
            out.position(end + ChunkedEncoding.CHUNK_TRAILER_LENGTH);
        }
    }
}
