package io.berth;

/**
 * Why a pool closed a connection. Every close is counted by reason in {@link PoolStats#closed()}.
 */
public enum CloseReason {
    /** Idle longer than {@code idleTimeout}, or than the server's {@code Keep-Alive: timeout=} less a margin. */
    IDLE_TIMEOUT,
    /** Closed by a purge pass as surplus to the measured demand. */
    PURGED,
    /** Carried {@code maxUses} exchanges, or as many as the server's {@code Keep-Alive: max=} allowed. */
    MAX_USES,
    /** Older than {@code maxLifetime} (with its jitter). */
    MAX_LIFETIME,
    /** The server closed it (FIN, RST or TLS close_notify) while it was idle, or sent bytes nobody asked for. */
    CLOSED_BY_PEER,
    /** It failed during an exchange (I/O or protocol error, timeout); aborted, never reused. */
    BROKEN,
    /** The exchange's outcome forbade reuse ({@code Connection: close}, an unread body, ...). */
    NOT_REUSABLE,
    /** Released while the idle set already held {@code maxIdle} connections. */
    IDLE_LIMIT,
    /**
     * Not shareable: the reuse policy keeps no shared idle set ({@link ReusePolicy#NEVER}) or the
     * connection was private to a session that ended.
     */
    NOT_SHARED,
    /**
     * Closed to make room: {@code maxConnections} was lowered, or a waiting request the reuse policy
     * does not let use it needed a new connection at the limit.
     */
    EVICTED,
    /** Its server was marked down, drained or removed from the pool. */
    SERVER_UNAVAILABLE,
    /** The pool was closed. */
    POOL_CLOSED
}
