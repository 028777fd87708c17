package io.berth.pool;

import io.berth.Backend;
import io.berth.BackendPool;
import io.berth.BackendPoolConfig;
import io.berth.spi.Connector;

/**
 * The entry point: builds {@link BackendPool}s.
 *
 * <p>Thread-safe; all methods are static.
 */
public final class Berth {
    private Berth() {
    }

    /**
     * Builds a pool whose connections come from a custom {@link Connector} (another transport, or
     * in-memory connections in tests).
     *
     * @param backend where the pool connects; one server
     * @param config the pool's settings
     * @param connector opens the connections
     * @return a new open pool; close it when done
     * @throws IllegalArgumentException if the backend has more than one server
     */
    public static BackendPool newPool(Backend backend, BackendPoolConfig config, Connector connector) {
        return new LockFreeBackendPool(backend, config, connector);
    }
}
