package io.berth;

import java.time.Instant;

/**
 * One row of the connection table in {@link PoolStats#connections()}: which connection served how
 * many exchanges, and what became of it.
 *
 * @param id the pool-unique connection id, from 1
 * @param server the server it goes to, {@code host:port}
 * @param state its state when the snapshot was taken
 * @param created when it was opened
 * @param lastUsed when it was last released, or {@code null} if it never was
 * @param uses how many exchanges it carried
 * @param proven whether it carried at least two exchanges
 * @param tlsSessionResumed whether its TLS handshake resumed an earlier session
 * @param closeReason why it closed, or {@code null} while open
 */
public record ConnectionStats(
        long id,
        String server,
        ConnectionState state,
        Instant created,
        Instant lastUsed,
        int uses,
        boolean proven,
        boolean tlsSessionResumed,
        CloseReason closeReason) {
}
