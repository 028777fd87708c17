package io.berth.transport.testing;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509KeyManager;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;

/**
 * Certificates generated once per test JVM with okhttp-tls: two unrelated CAs and leaves for the
 * cases the tests need. ECDSA P-256 keys, so that generating them and handshaking are fast.
 */
public final class TestPki {
    /** The CA the tests trust. */
    public static final HeldCertificate CA = new HeldCertificate.Builder()
            .certificateAuthority(0).commonName("Berth test CA").ecdsa256().build();
    /** A second CA, trusted only where a test says so. */
    public static final HeldCertificate OTHER_CA = new HeldCertificate.Builder()
            .certificateAuthority(0).commonName("Berth other test CA").ecdsa256().build();
    /** The usual server certificate: {@code localhost}, {@code 127.0.0.1}, {@code backend.test}. */
    public static final HeldCertificate SERVER = leaf(CA, "localhost", "127.0.0.1", "backend.test");
    /** The same names, signed by {@link #OTHER_CA}. */
    public static final HeldCertificate SERVER_OF_OTHER_CA = leaf(OTHER_CA, "localhost", "127.0.0.1", "backend.test");
    /** Signed by {@link #CA} for {@code backend.test} only: no IP address. */
    public static final HeldCertificate BACKEND_TEST_ONLY = leaf(CA, "backend.test");
    /** Signed by {@link #CA} for {@code other.test} and {@code 10.9.8.7} only. */
    public static final HeldCertificate WRONG_HOST = leaf(CA, "other.test", "10.9.8.7");
    /** Signed by {@link #CA} with the usual names, valid for one hour ending two hours ago. */
    public static final HeldCertificate EXPIRED = new HeldCertificate.Builder()
            .signedBy(CA).ecdsa256()
            .validityInterval(System.currentTimeMillis() - TimeUnit.HOURS.toMillis(3),
                    System.currentTimeMillis() - TimeUnit.HOURS.toMillis(2))
            .addSubjectAlternativeName("localhost").addSubjectAlternativeName("127.0.0.1")
            .addSubjectAlternativeName("backend.test").build();

    /** Signed by {@link #CA} with the usual names, valid from one hour from now. */
    public static final HeldCertificate NOT_YET_VALID = new HeldCertificate.Builder()
            .signedBy(CA).ecdsa256()
            .validityInterval(System.currentTimeMillis() + TimeUnit.HOURS.toMillis(1),
                    System.currentTimeMillis() + TimeUnit.HOURS.toMillis(2))
            .addSubjectAlternativeName("localhost").addSubjectAlternativeName("127.0.0.1")
            .addSubjectAlternativeName("backend.test").build();

    private TestPki() {
    }

    private static HeldCertificate leaf(HeldCertificate ca, String... names) {
        HeldCertificate.Builder b = new HeldCertificate.Builder().signedBy(ca).ecdsa256().commonName(names[0]);
        for (String n : names) {
            b.addSubjectAlternativeName(n);
        }
        return b.build();
    }

    /**
     * A server-side TLS context presenting {@code leaf} (and its CA), whose key manager counts the
     * handshakes that chose a certificate: full handshakes, as a resumed one presents none.
     */
    public static ServerTls server(HeldCertificate leaf, HeldCertificate issuer) {
        HandshakeCertificates hc = new HandshakeCertificates.Builder()
                .heldCertificate(leaf, issuer.certificate()).build();
        CountingKeyManager km = new CountingKeyManager(hc.keyManager());
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {km}, null, null);
            return new ServerTls(context, km.fullHandshakes);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return {@link #server} presenting {@link #SERVER} */
    public static ServerTls server() {
        return server(SERVER, CA);
    }

    /**
     * A server TLS context and the count of full handshakes it made.
     *
     * @param context the context
     * @param fullHandshakes handshakes in which it presented its certificate
     */
    public record ServerTls(SSLContext context, AtomicInteger fullHandshakes) {
    }

    private static final class CountingKeyManager extends X509ExtendedKeyManager {
        private final X509KeyManager delegate;
        private final AtomicInteger fullHandshakes = new AtomicInteger();

        CountingKeyManager(X509KeyManager delegate) {
            this.delegate = delegate;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            String alias = delegate.chooseServerAlias(keyType, issuers, socket);
            if (alias != null) {
                fullHandshakes.incrementAndGet();
            }
            return alias;
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return chooseServerAlias(keyType, issuers, null);
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return delegate.getClientAliases(keyType, issuers);
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return delegate.chooseClientAlias(keyType, issuers, socket);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return delegate.getServerAliases(keyType, issuers);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return delegate.getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return delegate.getPrivateKey(alias);
        }
    }
}
