package io.berth.transport.http1;

import java.nio.charset.StandardCharsets;

/**
 * A fixed table of frequent strings (header names, header values, reason phrases), looked up by their
 * ISO-8859-1 bytes so that the parser returns a shared constant instead of allocating a
 * {@code String} for them.
 *
 * <p>Open addressing over a power-of-two array at most half full, keyed by a 31-multiplier hash of
 * the bytes (lower-cased first when the table ignores case). A hit is confirmed by comparing the
 * bytes with the entry, so a collision never returns a wrong string. Immutable after construction and
 * thread-safe.
 */
final class CanonicalStrings {
    /**
     * Field names that most responses carry, in the spelling the parser returns for them whatever the
     * case the server used (field names are case-insensitive).
     */
    static final CanonicalStrings FIELD_NAMES = new CanonicalStrings(true,
            "Accept-Ranges", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers",
            "Access-Control-Allow-Methods", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers",
            "Age", "Allow", "Alt-Svc", "Cache-Control", "Connection", "Content-Disposition",
            "Content-Encoding", "Content-Language", "Content-Length", "Content-Location", "Content-Range",
            "Content-Security-Policy", "Content-Type", "Date", "ETag", "Expires", "Keep-Alive",
            "Last-Modified", "Link", "Location", "Pragma", "Proxy-Authenticate", "Referrer-Policy",
            "Retry-After", "Server", "Set-Cookie", "Strict-Transport-Security", "Trailer",
            "Transfer-Encoding", "Upgrade", "Vary", "Via", "WWW-Authenticate", "X-Content-Type-Options",
            "X-Frame-Options", "X-Request-Id", "X-XSS-Protection");

    /** Field values common enough to share; matched exactly, since values are case-sensitive in general. */
    static final CanonicalStrings FIELD_VALUES = new CanonicalStrings(false,
            "chunked", "close", "keep-alive", "gzip", "br", "deflate", "identity", "bytes", "none",
            "no-cache", "no-store", "private", "public", "max-age=0", "nosniff", "DENY", "SAMEORIGIN",
            "*", "0", "Accept-Encoding", "Origin", "text/html", "text/html; charset=utf-8",
            "text/html; charset=UTF-8", "text/plain", "text/plain; charset=utf-8", "text/plain; charset=UTF-8",
            "application/json", "application/json; charset=utf-8", "application/json; charset=UTF-8",
            "application/octet-stream", "application/xml", "nginx", "Apache", "cloudflare", "envoy");

    /** Reason phrases of the common status codes, matched exactly. */
    static final CanonicalStrings REASON_PHRASES = new CanonicalStrings(false,
            "OK", "Continue", "Switching Protocols", "Early Hints", "Created", "Accepted", "No Content",
            "Partial Content", "Moved Permanently", "Found", "See Other", "Not Modified", "Temporary Redirect",
            "Permanent Redirect", "Bad Request", "Unauthorized", "Forbidden", "Not Found", "Method Not Allowed",
            "Request Timeout", "Conflict", "Gone", "Precondition Failed", "Payload Too Large",
            "Content Too Large", "Expectation Failed", "Too Many Requests", "Internal Server Error",
            "Not Implemented", "Bad Gateway", "Service Unavailable", "Gateway Timeout");

    private final boolean ignoreCase;
    private final String[] slots;
    private final byte[][] slotBytes;
    private final int mask;
    private final int maxLength;
    /** Whether some entry has this length: most misses are settled by it without hashing. */
    private final boolean[] hasLength;

    private CanonicalStrings(boolean ignoreCase, String... entries) {
        this.ignoreCase = ignoreCase;
        int size = Integer.highestOneBit(entries.length * 4 - 1) << 1;
        this.slots = new String[size];
        this.slotBytes = new byte[size][];
        this.mask = size - 1;
        int longest = 0;
        for (String e : entries) {
            longest = Math.max(longest, e.length());
        }
        this.maxLength = longest;
        this.hasLength = new boolean[longest + 1];
        for (String e : entries) {
            byte[] b = e.getBytes(StandardCharsets.ISO_8859_1);
            int i = hash(b, 0, b.length) & mask;
            while (slots[i] != null) {
                if (slots[i].equals(e)) {
                    throw new IllegalArgumentException("duplicate entry " + e);
                }
                i = (i + 1) & mask;
            }
            slots[i] = e;
            slotBytes[i] = b;
            hasLength[b.length] = true;
        }
    }

    /**
     * @return the shared string whose ISO-8859-1 bytes are {@code b[start, end)} (ignoring ASCII case
     *     if this table does), or a new string of those bytes if the table has none
     */
    String toString(byte[] b, int start, int end) {
        if (start == end) {
            return "";
        }
        String s = find(b, start, end);
        return s != null ? s : new String(b, start, end - start, StandardCharsets.ISO_8859_1);
    }

    /** @return the shared string for {@code b[start, end)}, or {@code null} if the table has none */
    String find(byte[] b, int start, int end) {
        int len = end - start;
        if (len > maxLength || !hasLength[len]) {
            return null;
        }
        return probe(b, start, end, hash(b, start, end));
    }

    /**
     * Like {@link #find(byte[], int, int)}, with the hash already computed by the caller (a case-folding
     * table's hash is the fold of {@link #hashStep} over the bytes, then {@link #finishHash}).
     */
    String find(byte[] b, int start, int end, int hash) {
        int len = end - start;
        if (len > maxLength || !hasLength[len]) {
            return null;
        }
        return probe(b, start, end, hash);
    }

    /** One step of the hash of a case-insensitive table, for callers that hash while they scan. */
    static int hashStep(int h, byte c) {
        return 31 * h + toLower(c);
    }

    /** The final mixing of a hash built with {@link #hashStep}. */
    static int finishHash(int h) {
        return h ^ (h >>> 16);
    }

    private String probe(byte[] b, int start, int end, int hash) {
        int len = end - start;
        int i = hash & mask;
        while (true) {
            byte[] candidate = slotBytes[i];
            if (candidate == null) {
                return null;
            }
            if (candidate.length == len && matches(candidate, b, start)) {
                return slots[i];
            }
            i = (i + 1) & mask;
        }
    }

    private boolean matches(byte[] candidate, byte[] b, int start) {
        for (int k = 0; k < candidate.length; k++) {
            int x = candidate[k];
            int y = b[start + k];
            if (x != y && !(ignoreCase && toLower(x) == toLower(y))) {
                return false;
            }
        }
        return true;
    }

    private int hash(byte[] b, int start, int end) {
        int h = 0;
        for (int i = start; i < end; i++) {
            int c = b[i];
            h = 31 * h + (ignoreCase ? toLower(c) : c);
        }
        return finishHash(h);
    }

    private static int toLower(int c) {
        return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
    }
}
