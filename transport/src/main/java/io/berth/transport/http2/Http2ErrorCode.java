package io.berth.transport.http2;

/**
 * The error codes of RFC 9113 §7, carried by RST_STREAM and GOAWAY frames and by
 * {@link Http2Exception}. A peer may send codes this enum does not know: frames carry the code as an
 * {@code int}, and {@link #describe(int)} names any code for a message.
 *
 * <p>Immutable and thread-safe.
 */
public enum Http2ErrorCode {
    /** 0x0: graceful shutdown, or no error. */
    NO_ERROR(0x0),
    /** 0x1: a protocol error with no more specific code. */
    PROTOCOL_ERROR(0x1),
    /** 0x2: an unexpected internal error. */
    INTERNAL_ERROR(0x2),
    /** 0x3: the flow-control protocol was violated. */
    FLOW_CONTROL_ERROR(0x3),
    /** 0x4: a SETTINGS frame was not acknowledged in time. */
    SETTINGS_TIMEOUT(0x4),
    /** 0x5: a frame arrived after a stream was half-closed. */
    STREAM_CLOSED(0x5),
    /** 0x6: a frame had an invalid size. */
    FRAME_SIZE_ERROR(0x6),
    /** 0x7: the stream was refused before any processing: safe to retry. */
    REFUSED_STREAM(0x7),
    /** 0x8: the stream is no longer needed. */
    CANCEL(0x8),
    /** 0x9: the field-compression (HPACK) context cannot be maintained. */
    COMPRESSION_ERROR(0x9),
    /** 0xa: the connection of a CONNECT request was reset or abnormally closed. */
    CONNECT_ERROR(0xa),
    /** 0xb: the peer is generating excessive load. */
    ENHANCE_YOUR_CALM(0xb),
    /** 0xc: the transport does not meet minimum security requirements. */
    INADEQUATE_SECURITY(0xc),
    /** 0xd: HTTP/1.1 must be used instead. */
    HTTP_1_1_REQUIRED(0xd);

    private static final Http2ErrorCode[] BY_CODE = values();

    private final int code;

    Http2ErrorCode(int code) {
        this.code = code;
    }

    /** @return the code on the wire */
    public int code() {
        return code;
    }

    /**
     * @param code a code from the wire
     * @return the constant for {@code code}, or {@code null} if RFC 9113 defines none (a peer may send
     *     any code; an unknown one must not trigger special behaviour)
     */
    public static Http2ErrorCode of(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /**
     * @param code a code from the wire
     * @return its name, e.g. {@code PROTOCOL_ERROR}, or {@code 0x%x} for an unknown code
     */
    public static String describe(int code) {
        Http2ErrorCode c = of(code);
        return c != null ? c.name() : "0x" + Integer.toHexString(code);
    }
}
