package io.berth.transport;

import io.berth.Backend;
import io.berth.Server;
import io.berth.TlsConfig;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The TLS side of one backend: its {@code SSLContext}s, and for each server the engine settings.
 *
 * <p><b>One session cache per SNI name.</b> The JDK resumes a session with the SNI of the session's
 * first handshake, whatever the new engine asks for, and looks sessions up by the engine's peer host
 * and port. The peer host here is the name verified, which several servers may share while each is
 * sent its own SNI name (SNI on, no {@code sniName}, a fixed {@code verifyHostname}). So servers
 * sent different SNI names (or none) get different {@code SSLContext}s: in the usual case, one
 * context for the whole backend.
 *
 * <p><b>Peer host = the name verified.</b> Engines are created with
 * {@link TlsConfig#verifyHostnameFor(Server)} as peer host (the session cache's key, with the port;
 * with a trailing dot when no SNI is sent, see {@code ServerTls.peerHost()});
 * SNI is set explicitly (an empty list when none is sent), so the JDK never derives it from the peer
 * host. The provider's endpoint identification is off: its rule depends on the SNI name (the JDK
 * checks the SNI name first, and accepts the common name and partial wildcards), so Berth's one rule
 * ({@link HostnameMatcher}, {@link CertificateRules}) runs instead, in {@link VerifyingTrustManager}.
 *
 * <p><b>Provider.</b> The {@code SSLContext} comes from {@link TlsConfig#provider()} (or the provider
 * named by {@link TlsConfig#providerName()}), the JDK's by default; the trust manager is always the
 * JDK's PKIX one wrapped by {@link VerifyingTrustManager}. A provider's session cache belongs to its
 * context, and Conscrypt's engines refuse a session from another context, so each context resumes
 * only its own sessions, as above.
 *
 * <p>Immutable and thread-safe.
 */
final class TlsProfile {
    private final TlsConfig config;
    private final String[] protocols;
    private final String[] alpn;
    private final VerifyingTrustManager trustManager;
    /** One context per SNI name (so one session cache each); see the class comment. */
    private final Map<String, SSLContext> contexts = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<Server, ServerTls> servers = new java.util.concurrent.ConcurrentHashMap<>();

    /** What a connection to one server needs: the context, the name verified and the SNI sent. */
    private record ServerTls(SSLContext context, String verifyName, List<SNIServerName> serverNames, String sni) {
        /**
         * The engine's peer host: the name verified, with a trailing dot when no SNI is sent. An empty
         * server-name list means "no SNI" to the JDK, but Conscrypt then sends the peer host, unless
         * it ends with a dot (RFC 6066 forbids one in SNI). The peer host is only the session cache's
         * key here: the name is matched by Berth, from the connection, not by the provider.
         */
        String peerHost() {
            return sni == null && HostnameMatcher.ipLiteral(verifyName) == null ? verifyName + "." : verifyName;
        }
    }

    TlsProfile(Backend backend) {
        this.config = backend.tls();
        this.protocols = config.protocols().toArray(new String[0]);
        this.alpn = backend.alpnOffered().toArray(new String[0]);
        X509ExtendedTrustManager jdk = jdkTrustManager(config);
        this.trustManager = new VerifyingTrustManager(jdk, new CertificateRules(config, jdk.getAcceptedIssuers()));
        for (Server server : backend.servers()) {
            forServer(server); // fail fast on a bad SNI name
        }
    }

    /** The settings of a server, made on first use: also for servers added to a running pool. */
    private ServerTls forServer(Server server) {
        ServerTls s = servers.get(server);
        if (s != null) {
            return s;
        }
        String sni = config.sniNameFor(server);
        List<SNIServerName> names;
        try {
            names = sni == null ? List.of() : List.of(new SNIHostName(sni));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("SNI name '" + sni + "' for server " + server
                    + " is not a valid host name: " + e.getMessage(), e);
        }
        SSLContext context = contexts.computeIfAbsent(sni == null ? "" : sni, k -> newContext());
        s = new ServerTls(context, config.verifyHostnameFor(server), names, sni);
        ServerTls raced = servers.putIfAbsent(server, s);
        return raced != null ? raced : s;
    }

    TlsConfig config() {
        return config;
    }

    VerifyingTrustManager trustManager() {
        return trustManager;
    }

    /**
     * @param server a server of the backend (or added to its pool)
     * @return a client engine for it: peer host the name verified, no endpoint identification (see
     *     the class comment), the configured protocols, ALPN and SNI
     */
    SSLEngine newEngine(Server server) {
        ServerTls s = forServer(server);
        SSLEngine engine = s.context.createSSLEngine(s.peerHost(), server.port());
        engine.setUseClientMode(true);
        SSLParameters p = engine.getSSLParameters();
        p.setEndpointIdentificationAlgorithm(null); // Berth's own rule runs in the trust manager
        p.setServerNames(s.serverNames);
        p.setProtocols(protocols);
        p.setApplicationProtocols(alpn);
        engine.setSSLParameters(p);
        return engine;
    }

    /** @return for messages: what was verified and sent to this server, and whom we trust */
    String describeFor(Server server) {
        ServerTls s = forServer(server);
        return "verifying '" + s.verifyName + "', SNI " + (s.sni == null ? "none" : "'" + s.sni + "'")
                + ", trusting " + config.trustSource() + ", protocols " + config.protocols()
                + (config.providerName() == null ? "" : ", provider " + config.providerName());
    }

    private SSLContext newContext() {
        try {
            SSLContext context = config.provider() != null ? SSLContext.getInstance("TLS", config.provider())
                    : config.providerName() != null ? SSLContext.getInstance("TLS", config.providerName())
                    : SSLContext.getInstance("TLS");
            KeyManager[] keyManagers = config.clientKeyManager() == null
                    ? null : new KeyManager[] {config.clientKeyManager()};
            context.init(keyManagers, new TrustManager[] {trustManager}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create a TLS context for " + config + ": " + e, e);
        }
    }

    /** The JDK's PKIX trust manager over the JDK trust store, or over exactly the configured CAs. */
    private static X509ExtendedTrustManager jdkTrustManager(TlsConfig config) {
        try {
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            List<X509Certificate> anchors = config.trustedCertificates();
            if (anchors.isEmpty()) {
                factory.init((KeyStore) null);
            } else {
                KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
                store.load(null, null);
                for (int i = 0; i < anchors.size(); i++) {
                    store.setCertificateEntry("ca-" + i, anchors.get(i));
                }
                factory.init(store);
            }
            for (TrustManager tm : factory.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) {
                    return x;
                }
            }
            throw new IllegalStateException("the JDK's " + factory.getAlgorithm()
                    + " trust manager factory made no X509ExtendedTrustManager");
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot build a trust manager from " + config.trustSource() + ": " + e, e);
        }
    }
}
