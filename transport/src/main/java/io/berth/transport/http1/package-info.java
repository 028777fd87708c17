/**
 * The HTTP/1.1 codec: request heads and bodies out, response heads and bodies in. The parsers are
 * pure functions of {@link java.nio.ByteBuffer}s, with no I/O, so they can be tested and fuzzed
 * without sockets; the exchange drives them over an {@link io.berth.spi.Connection}.
 * Internal: exported only to {@code io.berth.pool}.
 */
package io.berth.transport.http1;
