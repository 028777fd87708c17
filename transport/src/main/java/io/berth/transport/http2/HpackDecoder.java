package io.berth.transport.http2;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The HPACK decoder of a connection (RFC 7541): whole header blocks in, {@link Http2Headers} out.
 * Its dynamic table is shared by every block of the connection, so every block must be decoded, in
 * order, including blocks for streams the connection no longer cares about.
 *
 * <p>Every violation of RFC 7541 is a connection error of type COMPRESSION_ERROR whose message names
 * the stream, the offset of the representation in the block and what was wrong:
 * <ul>
 *   <li>an integer above 2^31-1 or with more than five continuation bytes, or cut short;</li>
 *   <li>a string literal longer than the rest of the block; Huffman padding longer than 7 bits or
 *       not all ones, or an EOS symbol (§5.2);</li>
 *   <li>index 0, or an index beyond the static and dynamic tables;</li>
 *   <li>a dynamic table size update after a field, more than two of them in a block, one above the
 *       SETTINGS_HEADER_TABLE_SIZE we advertised (and the peer acknowledged), or a block that does not
 *       start with an update to at most the smallest such limit after we lowered it below the table's
 *       size (§4.2: the minimum, then optionally the final size);</li>
 *   <li>more than {@code maxInsertsPerBlock} literals with incremental indexing in one block (each
 *       insertion may evict and allocates; the JDK caps them likewise).</li>
 * </ul>
 *
 * <p>The decoded header-list limit ({@code maxHeaderListSize}, counted as name + value + 32 per field,
 * SETTINGS_MAX_HEADER_LIST_SIZE semantics) is different: past it the decoder drops the fields but
 * <em>keeps decoding to the end of the block</em>, applying every table insertion, and then reports a
 * <em>stream</em> error of type PROTOCOL_ERROR. The table therefore stays in step with the peer's
 * encoder, and one oversized response costs its stream, not the connection and every other stream
 * on it. Memory stays bounded because the frame reader caps the block's encoded size.
 *
 * <p>Allocation: fields taken from the tables reuse the tables' strings; literal strings go through
 * a small cache ({@link StringCache}) so that repeated literals are shared; a decoded list is one
 * array and one object.
 *
 * <p>Not thread-safe: one per connection, used by its reader.
 */
final class HpackDecoder {
    /** Default limit of a decoded header list: 64 KiB, as the HTTP/1.1 response head limit. */
    static final int DEFAULT_MAX_HEADER_LIST_SIZE = 64 * 1024;
    /** Default limit of dynamic-table insertions per header block: 256. */
    static final int DEFAULT_MAX_INSERTS_PER_BLOCK = 256;

    private final DynamicTable table = new DynamicTable(Http2Settings.DEFAULT_HEADER_TABLE_SIZE);
    private final StringCache cache = new StringCache();
    private long tableSizeLimit = Http2Settings.DEFAULT_HEADER_TABLE_SIZE;
    /** The smallest limit set since the last block, if it is below the table's size; else -1. */
    private long requiredUpdate = -1;
    private int maxHeaderListSize = DEFAULT_MAX_HEADER_LIST_SIZE;
    private int maxInsertsPerBlock = DEFAULT_MAX_INSERTS_PER_BLOCK;

    private byte[] scratch = new byte[128];
    private String[] fields = new String[32];

    // The block being decoded.
    private ByteBuffer in;
    private int pos;
    private int end;
    private int blockStart;
    private int repStart;
    private int streamId;

    /**
     * Sets the SETTINGS_HEADER_TABLE_SIZE this side advertised, once the peer has acknowledged it. If
     * it is below the table's current maximum size, the next block must start with a size update to at
     * most the smallest such value.
     *
     * @param limit 0 to 2^32-1
     */
    void setTableSizeLimit(long limit) {
        if (limit < 0 || limit > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("header table size limit must be in 0..2^32-1 but was " + limit);
        }
        tableSizeLimit = limit;
        if (limit < table.maxSize()) {
            requiredUpdate = requiredUpdate < 0 ? limit : Math.min(requiredUpdate, limit);
        }
    }

