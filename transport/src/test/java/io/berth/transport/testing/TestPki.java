package io.berth.transport.testing;

import java.security.GeneralSecurityException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
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
     * A server-side TLS context presenting {@code leaf} (and its CA). Whether a handshake resumed a
     * session is read on the wire with {@link ServerHelloTap}, not from the server's key manager.
     */
    public static ServerTls server(HeldCertificate leaf, HeldCertificate issuer) {
        HandshakeCertificates hc = new HandshakeCertificates.Builder()
                .heldCertificate(leaf, issuer.certificate()).build();
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {hc.keyManager()}, null, null);
            return new ServerTls(context);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return {@link #server} presenting {@link #SERVER} */
    public static ServerTls server() {
        return server(SERVER, CA);
    }

    /**
     * A server TLS context.
     *
     * @param context the context
     */
    public record ServerTls(SSLContext context) {
    }
}
