package io.berth;

import io.berth.internal.Checks;
import io.berth.internal.Origin;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Where a pool connects and how: the scheme ({@code https} or {@code http}), one or more
 * {@link Server}s, and for {@code https} the {@link TlsConfig} that shapes every connection.
 *
 * <p>A backend is the identity of a pool: two pools with equal backends would hold interchangeable
 * connections. Immutable and thread-safe.
 */
public final class Backend {
    /** The weight of a server unless one is given: 1. */
    public static final int DEFAULT_WEIGHT = 1;
    /** The largest weight: 256 (HAProxy's range). */
    public static final int MAX_WEIGHT = 256;
    /** The protocols unless others are given: HTTP/1.1 alone. */
    public static final List<HttpProtocol> DEFAULT_PROTOCOLS = List.of(HttpProtocol.HTTP_1_1);

    private final boolean secure;
    private final List<Server> servers;
    private final java.util.Map<Server, Integer> weights;
    private final TlsConfig tls;
    private final List<HttpProtocol> protocols;

    private Backend(boolean secure, List<Server> servers, java.util.Map<Server, Integer> weights, TlsConfig tls,
            List<HttpProtocol> protocols) {
        this.secure = secure;
        this.servers = servers;
        this.weights = weights;
        this.tls = tls;
        this.protocols = protocols;
    }

    /**
     * Returns the backend of a base URL such as {@code https://api.example.com} or
     * {@code https://10.0.0.5:8443}, with the default {@link TlsConfig} (JDK trust store, SNI on, host
     * name verified). The port defaults to 443 for {@code https} and 80 for {@code http}.
     *
     * @param url an absolute {@code https} or {@code http} URL with no path beyond {@code /}, no query,
     *     no fragment and no user info
     * @return the backend
     * @throws IllegalArgumentException if the URL is malformed or has any part a backend cannot have
     */
    public static Backend of(String url) {
        Objects.requireNonNull(url, "url");
        URI uri;
        try {
            uri = new URI(url.trim());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("backend URL is malformed: '" + url + "' (" + e.getReason() + ")", e);
        }
        return of(uri);
    }

