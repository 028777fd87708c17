/**
 * The HTTP/1.1 codec: request heads and bodies out, response heads and bodies in. The parsers are
 * pure functions of {@link java.nio.ByteBuffer}s, with no I/O, so they can be tested and fuzzed
 * without sockets; the exchange drives them over an {@link io.berth.spi.Connection}.
 * Internal: exported only to {@code io.berth.pool}.
 *
 * <p>The HTTP client uses {@link io.berth.transport.http1.Http1Codec}: over a pooled connection it writes a
 * request ({@link io.berth.transport.http1.HeaderFields}, {@link io.berth.transport.http1.RequestBody}),
 * reads the final {@link io.berth.transport.http1.ResponseHead}, and streams the
 * {@link io.berth.transport.http1.ResponseBody}, whose end, close or failure is reported exactly once to
 * an {@link io.berth.transport.http1.ExchangeListener} as an {@link io.berth.Outcome}.
 *
 * <p>The package-private codec underneath: {@code ResponseParser} (status line and fields, split
 * anywhere, bounded), {@code BodyFraming} (RFC 9112 §6.3, smuggling vectors rejected),
 * {@code ChunkedDecoder}, {@code KeepAlive}, {@code RequestHeadEncoder} and {@code ChunkedEncoding}.
 * Malformed server input is an {@link io.berth.HttpProtocolException} (a body cut short, an
 * {@link io.berth.TruncatedBodyException}) whose message says what was wrong and where; caller mistakes
 * are {@link java.lang.IllegalArgumentException}s naming the method, target or header.
 */
package io.berth.transport.http1;
