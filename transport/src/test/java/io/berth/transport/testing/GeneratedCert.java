package io.berth.transport.testing;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate made with Bouncy Castle for the forms {@link TestPki}'s HeldCertificate cannot make:
 * no subjectAltName, any dNSName text (partial or inner wildcards), a dNSName holding an IP address,
 * RSA keys of any size, a self-signed leaf outside its validity. Signing uses the JDK's providers;
 * Bouncy Castle is not installed as a provider.
 *
 * @param certificate the certificate
 * @param keys its key pair
 * @param issuer the certificate that signed it, or {@code null} if self-signed
 */
public record GeneratedCert(X509Certificate certificate, KeyPair keys, GeneratedCert issuer) {
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /** @return a new builder: an EC P-256 leaf for TLS servers, valid from an hour ago for a day */
    public static Builder builder(String commonName) {
        return new Builder(commonName);
    }

    /** @return an EC P-256 key pair */
    public static KeyPair ec256() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return an RSA key pair of this many bits */
    public static KeyPair rsa(int bits) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(bits);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return the chain a server presents: this certificate, then its issuers up to (without) the self-signed root */
    public X509Certificate[] serverChain() {
        List<X509Certificate> chain = new ArrayList<>();
        for (GeneratedCert c = this; c != null && (c == this || c.issuer != null); c = c.issuer) {
            chain.add(c.certificate);
        }
        return chain.toArray(new X509Certificate[0]);
    }

    /** @return a server-side TLS context presenting {@link #serverChain()} with this key */
    public SSLContext serverContext() {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("server", keys.getPrivate(), new char[0], serverChain());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
            kmf.init(ks, new char[0]);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return context;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Builds a {@link GeneratedCert}; not thread-safe. */
    public static final class Builder {
        private final String commonName;
        private KeyPair keys;
        private GeneratedCert issuer;
        private boolean ca;
        private Instant notBefore = Instant.now().minus(Duration.ofHours(1));
        private Instant notAfter = Instant.now().plus(Duration.ofDays(1));
        private final List<GeneralName> names = new ArrayList<>();

        private Builder(String commonName) {
            this.commonName = commonName;
        }

        /** @return this, with this key pair (default: a new EC P-256 pair) */
        public Builder keys(KeyPair keys) {
            this.keys = keys;
            return this;
        }

        /** @return this, signed by {@code issuer} (default: self-signed) */
        public Builder issuer(GeneratedCert issuer) {
            this.issuer = issuer;
            return this;
        }

        /** @return this, a CA certificate */
        public Builder ca() {
            this.ca = true;
            return this;
        }

        /** @return this, valid from {@code from} to {@code to} */
        public Builder validity(Instant from, Instant to) {
            this.notBefore = from;
            this.notAfter = to;
            return this;
        }

        /** @return this, with a dNSName entry holding exactly this text */
        public Builder dns(String name) {
            names.add(new GeneralName(GeneralName.dNSName, name));
            return this;
        }

        /** @return this, with an iPAddress entry */
        public Builder ip(String address) {
            names.add(new GeneralName(GeneralName.iPAddress, address));
            return this;
        }

        /** @return the certificate */
        public GeneratedCert build() {
            KeyPair k = keys != null ? keys : ec256();
            KeyPair signer = issuer != null ? issuer.keys : k;
            X500Name subject = new X500Name("CN=" + commonName);
            X500Name issuerName = issuer != null
                    ? X500Name.getInstance(issuer.certificate.getSubjectX500Principal().getEncoded()) : subject;
            try {
                JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName,
                        BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(notBefore), Date.from(notAfter),
                        subject, k.getPublic());
                b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
                if (ca) {
                    b.addExtension(Extension.keyUsage, true,
                            new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
                } else {
                    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature
                            | KeyUsage.keyEncipherment));
                    b.addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
                }
                if (!names.isEmpty()) {
                    b.addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(names.toArray(new GeneralName[0])));
                }
                String algorithm = signer.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
                X509Certificate cert = new JcaX509CertificateConverter()
                        .getCertificate(b.build(new JcaContentSignerBuilder(algorithm).build(signer.getPrivate())));
                return new GeneratedCert(cert, k, issuer);
            } catch (Exception e) {
                throw new IllegalStateException("cannot make the certificate for " + commonName, e);
            }
        }
    }
}
