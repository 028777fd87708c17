/**
 * TCP and TLS connections: a {@link io.berth.spi.Connector} over non-blocking {@code SocketChannel}s
 * and {@code SSLEngine}, with one {@code SSLContext} (and so one TLS session cache) per TLS profile.
 * Internal: exported only to {@code io.berth.pool}.
 */
package io.berth.transport;
