package io.berth;

import java.net.SocketTimeoutException;

/**
 * A TLS handshake took longer than its {@code handshakeTimeout}, or an HTTP/2 server did not send
 * its connection preface (SETTINGS) within the connection's {@code settingsTimeout}.
 * The message names the server and the limit that fired.
 */
public final class HandshakeTimeoutException extends SocketTimeoutException {
    private static final long serialVersionUID = 1L;

    /** @param message what timed out, naming the server and the limit */
    public HandshakeTimeoutException(String message) {
        super(message);
    }
}
