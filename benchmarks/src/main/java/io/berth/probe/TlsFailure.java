package io.berth.probe;

import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SSLHandshakeException;

/**
 * What a failed TLS handshake says about the server's certificate, read from the
 * {@link SSLHandshakeException}'s cause chain.
 *
 * @param kind {@code untrusted chain}, {@code wrong host}, {@code expired}, {@code not yet valid}
 *     or {@code handshake failed}
 * @param explanation one sentence saying what that means for the probe's settings
 * @param detail the innermost message, for the curious
 */
record TlsFailure(String kind, String explanation, String detail) {
    static final String UNTRUSTED = "untrusted chain";
    static final String WRONG_HOST = "wrong host";
    static final String EXPIRED = "expired";
    static final String NOT_YET_VALID = "not yet valid";
    static final String OTHER = "handshake failed";

    /**
     * @param failure a request's failure
     * @param trust where trust comes from, e.g. {@code the JDK trust store}
     * @param host the host name the certificate must match
     * @return what the TLS handshake failure was, or {@code null} if the failure was not one
     */
    static TlsFailure of(Throwable failure, String trust, String host) {
        List<Throwable> chain = chain(failure);
        SSLHandshakeException handshake = null;
        for (Throwable t : chain) {
            if (t instanceof SSLHandshakeException h) {
                handshake = h;
                break;
            }
        }
        if (handshake == null) {
            return null;
        }
        String detail = innermostMessage(chain);
        for (Throwable t : chain) {
            if (t instanceof CertificateExpiredException || reason(t, CertPathValidatorException.BasicReason.EXPIRED)) {
                return new TlsFailure(EXPIRED, "the server's certificate (or one in its chain) has expired", detail);
            }
            if (t instanceof CertificateNotYetValidException
                    || reason(t, CertPathValidatorException.BasicReason.NOT_YET_VALID)) {
                return new TlsFailure(NOT_YET_VALID, "the server's certificate (or one in its chain) is not valid yet",
                        detail);
            }
        }
        for (Throwable t : chain) {
            if (t instanceof CertPathBuilderException) {
                return new TlsFailure(UNTRUSTED, "the server's certificate chain does not lead to a CA trusted by "
                        + trust + " (give its CA with --ca-file)", detail);
            }
        }
        for (Throwable t : chain) {
            if (t instanceof CertificateException && t.getMessage() != null) {
                String m = t.getMessage().toLowerCase(Locale.ROOT);
                if (m.contains("no subject alternative") || m.contains("no name matching")
                        || m.contains("does not match")) {
                    return new TlsFailure(WRONG_HOST, "the server's certificate is not valid for the host name '"
                            + host + "'", detail);
                }
            }
        }
        return new TlsFailure(OTHER, "the TLS handshake failed: " + oneLine(handshake.getMessage()), detail);
    }

    /** @return one line: {@code untrusted chain: <explanation> (<detail>)} */
    String describe() {
        return kind + ": " + explanation + " (" + detail + ")";
    }

    private static boolean reason(Throwable t, CertPathValidatorException.BasicReason reason) {
        return t instanceof CertPathValidatorException v && v.getReason() == reason;
    }

    private static List<Throwable> chain(Throwable failure) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Throwable> list = new ArrayList<>();
        for (Throwable t = failure; t != null && seen.add(t); t = t.getCause()) {
            list.add(t);
        }
        return list;
    }

    private static String innermostMessage(List<Throwable> chain) {
        for (int i = chain.size() - 1; i >= 0; i--) {
            String m = chain.get(i).getMessage();
            if (m != null && !m.isBlank()) {
                return oneLine(m);
            }
        }
        return chain.get(chain.size() - 1).getClass().getName();
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
    }
}
