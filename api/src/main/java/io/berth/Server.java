package io.berth;

import java.util.Locale;

/**
 * One server of a {@link Backend}: a host name or IP literal and a TCP port.
 *
 * <p>Immutable and thread-safe. Two servers are equal when their host (compared without regard to
 * case) and port are equal. The host is kept as given; resolving it is the transport's job.
 */
public final class Server {
    private final String host;
    private final int port;
    /** {@link #hashCode()}, computed once: servers are map keys on the request path. */
    private final int hash;

    private Server(String host, int port) {
        this.host = host;
        this.port = port;
        this.hash = host.toLowerCase(Locale.ROOT).hashCode() * 31 + port;
    }

    /**
     * Returns the server at {@code host:port}.
     *
     * @param host a DNS name or an IP literal ({@code [::1]} or {@code ::1} for IPv6)
     * @param port a TCP port, 1 to 65535
     * @return the server
     * @throws IllegalArgumentException if the host is blank or has characters a host cannot have,
     *     or the port is out of range
     * @throws NullPointerException if {@code host} is null
     */
    public static Server of(String host, int port) {
        if (host == null) {
            throw new NullPointerException("host");
        }
        String h = host.trim();
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        if (h.isEmpty()) {
            throw new IllegalArgumentException("server host must not be blank but was '" + host + "'");
        }
        for (int i = 0; i < h.length(); i++) {
            char c = h.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == ':' || c == '_' || c == '%';
            if (!ok) {
                throw new IllegalArgumentException("server host must be a DNS name or an IP literal but was '"
                        + host + "' (character '" + c + "' at " + i + ")");
            }
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("server port must be 1..65535 but was " + port);
        }
        return new Server(h, port);
    }

    /** @return the host name or IP literal, without brackets */
    public String host() {
        return host;
    }

    /** @return the TCP port */
    public int port() {
        return port;
    }

    /** @return whether the host is an IP literal (IPv4 dotted quad or IPv6) rather than a DNS name */
    public boolean isIpLiteral() {
        return isIpLiteral(host);
    }

    static boolean isIpLiteral(String host) {
        if (host.indexOf(':') >= 0) {
            return true;
        }
        int dots = 0;
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c == '.') {
                dots++;
            } else if (c < '0' || c > '9') {
                return false;
            }
        }
        return dots == 3;
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof Server s && s.port == port && s.host.equalsIgnoreCase(host);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    /** @return {@code host:port}, with brackets around an IPv6 literal */
    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
