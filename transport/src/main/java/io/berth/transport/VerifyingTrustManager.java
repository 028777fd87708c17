package io.berth.transport;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The trust manager of a {@link TlsProfile}: the JDK's PKIX trust manager (chain and, through the
 * engine's HTTPS endpoint identification, host name), plus two things the JDK does not do.
 *
 * <ul>
 *   <li>It tells the connection whose handshake it checks that a certificate chain was verified. A
 *       handshake that completes without that is a resumption: both TLS 1.2 abbreviated handshakes
 *       and TLS 1.3 PSK handshakes skip the server's Certificate message, so the trust manager is not
 *       asked. That is how {@link TlsConnection#tlsSessionResumed()} is decided.</li>
 *   <li>When the SNI name sent differs from the name to verify, the JDK accepts a certificate that
 *       matches either of them (it tries the SNI name first). Berth promises the configured name, so
 *       the chain is then also matched against the verified name with {@link HostnameMatcher}.</li>
 * </ul>
 *
 * <p>Only SSLEngine client handshakes of registered connections are accepted; every other use fails
 * closed. Thread-safe.
 */
final class VerifyingTrustManager extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager jdk;
    private final ConcurrentHashMap<SSLEngine, TlsConnection> handshakes = new ConcurrentHashMap<>();

    VerifyingTrustManager(X509ExtendedTrustManager jdk) {
        this.jdk = jdk;
    }

    /** Registers a connection whose handshake is about to start. */
    void begin(SSLEngine engine, TlsConnection connection) {
        handshakes.put(engine, connection);
    }

    /** Unregisters it once its handshake is over, successfully or not. */
    void end(SSLEngine engine) {
        handshakes.remove(engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        TlsConnection connection = engine == null ? null : handshakes.get(engine);
        if (connection == null) {
            throw new CertificateException("this trust manager only checks Berth's own TLS handshakes");
        }
        jdk.checkServerTrusted(chain, authType, engine);
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
