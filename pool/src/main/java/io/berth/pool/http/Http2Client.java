package io.berth.pool.http;

import io.berth.BackendPoolConfig;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.RequestNotProcessedException;
import io.berth.RequestNotRetriedException;
import io.berth.ReusePolicy;
import io.berth.StreamResetException;
import io.berth.pool.internal.PoolAccess;
import io.berth.transport.http1.HeaderFields;
import io.berth.transport.http1.ResponseHead;
import io.berth.transport.http2.Http2Connection;
import io.berth.transport.http2.Http2Headers;
import io.berth.transport.http2.Http2Stream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/**
 * One exchange of a {@link BerthClient} on an HTTP/2 connection: the request's stream, its body, the
 * response head, and the body as a {@link BerthResponse}. What may be retried is decided here and
 * thrown as {@link Retry}; the client's loop acquires again.
 *
 * <p><b>Which failures are retried.</b> A request the server did not process by the protocol's own
 * guarantee ({@link RequestNotProcessedException}: a GOAWAY below its stream, REFUSED_STREAM, a
 * connection that failed or closed before its HEADERS were written, a PING check that failed) is
 * sent again on another connection <em>whatever its method</em>, at most {@code retries} times,
 * unless its body is a one-shot stream that was already being written (then the
 * {@link RequestNotProcessedException} reaches the caller). A
 * connection failure after the HEADERS went out, before any response frame, is retried once for a
 * replayable request and never for another
 * ({@link RequestNotRetriedException}), exactly as on HTTP/1.1. A stream the server reset
 * ({@link StreamResetException}), a timeout or a cancel is never retried.
 *
 * <p><b>{@code SAFE} on streams.</b> A request that is not replayable goes on a reused HTTP/2
 * connection under {@code SAFE} (and {@code NEVER}) only if the connection is proven alive: its
 * server sent a frame within {@code validateAfterIdle}, or a PING round trip, bounded by
 * {@code pingTimeout}, just proved it. A PING that fails fails the connection, and the request goes
 * to another one, unsent. {@code AGGRESSIVE} and {@code ALWAYS} skip the PING.
 */
final class Http2Client {
    /** Connection-specific header fields, which HTTP/2 forbids (RFC 9113 §8.2.2); Host becomes :authority. */
    private static final java.util.Set<String> DROPPED = java.util.Set.of("connection", "keep-alive",
            "proxy-connection", "transfer-encoding", "upgrade", "host");
    private static final int WRITE_BUFFER = 16 * 1024;

    private final PoolAccess pool;
    private final String scheme;
    /** The request head built last, reused by a request of the same shape; racy by design (see {@link LastHead}). */
    private volatile LastHead lastHead;

    Http2Client(PoolAccess pool, boolean secure) {
        this.pool = pool;
        this.scheme = secure ? "https" : "http";
    }

    /** A failure after which the request may be sent again on another connection. */
    static final class Retry extends Exception {
        private static final long serialVersionUID = 1L;
        /** The server did not process it (any method may go again), as opposed to a reused connection's failure. */
        final boolean unprocessed;
        final IOException failure;

        Retry(boolean unprocessed, IOException failure) {
            super(failure.getMessage(), failure, false, false);
            this.unprocessed = unprocessed;
            this.failure = failure;
        }
    }

