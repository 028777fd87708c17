package io.berth.transport.http1;

import io.berth.HttpProtocolException;
import io.berth.Outcome;
import io.berth.ResponseTimeoutException;
import io.berth.TruncatedBodyException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A response body, streamed from its connection as it is read, per its framing
 * ({@code Content-Length}, chunked, or until the server closes).
 *
 * <p>Every read that needs bytes from the network waits at most the response timeout for the next
 * byte. A body that ends early is a {@link TruncatedBodyException}, never a normal end of stream:
 * fewer bytes than its {@code Content-Length}, or a chunked body without its last chunk.
 *
 * <p>The connection's {@link ExchangeListener} is called exactly once, at the first of: the body's end
 * was read (for a body without content, when the body is created); the body was closed; a read failed.
 * Closing a body before its end drains the rest if that is small and quick (at most 64 KiB within
 * 50 ms), so the connection can still be reused; otherwise the exchange ends not reusable. A failed
 * read ends it {@linkplain Outcome#BROKEN broken}, and the exception propagates. After the listener
 * call the body no longer touches the connection.
 *
 * <p>Not thread-safe: read and close it from one thread.
 */
public final class ResponseBody extends InputStream {
    private final Http1Codec conn;
    private final ResponseHead head;
    private final BodyFraming framing;
    private final long timeoutNanos;
    private final ExchangeListener listener;
    /** For {@link #read()}; made on first use, since most callers read arrays. */
    private byte[] single;

    /** FIXED: bytes of the body not yet read. */
    private long remaining;
    private boolean closed;
    /** The exchange is over (ended, drained, abandoned or failed) and the listener was called. */
    private boolean finished;
    private IOException failure;
    private HeaderFields trailers;

    ResponseBody(Http1Codec conn, ResponseHead head, BodyFraming framing, long timeoutNanos,
            ExchangeListener listener) {
        this.conn = conn;
        this.head = head;
        this.framing = framing;
        this.timeoutNanos = timeoutNanos;
        this.listener = listener;
        this.remaining = framing.length();
        if (framing.kind() == BodyFraming.Kind.NONE) {
            trailers = HeaderFields.EMPTY;
            finish(conn.keepAlive(head, framing));
        }
    }

    /** @return the body's length from {@code Content-Length} (0 if it has none), or -1 if not known */
    public long contentLength() {
        return framing.kind() == BodyFraming.Kind.NONE || framing.kind() == BodyFraming.Kind.FIXED
                ? framing.length() : -1;
    }

    /** @return the head of the response this body belongs to */
    public ResponseHead head() {
        return head;
    }

    /** @return whether the exchange is over: the body's end was read, or it was closed, or it failed */
    public boolean isComplete() {
        return finished;
    }

    /**
     * @return the trailer fields of a chunked body, empty if it had none or is not chunked
     * @throws IllegalStateException if the body's end has not been reached (by reading or by draining
     *     it on close)
     */
    public HeaderFields trailers() {
        if (trailers == null) {
            throw new IllegalStateException("trailers are known only after the body's end was read");
        }
        return trailers;
    }

    /**
     * {@inheritDoc}
     *
     * @throws TruncatedBodyException if the connection ended before the body did
     * @throws HttpProtocolException if the chunked coding is invalid
     * @throws ResponseTimeoutException if the server sent nothing for the response timeout
     * @throws IOException if reading failed, the body was closed, or an earlier read failed
     */
    @Override
    public int read() throws IOException {
        if (finished && !closed && failure == null) {
            return -1; // the usual end-of-body probe after a whole body: no buffer needed
        }
        if (single == null) {
            single = new byte[1];
        }
        int n = read(single, 0, 1);
        return n < 0 ? -1 : single[0] & 0xFF;
    }

    /**
     * {@inheritDoc}
     *
     * @throws TruncatedBodyException if the connection ended before the body did
     * @throws HttpProtocolException if the chunked coding is invalid
     * @throws ResponseTimeoutException if the server sent nothing for the response timeout
     * @throws IOException if reading failed, the body was closed, or an earlier read failed
     */
    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (closed) {
            throw new IOException("response body is closed");
        }
        if (failure != null) {
            throw new IOException("response body failed earlier: " + failure.getMessage(), failure);
        }
        if (finished) {
            return -1;
        }
        if (len == 0) {
            return 0;
        }
        try {
            switch (framing.kind()) {
                case FIXED:
                    return readFixed(b, off, len);
                case CHUNKED:
                    return readChunked(b, off, len);
                default:
                    return readUntilClose(b, off, len);
            }
        } catch (IOException | RuntimeException e) {
            fail(e);
            throw e;
        }
    }

    /** @return the body bytes that can be read without waiting for the network */
    @Override
    public int available() {
        if (finished || closed) {
            return 0;
        }
        ByteBuffer in = conn.in();
        switch (framing.kind()) {
            case FIXED:
                return (int) Math.min(in.remaining(), remaining);
            case CHUNKED:
                return conn.decoder().available(in);
            default:
                return in.remaining();
        }
    }

    /**
     * Closes the body. Before its end, drains the rest if at most 64 KiB remain and they arrive within
     * 50 ms, so the connection stays reusable; otherwise, or if draining fails, the exchange ends not
     * reusable (or broken). Never throws; idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!finished) {
            finish(drain());
        }
    }

    private int readFixed(byte[] b, int off, int len) throws IOException {
        ByteBuffer in = conn.in();
        if (!in.hasRemaining() && conn.fill(timeoutNanos, remaining) < 0) {
            throw new TruncatedBodyException("response body truncated: the connection closed after "
                    + (framing.length() - remaining) + " of " + framing.length() + " bytes (Content-Length)");
        }
        int n = (int) Math.min(Math.min(len, in.remaining()), remaining);
        in.get(b, off, n);
        remaining -= n;
        if (remaining == 0) {
            trailers = HeaderFields.EMPTY;
            finish(conn.keepAlive(head, framing));
        }
        return n;
    }

    private int readChunked(byte[] b, int off, int len) throws IOException {
        ChunkedDecoder decoder = conn.decoder();
        ByteBuffer in = conn.in();
        while (true) {
            int n = decoder.read(in, b, off, len);
            if (decoder.isDone()) {
                trailers = decoder.trailers();
                finish(conn.keepAlive(head, framing));
                return n > 0 ? n : -1;
            }
            if (n > 0) {
                return n;
            }
            // The decoder consumed all input without producing data: it needs more.
            if (conn.fill(timeoutNanos, Integer.MAX_VALUE) < 0) {
                throw new TruncatedBodyException("chunked response body truncated: the connection closed before"
                        + " the last chunk, after " + decoder.bytesConsumed() + " bytes of the chunked body");
            }
        }
    }

    private int readUntilClose(byte[] b, int off, int len) throws IOException {
        ByteBuffer in = conn.in();
        if (!in.hasRemaining() && conn.fill(timeoutNanos, Integer.MAX_VALUE) < 0) {
            trailers = HeaderFields.EMPTY;
            finish(Outcome.NOT_REUSABLE);
            return -1;
        }
        int n = Math.min(len, in.remaining());
        in.get(b, off, n);
        return n;
    }

    /**
     * Reads and discards the rest of the body within the drain bounds.
     *
     * @return the outcome: as decided from the head if the body's end was reached, otherwise
     *     {@link Outcome#NOT_REUSABLE} (too long or too slow) or {@link Outcome#BROKEN} (failed)
     */
    private Outcome drain() {
        BodyFraming.Kind kind = framing.kind();
        if (kind == BodyFraming.Kind.UNTIL_CLOSE) {
            return Outcome.NOT_REUSABLE;
        }
        ByteBuffer in = conn.in();
        if (kind == BodyFraming.Kind.FIXED && remaining - in.remaining() > Http1Codec.DRAIN_MAX_BYTES) {
            return Outcome.NOT_REUSABLE;
        }
        ChunkedDecoder decoder = kind == BodyFraming.Kind.CHUNKED ? conn.decoder() : null;
        long deadline = System.nanoTime() + Http1Codec.DRAIN_MAX_NANOS;
        long budget = Http1Codec.DRAIN_MAX_BYTES;
        try {
            while (true) {
                if (decoder == null) {
                    int n = (int) Math.min(in.remaining(), remaining);
                    in.position(in.position() + n);
                    remaining -= n;
                    if (remaining == 0) {
                        trailers = HeaderFields.EMPTY;
                        return conn.keepAlive(head, framing);
                    }
                } else {
                    decoder.skip(in);
                    if (decoder.isDone()) {
                        trailers = decoder.trailers();
                        return conn.keepAlive(head, framing);
                    }
                }
                long left = deadline - System.nanoTime();
                if (budget <= 0 || left <= 0) {
                    return Outcome.NOT_REUSABLE;
                }
                int n = conn.fill(Math.min(left, timeoutNanos), decoder == null ? remaining : budget);
                if (n < 0) {
                    return Outcome.BROKEN; // truncated
                }
                budget -= n;
            }
        } catch (ResponseTimeoutException e) {
            return Outcome.NOT_REUSABLE; // too slow to drain; the connection itself did not fail
        } catch (IOException | RuntimeException e) {
            return Outcome.BROKEN;
        }
    }

    private void fail(Exception e) {
        if (failure == null) {
            failure = e instanceof IOException io ? io : new IOException(e);
        }
        if (!finished) {
            finish(Outcome.BROKEN);
        }
    }

    /** Ends the exchange: lets go of the connection, then tells the listener (exactly once). */
    private void finish(Outcome decided) {
        if (finished) {
            return;
        }
        finished = true;
        Outcome outcome = conn.finishExchange(decided);
        listener.exchangeCompleted(outcome);
    }

    @Override
    public String toString() {
        return "ResponseBody[" + framing + (finished ? ", complete" : "") + (closed ? ", closed" : "") + "]";
    }
}
