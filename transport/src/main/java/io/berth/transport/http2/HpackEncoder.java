package io.berth.transport.http2;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;

/**
 * The HPACK encoder of a connection (RFC 7541): header lists in, header blocks out, into the
 * caller's buffer.
 *
 * <p>Representation of each field, in this order of preference:
 * <ol>
 *   <li><b>sensitive fields</b> are literals <em>never indexed</em> (§6.2.3), so that neither this
 *       encoder nor any intermediary puts them in a table where a compression oracle could probe
 *       them: {@code authorization} and {@code proxy-authorization} always, {@code cookie} and
 *       {@code set-cookie} when the value is shorter than {@value #SHORT_COOKIE} characters (short
 *       values are the guessable ones; a long session cookie is indexed, as nghttp2 does, because
 *       repeating it is where the table pays most);</li>
 *   <li>a field that is in the static or dynamic table, name and value, is sent as its index;</li>
 *   <li>a field whose value changes from request to request ({@code :path}, {@code content-length},
 *       conditional and range fields, {@code date}, ...) or whose entry would take more than 3/4 of
 *       the table is a literal <em>without</em> indexing, so that it does not evict the fields that
 *       do repeat;</li>
 *   <li>every other field is a literal <em>with incremental indexing</em>: {@code :authority},
 *       {@code user-agent}, {@code accept} and the like cost one byte from the second request on.</li>
 * </ol>
 * A literal's name is an index when the name is in either table. A string is Huffman-coded when that
 * is shorter.
 *
 * <p>Table size: the encoder uses {@code min(peer's SETTINGS_HEADER_TABLE_SIZE, maxTableSize)}.
 * After the peer's setting changes, the next block starts with a dynamic table size update; if the
 * usable size went below the current one and then above it, the smallest comes first, then the final
 * one (§4.2).
 *
 * <p>Allocation: none in steady state. Lookups in the static table go through a map of the names'
 * own hash codes; the dynamic table is indexed by two hash chains (name and value, name alone)
 * kept in arrays and keyed by the entries' sequence numbers, so an evicted entry drops out of a
 * chain without being unlinked.
 *
 * <p>Not thread-safe: one per connection, used by its writer.
 */
final class HpackEncoder {
    /** Strings are sent as they are (only to reproduce RFC 7541 C.3 and C.5). */
    static final int HUFFMAN_NEVER = 0;
    /** Strings are Huffman-coded when that makes them shorter: the production setting. */
    static final int HUFFMAN_SHORTER = 1;
    /** Strings are always Huffman-coded (only to reproduce RFC 7541 C.4 and C.6, which code ties too). */
    static final int HUFFMAN_ALWAYS = 2;

    /** Cookie values shorter than this are never indexed. */
    static final int SHORT_COOKIE = 20;

    private static final int BUCKETS = 256;

    private final long maxTableSize;
    /** {@link #HUFFMAN_NEVER}, {@link #HUFFMAN_SHORTER} or {@link #HUFFMAN_ALWAYS}. */
    private final int huffman;
    private final boolean indexEverything;
    private final DynamicTable table;
    private long pendingMin = -1;
    private long pendingFinal = -1;

    // Hash chains: head = sequence + 1 of the newest entry in the bucket (0: none); next[seq & mask]
    // = sequence + 1 of the next older entry in the same bucket.
    private final long[] fieldHeads = new long[BUCKETS];
    private final long[] nameHeads = new long[BUCKETS];
    private final long[] fieldNext;
    private final long[] nameNext;
    private final int chainMask;

    /** @param maxTableSize the largest dynamic table this encoder keeps, whatever the peer allows */
    HpackEncoder(int maxTableSize) {
        this(maxTableSize, HUFFMAN_SHORTER, false);
    }

