package io.berth.pool.okhttp;

import io.berth.pool.http.BerthResponse;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import okhttp3.Call;
import okhttp3.Headers;
import okhttp3.MediaType;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import okio.ForwardingSource;
import okio.Okio;

/**
 * A {@link BerthResponse}'s body as an OkHttp {@link ResponseBody}, streamed from the connection as
 * it is read (okio reads straight from Berth's body stream into its segments).
 *
 * <p>The Berth connection goes back to the pool when the body is read to its end (the source
 * returns -1) or closed, whichever comes first; closing before the end drains a small rest, as
 * Berth does, and otherwise closes the connection. A small body that came whole with its head is
 * read from memory: its connection went back before {@code execute} returned. A failed read has
 * already released it as broken. While the call is cancelled, reads fail with
 * {@code IOException("Canceled")}.
 *
 * <p>Also the source of the response's trailers (on OkHttp 5): known once the body's end was read.
 *
 * <p>Not thread-safe, like any {@code ResponseBody}; only the call's cancellation may come from
 * another thread.
 */
final class ResponseBodyBridge extends ResponseBody {
    private final BerthResponse response;
    private final MediaType contentType;
    private final long contentLength;
    private final CallState state;
    private final Call call;
    private BufferedSource source;
    private boolean released;
    /** The body's end was read. */
    private boolean ended;
    /** The body was closed by its reader. */
    private boolean closed;
    /** What a read failed with: later reads fail too, never pass for an end. */
    private IOException failure;

    ResponseBodyBridge(BerthResponse response, MediaType contentType, long contentLength, CallState state, Call call) {
        this.response = response;
        this.contentType = contentType;
        this.contentLength = contentLength;
        this.state = state;
        this.call = call;
    }

    @Override
    public MediaType contentType() {
        return contentType;
    }

    /** @return the {@code Content-Length} of the response as received (after gzip decoding: none, -1) */
    @Override
    public long contentLength() {
        return contentLength;
    }

    @Override
    public BufferedSource source() {
        if (source == null) {
            source = Okio.buffer(new Source());
        }
        return source;
    }

    /** Releases the connection (see the class comment). Idempotent; never throws. */
    @Override
    public void close() {
        closed = true;
        if (source != null) {
            try {
                source.close();
            } catch (IOException e) {
                // Source.close releases and never throws
            }
        }
        release();
    }

    private void release() {
        if (released) {
            return;
        }
        released = true;
        try {
            response.close();
        } catch (RuntimeException e) {
            // The gzip stream failed to close; the connection was released all the same.
        } finally {
            state.released(this);
        }
    }

    /** @return the trailers, or {@code null} until the body's end was read */
    Headers trailersOrNull() {
        try {
            return headers(response.trailers());
        } catch (IllegalStateException e) {
            return null;
        }
    }

    static Headers headers(Map<String, List<String>> fields) {
        Headers.Builder b = new Headers.Builder();
        for (Map.Entry<String, List<String>> e : fields.entrySet()) {
            for (String value : e.getValue()) {
                b.addUnsafeNonAscii(e.getKey(), value);
            }
        }
        return b.build();
    }

    /** Reads Berth's body stream; releases at its end; maps failures to what OkHttp throws. */
    private final class Source extends ForwardingSource {
        Source() {
            super(Okio.source(response.body()));
        }

        @Override
        public long read(Buffer sink, long byteCount) throws IOException {
            if (failure != null) {
                throw new IOException("response body failed earlier: " + failure.getMessage(), failure);
            }
            if (ended) {
                return -1;
            }
            if (closed) {
                throw new IllegalStateException("closed");
            }
            if (state.isCanceled(call)) {
                release();
                failure = state.canceledFailure();
                throw failure;
            }
            long n;
            try {
                n = super.read(sink, byteCount);
            } catch (IOException e) {
                release();
                failure = state.failure(e, call);
                throw failure;
            }
            if (n == -1) {
                ended = true;
                release(); // the end: with gzip the raw body may still hold its last chunk, which this drains
            }
            return n;
        }

        @Override
        public void close() {
            release();
        }
    }
}
