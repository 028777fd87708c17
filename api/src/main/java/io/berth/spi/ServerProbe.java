package io.berth.spi;

import io.berth.HealthCheck;
import java.io.IOException;

/**
 * Performs one active {@link HealthCheck} of a server over a connection the pool opened for it, on
 * the pool's maintenance thread. The pool schedules the checks, counts their results towards
 * {@code rise} and {@code fall}, and closes the connection afterwards; the protocol layer (Berth's
 * HTTP client, for the pools {@code Berth} builds) implements the request.
 *
 * <p>Implementations must be thread-safe and must bound their time by {@link HealthCheck#timeout()}.
 *
 * @since 1.0
 */
@FunctionalInterface
public interface ServerProbe {
    /**
     * @param connection a new connection to the server, for this check only
     * @param check what to request and which answers are healthy
     * @return whether the server answered as a healthy one
     * @throws IOException if the check could not be completed (counted as a failed check)
     */
    boolean check(Connection connection, HealthCheck check) throws IOException;
}