    /**
     * Sends the request on a stream of {@code conn} and returns the response once its head arrived.
     *
     * @param mayRetryReused whether a failure of a reused connection may still be retried (once per request)
     * @throws Retry if the request may go again on another connection (the lease is released)
     * @throws IOException as {@link BerthClient#send(BerthRequest, Cancellation)} (the lease is released)
     */
    BerthResponse send(Lease lease, Http2Connection conn, BerthRequest request, HeaderFields fields, boolean replayable,
            boolean gzip, long responseTimeout, long deadline, boolean mayRetryReused, Cancellation cancellation)
            throws IOException, Retry {
        BackendPoolConfig config = pool.config();
        boolean reused = lease.reused();
        if (!replayable && reused && (config.reusePolicy() == ReusePolicy.SAFE || config.reusePolicy() == ReusePolicy.NEVER)
                && conn.silentNanos() >= config.validateAfterIdle().toNanos()) {
            try {
                conn.ping(Math.min(config.pingTimeout().toNanos(), BerthClient.bounded(responseTimeout, deadline)));
            } catch (IOException e) {
                if (e instanceof InterruptedIOException && Thread.currentThread().isInterrupted()) {
                    pool.release(lease, Outcome.REUSABLE);
                    throw e;
                }
                pool.release(lease, Outcome.BROKEN);
                throw new Retry(true, new RequestNotProcessedException(RequestNotProcessedException.Reason.CONNECTION_FAILED,
                        "the PING check of " + conn + " before " + request + " (not replayable) failed: " + e, e));
            }
        }
        BerthRequest.Body body = request.body();
        ByteBuffer whole = body instanceof BerthRequest.BytesBody b ? ByteBuffer.wrap(b.bytes) : null;
        boolean endWithHead = body == null || whole != null;
        Http2Headers head = requestHead(request, fields, body);
        long writeTimeout = BerthClient.bounded(responseTimeout, deadline);
        Http2Stream stream;
        try {
            stream = conn.newStream(head, whole, endWithHead, writeTimeout);
        } catch (RequestNotProcessedException e) {
            pool.release(lease, conn.isOpen() ? Outcome.REUSABLE : Outcome.BROKEN);
            throw new Retry(true, e);
        } catch (IllegalArgumentException e) {
            pool.release(lease, Outcome.REUSABLE);
            throw e;
        } catch (IOException e) {
            pool.release(lease, Outcome.BROKEN);
            throw failed(e, request, lease, replayable, mayRetryReused, false);
        } catch (RuntimeException | Error e) {
            pool.release(lease, Outcome.BROKEN);
            throw e;
        }
        if (cancellation != null && !cancellation.attach(stream)) {
            stream.cancel();
            pool.release(lease, Outcome.REUSABLE);
            throw BerthClient.canceledException(request, pool.backend(), null);
        }
        Http2Headers response;
        try {
            if (!endWithHead) {
                writeBody(stream, body, writeTimeout);
            }
            response = stream.awaitResponseHeaders(BerthClient.bounded(responseTimeout, deadline));
        } catch (IOException | RuntimeException | Error e) {
            stream.cancel();
            boolean canceled = cancellation != null && (cancellation.detach(stream) || cancellation.isCanceled());
            boolean connectionFailed = !conn.isOpen();
            pool.release(lease, connectionFailed ? Outcome.BROKEN : Outcome.REUSABLE);
            if (canceled) {
                throw BerthClient.canceledException(request, pool.backend(), e instanceof IOException io ? io : null);
            }
            if (e instanceof RequestNotProcessedException n) {
                if (endWithHead || body.isReplayable()) {
                    throw new Retry(true, n);
                }
                throw n; // not processed, but its body was a one-shot stream, now (partly) consumed: never resent
            }
            if (e instanceof IOException io && connectionFailed && !(e instanceof InterruptedIOException)) {
                throw failed(io, request, lease, replayable, mayRetryReused, stream.responseStarted());
            }
            throw e;
        }
        int status = Integer.parseInt(response.first(":status"));
        // The head's fields: the response reads them from the HTTP/2 list itself, and copies them into
        // HeaderFields only if asked for all at once (or here, to drop the fields gzip decoding voids).
        ResponseHead responseHead = ResponseHead.of(ResponseHead.Version.HTTP_2, status, "", HeaderFields.EMPTY);
        boolean gzipped = gzip && "gzip".equalsIgnoreCase(response.first("content-encoding"));
        // A response that ended with a small body: the exchange goes back before the caller reads it
        // (detached from its cancellation first: the stream has ended, a later cancel has nothing to reset).
        byte[] ended = stream.takeEndedBody(BerthClient.ARRIVED_BODY_MAX);
        if (ended != null) {
            if (cancellation != null) {
                cancellation.detach(stream);
            }
            long id = lease.id();
            pool.release(lease, Outcome.REUSABLE);
            boolean gunzip = gzipped && ended.length > 0;
            return BerthResponse.arrived(responseHead, gunzip ? BerthClient.decodedHeaders(fields(response)) : null,
                    gunzip ? null : response, ended, gunzip, id, reused);
        }
        long length = contentLength(response);
        Http2Body raw = new Http2Body(stream, length, responseTimeout, pool, lease, cancellation);
        // Neither action may hold the body: the pool watches it, and it must be collectable.
        pool.watch(lease, raw, cancellation == null ? stream::cancel : () -> {
            stream.cancel();
            cancellation.detach(stream);
        });
        InputStream in = raw;
        if (gzipped && !request.isHead() && status != 204 && status != 304) {
            try {
                in = new GZIPInputStream(raw, 8192);
            } catch (IOException | RuntimeException e) {
                raw.close();
                throw e;
            }
            return new BerthResponse(responseHead, BerthClient.decodedHeaders(fields(response)), null, raw, in,
                    lease.id(), reused);
        }
        return new BerthResponse(responseHead, null, response, raw, in, lease.id(), reused);
    }

