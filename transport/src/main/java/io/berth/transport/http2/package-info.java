/**
 * The HTTP/2 codec (RFC 9113 framing, RFC 7541 HPACK) of a client connection: bytes in, frames and
 * header lists out, and the reverse. Pure code on {@link java.nio.ByteBuffer}s: no I/O, no threads,
 * no sockets, no stream state. Internal: exported only to {@code io.berth.pool}.
 *
 * <p><b>How a connection drives it.</b> One {@link io.berth.transport.http2.Http2FrameReader} and one
 * {@link io.berth.transport.http2.Http2FrameWriter} per connection; each is not thread-safe and
 * carries half of the connection's HPACK state (the reader the decoder, the writer the encoder).
 * <ol>
 *   <li>Write the preface and our SETTINGS ({@code writePreface}, {@code writeSettings}: e.g.
 *       SETTINGS_ENABLE_PUSH 0, SETTINGS_MAX_HEADER_LIST_SIZE = the reader's
 *       {@code setMaxHeaderListSize}, SETTINGS_INITIAL_WINDOW_SIZE).</li>
 *   <li>The reading thread feeds every received buffer to {@code Http2FrameReader.read}, which
 *       consumes all of it and calls the {@link io.berth.transport.http2.Http2FrameReader.Handler}
 *       once per complete frame (DATA as it arrives, in one or more pieces). The first frame must be
 *       the server's SETTINGS.</li>
 *   <li>On {@code onSettings}: apply the peer's values ({@code setPeerMaxFrameSize},
 *       {@code setPeerHeaderTableSize} on the writer; windows and stream limits in the connection),
 *       then {@code writeSettingsAck}. On {@code onSettingsAck}: apply our own advertised limits to
 *       the reader ({@code setMaxFrameSize}, {@code setHeaderTableSizeLimit}).</li>
 *   <li>Requests: {@code writeHeaders} (HPACK-encodes and splits into CONTINUATIONs), then
 *       {@code writeData} within the flow-control windows. Header blocks must reach the socket in the
 *       order they were encoded.</li>
 *   <li>Every header block is decoded by the reader, even for streams the connection has reset or
 *       forgotten (HPACK state is connection-wide): the handler ignores what it does not need.
 *       Every DATA frame's {@code flowControlled} bytes are credited to the connection window, even
 *       for a reset stream.</li>
 *   <li>A connection error is thrown by {@code read} as an {@link io.berth.transport.http2.Http2Exception}
 *       ({@code isConnectionError()}): write GOAWAY with its {@code errorCode()}, close, never reuse.
 *       A stream error arrives at {@code onStreamError}: write RST_STREAM with its code and fail that
 *       stream's exchange.</li>
 * </ol>
 *
 * <p>Types: {@link io.berth.transport.http2.Http2Headers} (a header list),
 * {@link io.berth.transport.http2.Http2Settings} (a SETTINGS frame's parameters),
 * {@link io.berth.transport.http2.Http2ErrorCode}. The package-private codec underneath:
 * {@code HpackDecoder}, {@code HpackEncoder}, {@code DynamicTable}, {@code StaticTable},
 * {@code Huffman}, {@code StringCache}, {@code FrameType}. Their limits and defaults are documented on
 * the reader and on {@code HpackDecoder}; see also {@code transport/FUZZING.md}.
 */
package io.berth.transport.http2;
