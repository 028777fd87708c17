package io.berth.transport.http2;

import java.util.HashMap;
import java.util.Map;

/**
 * The HPACK static table (RFC 7541 Appendix A): 61 entries, index 1 to 61, typed from the RFC.
 *
 * <p>Immutable and thread-safe.
 */
final class StaticTable {
    /** The number of entries: 61. Dynamic-table indices start after it. */
    static final int LENGTH = 61;

    private static final String[] NAMES = {null,
        ":authority", ":method", ":method", ":path", ":path", ":scheme", ":scheme", ":status", ":status",
        ":status", ":status", ":status", ":status", ":status", "accept-charset", "accept-encoding",
        "accept-language", "accept-ranges", "accept", "access-control-allow-origin", "age", "allow",
        "authorization", "cache-control", "content-disposition", "content-encoding", "content-language",
        "content-length", "content-location", "content-range", "content-type", "cookie", "date", "etag",
        "expect", "expires", "from", "host", "if-match", "if-modified-since", "if-none-match", "if-range",
        "if-unmodified-since", "last-modified", "link", "location", "max-forwards", "proxy-authenticate",
        "proxy-authorization", "range", "referer", "refresh", "retry-after", "server", "set-cookie",
        "strict-transport-security", "transfer-encoding", "user-agent", "vary", "via", "www-authenticate",
    };
    private static final String[] VALUES = new String[LENGTH + 1];

    /** Name to the index of its first entry. */
    private static final Map<String, Integer> FIRST_INDEX = new HashMap<>();

    static {
        String[] withValues = {
            "2", "GET", "3", "POST", "4", "/", "5", "/index.html", "6", "http", "7", "https", "8", "200",
            "9", "204", "10", "206", "11", "304", "12", "400", "13", "404", "14", "500", "16", "gzip, deflate",
        };
        for (int i = 1; i <= LENGTH; i++) {
            VALUES[i] = "";
        }
        for (int i = 0; i < withValues.length; i += 2) {
            VALUES[Integer.parseInt(withValues[i])] = withValues[i + 1];
        }
        for (int i = LENGTH; i >= 1; i--) {
            FIRST_INDEX.put(NAMES[i], i);
        }
    }

    private StaticTable() {
    }

    /** @param index 1 to {@link #LENGTH} */
    static String name(int index) {
        return NAMES[index];
    }

    /** @param index 1 to {@link #LENGTH} */
    static String value(int index) {
        return VALUES[index];
    }

    /**
     * @return the index of the entry {@code (name, value)} if there is one; else minus the index of the
     *     first entry called {@code name}; else 0. Allocates nothing.
     */
    static int find(String name, String value) {
        Integer first = FIRST_INDEX.get(name);
        if (first == null) {
            return 0;
        }
        for (int i = first; i <= LENGTH && NAMES[i].equals(name); i++) {
            if (VALUES[i].equals(value)) {
                return i;
            }
        }
        return -first;
    }

    /** @return the static table's string for a name whose ISO-8859-1 bytes are {@code b[off, off + len)}, or null */
    static String knownName(byte[] b, int off, int len) {
        if (len < 3 || len > 27) {
            return null;
        }
        // A miss is settled by the length and first byte of most entries; the decoder asks its cache first.
        for (int i = 1; i <= LENGTH; i++) {
            String n = NAMES[i];
            if (n.length() == len && n.charAt(0) == (b[off] & 0xFF) && equals(n, b, off, len)) {
                return n;
            }
        }
        return null;
    }

    /** @return whether {@code s} is the ISO-8859-1 decoding of {@code b[off, off + len)} */
    static boolean equals(String s, byte[] b, int off, int len) {
        if (s.length() != len) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            if (s.charAt(i) != (b[off + i] & 0xFF)) {
                return false;
            }
        }
        return true;
    }
}
