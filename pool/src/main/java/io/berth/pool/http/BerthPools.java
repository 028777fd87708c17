package io.berth.pool.http;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.HttpProtocol;
import io.berth.TlsConfig;
import io.berth.internal.Origin;
import io.berth.pool.Berth;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * One pool per origin ({@code scheme://host:port}), created on first use: what the
 * {@code java.net.http} and OkHttp adapters route their requests through. Pools take the default
 * settings unless an origin has its own.
 *
 * <pre>{@code
 * BerthPools pools = BerthPools.builder()
 *         .defaults(BackendPoolConfig.builder().maxConnections(16).build())
 *         .tls(TlsConfig.builder().trustPemFile(Path.of("/etc/ca.pem")).build())
 *         .backend("https://payments.internal", BackendPoolConfig.builder().reusePolicy(ReusePolicy.NEVER).build())
 *         .build();
 * }</pre>
 *
 * <p>Thread-safe. Closing it closes every pool.
 */
public final class BerthPools implements AutoCloseable {
    private final BackendPoolConfig defaults;
    private final TlsConfig tls;
    private final List<HttpProtocol> protocols;
    private final Map<String, Backend> backends;
    private final Map<String, BackendPoolConfig> configs;
    private final ConcurrentHashMap<String, BerthClient> clients = new ConcurrentHashMap<>();
    private volatile boolean closed;
    /** Orders announcements of new clients against listeners coming and going: each hears each once. */
    private final Object listenersLock = new Object();
    private final List<Consumer<? super BerthClient>> listeners = new ArrayList<>();
    private final List<BerthClient> announced = new ArrayList<>();

    private BerthPools(Builder b) {
        this.defaults = b.defaults;
        this.tls = b.tls;
        this.protocols = b.protocols;
        this.backends = Map.copyOf(b.backends);
        this.configs = Map.copyOf(b.configs);
    }

    /** @return a builder: default settings, the JDK trust store */
    public static Builder builder() {
        return new Builder();
    }

    /** @return pools with the default settings */
    public static BerthPools withDefaults() {
        return builder().build();
    }

    /**
     * @param uri an absolute {@code https} or {@code http} URI
     * @return the client for the URI's origin, creating its pool on first use
     * @throws IllegalArgumentException if the URI is not absolute {@code https} or {@code http}
     * @throws IllegalStateException if this was closed
     */
    public BerthClient client(URI uri) {
        String origin = origin(uri);
        BerthClient c = clients.get(origin);
        if (c != null) {
            return c;
        }
        if (closed) {
            throw new IllegalStateException("BerthPools is closed");
        }
        boolean[] created = new boolean[1];
        c = clients.computeIfAbsent(origin, o -> {
            created[0] = true;
            return BerthClient.create(backendFor(o, uri), configs.getOrDefault(o, defaults));
        });
        if (closed) {
            close();
            throw new IllegalStateException("BerthPools is closed");
        }
        if (created[0]) {
            announce(c);
        }
        return c;
    }

    private void announce(BerthClient c) {
        synchronized (listenersLock) {
            announced.add(c);
            for (Consumer<? super BerthClient> l : listeners) {
                l.accept(c);
            }
        }
    }

    /**
     * Tells {@code listener} of every pool: at once, on this thread, of each created so far; then of
     * each created later, on the thread that creates it, before that thread sends its first request
     * through it. Each pool is told once. Meant for metrics ({@code BerthMetrics.bind(pools, ...)}) and
     * logging: keep it short and non-blocking (announcements are serialized); an exception it throws
     * reaches the caller that added it or created the pool.
     *
     * @param listener told of each pool's client
     * @throws NullPointerException if {@code listener} is null
     */
    public void addClientListener(Consumer<? super BerthClient> listener) {
        Objects.requireNonNull(listener, "listener");
        synchronized (listenersLock) {
            listeners.add(listener);
            for (BerthClient c : announced) {
                listener.accept(c);
            }
        }
    }

    /**
     * Stops telling {@code listener} of new pools. Does nothing if it was not added.
     *
     * @param listener a listener given to {@link #addClientListener}
     */
    public void removeClientListener(Consumer<? super BerthClient> listener) {
        synchronized (listenersLock) {
            listeners.remove(listener);
        }
    }

    private Backend backendFor(String origin, URI uri) {
        Backend configured = backends.get(origin);
        if (configured != null) {
            return configured;
        }
        Backend b = Backend.of(origin);
        if (!b.isSecure() || tls == null && protocols.equals(Backend.DEFAULT_PROTOCOLS)) {
            return b;
        }
        Backend.Builder builder = b.toBuilder().protocols(protocols.toArray(new HttpProtocol[0]));
        return (tls != null ? builder.tls(tls) : builder).build();
    }

    /** @return the clients created so far, one per origin */
    public Collection<BerthClient> clients() {
        return List.copyOf(clients.values());
    }

    /** @return the default settings of new pools */
    public BackendPoolConfig defaults() {
        return defaults;
    }

    /** Closes every pool; later calls to {@link #client} fail. Idempotent. */
    @Override
    public void close() {
        closed = true;
        for (BerthClient c : new ArrayList<>(clients.values())) {
            c.close();
        }
    }

    static String origin(URI uri) {
        Objects.requireNonNull(uri, "uri");
        return Origin.of(uri).toString();
    }

    /** Builds {@link BerthPools}. Not thread-safe. */
    public static final class Builder {
        private BackendPoolConfig defaults = BackendPoolConfig.defaults();
        private TlsConfig tls;
        private List<HttpProtocol> protocols = Backend.DEFAULT_PROTOCOLS;
        private final Map<String, Backend> backends = new HashMap<>();
        private final Map<String, BackendPoolConfig> configs = new HashMap<>();

        private Builder() {
        }

        /**
         * Sets the HTTP versions offered to every {@code https} origin without its own backend (see
         * {@link Backend.Builder#protocols}); {@code http} origins speak HTTP/1.1 (cleartext HTTP/2
         * needs a backend of its own, by prior knowledge).
         *
         * @param protocols one or more distinct versions, in order of preference; default
         *     {@code [HTTP_1_1]}
         * @return this builder
         * @throws IllegalArgumentException if none or a repeated one is given
         */
        public Builder protocols(HttpProtocol... protocols) {
            Backend.builder().server("validate.invalid", 443).protocols(protocols); // validates them
            this.protocols = List.of(protocols);
            return this;
        }

        /**
         * @param config settings for every pool without its own; default {@link BackendPoolConfig#defaults()}
         * @return this builder
         */
        public Builder defaults(BackendPoolConfig config) {
            this.defaults = Objects.requireNonNull(config, "config");
            return this;
        }

        /**
         * @param tls TLS settings for every {@code https} origin without its own backend; default
         *     {@link TlsConfig#defaults()}
         * @return this builder
         */
        public Builder tls(TlsConfig tls) {
            this.tls = Objects.requireNonNull(tls, "tls");
            return this;
        }

        /**
         * Gives an origin its own pool settings.
         *
         * @param origin e.g. {@code https://api.example.com} (default ports apply)
         * @param config its settings
         * @return this builder
         * @throws IllegalArgumentException if the origin is not an absolute http(s) URL
         */
        public Builder backend(String origin, BackendPoolConfig config) {
            configs.put(origin(URI.create(origin)), Objects.requireNonNull(config, "config"));
            return this;
        }

        /**
         * Gives an origin its own backend (e.g. TLS settings) and pool settings.
         *
         * @param backend a single-server backend; its URL is the origin
         * @param config its settings
         * @return this builder
         */
        public Builder backend(Backend backend, BackendPoolConfig config) {
            String origin = origin(URI.create(backend.toString()));
            backends.put(origin, backend);
            configs.put(origin, Objects.requireNonNull(config, "config"));
            return this;
        }

        /** @return the pools (none is created until first used) */
        public BerthPools build() {
            return new BerthPools(this);
        }
    }
}
