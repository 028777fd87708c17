package io.berth;

/**
 * How a pool of several servers picks the server for a new connection. Idle reuse always comes
 * first: a request goes to a server with an idle connection it may use before any new connection is
 * opened anywhere (prefer warm); the balance decides only where new connections go.
 */
public enum Balance {
    /** Each server in turn, in proportion to its weight (the default; HAProxy {@code roundrobin}). */
    ROUND_ROBIN,
    /** The server with the fewest connections in use per unit of weight (HAProxy {@code leastconn}). */
    LEAST_CONNECTIONS,
    /**
     * Two servers drawn at random in proportion to their weights; the one with fewer connections in
     * use per unit of weight wins (the "power of two choices").
     */
    RANDOM_TWO_CHOICES
}
