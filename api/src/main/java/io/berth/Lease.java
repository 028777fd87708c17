package io.berth;

import io.berth.spi.Connection;

/**
 * One acquisition of a pooled connection, for one exchange: from
 * {@link BackendPool#acquire(boolean)} to {@link BackendPool#release(Lease, Outcome)}.
 *
 * <p>A lease is the pool's own record of the connection, reused from one acquisition to the next so
 * that acquiring and releasing allocate nothing. It is valid from acquire to release: do not use it,
 * or keep it, after releasing it. Releasing it twice throws {@link IllegalStateException}.
 *
 * <p>Not thread-safe: one exchange at a time, by one holder (who may hand it to another thread).
 */
public interface Lease extends ConnectionInfo {
    /**
     * @return the connection to carry the exchange on
     * @throws IllegalStateException if the lease was released
     */
    Connection connection();

    /** @return whether the connection carried an exchange before this one */
    boolean reused();

    /** @return the session the lease was acquired for, or {@code null} if none */
    Session session();

    /**
     * Makes the connection private to the lease's session, as HAProxy does for a connection that met
     * an NTLM or Negotiate challenge: it then serves only that session and is closed when the session
     * closes. Without a session the connection is closed at release instead of being shared.
     *
     * @throws IllegalStateException if the lease was released
     */
    void makePrivate();

    /**
     * @return what the protocol layer attached to the connection with {@link #attach}, or
     *     {@code null}: e.g. the HTTP/1.1 codec state kept from one exchange to the next
     */
    Object attachment();

    /**
     * Attaches a value to the connection (not to this lease): it stays with the connection for its
     * life and every later lease of it sees it. One slot; the protocol layer that drives the
     * connection owns it.
     *
     * @param value the value, or {@code null} to clear it
     */
    void attach(Object value);
}
