package io.berth.transport.http1;

import io.berth.Outcome;

/**
 * Told when an exchange is over, so that its connection can be released with the right
 * {@link Outcome}.
 *
 * <p>Called exactly once per {@link ResponseBody}, on the thread that read the body's end, closed it,
 * or saw it fail; after the call the body no longer touches the connection, so the connection may be
 * handed to another thread at once. Implementations must be quick and must not throw.
 */
@FunctionalInterface
public interface ExchangeListener {
    /**
     * @param outcome {@link Outcome#REUSABLE} or a keep-alive outcome if the connection may carry
     *     another exchange; {@link Outcome#NOT_REUSABLE} if it must be closed gracefully (the server
     *     asked for it, the body was not read to its end, stray bytes followed the response, ...);
     *     {@link Outcome#BROKEN} after an I/O or protocol error or a timeout
     */
    void exchangeCompleted(Outcome outcome);
}
