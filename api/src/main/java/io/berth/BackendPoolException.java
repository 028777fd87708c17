package io.berth;

import java.io.IOException;

/** A pool could not provide a connection. The base of Berth's own {@link IOException}s. */
public class BackendPoolException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, naming the pool
     * @param cause the underlying failure, or {@code null}
     */
    public BackendPoolException(String message, Throwable cause) {
        super(message, cause);
    }
}
