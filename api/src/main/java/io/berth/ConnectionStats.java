package io.berth;

import java.time.Instant;

/**
 * One row of the connection table in {@link PoolStats#connections()}: which connection served how
 * many exchanges, and what became of it. Immutable; only the pool implements it.
 *
 * @since 1.0
 */
public interface ConnectionStats {
    /** @return the pool-unique connection id, from 1 */
    long id();

    /** @return the server it goes to, {@code host:port} */
    String server();

    /** @return its state when the snapshot was taken */
    ConnectionState state();

    /** @return when it was opened */
    Instant created();

    /** @return when it was last released, or {@code null} if it never was */
    Instant lastUsed();

    /** @return how many exchanges it carried */
    int uses();

    /** @return whether it carried at least two exchanges */
    boolean proven();

    /** @return whether its TLS handshake resumed an earlier session */
    boolean tlsSessionResumed();

    /** @return why it closed, or {@code null} while open */
    CloseReason closeReason();

    /** @return exchanges it carried at once when the snapshot was taken (HTTP/2 streams; 0 or 1 for HTTP/1.1) */
    default int inFlight() {
        return 0;
    }

    /** @return the protocol it speaks: {@link HttpProtocol#HTTP_2} when it carries streams */
    default HttpProtocol protocol() {
        return streams() != null ? HttpProtocol.HTTP_2 : HttpProtocol.HTTP_1_1;
    }

    /** @return its HTTP/2 figures when it speaks HTTP/2, else {@code null} */
    default StreamStats streams() {
        return null;
    }
}
