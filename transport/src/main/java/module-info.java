/**
 * Berth's transport: TCP and TLS connections over {@code SocketChannel} and {@code SSLEngine}
 * implementing the {@code io.berth.spi} connector SPI, the HTTP/1.1 codec, and the HTTP/2 frame and
 * HPACK codec. It knows nothing of pooling. Its packages are exported only to the pool module: users see them through {@code io.berth}.
 */
@SuppressWarnings("module") // the pool module is compiled after this one
module io.berth.transport {
    requires transitive io.berth;

    exports io.berth.transport to io.berth.pool;
    exports io.berth.transport.http1 to io.berth.pool;
    exports io.berth.transport.http2 to io.berth.pool;
}
