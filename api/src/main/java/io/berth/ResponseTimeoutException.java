package io.berth;

import java.net.SocketTimeoutException;

/**
 * The server sent no byte for longer than {@code responseTimeout} while a response was awaited or read;
 * on HTTP/2 also: no frame for one stream for that long, or no acknowledgement of a PING in time.
 * The message names the server and the limit that fired.
 */
public final class ResponseTimeoutException extends SocketTimeoutException {
    private static final long serialVersionUID = 1L;

    /** @param message what timed out, naming the server and the limit */
    public ResponseTimeoutException(String message) {
        super(message);
    }
}
