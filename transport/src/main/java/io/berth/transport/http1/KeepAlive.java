package io.berth.transport.http1;

import io.berth.Outcome;
import java.time.Duration;

/**
 * Decides whether a connection may carry another exchange after a response, and reads the server's
 * {@code Keep-Alive} hints.
 *
 * <p>Stateless and thread-safe.
 */
final class KeepAlive {
    private KeepAlive() {
    }

    /**
     * Decides the outcome of an exchange whose response was read to its end (RFC 9112 §9.3):
     * <ul>
     *   <li>a body delimited by the end of the connection leaves nothing to reuse;</li>
     *   <li>HTTP/1.1 persists unless {@code Connection} lists {@code close};</li>
     *   <li>HTTP/1.0 persists only if {@code Connection} lists {@code keep-alive} (and not {@code close});</li>
     *   <li>a persistent connection's {@code Keep-Alive: timeout=N, max=M} parameters (either may be
     *       absent) become {@link Outcome#keepAlive(Duration, int)}; malformed or out-of-range parameters
     *       are ignored, since they are only hints.</li>
     * </ul>
     * Without hints the result is one of the constants {@link Outcome#REUSABLE} or
     * {@link Outcome#NOT_REUSABLE}, so the common case allocates nothing.
     *
     * @param head the response head
     * @param framing the framing of its body
     * @return the outcome
     */
    static Outcome decide(ResponseHead head, BodyFraming framing) {
        if (framing.kind() == BodyFraming.Kind.UNTIL_CLOSE) {
            return Outcome.NOT_REUSABLE;
        }
        HeaderFields h = head.headers();
        if (h.containsToken("Connection", "close")) {
            return Outcome.NOT_REUSABLE;
        }
        if (head.version() == ResponseHead.Version.HTTP_1_0 && !h.containsToken("Connection", "keep-alive")) {
            return Outcome.NOT_REUSABLE;
        }
        int i = h.indexOf("Keep-Alive", 0);
        if (i < 0) {
            return Outcome.REUSABLE;
        }
        long timeout = -1;
        long max = -1;
        for (; i >= 0; i = h.indexOf("Keep-Alive", i + 1)) {
            String v = h.value(i);
            if (timeout < 0) {
                timeout = parameter(v, "timeout");
            }
            if (max < 0) {
                max = parameter(v, "max");
            }
        }
        if (max > Integer.MAX_VALUE) {
            max = Integer.MAX_VALUE;
        }
        return Outcome.keepAlive(timeout < 0 ? null : Duration.ofSeconds(timeout), (int) max);
    }

    /**
     * Finds {@code name=digits} among the comma-separated parameters of a {@code Keep-Alive} value.
     * The value may be quoted. Names are compared without regard to case.
     *
     * @return the value, or -1 if absent or not a number that fits a {@code long}
     */
    static long parameter(String v, String name) {
        int n = v.length();
        int p = 0;
        while (p < n) {
            int comma = v.indexOf(',', p);
            int end = comma < 0 ? n : comma;
            int s = skipOws(v, p, end);
            int eq = v.indexOf('=', s);
            if (eq > 0 && eq < end) {
                int ne = eq;
                while (ne > s && isOws(v.charAt(ne - 1))) {
                    ne--;
                }
                if (ne - s == name.length() && v.regionMatches(true, s, name, 0, name.length())) {
                    int vs = skipOws(v, eq + 1, end);
                    int ve = end;
                    while (ve > vs && isOws(v.charAt(ve - 1))) {
                        ve--;
                    }
                    if (ve - vs >= 2 && v.charAt(vs) == '"' && v.charAt(ve - 1) == '"') {
                        vs++;
                        ve--;
                    }
                    return digits(v, vs, ve);
                }
            }
            if (comma < 0) {
                break;
            }
            p = comma + 1;
        }
        return -1;
    }

    private static long digits(String v, int s, int e) {
        if (s == e || e - s > 18) { // 18 digits always fit a long
            return -1;
        }
        long r = 0;
        for (int i = s; i < e; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            r = r * 10 + (c - '0');
        }
        return r;
    }

    private static int skipOws(String v, int p, int end) {
        while (p < end && isOws(v.charAt(p))) {
            p++;
        }
        return p;
    }

    private static boolean isOws(char c) {
        return c == ' ' || c == '\t';
    }
}
