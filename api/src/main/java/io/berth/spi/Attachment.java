package io.berth.spi;

/**
 * What a protocol layer attaches to a pooled connection ({@link io.berth.Lease#attach}), when it
 * wants to hear of the connection's life: e.g. an HTTP codec that holds buffers between exchanges.
 * The pool calls these methods, from whichever thread owns the connection at that moment, never
 * while an exchange is under way on it.
 *
 * <p>Implementations must be quick and must not throw; both methods do nothing by default.
 *
 * @since 1.0
 */
public interface Attachment {
    /**
     * The connection went idle for a while (the pool also called {@link Connection#idle()}): give
     * back what is not needed until its next exchange.
     */
    default void idle() {
    }

    /** The connection was closed or aborted: release everything; it will not be used again. */
    default void closed() {
    }
}
