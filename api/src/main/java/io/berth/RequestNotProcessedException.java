package io.berth;

import java.io.IOException;
import java.util.Objects;

/**
 * The server did not process a request, by the protocol's own guarantee, so it may be sent again on
 * another connection <em>whatever its method</em>, a POST included. On HTTP/2 (RFC 9113 §8.7) that is
 * a stream above the last-stream-id of the server's GOAWAY, a stream the server reset with
 * REFUSED_STREAM, or a request whose HEADERS frame was never written because the connection had failed,
 * was closing, or took no new stream. {@link #reason()} says which. Retries should still be capped.
 *
 * <p>The message names the server, the stream (if one was opened) and, for a GOAWAY, its error code,
 * last-stream-id and debug data.
 */
public final class RequestNotProcessedException extends IOException {
    private static final long serialVersionUID = 1L;

    /** Why the request was not processed. */
    public enum Reason {
        /** The server's GOAWAY named a last-stream-id below the stream, or came before it was opened. */
        GOAWAY,
        /** The server reset the stream with REFUSED_STREAM before any response. */
        REFUSED_STREAM,
        /** The server's stream limit was reached: opening one more would exceed it. */
        STREAM_LIMIT,
        /**
         * The connection takes no new stream: it is closing, its stream ids are used up, or it spent
         * its budget of stream resets and is draining.
         */
        CONNECTION_CLOSING,
        /** The connection failed, or a write to it timed out, before the request's first byte was written. */
        CONNECTION_FAILED
    }

    private final Reason reason;

    /**
     * @param reason why the request was not processed
     * @param message what happened, naming the server and the stream
     * @param cause the underlying failure, or {@code null}
     */
    public RequestNotProcessedException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** @return why the request was not processed */
    public Reason reason() {
        return reason;
    }
}
