package io.berth;

import java.net.ProtocolException;

/**
 * The server's response broke HTTP/1.1: a malformed status line or header, conflicting framing
 * ({@code Transfer-Encoding} with {@code Content-Length}, two different lengths), an invalid chunk,
 * a head over the size limit, or a body cut short. The connection is never reused after one.
 */
public class HttpProtocolException extends ProtocolException {
    private static final long serialVersionUID = 1L;

    /** @param message what was wrong, and where */
    public HttpProtocolException(String message) {
        super(message);
    }
}
