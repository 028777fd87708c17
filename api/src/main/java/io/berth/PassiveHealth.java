package io.berth;

/**
 * Which failures of real traffic count towards {@code failuresToMarkDown} (HAProxy's {@code observe}).
 * A server marked down by them takes no <em>new connections</em> for its back-off; its established
 * connections keep serving, because a failed connect says nothing about them. A success (a connect,
 * or an exchange that ended reusable) resets the count and the back-off.
 *
 * @since 1.0
 */
public enum PassiveHealth {
    /** Traffic never marks a server down; only an active {@link HealthCheck} does (HAProxy's default). */
    OFF,
    /**
     * Failed connects count (the default): refused, reset, timed out connects and TLS handshakes. A
     * pool has no active check unless configured, and without this every new connection to a dead
     * server would first wait for its connect timeout; the cost of a false alarm is small, since only
     * new connections are held back.
     */
    CONNECTS,
    /**
     * Failed connects and failed exchanges on established connections (resets, response timeouts,
     * broken responses) count: HAProxy's {@code observe layer4}. Reacts faster to a sick server, but
     * a few slow responses can hold a healthy one back.
     */
    CONNECTS_AND_EXCHANGES
}
