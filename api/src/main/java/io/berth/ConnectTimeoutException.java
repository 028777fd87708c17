package io.berth;

import java.net.SocketTimeoutException;

/**
 * Opening a TCP connection took longer than {@code connectTimeout}.
 * The message names the server and the limit that fired.
 */
public final class ConnectTimeoutException extends SocketTimeoutException {
    private static final long serialVersionUID = 1L;

    /** @param message what timed out, naming the server and the limit */
    public ConnectTimeoutException(String message) {
        super(message);
    }
}
