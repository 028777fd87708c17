package io.berth.transport.http2;

import java.net.ProtocolException;
import java.util.Objects;

/**
 * The peer broke HTTP/2 (RFC 9113) or HPACK (RFC 7541). The message names what was wrong: the frame
 * type, stream, length and limit, or the HPACK representation and its offset in the header block.
 *
 * <p>Either a <em>connection error</em> ({@link #isConnectionError()}; RFC 9113 §5.4.1): the
 * connection must send GOAWAY with {@link #errorCode()} and close, and is never reused; or a
 * <em>stream error</em> (§5.4.2) of stream {@link #streamId()}: the connection sends RST_STREAM with
 * {@link #errorCode()}, fails that stream's exchange, and goes on.
 *
 * <p>It extends {@link ProtocolException}, not {@link io.berth.HttpProtocolException}, which means a
 * broken HTTP/1.1 connection.
 *
 * <p>Immutable and thread-safe.
 */
public final class Http2Exception extends ProtocolException {
    private static final long serialVersionUID = 1L;

    private final Http2ErrorCode errorCode;
    private final int streamId;

    private Http2Exception(Http2ErrorCode errorCode, int streamId, String message) {
        super(message);
        this.errorCode = Objects.requireNonNull(errorCode, "errorCode");
        this.streamId = streamId;
    }

    /**
     * @param errorCode the code to send in GOAWAY
     * @param message what was wrong
     * @return a connection error
     */
    public static Http2Exception connectionError(Http2ErrorCode errorCode, String message) {
        return new Http2Exception(errorCode, 0, message);
    }

    /**
     * @param streamId the stream to reset, at least 1
     * @param errorCode the code to send in RST_STREAM
     * @param message what was wrong
     * @return a stream error
     * @throws IllegalArgumentException if {@code streamId} is not positive
     */
    public static Http2Exception streamError(int streamId, Http2ErrorCode errorCode, String message) {
        if (streamId <= 0) {
            throw new IllegalArgumentException("a stream error needs a stream id > 0 but got " + streamId);
        }
        return new Http2Exception(errorCode, streamId, message);
    }

    /** @return the RFC 9113 error code to send to the peer */
    public Http2ErrorCode errorCode() {
        return errorCode;
    }

    /** @return whether the whole connection is broken (GOAWAY and close) rather than one stream */
    public boolean isConnectionError() {
        return streamId == 0;
    }

    /** @return the stream of a stream error, or 0 for a connection error */
    public int streamId() {
        return streamId;
    }

    /** @return e.g. {@code Http2Exception: PROTOCOL_ERROR, connection error: <message>} */
    @Override
    public String toString() {
        return "Http2Exception: " + errorCode + (streamId == 0 ? ", connection error: " : ", stream " + streamId
                + " error: ") + getMessage();
    }
}
