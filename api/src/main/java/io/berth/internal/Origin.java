package io.berth.internal;

import java.net.URI;
import java.util.Locale;
import java.util.Objects;

/**
 * An origin: scheme ({@code https} or {@code http}), host and port, with the default ports and the
 * bracketing of IPv6 literals decided in one place for the API, the HTTP client and the adapters.
 * Internal: exported only to Berth's own modules. Immutable.
 */
public final class Origin {
    private final boolean secure;
    private final String host;
    private final int port;

    private Origin(boolean secure, String host, int port) {
        this.secure = secure;
        this.host = host;
        this.port = port;
    }

    /**
     * @param uri an absolute {@code https} or {@code http} URI with a host; its path, query and user
     *     info are ignored
     * @return its origin, the host in lower case, the port defaulted for the scheme
     * @throws IllegalArgumentException if the URI has another scheme or no host
     */
    public static Origin of(URI uri) {
        Objects.requireNonNull(uri, "uri");
        String scheme = uri.getScheme();
        if (scheme == null || uri.getHost() == null) {
            throw new IllegalArgumentException("URI must be absolute with a host but was '" + uri + "'");
        }
        if (!(scheme.equalsIgnoreCase("https") || scheme.equalsIgnoreCase("http"))) {
            throw new IllegalArgumentException("URI scheme must be https or http but was '" + uri + "'");
        }
        return of(scheme.equalsIgnoreCase("https"), uri.getHost(), uri.getPort());
    }

    /**
     * @param secure {@code https} rather than {@code http}
     * @param host the host name or IP literal (an IPv6 literal with or without brackets)
     * @param port the port, or -1 for the scheme's default
     * @return the origin
     */
    public static Origin of(boolean secure, String host, int port) {
        Objects.requireNonNull(host, "host");
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return new Origin(secure, h.toLowerCase(Locale.ROOT), port == -1 ? defaultPort(secure) : port);
    }

    /** @return 443 for {@code https}, 80 for {@code http} */
    public static int defaultPort(boolean secure) {
        return secure ? 443 : 80;
    }

    /**
     * @return {@code host} or {@code host:port} as a {@code Host} header and URL authority have it:
     *     an IPv6 literal in brackets, the port left out when it is the scheme's default
     */
    public static String authority(boolean secure, String host, int port) {
        String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
        return port == defaultPort(secure) ? h : h + ":" + port;
    }

    /** @return whether the scheme is {@code https} */
    public boolean secure() {
        return secure;
    }

    /** @return the host, lower case, an IPv6 literal without brackets */
    public String host() {
        return host;
    }

    /** @return the port */
    public int port() {
        return port;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Origin x && x.secure == secure && x.port == port && x.host.equals(host);
    }

    @Override
    public int hashCode() {
        return Objects.hash(secure, host, port);
    }

    /** @return {@code scheme://host:port}, the port always given (the key of a pool per origin) */
    @Override
    public String toString() {
        return (secure ? "https://" : "http://") + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
