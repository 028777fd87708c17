package io.berth;

import io.berth.internal.Checks;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Provider;
import java.security.Security;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.X509KeyManager;

/**
 * TLS settings of an {@code https} {@link Backend}: whom to trust, whether and what to send as SNI,
 * which host name the server's certificate must match, protocols, ALPN and an optional client
 * certificate.
 *
 * <p>Everything here shapes a connection, so it is part of the pool key: the transport keeps one
 * {@code SSLContext}, and so one TLS session cache, per distinct {@code TlsConfig}. That matters for
 * SNI: a JDK client that shares a session cache between an SNI and a no-SNI profile sends SNI on
 * resumed sessions of the no-SNI one. A backend configured with {@code sni(false)} never sees SNI.
 *
 * <p><b>Certificate rules</b>, the same whatever SNI is sent and however the server is addressed; there
 * is no trust-all mode. After the JDK's PKIX trust manager has verified the chain against the trust
 * anchors, Berth checks:
 * <ul>
 *   <li>the host name ({@link #verifyHostnameFor(Server)}) against the leaf's subjectAltName only (the
 *       subject's common name is never used): a DNS name matches a {@code dNSName} entry equal to it
 *       (ASCII case ignored, one trailing dot ignored), or a wildcard entry whose whole leftmost label
 *       is {@code *} and whose rest has at least two labels and is not a public suffix
 *       ({@code *.example.com} matches {@code a.example.com}, never {@code example.com} nor
 *       {@code a.b.example.com}; {@code *.com}, {@code *.co.uk}, {@code f*.example.com} and
 *       {@code a.*.example.com} match nothing); an IP literal matches only an {@code iPAddress} entry of
 *       the same address;</li>
 *   <li>the validity dates of the leaf, also when it is itself a trust anchor (a pinned self-signed
 *       certificate, which the JDK does not check);</li>
 *   <li>the key size of every certificate the server sent and of the anchor it chains to: RSA and DSA
 *       keys of at least {@link #minRsaKeySize()} bits, EC keys of at least {@link #minEcKeySize()}.</li>
 * </ul>
 * A failure is the {@code SSLHandshakeException} of the handshake, caused by a
 * {@code CertificateException} ({@code CertificateExpiredException},
 * {@code CertificateNotYetValidException}) naming what was wrong.
 *
 * <table class="striped">
 * <caption>Settings and defaults</caption>
 * <tr><th>setting</th><th>default</th></tr>
 * <tr><td>trust</td><td>the JDK trust store</td></tr>
 * <tr><td>{@code sni}</td><td>on, sending {@code sniName}</td></tr>
 * <tr><td>{@code sniName}</td><td>the server's host (never an IP literal: no SNI is sent for one)</td></tr>
 * <tr><td>{@code verifyHostname}</td><td>the server's host</td></tr>
 * <tr><td>{@code protocols}</td><td>{@code TLSv1.3}, {@code TLSv1.2}</td></tr>
 * <tr><td>{@code alpn}</td><td>{@code http/1.1}</td></tr>
 * <tr><td>{@code handshakeTimeout}</td><td>10 s</td></tr>
 * <tr><td>{@code clientKeyManager}</td><td>none</td></tr>
 * <tr><td>{@code minRsaKeySize}</td><td>2048 bits (RSA and DSA)</td></tr>
 * <tr><td>{@code minEcKeySize}</td><td>224 bits</td></tr>
 * <tr><td>{@code provider}</td><td>{@code SSLContext.getInstance("TLS")}: the most preferred installed
 *     provider, the JDK's SunJSSE unless the application installed another ahead of it</td></tr>
 * </table>
 *
 * <p>Immutable and thread-safe.
 */
public final class TlsConfig {
    /** Default TLS handshake timeout: 10 seconds. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    /** Default protocols: TLS 1.3 and TLS 1.2. */
    public static final List<String> DEFAULT_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    /** Default ALPN protocols: {@code http/1.1}. */
    public static final List<String> DEFAULT_ALPN = List.of("http/1.1");
    /** Default smallest RSA or DSA key accepted anywhere in the server's chain: 2048 bits. */
    public static final int DEFAULT_MIN_RSA_KEY_SIZE = 2048;
    /** Default smallest EC key accepted anywhere in the server's chain: 224 bits. */
    public static final int DEFAULT_MIN_EC_KEY_SIZE = 224;

    private static final TlsConfig DEFAULTS = new Builder().build();