    /**
     * Returns the backend of a base URI; see {@link #of(String)}.
     *
     * @param uri an absolute {@code https} or {@code http} URI
     * @return the backend
     * @throws IllegalArgumentException if the URI is not one a backend can have
     */
    public static Backend of(URI uri) {
        Objects.requireNonNull(uri, "uri");
        String scheme = uri.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("https") || scheme.equalsIgnoreCase("http"))) {
            throw new IllegalArgumentException("backend URL must start with https:// or http:// but was '" + uri + "'");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("backend URL must name a host but was '" + uri + "'");
        }
        if (uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("backend URL must not carry user info but was '" + uri + "'");
        }
        String path = uri.getRawPath();
        if (path != null && !path.isEmpty() && !path.equals("/")) {
            throw new IllegalArgumentException("backend URL must not have a path ('" + path
                    + "'): give the path with each request; URL was '" + uri + "'");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new IllegalArgumentException("backend URL must not have a query or fragment but was '" + uri + "'");
        }
        Origin origin = Origin.of(uri);
        return builder().secure(origin.secure()).server(uri.getHost(), origin.port()).build();
    }

    /** @return a builder for a backend of one or more servers */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder holding this backend's values */
    public Builder toBuilder() {
        Builder b = new Builder().secure(secure);
        for (Server server : servers) {
            b.server(server, weight(server));
        }
        if (tls != null) {
            b.tls(tls);
        }
        b.protocols = protocols;
        return b;
    }

    /** @return whether connections use TLS ({@code https}) */
    public boolean isSecure() {
        return secure;
    }

    /** @return {@code https} or {@code http} */
    public String scheme() {
        return secure ? "https" : "http";
    }

    /** @return the servers, at least one, in the order given */
    public List<Server> servers() {
        return servers;
    }

    /**
     * @param server one of the servers
     * @return its weight: its share of new connections relative to the others (0 takes none)
     * @throws IllegalArgumentException if it is not a server of this backend
     */
    public int weight(Server server) {
        Integer w = weights.get(server);
        if (w == null) {
            throw new IllegalArgumentException(server + " is not a server of " + this);
        }
        return w;
    }

    /** @return the first server (the only one of a single-server backend) */
    public Server server() {
        return servers.get(0);
    }

    /**
     * @return the TLS settings of an {@code https} backend
     * @throws IllegalStateException if the backend is plain {@code http}
     */
    public TlsConfig tls() {
        if (tls == null) {
            throw new IllegalStateException("backend " + this + " is plain http and has no TLS settings");
        }
        return tls;
    }

    /**
     * The HTTP versions the backend may be spoken to in, in order of preference; see
     * {@link Builder#protocols}.
     *
     * @return {@code [HTTP_1_1]} by default
     */
    public List<HttpProtocol> protocols() {
        return protocols;
    }

    /**
     * The ALPN ids a TLS connection offers: those of {@link TlsConfig#alpn()} if they were set to
     * anything but the default, else those of {@link #protocols()}.
     *
     * @return the ids, in order of preference; empty for a plain {@code http} backend
     */
    public List<String> alpnOffered() {
        if (!secure) {
            return List.of();
        }
        if (!tls.alpn().equals(TlsConfig.DEFAULT_ALPN)) {
            return tls.alpn();
        }
        List<String> ids = new ArrayList<>(protocols.size());
        for (HttpProtocol p : protocols) {
            ids.add(p.alpnId());
        }
        return List.copyOf(ids);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Backend b && b.secure == secure && b.servers.equals(servers) && b.weights.equals(weights)
                && Objects.equals(b.tls, tls) && b.protocols.equals(protocols);
    }

    @Override
    public int hashCode() {
        return Objects.hash(secure, servers, weights, tls, protocols);
    }

    /** @return the base URL, e.g. {@code https://api.example.com:443}, with all servers for several */
    @Override
    public String toString() {
        if (servers.size() == 1) {
            return scheme() + "://" + servers.get(0);
        }
        StringBuilder sb = new StringBuilder(scheme()).append("://[");
        for (int i = 0; i < servers.size(); i++) {
            sb.append(i == 0 ? "" : ",").append(servers.get(i));
        }
        return sb.append(']').toString();
    }

    /** Builds a {@link Backend}. Not thread-safe. */
    public static final class Builder {
        private boolean secure = true;
        private final List<Server> servers = new ArrayList<>();
        private final java.util.Map<Server, Integer> weights = new java.util.HashMap<>();
        private TlsConfig tls;
        private List<HttpProtocol> protocols = DEFAULT_PROTOCOLS;

        private Builder() {
        }

        /**
         * Sets the HTTP versions the backend may be spoken to in, in order of preference.
         *
         * <p>Over TLS each is offered through ALPN and the server picks one <em>per connection</em>:
         * with {@code protocols(HTTP_2, HTTP_1_1)} a server that picks {@code http/1.1} (or does not
         * speak ALPN) gets HTTP/1.1 on that connection, and the next connection asks again (nothing
         * is remembered). With {@code HTTP_2} alone a server that does not pick {@code h2} fails the
         * connect with {@link HttpProtocolException}. Over plain TCP exactly one is allowed: HTTP/2 by
         * prior knowledge, or HTTP/1.1.
         *
         * <p>The default is HTTP/1.1 alone: with HTTP/2 a connection carries many exchanges at once,
         * so {@code maxConnections} counts far more capacity than with HTTP/1.1, and a pool tuned for
         * one should not silently become the other.
         *
         * @param protocols one or more distinct versions; default {@code [HTTP_1_1]}
         * @return this builder
         * @throws IllegalArgumentException if none or a repeated one is given
         */
        public Builder protocols(HttpProtocol... protocols) {
            List<HttpProtocol> list = List.of(protocols);
            if (list.isEmpty()) {
                throw new IllegalArgumentException("protocols must hold at least one of " + List.of(HttpProtocol.values())
                        + " but was empty");
            }
            if (list.stream().distinct().count() != list.size()) {
                throw new IllegalArgumentException("protocols must be distinct but was " + list);
            }
            this.protocols = list;
            return this;
        }

        /**
         * @param secure {@code true} (the default) for TLS, {@code false} for plain HTTP
         * @return this builder
         */
        public Builder secure(boolean secure) {
            this.secure = secure;
            return this;
        }

        /**
         * Adds a server.
         *
         * @param host a DNS name or IP literal
         * @param port a TCP port
         * @return this builder
         * @throws IllegalArgumentException as {@link Server#of(String, int)}, or if the server was added
         *     already
         */
        public Builder server(String host, int port) {
            return server(Server.of(host, port));
        }

        /**
         * Adds a server.
         *
         * @param server the server
         * @return this builder
         * @throws IllegalArgumentException if the server was added already
         */
        public Builder server(Server server) {
            return server(server, DEFAULT_WEIGHT);
        }

        /**
         * Adds a server with a weight.
         *
         * @param host a DNS name or IP literal
         * @param port a TCP port
         * @param weight its share of new connections, 0 to {@value Backend#MAX_WEIGHT}; default 1
         * @return this builder
         * @throws IllegalArgumentException if the server was added already or the weight is out of range
         */
        public Builder server(String host, int port, int weight) {
            return server(Server.of(host, port), weight);
        }

        /**
         * Adds a server with a weight.
         *
         * @param server the server
         * @param weight its share of new connections, 0 to {@value Backend#MAX_WEIGHT}
         * @return this builder
         * @throws IllegalArgumentException if the server was added already or the weight is out of range
         */
        public Builder server(Server server, int weight) {
            Objects.requireNonNull(server, "server");
            if (servers.contains(server)) {
                throw new IllegalArgumentException("servers must be distinct but " + server + " was given twice");
            }
            Checks.weight(server, weight, MAX_WEIGHT);
            servers.add(server);
            weights.put(server, weight);
            return this;
        }

        /**
         * Replaces the servers.
         *
         * @param servers one or more distinct servers
         * @return this builder
         * @throws IllegalArgumentException if a server appears twice
         */
        public Builder servers(List<Server> servers) {
            this.servers.clear();
            this.weights.clear();
            for (Server s : servers) {
                server(s);
            }
            return this;
        }

        /**
         * Sets the TLS settings of an {@code https} backend; by default {@link TlsConfig#defaults()}.
         *
         * @param tls the settings
         * @return this builder
         */
        public Builder tls(TlsConfig tls) {
            this.tls = Objects.requireNonNull(tls, "tls");
            return this;
        }

        /**
         * @return the backend
         * @throws IllegalArgumentException if no server was given, TLS settings were given for a plain
         *     {@code http} backend, or more than one protocol for one
         */
        public Backend build() {
            if (servers.isEmpty()) {
                throw new IllegalArgumentException("servers must hold at least one server but was empty");
            }
            if (!secure && tls != null) {
                throw new IllegalArgumentException("tls must not be set for a plain http backend");
            }
            if (!secure && protocols.size() > 1) {
                throw new IllegalArgumentException("protocols of a plain http backend must be one, HTTP_1_1 or HTTP_2"
                        + " (cleartext HTTP/2 by prior knowledge: there is no negotiation without TLS), but was "
                        + protocols);
            }
            return new Backend(secure, List.copyOf(servers), java.util.Map.copyOf(weights),
                    secure ? (tls == null ? TlsConfig.defaults() : tls) : null, protocols);
        }
    }
}
