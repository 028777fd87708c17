package io.berth.transport.http2;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;

/**
 * Feeds bytes to an {@link Http2FrameReader} split at given points, checks the reader's invariants on
 * every call, and describes what it delivered as a string, so that two runs of the same bytes with
 * different splits can be compared. DATA pieces are joined per frame, since how a frame's payload is
 * cut into pieces depends on the input's splits by design.
 *
 * <p>Invariants: only {@link Http2Exception} escapes, always a connection error, and after it the
 * reader refuses more input; every call consumes its whole input (so every call makes progress and
 * nothing can hang) and leaves the input's limit as it was; no buffer beyond its limit; DATA pieces
 * account for at least their bytes, END_STREAM only at the end of a frame, a frame's pieces all on
 * one stream and summing to at most the frame size; stream errors name a stream; decoded lists
 * within the header-list limit. Shared by the split, mutation and Jazzer fuzz tests.
 */
final class FrameHarness {
    /** Small limits, so that fuzzed input reaches them (the header-block limit is twice the list limit). */
    static final int MAX_LIST = 1024;
    static final int MAX_CONTINUATIONS = 4;
    static final int MAX_INSERTS = 8;

    private FrameHarness() {
    }

    /** How the input buffers are made: heap, direct, or heap with little-endian order. */
    enum Kind { HEAP, DIRECT, LITTLE_ENDIAN }

    /**
     * @param input the bytes from the server
     * @param cuts sorted split points in (0, input.length), may repeat
     * @param push whether PUSH_PROMISE is enabled
     * @return a description of the frames and the error, if any
     */
    static String run(byte[] input, int[] cuts, boolean push) {
        return run(input, cuts, push, Kind.HEAP);
    }

    static String run(byte[] input, int[] cuts, boolean push, Kind kind) {
        return run(input, cuts, push, kind, false);
    }

    /**
     * @param hideLastByte the must-fail canary: each piece is handed to the reader without its last
     *     byte, as if the reader had left it unconsumed; the checker must then fail
     */
    static String run(byte[] input, int[] cuts, boolean push, Kind kind, boolean hideLastByte) {
        Recorder rec = new Recorder();
        Http2FrameReader reader = new Http2FrameReader(rec);
        reader.setMaxHeaderListSize(MAX_LIST);
        reader.setMaxContinuations(MAX_CONTINUATIONS);
        reader.setMaxInsertsPerBlock(MAX_INSERTS);
        reader.setPushEnabled(push);
        int from = 0;
        try {
            for (int i = 0; i <= cuts.length; i++) {
                int to = i < cuts.length ? cuts[i] : input.length;
                if (to <= from) {
                    continue;
                }
                ByteBuffer piece = buffer(input, from, to, kind);
                from = to;
                int limit = piece.limit();
                if (hideLastByte) {
                    piece.limit(limit - 1);
                    reader.read(piece);
                    piece.limit(limit);
                } else {
                    reader.read(piece);
                }
                check(!piece.hasRemaining(), "read left input unconsumed");
                check(piece.limit() == limit, "read changed the input's limit");
                check(reader.bufferedCapacity() <= Math.max(Http2Settings.DEFAULT_MAX_FRAME_SIZE, 2 * MAX_LIST),
                        "reader buffered beyond its limits");
                check(!rec.inDataFrame || rec.dataStream != 0, "data piece without a stream");
            }
            return rec.out.append(reader.atFrameBoundary() && !rec.inDataFrame ? "end" : "incomplete").toString();
        } catch (Http2Exception e) {
            check(e.isConnectionError(), "a stream error was thrown");
            try {
                reader.read(ByteBuffer.allocate(1));
                throw new AssertionError("a failed reader accepted more input");
            } catch (IllegalStateException expected) {
                // failed for good
            } catch (Http2Exception other) {
                throw new AssertionError("a failed reader threw " + other);
            }
            return rec.out.append("error ").append(e.errorCode()).append(' ').append(e.getMessage()).toString();
        }
    }

