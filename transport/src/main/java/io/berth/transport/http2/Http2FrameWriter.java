package io.berth.transport.http2;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Writes a client's frames (RFC 9113 §3.4, §6) into a caller's {@link ByteBuffer}: the connection
 * preface, SETTINGS and its ACK, HEADERS (HPACK-encoded, split into CONTINUATIONs at the peer's
 * SETTINGS_MAX_FRAME_SIZE), DATA (split likewise), RST_STREAM, PING, GOAWAY and WINDOW_UPDATE. It
 * does no I/O and keeps no stream state: flow control, stream ids and the order of frames are the
 * connection's.
 *
 * <p>Each method either writes its whole frame(s) or, if {@code out} has too little room, writes
 * nothing and throws {@link BufferOverflowException} ({@link #writeData} instead writes what fits).
 * Arguments that can never be valid (a stream id of 0 for HEADERS, a zero window increment) are
 * {@link IllegalArgumentException}s. After a {@code BufferOverflowException} from
 * {@link #writeHeaders} nothing was encoded, so the HPACK state is unchanged and the call can be
 * retried with a larger buffer; but once a header block is written it must be sent, or the peer's
 * HPACK table falls out of step.
 *
 * <p>Allocation: none in steady state (the header block is encoded into a reused buffer that grows
 * to the largest block written).
 *
 * <p>Not thread-safe: one per connection, used by whoever holds the connection's write side.
 */
public final class Http2FrameWriter {
    /** The length of the client connection preface: 24 bytes. */
    public static final int PREFACE_LENGTH = 24;
    /** The length of a frame header: 9 bytes. */
    public static final int FRAME_HEADER_LENGTH = FrameType.HEADER_LENGTH;
    /** The default of the encoder's own dynamic-table limit: 4096, the protocol's initial size. */
    public static final int DEFAULT_MAX_HEADER_TABLE_SIZE = Http2Settings.DEFAULT_HEADER_TABLE_SIZE;

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final HpackEncoder hpack;
    private int peerMaxFrameSize = Http2Settings.DEFAULT_MAX_FRAME_SIZE;
    private ByteBuffer blockBuffer = ByteBuffer.allocate(512);

    /** A writer whose HPACK encoder keeps a dynamic table of up to {@value #DEFAULT_MAX_HEADER_TABLE_SIZE} bytes. */
    public Http2FrameWriter() {
        this(DEFAULT_MAX_HEADER_TABLE_SIZE);
    }

    /**
     * @param maxHeaderTableSize the largest HPACK dynamic table the encoder keeps, whatever the peer's
     *     SETTINGS_HEADER_TABLE_SIZE allows; 0 disables indexing
     * @throws IllegalArgumentException if negative
     */
    public Http2FrameWriter(int maxHeaderTableSize) {
        this(new HpackEncoder(maxHeaderTableSize));
    }

    Http2FrameWriter(HpackEncoder hpack) {
        this.hpack = hpack;
    }

    /**
     * Applies the peer's SETTINGS_MAX_FRAME_SIZE: DATA and header blocks are split at it. Default 16384.
     *
     * @param size 16384 to 2^24-1
     * @throws IllegalArgumentException if out of range
     */
    public void setPeerMaxFrameSize(int size) {
        if (size < Http2Settings.DEFAULT_MAX_FRAME_SIZE || size > Http2Settings.MAX_MAX_FRAME_SIZE) {
            throw new IllegalArgumentException("peer SETTINGS_MAX_FRAME_SIZE must be in 16384..16777215 but was "
                    + size);
        }
        peerMaxFrameSize = size;
    }

    /**
     * Applies the peer's SETTINGS_HEADER_TABLE_SIZE: the next header block starts with the dynamic
     * table size update(s) it calls for.
     *
     * @param size 0 to 2^32-1
     * @throws IllegalArgumentException if out of range
     */
    public void setPeerHeaderTableSize(long size) {
        hpack.setPeerTableSize(size);
    }

    /** The HPACK encoder, for tests. */
    HpackEncoder hpack() {
        return hpack;
    }

    /**
     * Writes the client connection preface {@code PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n}; a SETTINGS frame
     * must follow it.
     *
     * @param out receives {@value #PREFACE_LENGTH} bytes
     * @throws BufferOverflowException if there is less room
     */
    public void writePreface(ByteBuffer out) {
        room(out, PREFACE_LENGTH);
        out.put(PREFACE);
    }

    /**
     * Writes a SETTINGS frame with the parameters of {@code settings}, in identifier order.
     *
     * @param out receives 9 + 6 × {@code settings.size()} bytes
     * @param settings the parameters
     * @throws BufferOverflowException if there is less room
     */
    public void writeSettings(ByteBuffer out, Http2Settings settings) {
        int length = 6 * settings.size();
        room(out, FRAME_HEADER_LENGTH + length);
        frameHeader(out, length, FrameType.SETTINGS, 0, 0);
        for (int id = Http2Settings.HEADER_TABLE_SIZE; id <= Http2Settings.MAX_HEADER_LIST_SIZE; id++) {
            if (settings.has(id)) {
                out.put((byte) (id >>> 8)).put((byte) id);
                putInt(out, (int) settings.get(id, 0));
            }
        }
    }

    /**
     * Writes a SETTINGS frame with the ACK flag.
     *
     * @param out receives 9 bytes
     * @throws BufferOverflowException if there is less room
     */
    public void writeSettingsAck(ByteBuffer out) {
        room(out, FRAME_HEADER_LENGTH);
        frameHeader(out, 0, FrameType.SETTINGS, FrameType.FLAG_ACK, 0);
    }

    /**
     * @param headers a header list
     * @return room enough for {@link #writeHeaders} of {@code headers} at the current peer frame size
     */
    public int headersBound(Http2Headers headers) {
        int block = HpackEncoder.bound(headers);
        int frames = Math.max(1, (block + peerMaxFrameSize - 1) / peerMaxFrameSize);
        return block + frames * FRAME_HEADER_LENGTH;
    }

    /**
     * Encodes a header list and writes it as a HEADERS frame, followed by CONTINUATION frames if the
     * block is larger than the peer's SETTINGS_MAX_FRAME_SIZE. The last frame has END_HEADERS.
     *
     * @param out receives the frames; needs {@link #headersBound(Http2Headers)} bytes of room
     * @param streamId the stream, odd and positive (a client's)
     * @param headers the fields, pseudo-header fields first (not checked here)
     * @param endStream whether to set END_STREAM (no request body)
     * @throws BufferOverflowException if {@code out} has less room than {@link #headersBound}; nothing
     *     is written and the HPACK state is unchanged
     * @throws IllegalArgumentException if {@code streamId} is not odd and positive
     */
    public void writeHeaders(ByteBuffer out, int streamId, Http2Headers headers, boolean endStream) {
        if (streamId <= 0 || (streamId & 1) == 0) {
            throw new IllegalArgumentException("a client's stream id must be odd and positive but was " + streamId);
        }
        room(out, headersBound(headers));
        int bound = HpackEncoder.bound(headers);
        if (blockBuffer.capacity() < bound) {
            blockBuffer = ByteBuffer.allocate(Math.max(bound, blockBuffer.capacity() * 2));
        }
        blockBuffer.clear();
        hpack.encode(headers, blockBuffer);
        blockBuffer.flip();
        int type = FrameType.HEADERS;
        int flags = endStream ? FrameType.FLAG_END_STREAM : 0;
        do {
            int n = Math.min(blockBuffer.remaining(), peerMaxFrameSize);
            boolean last = n == blockBuffer.remaining();
            frameHeader(out, n, type, flags | (last ? FrameType.FLAG_END_HEADERS : 0), streamId);
            int limit = blockBuffer.limit();
            blockBuffer.limit(blockBuffer.position() + n);
            out.put(blockBuffer);
            blockBuffer.limit(limit);
            type = FrameType.CONTINUATION;
            flags = 0;
        } while (blockBuffer.hasRemaining());
    }

    /**
     * Writes as much of {@code data} as fits in {@code out} as DATA frames of at most the peer's
     * SETTINGS_MAX_FRAME_SIZE, without padding; flow control is the caller's (pass a buffer limited to
     * what the windows allow).
     *
     * @param out receives the frames (9 bytes of header per frame)
     * @param streamId the stream, positive
     * @param data the payload; its position moves past what was written
     * @param endStream whether the last frame, once all of {@code data} is written, has END_STREAM;
     *     with an empty {@code data} this writes one empty DATA frame with END_STREAM
     * @return whether everything was written: all of {@code data} and, if asked, END_STREAM
     * @throws IllegalArgumentException if {@code streamId} is not positive
     */
    public boolean writeData(ByteBuffer out, int streamId, ByteBuffer data, boolean endStream) {
        if (streamId <= 0) {
            throw new IllegalArgumentException("DATA needs a stream id > 0 but got " + streamId);
        }
        do {
            int room = out.remaining() - FRAME_HEADER_LENGTH;
            int n = Math.min(Math.min(data.remaining(), peerMaxFrameSize), room);
            boolean last = n == data.remaining();
            if (room < 0 || n == 0 && !(last && endStream)) {
                return false;
            }
            frameHeader(out, n, FrameType.DATA, last && endStream ? FrameType.FLAG_END_STREAM : 0, streamId);
            int limit = data.limit();
            data.limit(data.position() + n);
            out.put(data);
            data.limit(limit);
        } while (data.hasRemaining());
        return true;
    }

    /**
     * Writes an RST_STREAM frame.
     *
     * @param out receives 13 bytes
     * @param streamId the stream, positive
     * @param errorCode why
     * @throws BufferOverflowException if there is less room
     * @throws IllegalArgumentException if {@code streamId} is not positive
     */
    public void writeRstStream(ByteBuffer out, int streamId, Http2ErrorCode errorCode) {
        if (streamId <= 0) {
            throw new IllegalArgumentException("RST_STREAM needs a stream id > 0 but got " + streamId);
        }
        room(out, FRAME_HEADER_LENGTH + 4);
        frameHeader(out, 4, FrameType.RST_STREAM, 0, streamId);
        putInt(out, errorCode.code());
    }

    /**
     * Writes a PING frame, or the ACK of one.
     *
     * @param out receives 17 bytes
     * @param payload the 8 opaque bytes, big-endian (an ACK echoes the PING's)
     * @param ack whether this answers a PING
     * @throws BufferOverflowException if there is less room
     */
    public void writePing(ByteBuffer out, long payload, boolean ack) {
        room(out, FRAME_HEADER_LENGTH + 8);
        frameHeader(out, 8, FrameType.PING, ack ? FrameType.FLAG_ACK : 0, 0);
        putInt(out, (int) (payload >>> 32));
        putInt(out, (int) payload);
    }

    /**
     * Writes a GOAWAY frame.
     *
     * @param out receives 17 bytes plus the debug data
     * @param lastStreamId the highest stream the peer opened that we processed (0 for a client that
     *     accepts no pushes)
     * @param errorCode why
     * @param debugData opaque debug data, read from its position (not moved) to its limit; may be empty
     * @throws BufferOverflowException if there is less room
     * @throws IllegalArgumentException if {@code lastStreamId} is negative or the frame would exceed
     *     the peer's SETTINGS_MAX_FRAME_SIZE
     */
    public void writeGoAway(ByteBuffer out, int lastStreamId, Http2ErrorCode errorCode, ByteBuffer debugData) {
        if (lastStreamId < 0) {
            throw new IllegalArgumentException("GOAWAY last stream id must be >= 0 but was " + lastStreamId);
        }
        int length = 8 + debugData.remaining();
        if (length > peerMaxFrameSize) {
            throw new IllegalArgumentException("GOAWAY debug data of " + debugData.remaining()
                    + " bytes exceeds the peer's SETTINGS_MAX_FRAME_SIZE " + peerMaxFrameSize);
        }
        room(out, FRAME_HEADER_LENGTH + length);
        frameHeader(out, length, FrameType.GOAWAY, 0, 0);
        putInt(out, lastStreamId);
        putInt(out, Objects.requireNonNull(errorCode, "errorCode").code());
        out.put(debugData.duplicate());
    }

    /**
     * Writes a WINDOW_UPDATE frame.
     *
     * @param out receives 13 bytes
     * @param streamId the stream, or 0 for the connection window
     * @param increment 1 to 2^31-1
     * @throws BufferOverflowException if there is less room
     * @throws IllegalArgumentException if {@code streamId} is negative or {@code increment} out of range
     */
    public void writeWindowUpdate(ByteBuffer out, int streamId, int increment) {
        if (streamId < 0) {
            throw new IllegalArgumentException("WINDOW_UPDATE stream id must be >= 0 but was " + streamId);
        }
        if (increment <= 0) {
            throw new IllegalArgumentException("WINDOW_UPDATE increment must be in 1..2^31-1 but was " + increment);
        }
        room(out, FRAME_HEADER_LENGTH + 4);
        frameHeader(out, 4, FrameType.WINDOW_UPDATE, 0, streamId);
        putInt(out, increment);
    }

    private static void room(ByteBuffer out, int n) {
        if (out.remaining() < n) {
            throw new BufferOverflowException();
        }
    }

    private static void frameHeader(ByteBuffer out, int length, int type, int flags, int streamId) {
        out.put((byte) (length >>> 16)).put((byte) (length >>> 8)).put((byte) length);
        out.put((byte) type).put((byte) flags);
        putInt(out, streamId);
    }

    private static void putInt(ByteBuffer out, int v) {
        out.put((byte) (v >>> 24)).put((byte) (v >>> 16)).put((byte) (v >>> 8)).put((byte) v);
    }
}
