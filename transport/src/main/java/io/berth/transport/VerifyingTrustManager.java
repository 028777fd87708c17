package io.berth.transport;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The trust manager of a {@link TlsProfile}, whichever JSSE provider runs the handshake: the JDK's
 * PKIX trust manager for the chain (without endpoint identification, which is off in every engine),
 * then Berth's {@link CertificateRules}, then the connection, which matches the host name
 * ({@link HostnameMatcher}) and so learns that a certificate chain was verified. A handshake that
 * completes without that is a resumption: both TLS 1.2 abbreviated handshakes and TLS 1.3 PSK
 * handshakes skip the server's Certificate message, so the trust manager is not asked. That is how
 * {@link TlsConnection#tlsSessionResumed()} is decided.
 *
 * <p>Conscrypt passes the key-exchange type {@code GENERIC} for TLS 1.3, which the JDK's trust
 * manager refuses; it means what the JDK's own TLS 1.3 passes as {@code UNKNOWN} (the certificate
 * signs the handshake), and is passed on as that.
 *
 * <p>Only SSLEngine client handshakes of registered connections are accepted; every other use fails
 * closed. Thread-safe.
 */
final class VerifyingTrustManager extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager jdk;
    private final CertificateRules rules;
    private final ConcurrentHashMap<SSLEngine, TlsConnection> handshakes = new ConcurrentHashMap<>();
    /**
     * The engine whose handshake each thread is driving. Conscrypt hands the trust manager its inner
     * engine, not the one Berth created (a wrapper), and verifies inside {@code unwrap} on the
     * handshaking thread: that thread finds the connection.
     */
    private final ConcurrentHashMap<Thread, SSLEngine> handshaking = new ConcurrentHashMap<>();

    VerifyingTrustManager(X509ExtendedTrustManager jdk, CertificateRules rules) {
        this.jdk = jdk;
        this.rules = rules;
    }

    /** Registers a connection whose handshake is about to start. */
    void begin(SSLEngine engine, TlsConnection connection) {
        handshakes.put(engine, connection);
        handshaking.put(Thread.currentThread(), engine);
    }

    /** Unregisters it once its handshake is over, successfully or not; on the thread that began it. */
    void end(SSLEngine engine) {
        handshakes.remove(engine);
        handshaking.remove(Thread.currentThread(), engine);
    }

    /** @return the connection whose handshake {@code engine} (ours, or a provider's inner engine) runs */
    private TlsConnection connectionOf(SSLEngine engine) {
        if (engine == null) {
            return null;
        }
        TlsConnection connection = handshakes.get(engine);
        if (connection != null) {
            return connection;
        }
        SSLEngine ours = handshaking.get(Thread.currentThread());
        boolean same = ours != null && ours.getPeerPort() == engine.getPeerPort()
                && java.util.Objects.equals(ours.getPeerHost(), engine.getPeerHost());
        return same ? handshakes.get(ours) : null;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        TlsConnection connection = connectionOf(engine);
        if (connection == null) {
            throw new CertificateException("this trust manager only checks Berth's own TLS handshakes");
        }
        if (chain == null || chain.length == 0) {
            throw new CertificateException("the server sent no certificate");
        }
        jdk.checkServerTrusted(chain, "GENERIC".equals(authType) ? "UNKNOWN" : authType, engine);
        rules.check(chain);
        connection.serverChainVerified(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        throw new CertificateException("this trust manager only checks Berth's own TLS handshakes");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("this trust manager only checks Berth's own TLS handshakes");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        throw new CertificateException("a client does not check client certificates");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        throw new CertificateException("a client does not check client certificates");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a client does not check client certificates");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return jdk.getAcceptedIssuers();
    }
}
