package io.berth.transport.http2;

import java.io.ByteArrayOutputStream;

/** Builds raw HTTP/2 frames for tests, byte by byte, without the writer. */
final class Frames {
    /** An empty SETTINGS frame: the shortest valid server preface. */
    static final byte[] SETTINGS_EMPTY = frame(FrameType.SETTINGS, 0, 0, "");

    private Frames() {
    }

    static byte[] frame(int type, int flags, int stream, String payloadHex) {
        return frame(type, flags, stream, Hex.bytes(payloadHex));
    }

    static byte[] frame(int type, int flags, int stream, byte[] payload) {
        return frame(payload.length, type, flags, stream, payload);
    }

    /** A frame whose length field says {@code length}, whatever the payload. */
    static byte[] frame(int length, int type, int flags, int stream, byte[] payload) {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (length >>> 16);
        f[1] = (byte) (length >>> 8);
        f[2] = (byte) length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        f[5] = (byte) (stream >>> 24);
        f[6] = (byte) (stream >>> 16);
        f[7] = (byte) (stream >>> 8);
        f[8] = (byte) stream;
        System.arraycopy(payload, 0, f, 9, payload.length);
        return f;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** @return the server preface (an empty SETTINGS frame) followed by {@code frames} */
    static byte[] afterPreface(byte[]... frames) {
        byte[][] all = new byte[frames.length + 1][];
        all[0] = SETTINGS_EMPTY;
        System.arraycopy(frames, 0, all, 1, frames.length);
        return concat(all);
    }
}