    private static ByteBuffer buffer(byte[] input, int from, int to, Kind kind) {
        switch (kind) {
            case DIRECT: {
                ByteBuffer b = ByteBuffer.allocateDirect(to - from + 6);
                b.position(3);
                b.put(input, from, to - from);
                return b.flip().position(3);
            }
            case LITTLE_ENDIAN:
                return ByteBuffer.wrap(input, from, to - from).order(ByteOrder.LITTLE_ENDIAN);
            default:
                return ByteBuffer.wrap(input, from, to - from);
        }
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    /** Writes every frame as a line; checks what a handler can check. */
    static class Recorder implements Http2FrameReader.Handler {
        final StringBuilder out = new StringBuilder();
        private final ByteArrayOutputStream data = new ByteArrayOutputStream();
        boolean inDataFrame;
        int dataStream;
        private long dataFlow;

        @Override
        public void onData(int streamId, ByteBuffer d, int flowControlled, boolean endOfFrame, boolean endStream) {
            check(streamId > 0, "DATA on stream 0");
            check(!inDataFrame || streamId == dataStream, "a DATA frame's pieces on two streams");
            check(flowControlled >= d.remaining(), "flow-controlled bytes below the data bytes");
            check(!endStream || endOfFrame, "END_STREAM before the end of the frame");
            inDataFrame = !endOfFrame;
            dataStream = streamId;
            dataFlow += flowControlled;
            byte[] b = new byte[d.remaining()];
            d.get(b);
            data.writeBytes(b);
            check(dataFlow <= Http2Settings.DEFAULT_MAX_FRAME_SIZE, "a DATA frame larger than the frame size");
            if (endOfFrame) {
                out.append("DATA ").append(streamId).append(" flow ").append(dataFlow).append(endStream ? " end " : " ")
                        .append(HexFormat.of().formatHex(data.toByteArray())).append('\n');
                data.reset();
                dataFlow = 0;
            }
        }

        @Override
        public void onHeaders(int streamId, Http2Headers headers, boolean endStream) {
            noData();
            check(headers.listSize() <= MAX_LIST, "a header list over the limit");
            out.append("HEADERS ").append(streamId).append(endStream ? " end\n" : "\n").append(headers);
        }

        @Override
        public void onPriority(int streamId, int dependency, int weight, boolean exclusive) {
            noData();
            check(weight >= 1 && weight <= 256 && dependency != streamId, "bad priority");
            out.append("PRIORITY ").append(streamId).append(" on ").append(dependency).append(" weight ")
                    .append(weight).append(exclusive ? " exclusive\n" : "\n");
        }

        @Override
        public void onRstStream(int streamId, int errorCode) {
            noData();
            out.append("RST_STREAM ").append(streamId).append(' ').append(Http2ErrorCode.describe(errorCode)).append('\n');
        }

        @Override
        public void onSettings(Http2Settings settings) {
            noData();
            out.append("SETTINGS ").append(settings).append('\n');
        }

        @Override
        public void onSettingsAck() {
            noData();
            out.append("SETTINGS ACK\n");
        }

        @Override
        public void onPushPromise(int streamId, int promisedStreamId, Http2Headers headers) {
            noData();
            check(promisedStreamId > 0 && promisedStreamId % 2 == 0, "bad promised stream");
            out.append("PUSH_PROMISE ").append(streamId).append(" promises ").append(promisedStreamId).append('\n')
                    .append(headers);
        }

        @Override
        public void onPing(long payload, boolean ack) {
            noData();
            out.append("PING ").append(Long.toHexString(payload)).append(ack ? " ack\n" : "\n");
        }

        @Override
        public void onGoAway(int lastStreamId, int errorCode, ByteBuffer debugData) {
            noData();
            byte[] b = new byte[debugData.remaining()];
            debugData.get(b);
            out.append("GOAWAY ").append(lastStreamId).append(' ').append(Http2ErrorCode.describe(errorCode))
                    .append(' ').append(HexFormat.of().formatHex(b)).append('\n');
        }

        @Override
        public void onWindowUpdate(int streamId, int increment) {
            noData();
            check(increment > 0, "zero increment delivered");
            out.append("WINDOW_UPDATE ").append(streamId).append(" +").append(increment).append('\n');
        }

        @Override
        public void onStreamError(Http2Exception error) {
            noData();
            check(!error.isConnectionError() && error.streamId() > 0, "a stream error without a stream");
            out.append("stream error ").append(error.streamId()).append(' ').append(error.errorCode()).append(' ')
                    .append(error.getMessage()).append('\n');
        }

        @Override
        public void onUnknownFrame(int type, int flags, int streamId, int length) {
            noData();
            out.append("unknown ").append(FrameType.name(type)).append(" flags ").append(flags).append(" on ")
                    .append(streamId).append(" length ").append(length).append('\n');
        }

        private void noData() {
            check(!inDataFrame, "another frame inside a DATA frame");
        }
    }
}