    /**
     * @param maxTableSize the largest dynamic table this encoder keeps, whatever the peer allows
     * @param huffman when strings are Huffman-coded: {@link #HUFFMAN_SHORTER} but in tests
     * @param indexEverything whether every field that is not sensitive is indexed (only to reproduce
     *     the RFC 7541 Appendix C examples, which index {@code date} and {@code location})
     */
    HpackEncoder(int maxTableSize, int huffman, boolean indexEverything) {
        this.huffman = huffman;
        this.indexEverything = indexEverything;
        if (maxTableSize < 0) {
            throw new IllegalArgumentException("maxTableSize must be >= 0 but was " + maxTableSize);
        }
        this.maxTableSize = maxTableSize;
        this.table = new DynamicTable(Http2Settings.DEFAULT_HEADER_TABLE_SIZE);
        if (maxTableSize < Http2Settings.DEFAULT_HEADER_TABLE_SIZE) {
            pendingMin = maxTableSize;
            pendingFinal = maxTableSize;
        }
        // At most maxSize / 32 entries live at once, all with consecutive sequence numbers.
        int chain = Integer.highestOneBit(Math.max(1, maxTableSize / Http2Headers.FIELD_OVERHEAD)) * 2;
        fieldNext = new long[chain];
        nameNext = new long[chain];
        chainMask = chain - 1;
    }

    /**
     * Takes a SETTINGS_HEADER_TABLE_SIZE the peer sent; the next block signals the change.
     *
     * @param setting 0 to 2^32-1
     */
    void setPeerTableSize(long setting) {
        if (setting < 0 || setting > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("SETTINGS_HEADER_TABLE_SIZE must be in 0..2^32-1 but was " + setting);
        }
        long usable = Math.min(setting, maxTableSize);
        pendingMin = pendingMin < 0 ? usable : Math.min(pendingMin, usable);
        pendingFinal = usable;
    }

    /** The dynamic table, for tests. */
    DynamicTable table() {
        return table;
    }

    /**
     * @return the most bytes {@link #encode} can write for {@code headers}: generous, cheap to compute
     */
    static int bound(Http2Headers headers) {
        long n = 12;
        for (int i = 0; i < headers.size(); i++) {
            n += headers.name(i).length() + headers.value(i).length() + 18L;
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("header list too large to encode: " + n + " bytes");
        }
        return (int) n;
    }

    /**
     * Encodes a header block.
     *
     * @param headers the fields, in order
     * @param out receives the block; must have {@link #bound(Http2Headers)} bytes remaining
     * @throws BufferOverflowException if {@code out} has less room than that; nothing is written and
     *     the encoder's state is unchanged
     */
    void encode(Http2Headers headers, ByteBuffer out) {
        if (out.remaining() < bound(headers)) {
            throw new BufferOverflowException();
        }
        if (pendingFinal >= 0) {
            if (pendingMin < table.maxSize() && pendingMin < pendingFinal) {
                writeInt(out, 0x20, 5, pendingMin);
                table.setMaxSize(pendingMin);
            }
            if (pendingFinal != table.maxSize()) {
                writeInt(out, 0x20, 5, pendingFinal);
                table.setMaxSize(pendingFinal);
            }
            pendingMin = -1;
            pendingFinal = -1;
        }
        for (int i = 0, n = headers.size(); i < n; i++) {
            encodeField(headers.name(i), headers.value(i), out);
        }
    }

    private void encodeField(String name, String value, ByteBuffer out) {
        int staticIndex = StaticTable.find(name, value);
        if (isSensitive(name, value)) {
            writeLiteral(out, 0x10, 4, name, nameIndex(name, staticIndex), value);
            return;
        }
        if (staticIndex > 0) {
            writeInt(out, 0x80, 7, staticIndex);
            return;
        }
        int fieldHash = fieldHash(name, value);
        int dynamicIndex = findField(name, value, fieldHash);
        if (dynamicIndex > 0) {
            writeInt(out, 0x80, 7, StaticTable.LENGTH + dynamicIndex);
            return;
        }
        int nameIndex = nameIndex(name, staticIndex);
        if (!isIndexable(name, value)) {
            writeLiteral(out, 0x00, 4, name, nameIndex, value);
            return;
        }
        writeLiteral(out, 0x40, 6, name, nameIndex, value);
        long seq = table.nextSequence();
        if (table.add(name, value)) {
            int slot = (int) seq & chainMask;
            int fb = fieldHash & (BUCKETS - 1);
            fieldNext[slot] = fieldHeads[fb];
            fieldHeads[fb] = seq + 1;
            int nb = spread(name.hashCode()) & (BUCKETS - 1);
            nameNext[slot] = nameHeads[nb];
            nameHeads[nb] = seq + 1;
        }
    }