    /** @param max the decoded header-list limit, name + value + 32 per field; at least 1 */
    void setMaxHeaderListSize(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("maxHeaderListSize must be >= 1 but was " + max);
        }
        maxHeaderListSize = max;
    }

    int maxHeaderListSize() {
        return maxHeaderListSize;
    }

    /** @param max the most literals with incremental indexing one block may have; at least 0 */
    void setMaxInsertsPerBlock(int max) {
        if (max < 0) {
            throw new IllegalArgumentException("maxInsertsPerBlock must be >= 0 but was " + max);
        }
        maxInsertsPerBlock = max;
    }

    /** The dynamic table, for tests. */
    DynamicTable table() {
        return table;
    }

    /**
     * Decodes a whole header block.
     *
     * @param block the block from its position to its limit; the position is not moved
     * @param stream the stream the block belongs to, for messages and the list-size stream error
     * @return the decoded list
     * @throws Http2Exception a connection error (COMPRESSION_ERROR) if the block breaks RFC 7541, or a
     *     stream error (PROTOCOL_ERROR) of {@code stream} if the list exceeds {@code maxHeaderListSize}
     */
    Http2Headers decode(ByteBuffer block, int stream) throws Http2Exception {
        in = block;
        pos = block.position();
        end = block.limit();
        blockStart = pos;
        streamId = stream;
        try {
            return decodeFields();
        } finally {
            in = null;
        }
    }

    private Http2Headers decodeFields() throws Http2Exception {
        int n = 0;
        long listSize = 0;
        int inserts = 0;
        int updates = 0;
        boolean fieldSeen = false;
        while (pos < end) {
            repStart = pos;
            int b = in.get(pos) & 0xFF;
            if ((b & 0xE0) == 0x20) {
                sizeUpdate(fieldSeen, ++updates);
                continue;
            }
            if (!fieldSeen) {
                fieldSeen = true;
                checkNoUpdateRequired();
            }
            String name;
            String value;
            if (b >= 0x80) {
                int index = readInt(7);
                if (index == 0) {
                    throw error("indexed field with index 0");
                }
                checkIndex(index);
                name = index <= StaticTable.LENGTH ? StaticTable.name(index) : table.name(index - StaticTable.LENGTH);
                value = index <= StaticTable.LENGTH ? StaticTable.value(index) : table.value(index - StaticTable.LENGTH);
            } else {
                boolean indexing = b >= 0x40;
                int index = readInt(indexing ? 6 : 4);
                if (index == 0) {
                    name = readString(true);
                } else {
                    checkIndex(index);
                    name = index <= StaticTable.LENGTH ? StaticTable.name(index) : table.name(index - StaticTable.LENGTH);
                }
                value = readString(false);
                if (indexing) {
                    if (++inserts > maxInsertsPerBlock) {
                        throw error("more than " + maxInsertsPerBlock + " dynamic table insertions in one header block");
                    }
                    table.add(name, value);
                }
            }
            listSize += DynamicTable.entrySize(name, value);
            if (listSize <= maxHeaderListSize) {
                if (n << 1 == fields.length) {
                    fields = Arrays.copyOf(fields, fields.length * 2);
                }
                fields[n << 1] = name;
                fields[(n << 1) + 1] = value;
                n++;
            }
        }
        if (!fieldSeen) {
            checkNoUpdateRequired();
        }
        if (listSize > maxHeaderListSize) {
            throw Http2Exception.streamError(streamId, Http2ErrorCode.PROTOCOL_ERROR, "header list of stream "
                    + streamId + " is " + listSize + " bytes (name + value + 32 per field), over the limit of "
                    + maxHeaderListSize + "; the block was decoded to keep the HPACK table in step");
        }
        Http2Headers headers = n == 0 ? Http2Headers.EMPTY : new Http2Headers(Arrays.copyOf(fields, n << 1), n);
        Arrays.fill(fields, 0, n << 1, null);
        return headers;
    }

    private void sizeUpdate(boolean fieldSeen, int updates) throws Http2Exception {
        if (fieldSeen) {
            throw error("dynamic table size update after a header field (it must start the block)");
        }
        if (updates > 2) {
            throw error("more than two dynamic table size updates at the start of a block");
        }
        int size = readInt(5);
        if (size > tableSizeLimit) {
            throw error("dynamic table size update to " + size + " exceeds the SETTINGS_HEADER_TABLE_SIZE of "
                    + tableSizeLimit);
        }
        if (updates == 1 && requiredUpdate >= 0) {
            if (size > requiredUpdate) {
                throw error("dynamic table size update to " + size + " but SETTINGS_HEADER_TABLE_SIZE was lowered to "
                        + requiredUpdate + " (the first update must signal the smallest size)");
            }
            requiredUpdate = -1;
        }
        table.setMaxSize(size);
    }

    private void checkNoUpdateRequired() throws Http2Exception {
        if (requiredUpdate >= 0) {
            throw error("missing dynamic table size update: SETTINGS_HEADER_TABLE_SIZE was lowered to "
                    + requiredUpdate + " below the table size " + table.maxSize());
        }
    }

    private void checkIndex(int index) throws Http2Exception {
        if (index > StaticTable.LENGTH + table.length()) {
            throw error("index " + index + " is beyond the static table (61 entries) and the dynamic table ("
                    + table.length() + " entries)");
        }
    }

    /** Reads an integer with an N-bit prefix (RFC 7541 §5.1) of at most 2^31-1. */
    private int readInt(int prefixBits) throws Http2Exception {
        int mask = (1 << prefixBits) - 1;
        int v = in.get(pos++) & mask;
        if (v < mask) {
            return v;
        }
        long value = mask;
        for (int shift = 0; ; shift += 7) {
            if (pos >= end) {
                throw error("integer cut short by the end of the block");
            }
            if (shift > 28) {
                throw error("integer with more than five continuation bytes");
            }
            int b = in.get(pos++) & 0xFF;
            value += (long) (b & 0x7F) << shift;
            if (value > Integer.MAX_VALUE) {
                throw error("integer larger than 2^31-1");
            }
            if (b < 0x80) {
                return (int) value;
            }
        }
    }

    /** Reads a string literal (RFC 7541 §5.2). */
    private String readString(boolean isName) throws Http2Exception {
        if (pos >= end) {
            throw error("string literal missing at the end of the block");
        }
        boolean huffman = (in.get(pos) & 0x80) != 0;
        int len = readInt(7);
        if (len > end - pos) {
            throw error("string literal of " + len + " bytes exceeds the " + (end - pos) + " bytes left in the block");
        }
        int n;
        if (huffman) {
            // At most 8 symbols per 5 bytes: the shortest code has 5 bits.
            ensureScratch(len / 5 * 8 + 8);
            n = Huffman.decode(in, pos, len, scratch, 0);
            if (n < 0) {
                throw error(n == Huffman.EOS_DECODED ? "Huffman-coded string holds the EOS symbol"
                        : n == Huffman.PADDING_TOO_LONG ? "Huffman padding longer than 7 bits"
                        : "Huffman padding is not all ones");
            }
        } else {
            ensureScratch(len);
            in.get(pos, scratch, 0, len);
            n = len;
        }
        pos += len;
        if (isName) {
            String known = StaticTable.knownName(scratch, 0, n);
            if (known != null) {
                return known;
            }
        }
        return cache.get(scratch, 0, n);
    }

    private void ensureScratch(int n) {
        if (scratch.length < n) {
            scratch = new byte[Math.max(n, scratch.length * 2)];
        }
    }

    private Http2Exception error(String what) {
        return Http2Exception.connectionError(Http2ErrorCode.COMPRESSION_ERROR, "HPACK: header block of stream "
                + streamId + ", offset " + (repStart - blockStart) + ": " + what);
    }
}
