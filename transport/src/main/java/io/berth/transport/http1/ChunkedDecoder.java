package io.berth.transport.http1;

import io.berth.HttpProtocolException;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * An incremental decoder of the chunked transfer coding (RFC 9112 §7.1): it takes bytes as they
 * arrive, split anywhere (even inside a chunk-size line), and moves the chunk data out.
 *
 * <p>Rules: a chunk-size line is 1 to 16 hexadecimal digits (fitting a {@code long}), optional chunk
 * extensions {@code *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )} whose syntax is
 * checked and whose content is ignored, and CRLF; the line may have at most {@link #MAX_CHUNK_LINE}
 * bytes. Chunk data must be followed by CRLF. After the last chunk ({@code 0}) come trailer fields,
 * checked like header fields ({@link FieldSection}) and limited like a head, then a blank line. A bare
 * LF or a bare CR anywhere is an error.
 *
 * <p>The decoder never buffers chunk data: it copies from the input straight to the caller's array.
 * Only a partial trailer line is carried over, up to the trailer limit.
 *
 * <p>Errors are {@link HttpProtocolException}s naming the offset in the chunked body:
 * {@code chunked body at byte 17: chunk data not followed by CRLF}. After an error the decoder must be
 * {@linkplain #reset() reset} before it is used again.
 *
 * <p>Not thread-safe: one per connection, reused for each chunked body.
 */
final class ChunkedDecoder {
    /** The most bytes of a chunk-size line, extensions and CRLF included. */
    static final int MAX_CHUNK_LINE = 4096;
    private static final int MAX_HEX_DIGITS = 16;

    private static final int SIZE = 0;
    private static final int SIZE_WS = 1;
    private static final int EXT_NAME_START = 2;
    private static final int EXT_NAME = 3;
    private static final int EXT_AFTER_NAME = 4;
    private static final int EXT_VALUE_START = 5;
    private static final int EXT_TOKEN = 6;
    private static final int EXT_QUOTED = 7;
    private static final int EXT_QUOTED_ESC = 8;
    private static final int EXT_AFTER_VALUE = 9;
    private static final int SIZE_LF = 10;
    private static final int DATA = 11;
    private static final int DATA_CR = 12;
    private static final int DATA_LF = 13;
    private static final int TRAILER = 14;
    private static final int DONE = 15;
    private static final int FAILED = 16;

    private final LineReader trailerLines;
    private final FieldSection trailerFields;

    private int state = SIZE;
    private long size;
    private int digits;
    private int lineLength;
    private long chunkRemaining;
    private long offset;
    private HeaderFields trailers = HeaderFields.EMPTY;

    /**
     * A decoder with the default trailer field-count limit.
     *
     * @param maxHeadSize the most bytes the trailer section may have, at least 16
     * @throws IllegalArgumentException if the limit is too low
     */
    ChunkedDecoder(int maxHeadSize) {
        this(maxHeadSize, ResponseParser.DEFAULT_MAX_FIELDS);
    }

    /**
     * @param maxHeadSize the most bytes the trailer section may have, at least 16
     * @param maxFields the most trailer fields, at least 1
     * @throws IllegalArgumentException if a limit is too low
     */
    ChunkedDecoder(int maxHeadSize, int maxFields) {
        if (maxHeadSize < 16) {
            throw new IllegalArgumentException("maxHeadSize must be >= 16 but was " + maxHeadSize);
        }
        this.trailerLines = new LineReader(maxHeadSize, "chunked trailer section", null, "chunked trailer line");
        this.trailerFields = new FieldSection(maxFields);
    }

    /**
     * Decodes bytes of a chunked body.
     *
     * <p>Framing bytes (size lines, CRLFs, the last chunk, trailers) are consumed whenever they are in
     * {@code in}, even when {@code dst} is full, so that {@link #isDone()} turns true as soon as the
     * whole body is in the input.
     *
     * @param in the encoded body; its position is advanced past what was consumed; it stays just after
     *     the body's end once the body is done
     * @param dst where to put the decoded body bytes
     * @param off where in {@code dst} to start
     * @param len the most bytes to put in {@code dst}
     * @return how many body bytes were put in {@code dst}; 0 if only framing was consumed, or none was
     *     available, or the body is done
     * @throws HttpProtocolException if the encoding is invalid or exceeds a limit
     * @throws IndexOutOfBoundsException if {@code off} and {@code len} are out of {@code dst}'s bounds
     * @throws IllegalStateException if the decoder failed and was not reset
     */
    int read(ByteBuffer in, byte[] dst, int off, int len) throws HttpProtocolException {
        Objects.checkFromIndexSize(off, len, dst.length);
        return decode(in, dst, off, len);
    }

    /**
     * Like {@link #read} but discards the body bytes instead of copying them: consumes all of {@code in}
     * that belongs to the body.
     *
     * @param in the encoded body
     * @return how many body bytes were discarded
     * @throws HttpProtocolException if the encoding is invalid or exceeds a limit
     * @throws IllegalStateException if the decoder failed and was not reset
     */
    int skip(ByteBuffer in) throws HttpProtocolException {
        return decode(in, null, 0, Integer.MAX_VALUE);
    }

    private int decode(ByteBuffer in, byte[] dst, int off, int len) throws HttpProtocolException {
        if (state == FAILED) {
            throw new IllegalStateException("decoder failed; reset() first");
        }
        int produced = 0;
        try {
            while (state != DONE && in.hasRemaining()) {
                if (state == DATA) {
                    int room = len - produced;
                    if (room == 0) {
                        break;
                    }
                    int n = (int) Math.min(Math.min(chunkRemaining, in.remaining()), room);
                    if (dst != null) {
                        in.get(dst, off + produced, n);
                    } else {
                        in.position(in.position() + n);
                    }
                    produced += n;
                    chunkRemaining -= n;
                    offset += n;
                    if (chunkRemaining == 0) {
                        state = DATA_CR;
                    }
                } else if (state == TRAILER) {
                    readTrailerLine(in);
                } else {
                    step(in.get());
                    offset++;
                }
            }
        } catch (HttpProtocolException | RuntimeException e) {
            state = FAILED;
            throw e;
        }
        return produced;
    }

    /**
     * @param in the encoded body
     * @return how many body bytes {@link #read} can produce from {@code in} without more input (a lower
     *     bound: only the current chunk's bytes are counted)
     */
    int available(ByteBuffer in) {
        return state == DATA ? (int) Math.min(chunkRemaining, in.remaining()) : 0;
    }

    /** @return whether the last chunk and the trailer section have been consumed */
    boolean isDone() {
        return state == DONE;
    }

    /** @return the trailer fields once {@linkplain #isDone() done}; empty before, or if there were none */
    HeaderFields trailers() {
        return trailers;
    }

    /** @return how many bytes of the encoded body have been consumed since the last reset */
    long bytesConsumed() {
        return offset;
    }

    /** @return the capacity of the trailer carry-over buffer (for tests of the memory bound) */
    int bufferCapacity() {
        return trailerLines.carryCapacity();
    }

    /** Forgets the current body (complete, partial or failed), to decode the next one. */
    void reset() {
        state = SIZE;
        size = 0;
        digits = 0;
        lineLength = 0;
        chunkRemaining = 0;
        offset = 0;
        trailers = HeaderFields.EMPTY;
        trailerLines.reset();
        trailerFields.reset();
    }

    private void readTrailerLine(ByteBuffer in) throws HttpProtocolException {
        int before = in.position();
        boolean complete = trailerLines.next(in);
        offset += in.position() - before;
        if (!complete) {
            return;
        }
        if (trailerLines.start == trailerLines.end) {
            trailers = trailerFields.build();
            state = DONE;
        } else {
            trailerFields.parseLine(trailerLines.line, trailerLines.start, trailerLines.end, trailerLines);
        }
    }

    /** Advances the chunk-size line or the CRLF after chunk data by one byte. */
    private void step(byte b) throws HttpProtocolException {
        if (state <= SIZE_LF && ++lineLength > MAX_CHUNK_LINE) {
            throw error("chunk-size line longer than " + MAX_CHUNK_LINE + " bytes");
        }
        switch (state) {
            case SIZE:
                if (HttpChars.isHex(b)) {
                    if (digits == MAX_HEX_DIGITS) {
                        throw error("chunk size has more than " + MAX_HEX_DIGITS + " hex digits");
                    }
                    if (size > (Long.MAX_VALUE >>> 4)) {
                        throw error("chunk size overflows a 63-bit length");
                    }
                    size = (size << 4) | HttpChars.hexValue(b);
                    digits++;
                } else if (digits == 0) {
                    throw error("chunk size must start with a hex digit but found " + HttpChars.describe(b));
                } else if (b == ';') {
                    state = EXT_NAME_START;
                } else if (HttpChars.isWhitespace(b)) {
                    state = SIZE_WS;
                } else {
                    endOfLine(b, "in the chunk size");
                }
                break;
            case SIZE_WS:
                if (b == ';') {
                    state = EXT_NAME_START;
                } else if (!HttpChars.isWhitespace(b)) {
                    throw error("whitespace after the chunk size not followed by a chunk extension, found "
                            + HttpChars.describe(b));
                }
                break;
            case EXT_NAME_START:
                if (HttpChars.isTchar(b)) {
                    state = EXT_NAME;
                } else if (!HttpChars.isWhitespace(b)) {
                    throw error("chunk extension must start with a token but found " + HttpChars.describe(b));
                }
                break;
            case EXT_NAME:
                if (b == '=') {
                    state = EXT_VALUE_START;
                } else if (b == ';') {
                    state = EXT_NAME_START;
                } else if (HttpChars.isWhitespace(b)) {
                    state = EXT_AFTER_NAME;
                } else if (!HttpChars.isTchar(b)) {
                    endOfLine(b, "in a chunk extension name");
                }
                break;
            case EXT_AFTER_NAME:
            case EXT_AFTER_VALUE:
                if (b == '=' && state == EXT_AFTER_NAME) {
                    state = EXT_VALUE_START;
                } else if (b == ';') {
                    state = EXT_NAME_START;
                } else if (!HttpChars.isWhitespace(b)) {
                    endOfLine(b, "in a chunk extension");
                }
                break;
            case EXT_VALUE_START:
                if (b == '"') {
                    state = EXT_QUOTED;
                } else if (HttpChars.isTchar(b)) {
                    state = EXT_TOKEN;
                } else if (!HttpChars.isWhitespace(b)) {
                    throw error("chunk extension value must be a token or a quoted-string but starts with "
                            + HttpChars.describe(b));
                }
                break;
            case EXT_TOKEN:
                if (b == ';') {
                    state = EXT_NAME_START;
                } else if (HttpChars.isWhitespace(b)) {
                    state = EXT_AFTER_VALUE;
                } else if (!HttpChars.isTchar(b)) {
                    endOfLine(b, "in a chunk extension value");
                }
                break;
            case EXT_QUOTED:
                if (b == '"') {
                    state = EXT_AFTER_VALUE;
                } else if (b == '\\') {
                    state = EXT_QUOTED_ESC;
                } else if (!HttpChars.isQdtext(b)) {
                    throw error("invalid character " + HttpChars.describe(b) + " in a quoted chunk extension value");
                }
                break;
            case EXT_QUOTED_ESC:
                if (!HttpChars.isFieldValueByte(b)) {
                    throw error("invalid escaped character " + HttpChars.describe(b)
                            + " in a quoted chunk extension value");
                }
                state = EXT_QUOTED;
                break;
            case SIZE_LF:
                if (b != HttpChars.LF) {
                    throw error("bare CR in a chunk-size line (CR followed by " + HttpChars.describe(b) + ")");
                }
                lineLength = 0;
                digits = 0;
                if (size == 0) {
                    state = TRAILER;
                } else {
                    chunkRemaining = size;
                    size = 0;
                    state = DATA;
                }
                break;
            case DATA_CR:
                if (b != HttpChars.CR) {
                    throw error("chunk data not followed by CRLF (found " + HttpChars.describe(b)
                            + " after the chunk's last byte)");
                }
                state = DATA_LF;
                break;
            case DATA_LF:
                if (b != HttpChars.LF) {
                    throw error("chunk data not followed by CRLF (bare CR, then " + HttpChars.describe(b) + ")");
                }
                state = SIZE;
                break;
            default:
                throw new IllegalStateException("unexpected state " + state);
        }
    }

    /** Handles a byte that may end a chunk-size line: CR does, LF is a bare LF, anything else is invalid. */
    private void endOfLine(byte b, String where) throws HttpProtocolException {
        if (b == HttpChars.CR) {
            state = SIZE_LF;
        } else if (b == HttpChars.LF) {
            throw error("bare LF in a chunk-size line; it must end with CRLF");
        } else {
            throw error("invalid character " + HttpChars.describe(b) + " " + where);
        }
    }

    private HttpProtocolException error(String what) {
        return new HttpProtocolException("chunked body at byte " + offset + ": " + what);
    }
}
