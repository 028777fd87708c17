package io.berth.transport;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * Matches a host name or IP literal against the subject alternative names of a certificate, by the
 * rules of RFC 6125 as used for HTTPS: a DNS name matches a {@code dNSName} entry equal to it
 * (ignoring case and a trailing dot), or a wildcard entry {@code *.rest} whose {@code rest} has at
 * least two labels and equals the name less its first label; an IP literal matches an
 * {@code iPAddress} entry with the same address. The subject's common name is never used.
 *
 * <p>Only needed where the JDK's own check is not enough (see {@link VerifyingTrustManager}).
 * Stateless and thread-safe.
 */
final class HostnameMatcher {
    private static final int DNS_NAME = 2;
    private static final int IP_ADDRESS = 7;

    private HostnameMatcher() {
    }

    /**
     * @param name the host name or IP literal the certificate must be for
     * @param certificate the server's end-entity certificate
     * @throws CertificateException if the certificate is not for {@code name}
     */
    static void verify(String name, X509Certificate certificate) throws CertificateException {
        Collection<List<?>> sans;
        try {
            sans = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new CertificateException("cannot read the subject alternative names of the server certificate", e);
        }
        InetAddress ip = ipLiteral(name);
        List<String> seen = new ArrayList<>();
        if (sans != null) {
            for (List<?> san : sans) {
                int type = (Integer) san.get(0);
                String value = String.valueOf(san.get(1));
                if (type == DNS_NAME || type == IP_ADDRESS) {
                    seen.add(value);
                }
                if (ip == null && type == DNS_NAME && dnsMatches(name, value)) {
                    return;
                }
                if (ip != null && type == IP_ADDRESS && ip.equals(ipLiteral(value))) {
                    return;
                }
            }
        }
        throw new CertificateException("No subject alternative " + (ip == null ? "DNS name" : "IP address")
                + " matching " + name + " found; the certificate is for " + seen);
    }

    static boolean dnsMatches(String name, String pattern) {
        String n = normalize(name);
        String p = normalize(pattern);
        if (n.isEmpty() || p.isEmpty()) {
            return false;
        }
        if (!p.startsWith("*.")) {
            return n.equals(p);
        }
        String rest = p.substring(1); // ".example.com"
        if (rest.indexOf('.', 1) < 0 || rest.indexOf('*') >= 0) {
            return false; // "*.com" and nested wildcards match nothing
        }
        int firstDot = n.indexOf('.');
        return firstDot > 0 && n.substring(firstDot).equals(rest);
    }

    private static String normalize(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }

    /** @return the address of an IP literal, or {@code null} for anything else (never a DNS lookup) */
    static InetAddress ipLiteral(String s) {
        String t = s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s;
        boolean ipv6 = t.indexOf(':') >= 0;
        if (!ipv6) {
            int dots = 0;
            for (int i = 0; i < t.length(); i++) {
                char c = t.charAt(i);
                if (c == '.') {
                    dots++;
                } else if (c < '0' || c > '9') {
                    return null;
                }
            }
            if (dots != 3) {
                return null;
            }
        } else {
            for (int i = 0; i < t.length(); i++) {
                char c = t.charAt(i);
                if (!(c == ':' || c == '.' || c == '%' || Character.digit(c, 16) >= 0)) {
                    return null;
                }
            }
        }
        try {
            return InetAddress.getByName(t); // a literal: parsed, not resolved
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
