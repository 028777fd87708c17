package io.berth.transport.http2;

import java.nio.charset.StandardCharsets;

/**
 * A small direct-mapped cache of the strings a decoder made, looked up by their ISO-8859-1 bytes, so
 * that a literal the peer sends again (a {@code server} value, a name it does not index) becomes the
 * same {@code String} without allocating. A slot holds the last string whose hash mapped there; a hit
 * is confirmed by comparing the characters, so a collision only costs a miss.
 *
 * <p>Not thread-safe: one per decoder.
 */
final class StringCache {
    /** Strings longer than this are not cached: they rarely repeat and cost the most to compare. */
    static final int MAX_LENGTH = 128;
    private static final int SLOTS = 256;

    private final String[] slots = new String[SLOTS];

    /** @return a string of the ISO-8859-1 bytes {@code b[off, off + len)}, shared if it was seen before */
    String get(byte[] b, int off, int len) {
        if (len == 0) {
            return "";
        }
        if (len > MAX_LENGTH) {
            return new String(b, off, len, StandardCharsets.ISO_8859_1);
        }
        int h = len;
        for (int i = off, end = off + len; i < end; i++) {
            h = 31 * h + b[i];
        }
        int slot = (h ^ h >>> 16) & (SLOTS - 1);
        String s = slots[slot];
        if (s != null && StaticTable.equals(s, b, off, len)) {
            return s;
        }
        s = new String(b, off, len, StandardCharsets.ISO_8859_1);
        slots[slot] = s;
        return s;
    }
}