    /** Fields never indexed: see the class comment. */
    static boolean isSensitive(String name, String value) {
        switch (name) {
            case "authorization":
            case "proxy-authorization":
                return true;
            case "cookie":
            case "set-cookie":
                return value.length() < SHORT_COOKIE;
            default:
                return false;
        }
    }

    private boolean isIndexable(String name, String value) {
        if (indexEverything) {
            return true;
        }
        if (DynamicTable.entrySize(name, value) > table.maxSize() * 3 / 4) {
            return false;
        }
        switch (name) {
            case ":path":
            case "content-length":
            case "content-range":
            case "range":
            case "if-match":
            case "if-none-match":
            case "if-modified-since":
            case "if-unmodified-since":
            case "if-range":
            case "date":
            case "etag":
            case "age":
            case "last-modified":
            case "location":
                return false;
            default:
                return true;
        }
    }

    private int nameIndex(String name, int staticIndex) {
        if (staticIndex != 0) {
            return Math.abs(staticIndex);
        }
        int nb = spread(name.hashCode()) & (BUCKETS - 1);
        long oldest = table.oldestSequence();
        for (long s = nameHeads[nb] - 1; s >= oldest; s = nameNext[(int) s & chainMask] - 1) {
            int index = table.indexOf(s);
            if (table.name(index).equals(name)) {
                return StaticTable.LENGTH + index;
            }
        }
        return 0;
    }

    private int findField(String name, String value, int hash) {
        long oldest = table.oldestSequence();
        for (long s = fieldHeads[hash & (BUCKETS - 1)] - 1; s >= oldest; s = fieldNext[(int) s & chainMask] - 1) {
            int index = table.indexOf(s);
            if (table.name(index).equals(name) && table.value(index).equals(value)) {
                return index;
            }
        }
        return 0;
    }

    private static int fieldHash(String name, String value) {
        return spread(name.hashCode() * 31 + value.hashCode());
    }

    private static int spread(int h) {
        h *= 0x9E3779B9;
        return h ^ h >>> 16;
    }

    private void writeLiteral(ByteBuffer out, int flags, int prefix, String name, int nameIndex, String value) {
        writeInt(out, flags, prefix, nameIndex);
        if (nameIndex == 0) {
            writeString(out, name, huffman);
        }
        writeString(out, value, huffman);
    }

    /** Writes an integer with an N-bit prefix (RFC 7541 §5.1) after the flag bits of the first byte. */
    static void writeInt(ByteBuffer out, int flags, int prefixBits, long value) {
        int max = (1 << prefixBits) - 1;
        if (value < max) {
            out.put((byte) (flags | value));
            return;
        }
        out.put((byte) (flags | max));
        long v = value - max;
        while (v >= 0x80) {
            out.put((byte) (v & 0x7F | 0x80));
            v >>>= 7;
        }
        out.put((byte) v);
    }

    /** Writes a string literal, Huffman-coded as {@code huffman} says. */
    static void writeString(ByteBuffer out, String s, int huffman) {
        int huffmanLength = huffman == HUFFMAN_NEVER ? Integer.MAX_VALUE : Huffman.encodedLength(s);
        if (huffmanLength < s.length() || huffman == HUFFMAN_ALWAYS) {
            writeInt(out, 0x80, 7, huffmanLength);
            Huffman.encode(s, out);
        } else {
            writeInt(out, 0x00, 7, s.length());
            for (int i = 0, n = s.length(); i < n; i++) {
                out.put((byte) s.charAt(i));
            }
        }
    }
}
