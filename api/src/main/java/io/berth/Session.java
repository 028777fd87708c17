package io.berth;

/**
 * A caller's scope for pinning connections, like a client connection in HAProxy.
 *
 * <p>Connections released under a session stay with it: they serve its later requests first, under
 * every {@link ReusePolicy} (also {@link ReusePolicy#NEVER}), and no other caller gets them while the
 * session is open. When the session closes, its idle connections go back to the pool's shared idle
 * set if the policy shares idle connections and they are not {@linkplain Lease#makePrivate() private};
 * otherwise they are closed. Connections in use when it closes follow the same rule at release.
 *
 * <p>Thread-safe. Open one with {@link BackendPool#openSession()}.
 */
public interface Session extends AutoCloseable {
    /** @return the pool the session belongs to */
    BackendPool pool();

    /** @return whether the session is still open */
    boolean isOpen();

    /** @return how many connections the session holds idle right now */
    int idleConnections();

    /** Closes the session; idempotent. Never throws. */
    @Override
    void close();
}
