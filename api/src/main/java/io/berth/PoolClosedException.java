package io.berth;

/** The pool was closed before, or while, a caller asked it for a connection. */
public final class PoolClosedException extends BackendPoolException {
    private static final long serialVersionUID = 1L;

    /** @param message what failed, naming the pool */
    public PoolClosedException(String message) {
        super(message, null);
    }
}
