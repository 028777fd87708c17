package io.berth;

import java.io.IOException;

/**
 * A non-replayable request failed on a reused connection before any byte of a response arrived.
 * The server may or may not have received it; because sending it twice could do harm, Berth did not
 * send it again. The cause is the I/O failure. (A replayable request in the same situation is
 * retried once on a new connection.)
 */
public final class RequestNotRetriedException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, naming the request and the server
     * @param cause the I/O failure
     */
    public RequestNotRetriedException(String message, IOException cause) {
        super(message, cause);
    }
}
