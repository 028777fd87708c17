package io.berth.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The peers' TLS setup: an {@link SSLContext} that trusts exactly the benchmark's CA (the JDK's
 * PKIX trust manager over a key store holding only that certificate). Every call builds a new
 * context, so a new TLS session cache: what a "fresh" client gets.
 */
final class Tls {
    static final String PROTOCOL = "TLSv1.3";

    private Tls() {
    }

    /** An {@code SSLContext} with the trust manager it was built from (OkHttp wants both). */
    record Context(SSLContext context, X509TrustManager trustManager) {
    }

    static Context trusting(Path caPem) {
        try {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            try (InputStream in = Files.newInputStream(caPem)) {
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    trust.setCertificateEntry("ca" + i++, c);
                }
            }
            if (i == 0) {
                throw new IllegalArgumentException("no certificate in " + caPem);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            X509TrustManager tm = null;
            for (TrustManager m : tmf.getTrustManagers()) {
                if (m instanceof X509TrustManager) {
                    tm = (X509TrustManager) m;
                }
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {tm}, null);
            return new Context(context, tm);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a TLS context trusting " + caPem + ": " + e, e);
        }
    }
}
