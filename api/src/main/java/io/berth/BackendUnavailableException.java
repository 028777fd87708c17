package io.berth;

/** No server of the backend can take a connection: all are down or draining. */
public final class BackendUnavailableException extends BackendPoolException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, naming the pool and the servers
     * @param cause the last failure, or {@code null}
     */
    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
