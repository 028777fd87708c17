package io.berth.transport.http1;

import io.berth.HttpProtocolException;
import java.util.List;

/**
 * How a response body is delimited on the wire, decided from the head by the rules of RFC 9112 §6.3.
 *
 * <p>Immutable and thread-safe.
 */
final class BodyFraming {
    /** The kinds of framing. */
    enum Kind {
        /** No body at all (HEAD request, 1xx, 204, 304, or {@code Content-Length: 0}). */
        NONE,
        /** Exactly {@link #length()} bytes ({@code Content-Length}). */
        FIXED,
        /** The chunked transfer coding. */
        CHUNKED,
        /** Everything until the server closes the connection (no framing header). */
        UNTIL_CLOSE
    }

    /** No body. */
    static final BodyFraming NONE = new BodyFraming(Kind.NONE, 0);
    /** Chunked. */
    static final BodyFraming CHUNKED = new BodyFraming(Kind.CHUNKED, -1);
    /** Delimited by the end of the connection. */
    static final BodyFraming UNTIL_CLOSE = new BodyFraming(Kind.UNTIL_CLOSE, -1);

    private final Kind kind;
    private final long length;

    private BodyFraming(Kind kind, long length) {
        this.kind = kind;
        this.length = length;
    }

    /**
     * @param length a body length, >= 0
     * @return framing of exactly {@code length} bytes; {@link #NONE} for 0
     */
    static BodyFraming fixed(long length) {
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0 but was " + length);
        }
        return length == 0 ? NONE : new BodyFraming(Kind.FIXED, length);
    }

    /**
     * Decides the framing of a response body (RFC 9112 §6.3):
     * <ol>
     *   <li>no body for a response to HEAD, nor for 1xx, 204 and 304, whatever their headers say;</li>
     *   <li>{@code Transfer-Encoding} together with {@code Content-Length} is an error: a message framed
     *       two ways is a request-smuggling and response-splitting vector;</li>
     *   <li>{@code Transfer-Encoding} is accepted only as the single coding {@code chunked}; any other
     *       coding (gzip, identity, chunked applied twice, ...) is an error, as is
     *       {@code Transfer-Encoding} in an HTTP/1.0 response (RFC 9112 §6.1: its framing is faulty);</li>
     *   <li>{@code Content-Length} must be decimal digits without sign, fitting a {@code long}; repeated
     *       fields and comma-separated lists are accepted when every value is the same, and are an error
     *       otherwise;</li>
     *   <li>without either header the body runs until the server closes the connection.</li>
     * </ol>
     * A 2xx response to CONNECT would have no body either; Berth never sends CONNECT.
     *
     * @param head the response head
     * @param requestWasHead whether the request's method was HEAD
     * @return the framing
     * @throws HttpProtocolException if the framing headers are invalid or contradict each other
     */
    static BodyFraming of(ResponseHead head, boolean requestWasHead) throws HttpProtocolException {
        int status = head.statusCode();
        if (requestWasHead || status < 200 || status == 204 || status == 304) {
            return NONE;
        }
        HeaderFields h = head.headers();
        int te = h.indexOf("Transfer-Encoding", 0);
        int cl = h.indexOf("Content-Length", 0);
        if (te >= 0) {
            if (cl >= 0) {
                throw new HttpProtocolException("response has both Transfer-Encoding and Content-Length"
                        + " (a request smuggling vector)");
            }
            if (head.version() == ResponseHead.Version.HTTP_1_0) {
                throw new HttpProtocolException("Transfer-Encoding in an HTTP/1.0 response");
            }
            checkOnlyChunked(h);
            return CHUNKED;
        }
        if (cl >= 0) {
            return fixed(contentLength(h, cl));
        }
        return UNTIL_CLOSE;
    }

    private static void checkOnlyChunked(HeaderFields h) throws HttpProtocolException {
        int codings = 0;
        for (int i = h.indexOf("Transfer-Encoding", 0); i >= 0; i = h.indexOf("Transfer-Encoding", i + 1)) {
            String v = h.value(i);
            int p = 0;
            int n = v.length();
            while (p <= n) {
                int comma = v.indexOf(',', p);
                int end = comma < 0 ? n : comma;
                int s = p;
                int e = end;
                while (s < e && isOws(v.charAt(s))) {
                    s++;
                }
                while (e > s && isOws(v.charAt(e - 1))) {
                    e--;
                }
                if (e > s) { // empty list elements are allowed and ignored (RFC 9110 §5.6.1)
                    codings++;
                    boolean chunked = e - s == 7 && v.regionMatches(true, s, "chunked", 0, 7);
                    if (!chunked) {
                        throw new HttpProtocolException("unsupported transfer-coding '" + clip(v.substring(s, e))
                                + "' in Transfer-Encoding: " + clip(v) + " (only chunked is supported)");
                    }
                    if (codings > 1) {
                        throw new HttpProtocolException("transfer-coding chunked applied more than once"
                                + " in Transfer-Encoding: " + clip(String.join(", ", h.values("Transfer-Encoding"))));
                    }
                }
                if (comma < 0) {
                    break;
                }
                p = comma + 1;
            }
        }
        if (codings == 0) {
            throw new HttpProtocolException("empty Transfer-Encoding");
        }
    }

    private static long contentLength(HeaderFields h, int first) throws HttpProtocolException {
        long length = -1;
        for (int i = first; i >= 0; i = h.indexOf("Content-Length", i + 1)) {
            String v = h.value(i);
            int p = 0;
            int n = v.length();
            while (true) {
                int comma = v.indexOf(',', p);
                int end = comma < 0 ? n : comma;
                int s = p;
                int e = end;
                while (s < e && isOws(v.charAt(s))) {
                    s++;
                }
                while (e > s && isOws(v.charAt(e - 1))) {
                    e--;
                }
                long value = parseDecimal(v, s, e);
                if (length >= 0 && value != length) {
                    List<String> all = h.values("Content-Length");
                    throw new HttpProtocolException("conflicting Content-Length values " + length + " and " + value
                            + (all.size() > 1 ? " in " + all.size() + " fields" : " in Content-Length: " + clip(v)));
                }
                length = value;
                if (comma < 0) {
                    break;
                }
                p = comma + 1;
            }
        }
        return length;
    }

    private static long parseDecimal(String v, int s, int e) throws HttpProtocolException {
        if (s == e) {
            throw new HttpProtocolException("invalid Content-Length '" + clip(v) + "': empty value");
        }
        long result = 0;
        for (int i = s; i < e; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                throw new HttpProtocolException("invalid Content-Length '" + clip(v) + "': only decimal digits"
                        + " are allowed, found " + HeaderFields.describe(c));
            }
            if (result > (Long.MAX_VALUE - (c - '0')) / 10) {
                throw new HttpProtocolException("invalid Content-Length '" + clip(v) + "': larger than " + Long.MAX_VALUE);
            }
            result = result * 10 + (c - '0');
        }
        return result;
    }

    /** Server text in a message is cut short: a value may be up to the head limit long. */
    private static String clip(String v) {
        return v.length() <= 64 ? v : v.substring(0, 64) + "...";
    }

    private static boolean isOws(char c) {
        return c == ' ' || c == '\t';
    }

    /** @return the kind of framing */
    Kind kind() {
        return kind;
    }

    /** @return the body length for {@link Kind#FIXED}, 0 for {@link Kind#NONE}, -1 otherwise */
    long length() {
        return length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BodyFraming f && f.kind == kind && f.length == length;
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + Long.hashCode(length);
    }

    @Override
    public String toString() {
        return kind == Kind.FIXED ? "FIXED(" + length + ")" : kind.name();
    }
}
