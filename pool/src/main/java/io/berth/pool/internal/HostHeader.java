package io.berth.pool.internal;

import io.berth.Server;
import io.berth.TlsConfig;
import io.berth.internal.Origin;

/** The {@code Host} header Berth sends to a server, for the client and the health checks alike. */
public final class HostHeader {
    private HostHeader() {
    }

    /**
     * @param secure whether the backend is {@code https}
     * @param tls its TLS settings, or null for {@code http}
     * @param server the server
     * @return the TLS name to verify (or else the SNI name) when one is set, else the server's host;
     *     with the port unless it is the scheme's default; an IPv6 literal in brackets
     */
    public static String of(boolean secure, TlsConfig tls, Server server) {
        String host = server.host();
        if (secure) {
            if (tls.verifyHostname() != null) {
                host = tls.verifyHostname();
            } else if (tls.sniName() != null) {
                host = tls.sniName();
            }
        }
        return Origin.authority(secure, host, server.port());
    }
}