    private final List<X509Certificate> trustedCertificates;
    private final String trustSource;
    private final boolean sni;
    private final String sniName;
    private final String verifyHostname;
    private final List<String> protocols;
    private final List<String> alpn;
    private final Duration handshakeTimeout;
    private final X509KeyManager clientKeyManager;
    private final int minRsaKeySize;
    private final int minEcKeySize;
    private final Provider provider;
    private final String providerName;

    private TlsConfig(Builder b) {
        this.trustedCertificates = List.copyOf(b.trustedCertificates);
        this.trustSource = b.trustSource;
        this.sni = b.sni;
        this.sniName = b.sniName;
        this.verifyHostname = b.verifyHostname;
        this.protocols = b.protocols;
        this.alpn = b.alpn;
        this.handshakeTimeout = b.handshakeTimeout;
        this.clientKeyManager = b.clientKeyManager;
        this.minRsaKeySize = b.minRsaKeySize;
        this.minEcKeySize = b.minEcKeySize;
        this.provider = b.provider;
        this.providerName = b.providerName;
    }

    /** @return the default settings: JDK trust store, SNI on, host name verified, TLS 1.3 and 1.2 */
    public static TlsConfig defaults() {
        return DEFAULTS;
    }

    /** @return a builder starting from the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder holding these settings */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.trustedCertificates.addAll(trustedCertificates);
        b.trustSource = trustSource;
        b.sni = sni;
        b.sniName = sniName;
        b.verifyHostname = verifyHostname;
        b.protocols = protocols;
        b.alpn = alpn;
        b.handshakeTimeout = handshakeTimeout;
        b.clientKeyManager = clientKeyManager;
        b.minRsaKeySize = minRsaKeySize;
        b.minEcKeySize = minEcKeySize;
        b.provider = provider;
        b.providerName = providerName;
        return b;
    }

    /** @return the certificates trusted as anchors; empty when the JDK trust store is used */
    public List<X509Certificate> trustedCertificates() {
        return trustedCertificates;
    }

    /** @return where the trust anchors come from, e.g. {@code JDK trust store} or {@code /etc/ca.pem} */
    public String trustSource() {
        return trustSource;
    }

    /** @return whether the server_name extension (SNI) is sent */
    public boolean sni() {
        return sni;
    }

    /**
     * @param server the server being connected to
     * @return the SNI name to send to that server, or {@code null} if none is sent (SNI off, or no
     *     name set and the server is addressed by IP)
     */
    public String sniNameFor(Server server) {
        if (!sni) {
            return null;
        }
        if (sniName != null) {
            return sniName;
        }
        return server.isIpLiteral() ? null : server.host();
    }

    /** @return the configured SNI name, or {@code null} to use each server's host */
    public String sniName() {
        return sniName;
    }

    /**
     * @param server the server being connected to
     * @return the host name its certificate must match
     */
    public String verifyHostnameFor(Server server) {
        return verifyHostname != null ? verifyHostname : server.host();
    }

    /** @return the configured name to verify, or {@code null} to verify each server's host */
    public String verifyHostname() {
        return verifyHostname;
    }

    /** @return the enabled protocols, most preferred first */
    public List<String> protocols() {
        return protocols;
    }

    /** @return the ALPN protocols offered; empty for none */
    public List<String> alpn() {
        return alpn;
    }

    /** @return the limit on a TLS handshake */
    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    /** @return the key manager presenting a client certificate, or {@code null} for none */
    public X509KeyManager clientKeyManager() {
        return clientKeyManager;
    }

    /**
     * @return the smallest RSA or DSA key, in bits, accepted in the server's certificate, its chain and
     *     the trust anchor; default {@value #DEFAULT_MIN_RSA_KEY_SIZE}
     */
    public int minRsaKeySize() {
        return minRsaKeySize;
    }

    /**
     * @return the smallest EC key, in bits (the curve's field size), accepted in the server's
     *     certificate, its chain and the trust anchor; default {@value #DEFAULT_MIN_EC_KEY_SIZE}
     */
    public int minEcKeySize() {
        return minEcKeySize;
    }

    /**
     * @return the JSSE provider given as an instance, or {@code null} (a provider given by name, or the
     *     JDK's default)
     */
    public Provider provider() {
        return provider;
    }

    /**
     * @return the name of the JSSE provider whose {@code SSLContext} is used, or {@code null} for the
     *     default ({@code SSLContext.getInstance("TLS")}, SunJSSE unless another was installed ahead)
     */
    public String providerName() {
        return provider != null ? provider.getName() : providerName;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TlsConfig t
                && t.sni == sni
                && t.trustedCertificates.equals(trustedCertificates)
                && Objects.equals(t.sniName, sniName)
                && Objects.equals(t.verifyHostname, verifyHostname)
                && t.protocols.equals(protocols)
                && t.alpn.equals(alpn)
                && t.handshakeTimeout.equals(handshakeTimeout)
                && t.clientKeyManager == clientKeyManager
                && t.minRsaKeySize == minRsaKeySize
                && t.minEcKeySize == minEcKeySize
                && t.provider == provider
                && Objects.equals(t.providerName, providerName);
    }

    @Override
    public int hashCode() {
        return Objects.hash(trustedCertificates, sni, sniName, verifyHostname, protocols, alpn, handshakeTimeout,
                System.identityHashCode(clientKeyManager), minRsaKeySize, minEcKeySize,
                System.identityHashCode(provider), providerName);
    }

    @Override
    public String toString() {
        return "TlsConfig{trust=" + trustSource + ", sni=" + (sni ? (sniName == null ? "host" : sniName) : "off")
                + ", verify=" + (verifyHostname == null ? "host" : verifyHostname) + ", protocols=" + protocols
                + ", alpn=" + alpn + ", handshakeTimeout=" + handshakeTimeout
                + (clientKeyManager == null ? "" : ", clientCertificate")
                + (minRsaKeySize == DEFAULT_MIN_RSA_KEY_SIZE ? "" : ", minRsaKeySize=" + minRsaKeySize)
                + (minEcKeySize == DEFAULT_MIN_EC_KEY_SIZE ? "" : ", minEcKeySize=" + minEcKeySize)
                + (providerName() == null ? "" : ", provider=" + providerName()) + "}";
    }

    /** Builds a {@link TlsConfig}; every setter validates its argument at once. Not thread-safe. */
    public static final class Builder {
        private final List<X509Certificate> trustedCertificates = new ArrayList<>();
        private String trustSource = "JDK trust store";
        private boolean sni = true;
        private String sniName;
        private String verifyHostname;
        private List<String> protocols = DEFAULT_PROTOCOLS;
        private List<String> alpn = DEFAULT_ALPN;
        private Duration handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT;
        private X509KeyManager clientKeyManager;
        private int minRsaKeySize = DEFAULT_MIN_RSA_KEY_SIZE;
        private int minEcKeySize = DEFAULT_MIN_EC_KEY_SIZE;
        private Provider provider;
        private String providerName;

        private Builder() {
        }

        /**
         * Trusts the JDK's default trust store (the default).
         *
         * @return this builder
         */
        public Builder trustSystem() {
            trustedCertificates.clear();
            trustSource = "JDK trust store";
            return this;
        }

        /**
         * Trusts exactly the CA certificates of a PEM file or bundle (HAProxy's {@code ca-file}); the JDK
         * trust store is then not used.
         *
         * @param caFile a file with one or more {@code -----BEGIN CERTIFICATE-----} blocks
         * @return this builder
         * @throws IllegalArgumentException if the file cannot be read, holds no certificate, or holds a
         *     block that is not a valid X.509 certificate; the message names the file
         */
        public Builder trustPemFile(Path caFile) {
            Objects.requireNonNull(caFile, "caFile");
            String text;
            try {
                text = Files.readString(caFile, StandardCharsets.US_ASCII);
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("caFile " + caFile + " cannot be read: " + e, e);
            }
            return trust(parsePem(text, "caFile " + caFile), caFile.toString());
        }

        /**
         * Trusts exactly the CA certificates of PEM text.
         *
         * @param pem one or more {@code -----BEGIN CERTIFICATE-----} blocks
         * @return this builder
         * @throws IllegalArgumentException if the text holds no certificate or an invalid one
         */
        public Builder trustPem(String pem) {
            Objects.requireNonNull(pem, "pem");
            return trust(parsePem(pem, "trusted PEM"), "PEM text");
        }

        /**
         * Trusts exactly these CA certificates.
         *
         * @param certificates one or more certificates
         * @return this builder
         * @throws IllegalArgumentException if the collection is empty
         */
        public Builder trustCertificates(Collection<X509Certificate> certificates) {
            List<X509Certificate> list = List.copyOf(certificates);
            if (list.isEmpty()) {
                throw new IllegalArgumentException("trustCertificates must hold at least one certificate but was empty");
            }
            return trust(list, list.size() + " given certificate(s)");
        }

        private Builder trust(List<X509Certificate> certs, String source) {
            trustedCertificates.clear();
            trustedCertificates.addAll(certs);
            trustSource = source;
            return this;
        }

        /**
         * Turns SNI on (the default) or off. With SNI off no server_name extension is sent on any
         * connection, resumed ones included; the certificate is still verified against
         * {@link #verifyHostname(String)}.
         *
         * @param sni whether to send SNI
         * @return this builder
         */
        public Builder sni(boolean sni) {
            this.sni = sni;
            return this;
        }

        /**
         * Sets the SNI name sent to every server instead of each server's host.
         *
         * @param name a DNS host name (not an IP literal, which SNI cannot carry)
         * @return this builder
         * @throws IllegalArgumentException if the name is not a DNS host name
         */
        public Builder sniName(String name) {
            this.sniName = requireDnsName("sniName", name);
            return this;
        }

        /**
         * Sets the host name every server's certificate must match (HAProxy's {@code verifyhost}); by
         * default each server's host.
         *
         * @param name a DNS host name or an IP literal
         * @return this builder
         * @throws IllegalArgumentException if the name is blank or malformed
         */
        public Builder verifyHostname(String name) {
            Objects.requireNonNull(name, "verifyHostname");
            String n = name.trim();
            if (n.isEmpty()) {
                throw new IllegalArgumentException("verifyHostname must not be blank but was '" + name + "'");
            }
            if (!Server.isIpLiteral(n)) {
                requireDnsName("verifyHostname", n);
            }
            this.verifyHostname = n;
            return this;
        }

        /**
         * Sets the enabled protocols.
         *
         * @param protocols one or more of {@code TLSv1.3} and {@code TLSv1.2}
         * @return this builder
         * @throws IllegalArgumentException if the list is empty or names another protocol
         */
        public Builder protocols(List<String> protocols) {
            List<String> list = List.copyOf(protocols);
            if (list.isEmpty()) {
                throw new IllegalArgumentException("protocols must name at least one protocol but was empty");
            }
            for (String p : list) {
                if (!p.equals("TLSv1.3") && !p.equals("TLSv1.2")) {
                    throw new IllegalArgumentException("protocols must be TLSv1.3 or TLSv1.2 but was '" + p + "'");
                }
            }
            if (list.stream().distinct().count() != list.size()) {
                throw new IllegalArgumentException("protocols must be distinct but was " + list);
            }
            this.protocols = list;
            return this;
        }

        /**
         * Sets the ALPN protocols offered; an empty list offers none.
         *
         * @param protocols protocol ids, e.g. {@code http/1.1}
         * @return this builder
         * @throws IllegalArgumentException if an id is blank or longer than 255 bytes
         */
        public Builder alpn(List<String> protocols) {
            List<String> list = List.copyOf(protocols);
            for (String p : list) {
                if (p.isBlank() || p.getBytes(StandardCharsets.UTF_8).length > 255) {
                    throw new IllegalArgumentException("alpn ids must be 1..255 bytes but was '" + p + "'");
                }
            }
            this.alpn = list;
            return this;
        }

        /**
         * Sets the limit on a TLS handshake.
         *
         * @param timeout a positive duration; default 10 s
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder handshakeTimeout(Duration timeout) {
            this.handshakeTimeout = Checks.positive("handshakeTimeout", timeout);
            return this;
        }

        /**
         * Presents a client certificate from this key manager (mutual TLS).
         *
         * @param keyManager the key manager, or {@code null} for none (the default)
         * @return this builder
         */
        public Builder clientKeyManager(X509KeyManager keyManager) {
            this.clientKeyManager = keyManager;
            return this;
        }

        /**
         * Lowers (or raises) the smallest RSA and DSA key accepted anywhere in the server's chain, the
         * trust anchor included. Lower it only for a legacy backend that cannot present a larger key.
         *
         * @param bits 1024 to 16384; default {@value TlsConfig#DEFAULT_MIN_RSA_KEY_SIZE} (the JDK itself
         *     refuses keys below 1024 bits)
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder minRsaKeySize(int bits) {
            this.minRsaKeySize = inRange("minRsaKeySize", bits, 1024, 16384);
            return this;
        }

        /**
         * Lowers (or raises) the smallest EC key accepted anywhere in the server's chain, the trust
         * anchor included, in bits of the curve's field size (P-256: 256).
         *
         * @param bits 160 to 571; default {@value TlsConfig#DEFAULT_MIN_EC_KEY_SIZE}
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder minEcKeySize(int bits) {
            this.minEcKeySize = inRange("minEcKeySize", bits, 160, 571);
            return this;
        }

        /**
         * Uses this JSSE provider's {@code SSLContext} (for example Conscrypt's,
         * {@code org.conscrypt.Conscrypt.newProvider()}) instead of the JDK's; the provider need not be
         * installed. Trust stays the JDK's PKIX trust manager plus Berth's certificate rules, whichever
         * provider runs the handshake.
         *
         * @param provider a provider offering {@code SSLContext.TLS}, or {@code null} for the JDK's
         *     default (the default)
         * @return this builder
         * @throws IllegalArgumentException if the provider offers no {@code SSLContext} for {@code TLS}
         */
        public Builder provider(Provider provider) {
            if (provider != null && provider.getService("SSLContext", "TLS") == null) {
                throw new IllegalArgumentException("provider must offer SSLContext.TLS but " + provider.getName()
                        + " does not");
            }
            this.provider = provider;
            this.providerName = null;
            return this;
        }

        /**
         * Uses the {@code SSLContext} of the installed JSSE provider of this name (see
         * {@link Security#addProvider(Provider)}).
         *
         * @param name the name of an installed provider offering {@code SSLContext.TLS}, e.g.
         *     {@code Conscrypt}
         * @return this builder
         * @throws IllegalArgumentException if no such provider is installed or it offers no
         *     {@code SSLContext} for {@code TLS}
         */
        public Builder provider(String name) {
            Objects.requireNonNull(name, "provider");
            Provider p = Security.getProvider(name);
            if (p == null) {
                throw new IllegalArgumentException("provider must name an installed security provider but '"
                        + name + "' is not installed (Security.addProvider, or pass the Provider instance)");
            }
            if (p.getService("SSLContext", "TLS") == null) {
                throw new IllegalArgumentException("provider must offer SSLContext.TLS but " + name + " does not");
            }
            this.provider = null;
            this.providerName = name;
            return this;
        }

        private static int inRange(String setting, int value, int min, int max) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(setting + " must be between " + min + " and " + max
                        + " but was " + value);
            }
            return value;
        }

        /** @return the settings */
        public TlsConfig build() {
            return new TlsConfig(this);
        }

        private static String requireDnsName(String setting, String name) {
            Objects.requireNonNull(name, setting);
            String n = name.trim();
            if (n.isEmpty() || n.length() > 253 || Server.isIpLiteral(n)) {
                throw new IllegalArgumentException(setting + " must be a DNS host name but was '" + name + "'");
            }
            for (String label : n.split("\\.", -1)) {
                if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
                    throw new IllegalArgumentException(setting + " must be a DNS host name but was '" + name + "'");
                }
                for (int i = 0; i < label.length(); i++) {
                    char c = label.charAt(i);
                    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
                            || c == '_')) {
                        throw new IllegalArgumentException(setting + " must be a DNS host name but was '" + name + "'");
                    }
                }
            }
            return n;
        }
    }

    static List<X509Certificate> parsePem(String text, String what) {
        final String begin = "-----BEGIN CERTIFICATE-----";
        final String end = "-----END CERTIFICATE-----";
        List<X509Certificate> certs = new ArrayList<>();
        CertificateFactory cf;
        try {
            cf = CertificateFactory.getInstance("X.509");
        } catch (CertificateException e) {
            throw new IllegalStateException("this JDK has no X.509 certificate factory", e);
        }
        int from = 0;
        while (true) {
            int b = text.indexOf(begin, from);
            if (b < 0) {
                break;
            }
            int e = text.indexOf(end, b);
            if (e < 0) {
                throw new IllegalArgumentException(what + ": certificate " + (certs.size() + 1)
                        + " has no '" + end + "' line");
            }
            String body = text.substring(b + begin.length(), e).replaceAll("\\s", "");
            try {
                byte[] der = Base64.getDecoder().decode(body);
                certs.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(der)));
            } catch (IllegalArgumentException | CertificateException ex) {
                throw new IllegalArgumentException(what + ": certificate " + (certs.size() + 1)
                        + " is not a valid X.509 certificate: " + ex.getMessage(), ex);
            }
            from = e + end.length();
        }
        if (certs.isEmpty()) {
            throw new IllegalArgumentException(what + " holds no PEM certificate (no '" + begin + "' line)");
        }
        return List.copyOf(certs);
    }
}