    /**
     * A connection failure once the request may have been sent, before any response frame: retried
     * once for a replayable request; for one that is not replayable, on a reused connection, a
     * {@link RequestNotRetriedException}.
     */
    private static IOException failed(IOException e, BerthRequest request, Lease lease, boolean replayable,
            boolean mayRetryReused, boolean responseStarted) throws Retry {
        if (!responseStarted) {
            if (replayable && mayRetryReused) {
                throw new Retry(false, e);
            }
            if (!replayable && lease.reused()) {
                return new RequestNotRetriedException(request + " failed on reused HTTP/2 connection #" + lease.id()
                        + " before any response frame and is not replayable, so it was not sent again: " + e, e);
            }
        }
        return e;
    }

    private static void writeBody(Http2Stream stream, BerthRequest.Body body, long timeout) throws IOException {
        OutputStream data = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (len > 0) {
                    stream.writeData(ByteBuffer.wrap(b, off, len), false, timeout);
                }
            }
        };
        BufferedOutputStream out = new BufferedOutputStream(data, WRITE_BUFFER);
        body.writeTo(out);
        out.flush();
        stream.writeData(ByteBuffer.allocate(0), true, timeout);
    }

    /**
     * The request head built last and what it was built from. A request sent again, or one of the
     * same shape (the same {@link HeaderFields} instance, which {@link BerthRequest#headersFor} reuses
     * across requests without headers of their own; the same method, target and body length) gets
     * the same immutable head without building it again: nothing is allocated for it. Callers racing
     * each replace it; a miss only builds the head, as without it.
     */
    private record LastHead(HeaderFields fields, String method, String target, long bodyLength, Http2Headers head) {
        boolean matches(HeaderFields f, String m, String t, long length) {
            return fields == f && bodyLength == length && method.equals(m) && target.equals(t);
        }
    }

    /** The request head: pseudo-header fields first, then the fields in lower case, less the connection-specific ones. */
    private Http2Headers requestHead(BerthRequest request, HeaderFields fields, BerthRequest.Body body) {
        long bodyLength = body == null ? -2 : body.contentLength();
        LastHead last = lastHead;
        if (last != null && last.matches(fields, request.method(), request.target(), bodyLength)) {
            return last.head;
        }
        Http2Headers.Builder b = Http2Headers.builder().add(":method", request.method()).add(":scheme", scheme)
                .add(":authority", fields.first("Host")).add(":path", request.target());
        boolean length = false;
        for (int i = 0; i < fields.size(); i++) {
            String name = fields.name(i).toLowerCase(Locale.ROOT);
            if (DROPPED.contains(name) || name.equals("te") && !fields.value(i).equalsIgnoreCase("trailers")) {
                continue;
            }
            length |= name.equals("content-length");
            b.add(name, fields.value(i));
        }
        if (!length && bodyLength >= 0) {
            b.add("content-length", Long.toString(bodyLength));
        }
        Http2Headers head = b.build();
        lastHead = new LastHead(fields, request.method(), request.target(), bodyLength, head);
        return head;
    }

    /** @return the regular fields of an HTTP/2 head (or trailers), as names in lower case */
    static HeaderFields fields(Http2Headers h) {
        HeaderFields.Builder b = HeaderFields.builder();
        for (int i = h.regularStart(); i < h.size(); i++) {
            b.add(h.name(i), h.value(i));
        }
        return b.build();
    }

    /**
     * @param name a field name, in any case
     * @return the value of the first regular field of {@code h} called {@code name}, or {@code null};
     *     allocates nothing
     */
    static String first(Http2Headers h, String name) {
        for (int i = h.regularStart(); i < h.size(); i++) {
            String n = h.name(i);
            if (n.length() == name.length() && n.equalsIgnoreCase(name)) {
                return h.value(i);
            }
        }
        return null;
    }

    private static long contentLength(Http2Headers h) {
        String v = h.first("content-length");
        if (v == null) {
            return -1;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return -1; // the stream checks it: a malformed one was a stream error already
        }
    }
}
