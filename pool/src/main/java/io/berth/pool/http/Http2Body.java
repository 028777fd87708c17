package io.berth.pool.http;

import io.berth.Lease;
import io.berth.Outcome;
import io.berth.pool.internal.PoolAccess;
import io.berth.transport.http1.HeaderFields;
import io.berth.transport.http2.Http2Headers;
import io.berth.transport.http2.Http2Stream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;

/**
 * The body of a response carried by an HTTP/2 stream, as the {@link InputStream} a
 * {@link BerthResponse} reads. Its exchange's lease is released exactly once: reusable when the body
 * was read to its end, or when it is closed early (the stream is reset, the connection goes on); as
 * broken only when the connection itself failed, so that it takes no new exchange. A body that ends
 * short of its {@code content-length} fails ({@link io.berth.TruncatedBodyException}); it is never
 * passed off as complete.
 *
 * <p>A body of known length that was read whole ends without another call into the stream once the
 * stream says it ended ({@link Http2Stream#isComplete()}: END_STREAM came, and with it the check that
 * the body had its {@code content-length}): the read that tells the caller so (e.g.
 * {@link BerthResponse#bodyBytes()}'s one-byte probe) allocates nothing.
 *
 * <p>The client has the pool watch it weakly: a body dropped before its end, unclosed, is
 * garbage-collected, and then the pool resets its stream and takes the exchange back
 * ({@link io.berth.pool.internal.PoolAccess#watch(Lease, Object, Runnable)}). Nothing the pool keeps
 * may reach it.
 *
 * <p>Not thread-safe, like the response; {@link Http2Stream#cancel()} may still come from a
 * {@link Cancellation} on another thread.
 */
final class Http2Body extends InputStream {
    private final Http2Stream stream;
    private final long timeoutNanos;
    private final long contentLength;
    private final PoolAccess pool;
    private final Lease lease;
    private final Cancellation cancellation;
    /**
     * The reader's array as {@link Http2Stream#read} takes it, wrapped once and moved over that array
     * as long as the reader passes the same one (as {@code readNBytes} and copy loops do): a read
     * allocates nothing then. Null until the first read.
     */
    private ByteBuffer window;
    /** For {@link #read()}: allocated at its first call. */
    private byte[] one;
    /** Body bytes handed to the reader so far. */
    private long consumed;
    private boolean ended;
    private boolean released;

    /**
     * @param stream the stream, its response head read
     * @param contentLength the {@code content-length} announced, or -1
     * @param timeoutNanos how long each read may wait for bytes
     * @param pool where the exchange's lease goes back, once, with the outcome
     * @param lease the exchange's lease
     * @param cancellation the exchange's cancellation, detached from the stream at the release; or {@code null}
     */
    Http2Body(Http2Stream stream, long contentLength, long timeoutNanos, PoolAccess pool, Lease lease,
            Cancellation cancellation) {
        this.stream = stream;
        this.contentLength = contentLength;
        this.timeoutNanos = timeoutNanos;
        this.pool = pool;
        this.lease = lease;
        this.cancellation = cancellation;
    }

    @Override
    public int read() throws IOException {
        if (atEnd()) {
            return -1;
        }
        byte[] b = one;
        if (b == null) {
            b = one = new byte[1];
        }
        int n = read(b, 0, 1);
        return n < 0 ? -1 : b[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (atEnd()) {
            return -1;
        }
        if (released) {
            throw new IOException("the response body of " + stream + " was closed");
        }
        if (len == 0) {
            return 0;
        }
        int n;
        try {
            n = stream.read(window(b, off, len), timeoutNanos);
        } catch (IOException | RuntimeException e) {
            stream.cancel();
            release(stream.connection().isOpen() ? Outcome.REUSABLE : Outcome.BROKEN);
            throw e;
        }
        if (n < 0) {
            ended = true;
            release(Outcome.REUSABLE);
        } else {
            consumed += n;
        }
        return n;
    }

    /** @return a buffer over {@code b[off, off + len)}: the one of the last read if it wraps {@code b} */
    private ByteBuffer window(byte[] b, int off, int len) {
        ByteBuffer w = window;
        if (w == null || w.array() != b) {
            return window = ByteBuffer.wrap(b, off, len);
        }
        w.limit(off + len).position(off);
        return w;
    }

    /**
     * @return whether the body has ended: a read returned -1 before, or every byte of a known length
     *     was read and the stream ended without error (then the exchange is released now)
     */
    private boolean atEnd() {
        if (ended) {
            return true;
        }
        if (!released && contentLength >= 0 && consumed == contentLength && stream.isComplete()) {
            ended = true;
            release(Outcome.REUSABLE);
            return true;
        }
        return false;
    }

    /** @return the {@code content-length} the server announced, or -1 */
    long contentLength() {
        return contentLength;
    }

    /** @return whether the body was read to its end */
    boolean isComplete() {
        return ended;
    }

    /**
     * @return the trailer fields, once the body was read to its end
     * @throws IllegalStateException before
     */
    HeaderFields trailers() {
        Http2Headers t = ended ? stream.trailers() : null;
        if (t == null) {
            throw new IllegalStateException("trailers come after the body's end, which was not reached on " + stream);
        }
        return Http2Client.fields(t);
    }

    /** Releases the exchange; a body not read to its end resets its stream (the connection goes on). */
    @Override
    public void close() {
        if (!released) {
            if (!ended) {
                stream.cancel();
            }
            release(Outcome.REUSABLE);
        }
    }

    private void release(Outcome outcome) {
        if (!released) {
            released = true;
            if (cancellation != null) {
                cancellation.detach(stream);
            }
            try {
                pool.release(lease, outcome);
            } finally {
                // The pool watches this body weakly (Http2Client): it must not look unreachable, and
                // its exchange abandoned, before the release above marked the lease released.
                Reference.reachabilityFence(this);
            }
        }
    }

    @Override
    public String toString() {
        return "Http2Body{" + stream + (ended ? ", ended" : "") + "}";
    }
}
