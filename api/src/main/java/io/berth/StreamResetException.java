package io.berth;

import java.io.IOException;
import java.util.Objects;

/**
 * The server reset an HTTP/2 stream (RST_STREAM) with an error code other than REFUSED_STREAM (which
 * is a {@link RequestNotProcessedException}), or Berth reset it on a protocol error of the server's.
 * The request may have been processed: only a replayable request may be sent again.
 *
 * <p>The message names the server, the stream and the code.
 */
public final class StreamResetException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int errorCode;
    private final String errorName;

    /**
     * @param message what happened, naming the server, the stream and the code
     * @param errorCode the HTTP/2 error code on the wire (RFC 9113 §7), e.g. 0x8 for CANCEL
     * @param errorName its name, e.g. {@code CANCEL}, or {@code 0x%x} for a code RFC 9113 does not define
     */
    public StreamResetException(String message, int errorCode, String errorName) {
        super(message);
        this.errorCode = errorCode;
        this.errorName = Objects.requireNonNull(errorName, "errorName");
    }

    /** @return the HTTP/2 error code on the wire, e.g. 0x2 for INTERNAL_ERROR */
    public int errorCode() {
        return errorCode;
    }

    /** @return the code's RFC 9113 name, e.g. {@code INTERNAL_ERROR}, or {@code 0x%x} for an unknown code */
    public String errorName() {
        return errorName;
    }
}
