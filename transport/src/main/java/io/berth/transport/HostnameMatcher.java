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
 * Berth's one host-name rule (RFC 9525, formerly RFC 6125, as used for HTTPS), run on every full
 * handshake whatever SNI was sent and whichever provider ran it; the providers' own endpoint
 * identification is off (see {@link TlsProfile}).
 *
 * <ul>
 *   <li>Only the subjectAltName extension counts; the subject's common name is never used.</li>
 *   <li>A DNS name matches a {@code dNSName} entry equal to it, ignoring ASCII case (so IDNA A-labels
 *       compare case-insensitively) and one trailing dot on either side.</li>
 *   <li>A wildcard is allowed only as the whole leftmost label, {@code *.rest}: it matches a name of
 *       exactly one more label whose other labels equal {@code rest}. {@code rest} must have at least
 *       two labels and must not be a public suffix (the JDK's ICANN list, when the JDK ships it), so
 *       {@code *.com} and {@code *.co.uk} match nothing. Partial-label wildcards ({@code f*.test}) and
 *       wildcards in any other label ({@code a.*.test}) match nothing.</li>
 *   <li>An IP literal matches only an {@code iPAddress} entry with the same address, never a
 *       {@code dNSName}; a DNS name never matches an {@code iPAddress} entry.</li>
 * </ul>
 *
 * <p>Stateless and thread-safe.
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
        if (rest.indexOf('.', 1) < 0 || rest.indexOf('*') >= 0 || rest.contains("..")) {
            return false; // "*.com", nested wildcards and empty labels match nothing
        }
        int firstDot = n.indexOf('.');
        return firstDot > 0 && n.substring(firstDot).equals(rest) && !PublicSuffixes.isPublicSuffix(rest.substring(1));
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
