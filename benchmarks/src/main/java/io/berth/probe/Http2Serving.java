package io.berth.probe;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The embedded backend's HTTP/2 side (RFC 9113): serves one connection whose client chose {@code h2}
 * through ALPN, answering every request (a stream whose HEADERS, and DATA if any, ended) with the
 * same small response as over HTTP/1.1, and counting what the client did.
 *
 * <p>Just enough of the protocol for a client to be judged by: the server's SETTINGS allow
 * {@link #MAX_CONCURRENT_STREAMS} streams at once, and a stream beyond them is refused
 * ({@code RST_STREAM(REFUSED_STREAM)}); PING is answered; request bodies are credited
 * ({@code WINDOW_UPDATE}) as they arrive; a response's DATA waits for the client's connection and
 * stream windows ({@code SETTINGS_INITIAL_WINDOW_SIZE} and {@code WINDOW_UPDATE} both honoured);
 * {@code RST_STREAM} drops a stream; CONTINUATION completes a header block; a GOAWAY from the client is
 * noted (the client then closes). Frames on a stream already closed are ignored, as RFC 9113 §5.1
 * allows after a reset. The server never closes a connection first, unless the client breaks the
 * protocol: it then sends GOAWAY with the error and {@link #serve} returns what was wrong.
 *
 * <p>Request header blocks are not decoded: the answer does not depend on them, so the server keeps
 * no HPACK state that could disagree with the client's. The response head is encoded with the static
 * table and literals only ({@code :status 200}, {@code content-type}, {@code content-length}), which
 * needs no state either.
 *
 * <p>Not thread-safe: one instance per connection, used by that connection's thread alone.
 */
final class Http2Serving {
    /** The server's SETTINGS_MAX_CONCURRENT_STREAMS. */
    static final int MAX_CONCURRENT_STREAMS = 100;

    /** What the server counts for its connection; called on the connection's thread. */
    interface Counts {
        /** A request ended: its response is being sent. */
        void answered();

        /** A stream was refused: the client went beyond {@link #MAX_CONCURRENT_STREAMS}. */
        void refused();

        /** The client sent GOAWAY. */
        void goAway();
    }

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int DATA = 0x0;
    private static final int HEADERS = 0x1;
    private static final int RST_STREAM = 0x3;
    private static final int SETTINGS = 0x4;
    private static final int PUSH_PROMISE = 0x5;
    private static final int PING = 0x6;
    private static final int GOAWAY = 0x7;
    private static final int WINDOW_UPDATE = 0x8;
    private static final int CONTINUATION = 0x9;
    private static final int END_STREAM = 0x1;
    private static final int ACK = 0x1;
    private static final int END_HEADERS = 0x4;
    private static final int PADDED = 0x8;
    private static final int PRIORITY_FLAG = 0x20;
    private static final int PROTOCOL_ERROR = 0x1;
    private static final int FLOW_CONTROL_ERROR = 0x3;
    private static final int STREAM_CLOSED = 0x5;
    private static final int FRAME_SIZE_ERROR = 0x6;
    private static final int REFUSED_STREAM = 0x7;
    private static final int DEFAULT_WINDOW = 65_535;
    private static final int MAX_WINDOW = Integer.MAX_VALUE;
    /** The largest frame payload the server takes: SETTINGS_MAX_FRAME_SIZE at its default. */
    private static final int MAX_FRAME = 16_384;

    private final InputStream in;
    private final OutputStream out;
    private final byte[] body;
    private final byte[] responseHead;
    private final Counts counts;
    private final Map<Integer, Stream> streams = new HashMap<>();
    /** Responses whose DATA waits for window, in the order their requests ended. */
    private final ArrayDeque<Stream> sending = new ArrayDeque<>();
    private final byte[] header = new byte[9];
    private int lastStreamId;
    private long connectionWindow = DEFAULT_WINDOW;
    private int initialStreamWindow = DEFAULT_WINDOW;
    private int clientMaxFrame = MAX_FRAME;
    /** The stream whose header block CONTINUATION frames must complete, or 0. */
    private int continuing;

    /**
     * @param in the connection's input, after the TLS handshake
     * @param out the connection's output (buffered: the server flushes after each frame it handled)
     * @param body the response body sent for every request
     * @param counts told what the client did
     */
    Http2Serving(InputStream in, OutputStream out, byte[] body, Counts counts) {
        this.in = in;
        this.out = out;
        this.body = body;
        this.counts = counts;
        this.responseHead = responseHead(body.length);
    }

    /** A client that broke the protocol: the server sent GOAWAY with {@link #code}. */
    private static final class ProtocolError extends Exception {
        private static final long serialVersionUID = 1L;
        final int code;

        ProtocolError(int code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    /** A stream the client opened and the server has not finished with. */
    private static final class Stream {
        final int id;
        long window;
        boolean requestEnded;
        /** END_STREAM came on a HEADERS frame whose header block CONTINUATION frames still complete. */
        boolean endsWithHeaderBlock;
        int bodySent;

        Stream(int id, int window) {
            this.id = id;
            this.window = window;
        }
    }

    /**
     * Serves the connection until the client ends it.
     *
     * @return {@code null} when the client's stream of bytes ended (before the preface, or at or
     *     inside a frame: the caller tells how from the TCP and TLS layers), or what the client did
     *     wrong, after the server sent GOAWAY for it
     * @throws IOException as the connection's streams throw it
     */
    String serve() throws IOException {
        try {
            int first = in.read();
            if (first < 0) {
                return null; // closed before the preface
            }
            byte[] preface = new byte[PREFACE.length];
            preface[0] = (byte) first;
            readFully(preface, 1, preface.length - 1);
            if (!Arrays.equals(preface, PREFACE)) {
                throw new ProtocolError(PROTOCOL_ERROR, "the connection preface is wrong");
            }
            // SETTINGS: MAX_CONCURRENT_STREAMS; every other setting at its default.
            frame(SETTINGS, 0, 0, new byte[] {0, 0x3, 0, 0, 0, (byte) MAX_CONCURRENT_STREAMS}, 6);
            out.flush();
            while (true) {
                int n = in.read(header, 0, 1);
                if (n < 0) {
                    return null;
                }
                readFully(header, 1, header.length - 1);
                int length = (header[0] & 0xff) << 16 | (header[1] & 0xff) << 8 | header[2] & 0xff;
                int type = header[3] & 0xff;
                int flags = header[4] & 0xff;
                int stream = int31(header, 5);
                if (length > MAX_FRAME) {
                    throw new ProtocolError(FRAME_SIZE_ERROR, "a frame of " + length + " bytes, over " + MAX_FRAME);
                }
                byte[] payload = new byte[length];
                readFully(payload, 0, length);
                if (continuing != 0 && (type != CONTINUATION || stream != continuing)) {
                    throw new ProtocolError(PROTOCOL_ERROR, "a header block of stream " + continuing
                            + " was interrupted by a frame of type " + type + " on stream " + stream);
                }
                handle(type, flags, stream, payload);
                send();
                out.flush();
            }
        } catch (ProtocolError e) {
            byte[] debug = e.getMessage().getBytes(StandardCharsets.US_ASCII);
            byte[] goAway = new byte[8 + debug.length];
            putInt(goAway, 0, lastStreamId);
            putInt(goAway, 4, e.code);
            System.arraycopy(debug, 0, goAway, 8, debug.length);
            frame(GOAWAY, 0, 0, goAway, goAway.length);
            out.flush();
            return e.getMessage();
        }
    }

    private void handle(int type, int flags, int id, byte[] p) throws IOException, ProtocolError {
        switch (type) {
            case HEADERS -> headers(flags, id, p);
            case CONTINUATION -> {
                if ((flags & END_HEADERS) != 0) {
                    continuing = 0;
                    Stream s = streams.get(id);
                    if (s != null && s.endsWithHeaderBlock) {
                        requestEnded(s);
                    }
                }
            }
            case DATA -> data(flags, id, p);
            case RST_STREAM -> {
                check(id != 0 && p.length == 4, "RST_STREAM on stream 0 or not 4 bytes long");
                Stream s = streams.remove(id);
                if (s != null) {
                    sending.remove(s);
                }
            }
            case SETTINGS -> settings(flags, id, p);
            case PING -> {
                check(id == 0, "PING on stream " + id);
                if (p.length != 8) {
                    throw new ProtocolError(FRAME_SIZE_ERROR, "PING of " + p.length + " bytes");
                }
                if ((flags & ACK) == 0) {
                    frame(PING, ACK, 0, p, 8);
                }
            }
            case GOAWAY -> {
                check(id == 0 && p.length >= 8, "GOAWAY on stream " + id + " or shorter than 8 bytes");
                counts.goAway();
            }
            case WINDOW_UPDATE -> windowUpdate(id, p);
            case PUSH_PROMISE -> throw new ProtocolError(PROTOCOL_ERROR, "a client sent PUSH_PROMISE");
            default -> {
                // PRIORITY, and unknown types (RFC 9113 §5.5): ignored
            }
        }
    }

    private void headers(int flags, int id, byte[] p) throws ProtocolError, IOException {
        check(id != 0, "HEADERS on stream 0");
        int start = (flags & PADDED) != 0 ? 1 : 0;
        int padding = start == 1 && p.length > 0 ? p[0] & 0xff : 0;
        start += (flags & PRIORITY_FLAG) != 0 ? 5 : 0;
        check(start + padding <= p.length, "HEADERS whose padding or priority exceeds the frame");
        boolean end = (flags & END_STREAM) != 0;
        boolean complete = (flags & END_HEADERS) != 0;
        Stream s = streams.get(id);
        if (s != null) {
            // Trailers: they must end the request.
            check(end && !s.requestEnded, "HEADERS on stream " + id + " after its request head, without END_STREAM");
        } else if (id > lastStreamId) { // else a stream the server reset or finished: ignored
            check(id % 2 == 1, "the client opened an even stream, " + id);
            lastStreamId = id;
            if (streams.size() >= MAX_CONCURRENT_STREAMS) {
                rst(id, REFUSED_STREAM);
                counts.refused();
            } else {
                s = new Stream(id, initialStreamWindow);
                streams.put(id, s);
            }
        }
        if (!complete) {
            continuing = id;
            if (s != null) {
                s.endsWithHeaderBlock = end;
            }
        } else if (end && s != null) {
            requestEnded(s);
        }
    }

    private void data(int flags, int id, byte[] p) throws ProtocolError, IOException {
        check(id != 0, "DATA on stream 0");
        int padding = (flags & PADDED) != 0 && p.length > 0 ? (p[0] & 0xff) + 1 : 0;
        check(padding <= p.length, "DATA whose padding exceeds the frame");
        if (p.length > 0) {
            windowUpdate(0, p.length); // the server reads (and drops) every body byte at once
        }
        Stream s = streams.get(id);
        if (s == null) {
            check(id <= lastStreamId, "DATA on stream " + id + ", which the client never opened");
            return; // a stream reset or finished
        }
        if (s.requestEnded) {
            throw new ProtocolError(STREAM_CLOSED, "DATA on stream " + id + " after its request ended");
        }
        if ((flags & END_STREAM) != 0) {
            requestEnded(s);
        } else if (p.length > 0) {
            windowUpdate(id, p.length);
        }
    }

    private void settings(int flags, int id, byte[] p) throws ProtocolError, IOException {
        check(id == 0, "SETTINGS on stream " + id);
        if ((flags & ACK) != 0) {
            if (p.length != 0) {
                throw new ProtocolError(FRAME_SIZE_ERROR, "a SETTINGS acknowledgement with a payload");
            }
            return;
        }
        if (p.length % 6 != 0) {
            throw new ProtocolError(FRAME_SIZE_ERROR, "SETTINGS of " + p.length + " bytes");
        }
        for (int i = 0; i < p.length; i += 6) {
            int setting = (p[i] & 0xff) << 8 | p[i + 1] & 0xff;
            long value = Integer.toUnsignedLong(getInt(p, i + 2));
            if (setting == 0x4) { // INITIAL_WINDOW_SIZE
                if (value > MAX_WINDOW) {
                    throw new ProtocolError(FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE " + value);
                }
                long delta = value - initialStreamWindow;
                for (Stream s : streams.values()) {
                    s.window += delta;
                }
                initialStreamWindow = (int) value;
            } else if (setting == 0x5) { // MAX_FRAME_SIZE
                check(value >= MAX_FRAME && value <= 0xFFFFFF, "SETTINGS_MAX_FRAME_SIZE " + value);
                clientMaxFrame = (int) value;
            } else if (setting == 0x2) { // ENABLE_PUSH
                check(value <= 1, "SETTINGS_ENABLE_PUSH " + value);
            }
        }
        frame(SETTINGS, ACK, 0, new byte[0], 0);
    }

    private void windowUpdate(int id, byte[] p) throws ProtocolError {
        if (p.length != 4) {
            throw new ProtocolError(FRAME_SIZE_ERROR, "WINDOW_UPDATE of " + p.length + " bytes");
        }
        int increment = int31(p, 0);
        check(increment > 0, "WINDOW_UPDATE of 0 on stream " + id);
        if (id == 0) {
            connectionWindow += increment;
            if (connectionWindow > MAX_WINDOW) {
                throw new ProtocolError(FLOW_CONTROL_ERROR, "the connection window overflowed");
            }
            return;
        }
        Stream s = streams.get(id);
        if (s != null) {
            s.window += increment;
            if (s.window > MAX_WINDOW) {
                throw new ProtocolError(FLOW_CONTROL_ERROR, "the window of stream " + id + " overflowed");
            }
        }
    }

    /** The request of {@code s} ended: its response head goes out now, its body as the windows allow. */
    private void requestEnded(Stream s) throws IOException {
        s.requestEnded = true;
        counts.answered();
        frame(HEADERS, END_HEADERS, s.id, responseHead, responseHead.length);
        sending.add(s);
    }

    /** Sends what the windows allow of the responses waiting, in order. */
    private void send() throws IOException {
        for (Iterator<Stream> it = sending.iterator(); it.hasNext(); ) {
            Stream s = it.next();
            int left = body.length - s.bodySent;
            int n = (int) Math.min(Math.min(left, clientMaxFrame), Math.min(connectionWindow, s.window));
            if (n <= 0 && left > 0) {
                if (connectionWindow <= 0) {
                    return;
                }
                continue;
            }
            boolean last = n == left;
            byte[] chunk = Arrays.copyOfRange(body, s.bodySent, s.bodySent + n);
            frame(DATA, last ? END_STREAM : 0, s.id, chunk, n);
            s.bodySent += n;
            s.window -= n;
            connectionWindow -= n;
            if (last) {
                it.remove();
                streams.remove(s.id);
            }
        }
    }

    private void rst(int id, int code) throws IOException {
        byte[] p = new byte[4];
        putInt(p, 0, code);
        frame(RST_STREAM, 0, id, p, 4);
    }

    private void windowUpdate(int id, int increment) throws IOException {
        byte[] p = new byte[4];
        putInt(p, 0, increment);
        frame(WINDOW_UPDATE, 0, id, p, 4);
    }

    private void frame(int type, int flags, int id, byte[] payload, int length) throws IOException {
        byte[] h = {(byte) (length >>> 16), (byte) (length >>> 8), (byte) length, (byte) type, (byte) flags, 0, 0, 0, 0};
        putInt(h, 5, id);
        out.write(h);
        out.write(payload, 0, length);
    }

    private static void check(boolean ok, String problem) throws ProtocolError {
        if (!ok) {
            throw new ProtocolError(PROTOCOL_ERROR, problem);
        }
    }

    private void readFully(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = in.read(b, off, len);
            if (n < 0) {
                throw new EOFException("the client's bytes ended inside a frame");
            }
            off += n;
            len -= n;
        }
    }

    private static int int31(byte[] b, int off) {
        return getInt(b, off) & 0x7fffffff;
    }

    private static int getInt(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | b[off + 3] & 0xff;
    }

    private static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    /**
     * The response head as an HPACK block (RFC 7541) that needs no table state: {@code :status 200}
     * from the static table (index 8), then {@code content-type: text/plain} and
     * {@code content-length} as literals without indexing whose names are static entries 31 and 28.
     */
    private static byte[] responseHead(int length) {
        byte[] type = "text/plain".getBytes(StandardCharsets.US_ASCII);
        byte[] len = Integer.toString(length).getBytes(StandardCharsets.US_ASCII);
        byte[] block = new byte[1 + 3 + type.length + 3 + len.length];
        int i = 0;
        block[i++] = (byte) 0x88;
        block[i++] = 0x0f; // literal without indexing, name index 31 = 15 + 16
        block[i++] = 16;
        block[i++] = (byte) type.length;
        System.arraycopy(type, 0, block, i, type.length);
        i += type.length;
        block[i++] = 0x0f; // literal without indexing, name index 28 = 15 + 13
        block[i++] = 13;
        block[i++] = (byte) len.length;
        System.arraycopy(len, 0, block, i, len.length);
        return block;
    }
}
