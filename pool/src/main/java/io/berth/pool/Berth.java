package io.berth.pool;

import io.berth.Backend;
import io.berth.BackendPool;
import io.berth.BackendPoolConfig;
import io.berth.HttpProtocol;
import io.berth.pool.internal.HttpHealthProbe;
import io.berth.spi.Connector;
import io.berth.transport.NioConnector;
import io.berth.transport.http2.Http2Options;
import io.berth.transport.http2.NegotiatingConnector;

/**
 * The entry point: builds {@link BackendPool}s over Berth's TLS transport or over a {@link Connector}
 * of your own. {@link io.berth.pool.http.BerthClient} sends HTTP requests through them; the
 * {@code java.net.http} and OkHttp adapters build on that.
 *
 * <p>Thread-safe; all methods are static.
 */
public final class Berth {
    private Berth() {
    }

    /**
     * Builds a pool for a backend with the default settings.
     *
     * @param backend where the pool connects, e.g. {@code Backend.of("https://api.example.com")}
     * @return a new open pool; close it when done
     */
    public static BackendPool newPool(Backend backend) {
        return newPool(backend, BackendPoolConfig.defaults());
    }

    /**
     * Builds a pool for a backend: TLS (or plain TCP for {@code http}) over non-blocking sockets, one
     * TLS session cache per TLS profile.
     *
     * @param backend where the pool connects: one server or several
     * @param config the pool's settings
     * @return a new open pool; close it when done
     */
    public static BackendPool newPool(Backend backend, BackendPoolConfig config) {
        return newPool(backend, config, connector(backend, config));
    }

    /**
     * Berth's transport for a backend: TLS or plain TCP, and where the backend's protocols include
     * HTTP/2, HTTP/2 on the connections whose server chose it (or by prior knowledge in cleartext).
     */
    static Connector connector(Backend backend, BackendPoolConfig config) {
        NioConnector transport = new NioConnector(backend);
        if (!backend.protocols().contains(HttpProtocol.HTTP_2)) {
            return transport;
        }
        Http2Options options = Http2Options.builder().maxConcurrentStreams(config.maxConcurrentStreams())
                .pingTimeout(config.pingTimeout()).pingInterval(config.pingInterval()).build();
        return new NegotiatingConnector(backend, transport, options);
    }

    /**
     * Builds a pool whose connections come from a custom {@link Connector} (another transport, or
     * in-memory connections in tests). A {@link io.berth.pool.http.BerthClient} over the pool speaks
     * HTTP/1.1 over its connections; its active health checks do too.
     *
     * @param backend where the pool connects: one server or several
     * @param config the pool's settings
     * @param connector opens the connections
     * @return a new open pool; close it when done
     */
    public static BackendPool newPool(Backend backend, BackendPoolConfig config, Connector connector) {
        return engine(backend, config, connector);
    }

    /** The engine every pool is, over a connector as given (tests drive it over in-memory connections). */
    static LockFreeBackendPool engine(Backend backend, BackendPoolConfig config, Connector connector) {
        return new LockFreeBackendPool(backend, config, connector, new HttpHealthProbe(backend));
    }
}
