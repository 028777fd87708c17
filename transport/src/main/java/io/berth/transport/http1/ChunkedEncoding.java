package io.berth.transport.http1;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Helpers to write a request body in the chunked transfer coding, for bodies whose length is not
 * known in advance: each chunk is {@code hex-size CRLF data CRLF}, and the body ends with the last
 * chunk {@code 0 CRLF CRLF} (no trailers).
 *
 * <p>Stateless and thread-safe.
 */
final class ChunkedEncoding {
    /** The most bytes a chunk header can take: 16 hex digits and CRLF. */
    static final int MAX_CHUNK_HEADER = 18;
    /** The bytes after a chunk's data. */
    static final int CHUNK_TRAILER_LENGTH = 2;
    /** The length of the last chunk with an empty trailer section, {@code 0\r\n\r\n}. */
    static final int LAST_CHUNK_LENGTH = 5;

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private ChunkedEncoding() {
    }

    /**
     * @param size a chunk's data size, positive
     * @return how many bytes {@link #writeChunkHeader} writes for it
     * @throws IllegalArgumentException if {@code size} is not positive
     */
    static int chunkHeaderLength(long size) {
        checkSize(size);
        return hexDigits(size) + 2;
    }

    /**
     * Writes the header of a chunk, {@code hex-size CRLF}, in lower-case hex without leading zeros.
     *
     * @param size the chunk's data size, positive (a size of 0 would be the last chunk)
     * @param dst where to write
     * @param off where in {@code dst} to start; {@link #chunkHeaderLength} bytes must fit
     * @return how many bytes were written
     * @throws IllegalArgumentException if {@code size} is not positive
     * @throws IndexOutOfBoundsException if the header does not fit
     */
    static int writeChunkHeader(long size, byte[] dst, int off) {
        checkSize(size);
        int digits = hexDigits(size);
        Objects.checkFromIndexSize(off, digits + 2, dst.length);
        for (int i = digits - 1; i >= 0; i--) {
            dst[off + i] = HEX[(int) (size & 0xF)];
            size >>>= 4;
        }
        dst[off + digits] = HttpChars.CR;
        dst[off + digits + 1] = HttpChars.LF;
        return digits + 2;
    }

    /**
     * Writes the CRLF that follows a chunk's data.
     *
     * @return {@link #CHUNK_TRAILER_LENGTH}
     * @throws IndexOutOfBoundsException if it does not fit
     */
    static int writeChunkEnd(byte[] dst, int off) {
        Objects.checkFromIndexSize(off, CHUNK_TRAILER_LENGTH, dst.length);
        dst[off] = HttpChars.CR;
        dst[off + 1] = HttpChars.LF;
        return CHUNK_TRAILER_LENGTH;
    }

    /**
     * Writes the last chunk and an empty trailer section, {@code 0 CRLF CRLF}.
     *
     * @return {@link #LAST_CHUNK_LENGTH}
     * @throws IndexOutOfBoundsException if it does not fit
     */
    static int writeLastChunk(byte[] dst, int off) {
        Objects.checkFromIndexSize(off, LAST_CHUNK_LENGTH, dst.length);
        dst[off] = '0';
        dst[off + 1] = HttpChars.CR;
        dst[off + 2] = HttpChars.LF;
        dst[off + 3] = HttpChars.CR;
        dst[off + 4] = HttpChars.LF;
        return LAST_CHUNK_LENGTH;
    }

    private static int hexDigits(long size) {
        return (64 - Long.numberOfLeadingZeros(size) + 3) >> 2;
    }

    private static void checkSize(long size) {
        if (size <= 0) {
            throw new IllegalArgumentException("chunk size must be positive but was " + size);
        }
    }
}
