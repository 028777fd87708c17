package io.berth.transport.http2;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Reads the frames a server sends on an HTTP/2 connection (RFC 9113 §4 and §6), fed with bytes as
 * they arrive, split anywhere, and hands each complete frame to a {@link Handler}: header blocks
 * assembled from HEADERS or PUSH_PROMISE and their CONTINUATIONs and HPACK-decoded, SETTINGS parsed
 * and validated, DATA as slices of the input. It does no I/O and keeps no stream state: which
 * streams exist, flow-control windows and the meaning of the frames are the connection's.
 *
 * <p><b>What it checks</b> (each a connection error unless said otherwise):
 * <ul>
 *   <li>the first frame is a SETTINGS frame, not an ACK (the server's preface, §3.4), PROTOCOL_ERROR;</li>
 *   <li>no frame is longer than our SETTINGS_MAX_FRAME_SIZE ({@link #setMaxFrameSize}), and each type
 *       has its fixed or minimum length, FRAME_SIZE_ERROR (a PRIORITY frame of the wrong length is a
 *       stream error); padding fits in the frame, PROTOCOL_ERROR;</li>
 *   <li>DATA, HEADERS, PRIORITY, RST_STREAM, PUSH_PROMISE and CONTINUATION are on a stream; SETTINGS,
 *       PING and GOAWAY on stream 0; PROTOCOL_ERROR;</li>
 *   <li>a header block is HEADERS or PUSH_PROMISE and then CONTINUATIONs of the same stream with no
 *       other frame in between, PROTOCOL_ERROR; it has at most {@link #setMaxContinuations
 *       maxContinuations} CONTINUATION frames, empty ones included (the CONTINUATION flood,
 *       CVE-2024-28182), and at most {@link #setMaxHeaderBlockSize maxHeaderBlockSize} bytes,
 *       ENHANCE_YOUR_CALM;</li>
 *   <li>the block decodes under HPACK (see {@link HpackDecoder}: COMPRESSION_ERROR, or a stream error
 *       if the decoded list is over {@link #setMaxHeaderListSize maxHeaderListSize}); a HEADERS or
 *       PRIORITY frame that makes a stream depend on itself is a stream error;</li>
 *   <li>SETTINGS: an ACK has no payload, FRAME_SIZE_ERROR; SETTINGS_ENABLE_PUSH is 0 (a server must
 *       not send 1), SETTINGS_MAX_FRAME_SIZE in 16384..2^24-1, PROTOCOL_ERROR;
 *       SETTINGS_INITIAL_WINDOW_SIZE at most 2^31-1, FLOW_CONTROL_ERROR; unknown settings are ignored;
 *       at most {@link #setMaxSettingsPerFrame maxSettingsPerFrame} parameters per frame,
 *       ENHANCE_YOUR_CALM;</li>
 *   <li>PUSH_PROMISE while push is disabled (the default: we send SETTINGS_ENABLE_PUSH = 0), or
 *       promising an odd or zero stream, PROTOCOL_ERROR;</li>
 *   <li>WINDOW_UPDATE with a zero increment: a stream error on a stream, a connection error on stream 0.</li>
 * </ul>
 * Unknown frame types are skipped without buffering (outside a header block), unknown flags ignored.
 *
 * <p><b>Errors.</b> A connection error is thrown from {@link #read} as an {@link Http2Exception};
 * the reader is then failed and every later call throws {@link IllegalStateException}. A stream error
 * goes to {@link Handler#onStreamError} and reading goes on.
 *
 * <p><b>HPACK state is connection-wide</b>: the reader always decodes every header block, whichever
 * stream it is for, including streams the connection has reset or forgotten; the handler just
 * ignores those. Never skip a block.
 *
 * <p><b>Memory.</b> The reader buffers at most a frame header, one frame's payload when it arrives
 * in pieces (never DATA, which is handed out as it arrives, nor unknown frames, which are skipped), and
 * one header block of at most {@code maxHeaderBlockSize} bytes, and lets go of buffers that grew
 * beyond 16 KiB once they are used. A frame that arrives whole in one input buffer is processed in
 * place.
 *
 * <p>Not thread-safe: one per connection, driven by its reading thread.
 */
public final class Http2FrameReader {
    /** Default of {@link #setMaxHeaderListSize}: 64 KiB, as the HTTP/1.1 response head limit. */
    public static final int DEFAULT_MAX_HEADER_LIST_SIZE = HpackDecoder.DEFAULT_MAX_HEADER_LIST_SIZE;
    /**
     * Default of {@link #setMaxContinuations}: 32 CONTINUATION frames per header block. A 64 KiB block
     * in 16 KiB frames needs 4; 32 leaves room for peers that split finely, and bounds the work of an
     * endless run of empty CONTINUATIONs (nghttp2 allows 8, Apache HttpCore 100, Envoy 512).
     */
    public static final int DEFAULT_MAX_CONTINUATIONS = 32;
    /** Default of {@link #setMaxInsertsPerBlock}: 256 dynamic-table insertions per header block. */
    public static final int DEFAULT_MAX_INSERTS_PER_BLOCK = HpackDecoder.DEFAULT_MAX_INSERTS_PER_BLOCK;
    /**
     * Default of {@link #setMaxSettingsPerFrame}: 64 parameters per SETTINGS frame. RFC 9113 defines 6
     * and extensions a few more; a frame of 16 KiB could otherwise carry 2730, each processed.
     */
    public static final int DEFAULT_MAX_SETTINGS_PER_FRAME = 64;

    /**
     * Receives the frames of a connection, in order. Every {@link ByteBuffer} handed over is valid only
     * during the call: copy what must be kept. An exception thrown by a handler method escapes from
     * {@link Http2FrameReader#read} and fails the reader; stream-level problems found by the handler
     * (a frame for a closed stream, say) are for it to answer with RST_STREAM itself.
     */
    public interface Handler {
        /**
         * A piece of a DATA frame's payload. A frame whose payload is in one input buffer comes as one
         * call; one split across input buffers comes as one call per buffer that brought payload bytes
         * (and always one with {@code endOfFrame} set). Padding is consumed, not handed out.
         *
         * @param streamId the stream, at least 1
         * @param data the piece, without padding: the input buffer itself with its position and limit
         *     set around the piece (restored after the call); may be empty
         * @param flowControlled the bytes of the frame's payload this call accounts for: data, the Pad
         *     Length octet and padding; the sum over a frame is its length. Credit the stream and
         *     connection windows with it (for a reset stream too)
         * @param endOfFrame whether this is the frame's last call
         * @param endStream whether the frame has END_STREAM; only ever with {@code endOfFrame}
         * @throws Http2Exception to fail the connection
         */
        void onData(int streamId, ByteBuffer data, int flowControlled, boolean endOfFrame, boolean endStream)
                throws Http2Exception;

        /**
         * A whole header block (HEADERS and its CONTINUATIONs), decoded.
         *
         * @param streamId the stream, at least 1
         * @param headers the decoded fields, unvalidated beyond HPACK (see {@link Http2Headers})
         * @param endStream whether the HEADERS frame has END_STREAM
         * @throws Http2Exception to fail the connection
         */
        void onHeaders(int streamId, Http2Headers headers, boolean endStream) throws Http2Exception;

        /**
         * A valid PRIORITY frame (the priority fields of a HEADERS frame are checked, not reported).
         * RFC 9113 deprecates the priority scheme; the default ignores it.
         *
         * @param streamId the stream, at least 1
         * @param dependency the stream it depends on (not itself: that is a stream error)
         * @param weight 1 to 256
         * @param exclusive the E flag
         * @throws Http2Exception to fail the connection
         */
        default void onPriority(int streamId, int dependency, int weight, boolean exclusive) throws Http2Exception {
        }

        /**
         * @param streamId the stream the server reset, at least 1
         * @param errorCode its code, possibly one {@link Http2ErrorCode} does not know
         * @throws Http2Exception to fail the connection
         */
        void onRstStream(int streamId, int errorCode) throws Http2Exception;

        /**
         * A SETTINGS frame (not an ACK): apply it, then acknowledge it.
         *
         * @param settings the parameters it carries, validated; reused for the next frame
         * @throws Http2Exception to fail the connection
         */
        void onSettings(Http2Settings settings) throws Http2Exception;

        /**
         * The server acknowledged our SETTINGS: apply our own new limits from now on
         * ({@link Http2FrameReader#setMaxFrameSize}, {@link Http2FrameReader#setHeaderTableSizeLimit}).
         *
         * @throws Http2Exception to fail the connection
         */
        void onSettingsAck() throws Http2Exception;

        /**
         * A whole PUSH_PROMISE block, decoded; only when push was enabled
         * ({@link Http2FrameReader#setPushEnabled}), else it is a connection error.
         *
         * @param streamId the stream it came on, at least 1
         * @param promisedStreamId the promised stream, even and at least 2
         * @param headers the promised request's fields
         * @throws Http2Exception to fail the connection
         */
        default void onPushPromise(int streamId, int promisedStreamId, Http2Headers headers) throws Http2Exception {
            throw Http2Exception.connectionError(Http2ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE on stream " + streamId
                    + " is not handled");
        }

        /**
         * @param payload the 8 opaque bytes, big-endian
         * @param ack whether this answers our PING
         * @throws Http2Exception to fail the connection
         */
        void onPing(long payload, boolean ack) throws Http2Exception;

        /**
         * @param lastStreamId the highest stream the server may have processed
         * @param errorCode its code, possibly one {@link Http2ErrorCode} does not know
         * @param debugData the additional debug data, possibly empty (a window of a buffer, as for DATA)
         * @throws Http2Exception to fail the connection
         */
        void onGoAway(int lastStreamId, int errorCode, ByteBuffer debugData) throws Http2Exception;

        /**
         * @param streamId the stream, or 0 for the connection window
         * @param increment 1 to 2^31-1 (overflowing a window is the connection's check)
         * @throws Http2Exception to fail the connection
         */
        void onWindowUpdate(int streamId, int increment) throws Http2Exception;

        /**
         * A stream error found by the reader: reset the stream with {@link Http2Exception#errorCode()}
         * and fail its exchange; the connection goes on. Any header block involved was decoded.
         *
         * @param error what was wrong; {@link Http2Exception#streamId()} names the stream
         * @throws Http2Exception to fail the connection instead
         */
        void onStreamError(Http2Exception error) throws Http2Exception;

        /**
         * A frame of a type RFC 9113 does not define, skipped (its payload is not read).
         *
         * @param type the type
         * @param flags the flags
         * @param streamId the stream
         * @param length the payload length
         * @throws Http2Exception to fail the connection
         */
        default void onUnknownFrame(int type, int flags, int streamId, int length) throws Http2Exception {
        }
    }

    private static final int HEADER = 0;
    private static final int PAYLOAD = 1;
    private static final int DATA = 2;
    private static final int SKIP = 3;
    private static final int FAILED = 4;
    /** Buffers grown beyond this are let go after use. */
    private static final int KEPT_BUFFER = 16 * 1024;

    private final Handler handler;
    private final HpackDecoder hpack = new HpackDecoder();
    private final Http2Settings settings = new Http2Settings();
    private final ByteBuffer empty = ByteBuffer.allocate(0);
    private int maxFrameSize = Http2Settings.DEFAULT_MAX_FRAME_SIZE;
    private int maxHeaderBlockSize = 2 * DEFAULT_MAX_HEADER_LIST_SIZE;
    private int maxContinuations = DEFAULT_MAX_CONTINUATIONS;
    private int maxSettingsPerFrame = DEFAULT_MAX_SETTINGS_PER_FRAME;
    private boolean pushEnabled;
    private boolean prefaceSeen;

    private int state = HEADER;
    private final byte[] header = new byte[FrameType.HEADER_LENGTH];
    private int headerFill;
    private int length;
    private int type;
    private int flags;
    private int streamId;
    /** Payload bytes of the current frame not consumed yet. */
    private int remaining;

    private byte[] payload = new byte[64];
    private ByteBuffer payloadView = ByteBuffer.wrap(payload);
    private int payloadFill;

    // DATA: -1 until the Pad Length octet is read.
    private int padLength;
    private int dataRemaining;
    private int pendingFlow;

    // The header block being assembled: blockStream 0 if none.
    private int blockStream;
    private int blockType;
    private boolean blockEndStream;
    private int blockPromised;
    private boolean blockSelfDependent;
    private int continuations;
    private byte[] block = new byte[256];
    private int blockFill;

    /**
     * A reader with the defaults: our SETTINGS_MAX_FRAME_SIZE 16384, header table size 4096, push
     * disabled, the limits' defaults.
     *
     * @param handler receives the frames
     */
    public Http2FrameReader(Handler handler) {
        this.handler = Objects.requireNonNull(handler, "handler");
    }

    /**
     * Sets the largest frame payload accepted: the SETTINGS_MAX_FRAME_SIZE we advertised, once the
     * server acknowledged it. Default 16384.
     *
     * @param size 16384 to 2^24-1
     * @throws IllegalArgumentException if out of range
     */
    public void setMaxFrameSize(int size) {
        if (size < Http2Settings.DEFAULT_MAX_FRAME_SIZE || size > Http2Settings.MAX_MAX_FRAME_SIZE) {
            throw new IllegalArgumentException("maxFrameSize must be in 16384..16777215 but was " + size);
        }
        maxFrameSize = size;
    }

    /**
     * Sets the HPACK dynamic table limit: the SETTINGS_HEADER_TABLE_SIZE we advertised, once the server
     * acknowledged it. Default 4096. If it is lowered below the table's size, the next header block must
     * start with a size update (RFC 7541 §4.2).
     *
     * @param size 0 to 2^32-1
     * @throws IllegalArgumentException if out of range
     */
    public void setHeaderTableSizeLimit(long size) {
        hpack.setTableSizeLimit(size);
    }

    /**
     * Sets the decoded header-list limit (name + value + 32 per field): the SETTINGS_MAX_HEADER_LIST_SIZE
     * we advertise. A larger list is decoded (to keep HPACK in step), dropped and reported as a stream
     * error. Also sets {@link #setMaxHeaderBlockSize} to twice the value. Default
     * {@value #DEFAULT_MAX_HEADER_LIST_SIZE}.
     *
     * @param size at least 1
     * @throws IllegalArgumentException if below 1
     */
    public void setMaxHeaderListSize(int size) {
        hpack.setMaxHeaderListSize(size);
        maxHeaderBlockSize = (int) Math.min(Integer.MAX_VALUE, 2L * size);
    }

    /**
     * Sets the most encoded bytes of one header block (all its frames' fragments), which the reader
     * buffers until END_HEADERS. A larger block is a connection error (ENHANCE_YOUR_CALM): it cannot be
     * decoded without buffering it, and HPACK state forbids skipping it. A sensible encoder's block is
     * no larger than the decoded list, so the default, twice the header-list limit (128 KiB), leaves a
     * head somewhat over the list limit to cost only its stream.
     *
     * @param size at least 1
     * @throws IllegalArgumentException if below 1
     */
    /**
     * Sets the most CONTINUATION frames one header block may have, empty ones included. Default
     * {@value #DEFAULT_MAX_CONTINUATIONS}.
     *
     * @param max at least 0
     * @throws IllegalArgumentException if negative
     */
    public void setMaxContinuations(int max) {
        if (max < 0) {
            throw new IllegalArgumentException("maxContinuations must be >= 0 but was " + max);
        }
        maxContinuations = max;
    }

    /**
     * Sets the most parameters one SETTINGS frame may carry, unknown ones included. Default
     * {@value #DEFAULT_MAX_SETTINGS_PER_FRAME}.
     *
     * @param max at least 6
     * @throws IllegalArgumentException if below 6
     */
    public void setMaxSettingsPerFrame(int max) {
        if (max < 6) {
            throw new IllegalArgumentException("maxSettingsPerFrame must be >= 6 but was " + max);
        }
        maxSettingsPerFrame = max;
    }

    /**
     * Sets the most HPACK dynamic-table insertions one header block may make. Default
     * {@value #DEFAULT_MAX_INSERTS_PER_BLOCK}.
     *
     * @param max at least 0
     * @throws IllegalArgumentException if negative
     */
    public void setMaxInsertsPerBlock(int max) {
        hpack.setMaxInsertsPerBlock(max);
    }

    /**
     * Whether PUSH_PROMISE is accepted: only if we sent SETTINGS_ENABLE_PUSH = 1. Default false.
     *
     * @param enabled whether push is enabled
     */
    public void setPushEnabled(boolean enabled) {
        pushEnabled = enabled;
    }

    /** The HPACK decoder, for tests. */
    HpackDecoder hpack() {
        return hpack;
    }

    /** @return the capacity of the payload and block buffers, for tests: never above the limits */
    int bufferedCapacity() {
        return Math.max(payload.length, block.length);
    }

    /** @return whether the input so far ends exactly between two frames, outside a header block */
    public boolean atFrameBoundary() {
        return state == HEADER && headerFill == 0 && blockStream == 0;
    }

    /**
     * Consumes bytes from the server, calling the handler for each frame completed by them.
     *
     * @param in the bytes received; all of them are consumed (its position is moved to its limit)
     *     unless a connection error is thrown
     * @throws Http2Exception a connection error; the reader is failed from then on
     * @throws IllegalStateException if the reader failed before
     */
    public void read(ByteBuffer in) throws Http2Exception {
        if (state == FAILED) {
            throw new IllegalStateException("the reader failed on an earlier error");
        }
        try {
            while (in.hasRemaining()) {
                switch (state) {
                    case HEADER:
                        readHeader(in);
                        break;
                    case PAYLOAD:
                        readPayload(in);
                        break;
                    case DATA:
                        readData(in);
                        break;
                    default: // SKIP
                        int n = Math.min(remaining, in.remaining());
                        in.position(in.position() + n);
                        remaining -= n;
                        if (remaining == 0) {
                            state = HEADER;
                        }
                        break;
                }
            }
        } catch (Http2Exception | RuntimeException | Error e) {
            state = FAILED;
            throw e;
        }
    }

    private void readHeader(ByteBuffer in) throws Http2Exception {
        if (headerFill == 0 && in.remaining() >= FrameType.HEADER_LENGTH) {
            int p = in.position();
            length = (in.get(p) & 0xFF) << 16 | (in.get(p + 1) & 0xFF) << 8 | in.get(p + 2) & 0xFF;
            type = in.get(p + 3) & 0xFF;
            flags = in.get(p + 4) & 0xFF;
            streamId = int32(in, p + 5) & Integer.MAX_VALUE;
            in.position(p + FrameType.HEADER_LENGTH);
        } else {
            int n = Math.min(FrameType.HEADER_LENGTH - headerFill, in.remaining());
            in.get(header, headerFill, n);
            headerFill += n;
            if (headerFill < FrameType.HEADER_LENGTH) {
                return;
            }
            headerFill = 0;
            length = (header[0] & 0xFF) << 16 | (header[1] & 0xFF) << 8 | header[2] & 0xFF;
            type = header[3] & 0xFF;
            flags = header[4] & 0xFF;
            streamId = ((header[5] & 0x7F) << 24 | (header[6] & 0xFF) << 16 | (header[7] & 0xFF) << 8
                    | header[8] & 0xFF);
        }
        beginFrame();
    }

    private void beginFrame() throws Http2Exception {
        remaining = length;
        if (length > maxFrameSize) {
            throw connectionError(Http2ErrorCode.FRAME_SIZE_ERROR, frame() + " exceeds SETTINGS_MAX_FRAME_SIZE "
                    + maxFrameSize);
        }
        if (!prefaceSeen) {
            if (type != FrameType.SETTINGS || (flags & FrameType.FLAG_ACK) != 0) {
                throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, "the server's first frame must be SETTINGS but was "
                        + frame());
            }
            prefaceSeen = true;
        }
        if (blockStream != 0 && type != FrameType.CONTINUATION) {
            throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, frame() + " inside the header block of stream "
                    + blockStream + " (only its CONTINUATION frames may follow until END_HEADERS)");
        }
        state = PAYLOAD;
        switch (type) {
            case FrameType.DATA:
                onStream();
                if (padded() && length < 1) {
                    throw tooShort("its Pad Length");
                }
                state = DATA;
                padLength = padded() ? -1 : 0;
                dataRemaining = length;
                pendingFlow = 0;
                if (length == 0) {
                    state = HEADER;
                    deliverData(empty, 0);
                }
                return;
            case FrameType.HEADERS:
                onStream();
                break;
            case FrameType.PRIORITY:
                onStream();
                if (length != 5) {
                    state = length == 0 ? HEADER : SKIP;
                    handler.onStreamError(Http2Exception.streamError(streamId, Http2ErrorCode.FRAME_SIZE_ERROR,
                            frame() + " must have 5 bytes"));
                    return;
                }
                break;
            case FrameType.RST_STREAM:
                onStream();
                fixedLength(4);
                break;
            case FrameType.SETTINGS:
                onConnection();
                if ((flags & FrameType.FLAG_ACK) != 0 && length != 0) {
                    throw connectionError(Http2ErrorCode.FRAME_SIZE_ERROR, frame() + " is an ACK with a payload");
                }
                if (length % 6 != 0) {
                    throw connectionError(Http2ErrorCode.FRAME_SIZE_ERROR, frame() + " is not a multiple of 6 bytes");
                }
                if (length / 6 > maxSettingsPerFrame) {
                    throw connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, frame() + " carries " + length / 6
                            + " parameters, more than " + maxSettingsPerFrame);
                }
                break;
            case FrameType.PUSH_PROMISE:
                onStream();
                if (!pushEnabled) {
                    throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, frame()
                            + " but we sent SETTINGS_ENABLE_PUSH = 0");
                }
                break;
            case FrameType.PING:
                onConnection();
                fixedLength(8);
                break;
            case FrameType.GOAWAY:
                onConnection();
                if (length < 8) {
                    throw tooShort("its last stream id and error code");
                }
                break;
            case FrameType.WINDOW_UPDATE:
                fixedLength(4);
                break;
            case FrameType.CONTINUATION:
                onStream();
                if (blockStream == 0) {
                    throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, frame()
                            + " without a HEADERS or PUSH_PROMISE frame before it");
                }
                if (streamId != blockStream) {
                    throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, frame() + " inside the header block of stream "
                            + blockStream);
                }
                if (++continuations > maxContinuations) {
                    throw connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, "header block of stream " + streamId
                            + " has more than " + maxContinuations + " CONTINUATION frames");
                }
                break;
            default:
                state = length == 0 ? HEADER : SKIP;
                handler.onUnknownFrame(type, flags, streamId, length);
                return;
        }
        payloadFill = 0;
        if (length == 0) {
            state = HEADER;
            process(empty.clear(), 0);
        }
    }

    private void readPayload(ByteBuffer in) throws Http2Exception {
        if (payloadFill == 0 && in.remaining() >= length) {
            int p = in.position();
            int limit = in.limit();
            state = HEADER;
            try {
                process(in, p);
            } finally {
                in.limit(limit).position(p + length);
            }
            return;
        }
        if (payload.length < length) {
            int n = payload.length;
            while (n < length) {
                n *= 2;
            }
            byte[] bigger = new byte[Math.min(n, maxFrameSize)];
            System.arraycopy(payload, 0, bigger, 0, payloadFill);
            payload = bigger;
            payloadView = ByteBuffer.wrap(payload);
        }
        int n = Math.min(length - payloadFill, in.remaining());
        in.get(payload, payloadFill, n);
        payloadFill += n;
        if (payloadFill == length) {
            state = HEADER;
            payloadFill = 0;
            ByteBuffer whole = payloadView.clear();
            if (payload.length > KEPT_BUFFER) {
                payload = new byte[64];
                payloadView = ByteBuffer.wrap(payload);
            }
            process(whole, 0);
        }
    }

    /** Processes a whole non-DATA payload: {@code buf[off, off + length)}. May move buf's position and limit. */
    private void process(ByteBuffer buf, int off) throws Http2Exception {
        switch (type) {
            case FrameType.HEADERS:
            case FrameType.PUSH_PROMISE:
                beginBlock(buf, off);
                break;
            case FrameType.CONTINUATION:
                fragment(buf, off, length, (flags & FrameType.FLAG_END_HEADERS) != 0);
                break;
            case FrameType.PRIORITY: {
                int word = int32(buf, off);
                int dependency = word & Integer.MAX_VALUE;
                if (dependency == streamId) {
                    handler.onStreamError(Http2Exception.streamError(streamId, Http2ErrorCode.PROTOCOL_ERROR,
                            frame() + " makes the stream depend on itself"));
                } else {
                    handler.onPriority(streamId, dependency, (buf.get(off + 4) & 0xFF) + 1, word < 0);
                }
                break;
            }
            case FrameType.RST_STREAM:
                handler.onRstStream(streamId, int32(buf, off));
                break;
            case FrameType.SETTINGS:
                if ((flags & FrameType.FLAG_ACK) != 0) {
                    handler.onSettingsAck();
                } else {
                    settings(buf, off);
                }
                break;
            case FrameType.PING:
                handler.onPing((long) int32(buf, off) << 32 | int32(buf, off + 4) & 0xFFFF_FFFFL, (flags & FrameType.FLAG_ACK) != 0);
                break;
            case FrameType.GOAWAY: {
                int last = int32(buf, off) & Integer.MAX_VALUE;
                int code = int32(buf, off + 4);
                buf.limit(off + length).position(off + 8);
                handler.onGoAway(last, code, buf);
                break;
            }
            default: { // WINDOW_UPDATE
                int increment = int32(buf, off) & Integer.MAX_VALUE;
                if (increment != 0) {
                    handler.onWindowUpdate(streamId, increment);
                } else if (streamId == 0) {
                    throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, frame() + " has a zero increment");
                } else {
                    handler.onStreamError(Http2Exception.streamError(streamId, Http2ErrorCode.PROTOCOL_ERROR,
                            frame() + " has a zero increment"));
                }
                break;
            }
        }
    }

    private void settings(ByteBuffer buf, int off) throws Http2Exception {
        settings.clear();
        for (int p = off, end = off + length; p < end; p += 6) {
            int id = (buf.get(p) & 0xFF) << 8 | buf.get(p + 1) & 0xFF;
            long value = int32(buf, p + 2) & 0xFFFF_FFFFL;
            if (id < Http2Settings.HEADER_TABLE_SIZE || id > Http2Settings.MAX_HEADER_LIST_SIZE) {
                continue; // unknown settings are ignored (§6.5.2)
            }
            String problem = Http2Settings.check(id, value);
            if (problem == null && id == Http2Settings.ENABLE_PUSH && value == 1) {
                problem = "SETTINGS_ENABLE_PUSH is 1, which a server must not send";
            }
            if (problem != null) {
                throw connectionError(id == Http2Settings.INITIAL_WINDOW_SIZE ? Http2ErrorCode.FLOW_CONTROL_ERROR
                        : Http2ErrorCode.PROTOCOL_ERROR, frame() + ": " + problem);
            }
            settings.set(id, value);
        }
        handler.onSettings(settings);
    }

    private void beginBlock(ByteBuffer buf, int off) throws Http2Exception {
        int p = off;
        int end = off + length;
        int pad = 0;
        if (padded()) {
            if (length < 1) {
                throw tooShort("its Pad Length");
            }
            pad = buf.get(p++) & 0xFF;
        }
        boolean selfDependent = false;
        int promised = 0;
        if (type == FrameType.HEADERS) {
            if ((flags & FrameType.FLAG_PRIORITY) != 0) {
                if (end - p < 5) {
                    throw tooShort("its priority fields");
                }
                selfDependent = (int32(buf, p) & Integer.MAX_VALUE) == streamId;
                p += 5;
            }
        } else {
            if (end - p < 4) {
                throw tooShort("its promised stream id");
            }
            promised = int32(buf, p) & Integer.MAX_VALUE;
            p += 4;
            if (promised == 0 || (promised & 1) != 0) {
                throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, frame() + " promises stream " + promised
                        + " (a server's streams are even and non-zero)");
            }
        }
        if (pad > end - p) {
            throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, frame() + " has " + pad
                    + " bytes of padding but only " + (end - p) + " bytes after its fixed fields");
        }
        blockType = type;
        blockEndStream = (flags & FrameType.FLAG_END_STREAM) != 0;
        blockPromised = promised;
        blockSelfDependent = selfDependent;
        continuations = 0;
        blockFill = 0;
        fragment(buf, p, end - pad - p, (flags & FrameType.FLAG_END_HEADERS) != 0);
    }

    private void fragment(ByteBuffer buf, int off, int len, boolean endHeaders) throws Http2Exception {
        int stream = streamId;
        if (blockFill + len > maxHeaderBlockSize) {
            throw connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, "header block of stream " + stream
                    + " exceeds " + maxHeaderBlockSize + " bytes");
        }
        if (endHeaders && blockFill == 0) {
            blockStream = 0;
            buf.limit(off + len).position(off);
            deliverBlock(buf, stream);
            return;
        }
        if (block.length < blockFill + len) {
            int n = block.length;
            while (n < blockFill + len) {
                n *= 2;
            }
            byte[] bigger = new byte[Math.min(n, maxHeaderBlockSize)];
            System.arraycopy(block, 0, bigger, 0, blockFill);
            block = bigger;
        }
        buf.get(off, block, blockFill, len);
        blockFill += len;
        if (endHeaders) {
            blockStream = 0;
            ByteBuffer assembled = ByteBuffer.wrap(block, 0, blockFill);
            if (block.length > KEPT_BUFFER) {
                block = new byte[256]; // a rare large block does not pin memory for the connection's life
            }
            deliverBlock(assembled, stream);
        } else {
            blockStream = stream;
        }
    }

    private void deliverBlock(ByteBuffer blockBytes, int stream) throws Http2Exception {
        boolean push = blockType == FrameType.PUSH_PROMISE;
        Http2Headers headers;
        try {
            headers = hpack.decode(blockBytes, push ? blockPromised : stream);
        } catch (Http2Exception e) {
            if (e.isConnectionError()) {
                throw e;
            }
            handler.onStreamError(e);
            return;
        }
        if (blockSelfDependent) {
            handler.onStreamError(Http2Exception.streamError(stream, Http2ErrorCode.PROTOCOL_ERROR,
                    "HEADERS frame on stream " + stream + " makes the stream depend on itself"));
        } else if (push) {
            handler.onPushPromise(stream, blockPromised, headers);
        } else {
            handler.onHeaders(stream, headers, blockEndStream);
        }
    }

    private void readData(ByteBuffer in) throws Http2Exception {
        if (padLength < 0) {
            padLength = in.get() & 0xFF;
            remaining--;
            pendingFlow++;
            if (padLength > remaining) {
                throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, frame() + " has " + padLength
                        + " bytes of padding but only " + remaining + " bytes after its Pad Length");
            }
            dataRemaining = remaining - padLength;
        }
        int start = in.position();
        int n = Math.min(dataRemaining, in.remaining());
        dataRemaining -= n;
        remaining -= n;
        int padding = dataRemaining == 0 ? Math.min(remaining, in.remaining() - n) : 0;
        remaining -= padding;
        pendingFlow += n + padding;
        in.position(start + n + padding);
        if (n > 0 || remaining == 0) {
            if (remaining == 0) {
                state = HEADER;
            }
            int after = in.position();
            int limit = in.limit();
            try {
                in.limit(start + n).position(start);
                deliverData(in, pendingFlow);
            } finally {
                in.limit(limit).position(after);
            }
        }
    }

    private void deliverData(ByteBuffer data, int flowControlled) throws Http2Exception {
        pendingFlow = 0;
        boolean end = remaining == 0;
        handler.onData(streamId, data, flowControlled, end, end && (flags & FrameType.FLAG_END_STREAM) != 0);
    }

    private boolean padded() {
        return (flags & FrameType.FLAG_PADDED) != 0;
    }

    private void onStream() throws Http2Exception {
        if (streamId == 0) {
            throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, frame() + " (it must be on a stream)");
        }
    }

    private void onConnection() throws Http2Exception {
        if (streamId != 0) {
            throw connectionError(Http2ErrorCode.PROTOCOL_ERROR, frame() + " (it must be on stream 0)");
        }
    }

    private void fixedLength(int n) throws Http2Exception {
        if (length != n) {
            throw connectionError(Http2ErrorCode.FRAME_SIZE_ERROR, frame() + " must have " + n + " bytes");
        }
    }

    private Http2Exception tooShort(String what) {
        return connectionError(Http2ErrorCode.FRAME_SIZE_ERROR, frame() + " is too short for " + what);
    }

    /** @return e.g. {@code HEADERS frame of 20 bytes on stream 3} */
    private String frame() {
        return FrameType.name(type) + " frame of " + length + " bytes on stream " + streamId;
    }

    /** A big-endian int at {@code p}, whatever the buffer's byte order. */
    private static int int32(ByteBuffer b, int p) {
        return (b.get(p) & 0xFF) << 24 | (b.get(p + 1) & 0xFF) << 16 | (b.get(p + 2) & 0xFF) << 8 | b.get(p + 3) & 0xFF;
    }

    private static Http2Exception connectionError(Http2ErrorCode code, String message) {
        return Http2Exception.connectionError(code, message);
    }
}
