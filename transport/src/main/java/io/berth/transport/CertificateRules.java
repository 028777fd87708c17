package io.berth.transport;

import io.berth.TlsConfig;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.interfaces.DSAKey;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.security.auth.x500.X500Principal;

/**
 * What Berth checks of a server's chain after the JDK's PKIX trust manager has accepted it, apart
 * from the host name ({@link HostnameMatcher}): the leaf's validity dates, which the JDK skips when the
 * leaf is itself a trust anchor (a pinned certificate), and a key-size floor over every certificate
 * the server sent and the anchor its chain ends at (the JDK refuses only keys below 1024 bits).
 *
 * <p>Immutable and thread-safe.
 */
final class CertificateRules {
    private final int minRsaKeySize;
    private final int minEcKeySize;
    /** The trust anchors by subject, to find the one a chain ends at. */
    private final Map<X500Principal, List<X509Certificate>> anchors = new HashMap<>();

    CertificateRules(TlsConfig config, X509Certificate[] trustAnchors) {
        this.minRsaKeySize = config.minRsaKeySize();
        this.minEcKeySize = config.minEcKeySize();
        for (X509Certificate a : trustAnchors) {
            anchors.computeIfAbsent(a.getSubjectX500Principal(), k -> new ArrayList<>(1)).add(a);
        }
    }

    /**
     * @param chain the server's chain, leaf first, as the JDK accepted it
     * @throws CertificateException naming the certificate and the rule it broke; a
     *     {@code CertificateExpiredException} or {@code CertificateNotYetValidException} for the dates
     */
    void check(X509Certificate[] chain) throws CertificateException {
        chain[0].checkValidity();
        for (int i = 0; i < chain.length; i++) {
            checkKey(chain[i], i == 0 ? "the server's certificate" : "certificate " + (i + 1) + " of the server's chain");
        }
        X509Certificate last = chain[chain.length - 1];
        for (X509Certificate anchor : anchors.getOrDefault(last.getIssuerX500Principal(), List.of())) {
            if (!anchor.equals(last) && tooSmall(anchor.getPublicKey()) != null && issued(anchor, last)) {
                checkKey(anchor, "the trust anchor of the server's chain");
            }
        }
    }

    private void checkKey(X509Certificate cert, String which) throws CertificateException {
        String problem = tooSmall(cert.getPublicKey());
        if (problem != null) {
            throw new CertificateException(which + " (" + cert.getSubjectX500Principal() + ") has " + problem
                    + " (lower it only for a legacy backend)");
        }
    }

    /** @return what is too small about the key, or {@code null} if it is large enough (or of another kind) */
    private String tooSmall(PublicKey key) {
        if (key instanceof RSAKey rsa) {
            return floor("RSA", rsa.getModulus().bitLength(), minRsaKeySize, "minRsaKeySize");
        }
        if (key instanceof DSAKey dsa && dsa.getParams() != null) {
            return floor("DSA", dsa.getParams().getP().bitLength(), minRsaKeySize, "minRsaKeySize");
        }
        if (key instanceof ECKey ec) {
            return floor("EC", ec.getParams().getCurve().getField().getFieldSize(), minEcKeySize, "minEcKeySize");
        }
        return null; // EdDSA and others: fixed sizes, all strong; the JDK's algorithm constraints still apply
    }

    private static String floor(String kind, int bits, int min, String setting) {
        return bits >= min ? null
                : "a " + bits + "-bit " + kind + " key, below the " + min + " bits of TlsConfig." + setting;
    }

    private static boolean issued(X509Certificate issuer, X509Certificate cert) {
        try {
            cert.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }
}
