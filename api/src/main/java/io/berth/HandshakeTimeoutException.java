package io.berth;

import java.net.SocketTimeoutException;

/**
 * A TLS handshake took longer than its {@code handshakeTimeout}.
 * The message names the server and the limit that fired.
 */
public final class HandshakeTimeoutException extends SocketTimeoutException {
    private static final long serialVersionUID = 1L;

    /** @param message what timed out, naming the server and the limit */
    public HandshakeTimeoutException(String message) {
        super(message);
    }
}
