/**
 * The service-provider interface between the pool and the network: a {@link io.berth.spi.Connector}
 * opens {@link io.berth.spi.Connection}s to a {@link io.berth.Server}.
 *
 * <p>Berth's own transport (TLS over {@code SocketChannel} and {@code SSLEngine}) implements it;
 * tests and other transports can too. The pool only asks a connection whether it is still usable,
 * closes or aborts it, and describes it; the HTTP layer reads and writes bytes through it.
 */
package io.berth.spi;
