package io.berth;

import java.util.Locale;
import java.util.Objects;

/**
 * Decides which idle connection may carry which request: HAProxy's {@code http-reuse} modes, on the
 * client side.
 *
 * <p>HAProxy protects "the first request of a session" because the client could not replay it if
 * a reused connection died under it. Inside an application Berth knows that directly: a request is
 * <b>replayable</b> if sending it twice is harmless (an idempotent method whose body can be sent
 * again, or a request the caller marks replayable) and <b>non-replayable</b> otherwise. A connection
 * is <b>proven</b> once it has carried at least two exchanges.
 *
 * <table class="striped">
 * <caption>May an idle shared connection carry the request?</caption>
 * <tr><th></th><th>NEVER</th><th>SAFE (default)</th><th>AGGRESSIVE</th><th>ALWAYS</th></tr>
 * <tr><td>replayable request, proven connection</td><td>no</td><td>yes</td><td>yes</td><td>yes</td></tr>
 * <tr><td>replayable request, unproven connection</td><td>no</td><td>yes</td><td>yes</td><td>yes</td></tr>
 * <tr><td>non-replayable request, proven connection</td><td>no</td><td>no</td><td>yes</td><td>yes</td></tr>
 * <tr><td>non-replayable request, unproven connection</td><td>no</td><td>no</td><td>no</td><td>yes</td></tr>
 * <tr><td>non-replayable request, multiplexed (HTTP/2) connection proven alive</td><td>no</td><td>yes</td>
 *     <td>yes</td><td>yes</td></tr>
 * </table>
 *
 * <p><b>HTTP/2</b> (HAProxy's {@code http-reuse} on streams). A multiplexed connection proves it is
 * alive by carrying responses: under {@code SAFE} a non-replayable request's stream goes on one only
 * while it carries an exchange or its last one ended less than {@code validateAfterIdle} ago; idle
 * longer, the HTTP layer first sends it a PING and uses it only if the answer comes back in time
 * (otherwise the connection is closed and the request goes on a new one, not sent twice). Under
 * {@code SAFE} and {@code NEVER} a busy connection carrying a {@link Session}'s exchange serves only
 * that session until it is idle again; under {@code AGGRESSIVE} and {@code ALWAYS} sessions share busy
 * connections. {@code maxUses} counts streams.
 *
 * <p>Where no idle connection qualifies, the request gets a new connection (or waits at
 * {@code maxConnections}); among those that qualify the most recently used goes first. A
 * {@link Session}'s own connections serve its requests first under every policy; they are not
 * subject to this method.
 *
 * <p>Implementations must be thread-safe, fast, allocation-free and must not throw: they are asked
 * on every acquisition. A policy that throws is treated as answering {@code false}.
 */
public interface ReusePolicy {
    /**
     * Never share a connection: a connection serves one request, or the requests of one session, and
     * is then closed gracefully. No shared idle set is kept. The safest and the slowest.
     */
    ReusePolicy NEVER = BuiltinReusePolicy.NEVER;
    /**
     * The default: replayable requests may use any idle connection (if it dies under them they are
     * retried once on a new one); non-replayable requests get a new HTTP/1.1 connection, so they never
     * meet a connection the server has just closed, or a multiplexed (HTTP/2) connection proven alive
     * (see the class comment).
     */
    ReusePolicy SAFE = BuiltinReusePolicy.SAFE;
    /**
     * Like {@link #SAFE}, but non-replayable requests may also use proven idle connections: a server
     * that kept a connection open across two exchanges is trusted with a third. Fewer handshakes, a
     * small risk for non-replayable requests when the server closes at the instant of reuse.
     */
    ReusePolicy AGGRESSIVE = BuiltinReusePolicy.AGGRESSIVE;
    /**
     * Any request may use any idle connection. The fewest connections; a non-replayable request can
     * fail (and is then never retried) if the server closes the connection as the request is sent.
     */
    ReusePolicy ALWAYS = BuiltinReusePolicy.ALWAYS;

    /**
     * Says whether an idle connection of the shared set may carry a request.
     *
     * @param replayable whether the request may safely be sent twice
     * @param connection the idle connection
     * @return whether it may carry the request
     */
    boolean mayCarry(boolean replayable, ConnectionInfo connection);

    /**
     * Says whether connections outside sessions may return to the shared idle set after an
     * exchange. {@link #NEVER} answers {@code false}: its connections are closed after their request.
     *
     * @return whether the pool keeps a shared idle set
     */
    default boolean sharesIdleConnections() {
        return true;
    }

    /**
     * Returns a built-in policy by name.
     *
     * @param name {@code never}, {@code safe}, {@code aggressive} or {@code always}, in any case
     * @return the policy
     * @throws IllegalArgumentException if the name is none of these
     */
    static ReusePolicy named(String name) {
        Objects.requireNonNull(name, "name");
        try {
            return BuiltinReusePolicy.valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("reusePolicy must be never, safe, aggressive or always but was '"
                    + name + "'", e);
        }
    }
}
