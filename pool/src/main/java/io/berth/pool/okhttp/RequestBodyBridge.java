package io.berth.pool.okhttp;

import io.berth.pool.http.BerthRequest;
import io.berth.pool.http.Cancellation;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;
import okhttp3.RequestBody;
import okio.AsyncTimeout;
import okio.Buffer;
import okio.BufferedSink;
import okio.ForwardingSink;
import okio.Okio;
import okio.Sink;

/**
 * An OkHttp {@link RequestBody} as a Berth body: OkHttp writes into an okio sink that streams into
 * the connection's body stream, segment by segment (nothing is buffered whole).
 *
 * <ul>
 *   <li>Length: {@link RequestBody#contentLength()}, read once; -1 sends it chunked. A body that
 *       writes more or fewer bytes than it declared fails with a {@link ProtocolException}, as in
 *       OkHttp.</li>
 *   <li>Replayable unless {@link RequestBody#isOneShot()}; {@link BerthRequest} decides the rest
 *       (the method must be idempotent too).</li>
 *   <li>Write timeout: each write to the connection that makes no progress for
 *       {@code writeTimeoutMillis} aborts the exchange (through its {@link Cancellation}) and fails
 *       with a {@link SocketTimeoutException}.</li>
 * </ul>
 *
 * <p>Not thread-safe: written by the thread that sends the request.
 */
final class RequestBodyBridge implements BerthRequest.Body {
    private final RequestBody body;
    private final long length;
    private final WriteTimeout writeTimeout;

    /**
     * @param body the OkHttp body; not duplex
     * @param length its {@code contentLength()}
     * @param writeTimeoutMillis the client's write timeout; 0 for none
     * @param cancellation what a write timeout aborts
     */
    RequestBodyBridge(RequestBody body, long length, int writeTimeoutMillis, Cancellation cancellation) {
        this.body = body;
        this.length = length;
        this.writeTimeout = new WriteTimeout(cancellation, writeTimeoutMillis);
    }

    @Override
    public long contentLength() {
        return length;
    }

    @Override
    public boolean isReplayable() {
        return !body.isOneShot() && !body.isDuplex();
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
        Counting counted = new Counting(writeTimeout.sink(Okio.sink(out)), length);
        BufferedSink sink = Okio.buffer(counted);
        body.writeTo(sink);
        sink.flush(); // not close(): the stream belongs to the connection
        if (length != -1 && counted.written != length) {
            throw new ProtocolException("expected " + length + " bytes but received " + counted.written);
        }
    }

    /** @return whether a write made no progress for the write timeout (and the exchange was aborted) */
    boolean writeTimedOut() {
        return writeTimeout.fired;
    }

    /** @return the write timeout in milliseconds, 0 for none */
    long writeTimeoutMillis() {
        return TimeUnit.NANOSECONDS.toMillis(writeTimeout.timeoutNanos());
    }

    /** Counts the bytes written and refuses more than the declared length. */
    private static final class Counting extends ForwardingSink {
        private final long length;
        long written;

        Counting(Sink delegate, long length) {
            super(delegate);
            this.length = length;
        }

        @Override
        public void write(Buffer source, long byteCount) throws IOException {
            if (length != -1 && written + byteCount > length) {
                throw new ProtocolException("expected " + length + " bytes but received " + (written + byteCount));
            }
            super.write(source, byteCount);
            written += byteCount;
        }
    }

    /** Aborts the exchange when a write to the connection stalls longer than the write timeout. */
    private static final class WriteTimeout extends AsyncTimeout {
        private final Cancellation cancellation;
        volatile boolean fired;

        WriteTimeout(Cancellation cancellation, int millis) {
            this.cancellation = cancellation;
            timeout(millis, TimeUnit.MILLISECONDS);
        }

        @Override
        protected void timedOut() {
            fired = true;
            cancellation.cancel();
        }

        @Override
        protected IOException newTimeoutException(IOException cause) {
            SocketTimeoutException e = new SocketTimeoutException("timeout");
            if (cause != null) {
                e.initCause(cause);
            }
            return e;
        }
    }
}
