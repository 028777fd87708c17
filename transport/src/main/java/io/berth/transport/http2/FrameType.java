package io.berth.transport.http2;

/** Frame types and flags of RFC 9113 §6, with names for messages. */
final class FrameType {
    static final int DATA = 0x0;
    static final int HEADERS = 0x1;
    static final int PRIORITY = 0x2;
    static final int RST_STREAM = 0x3;
    static final int SETTINGS = 0x4;
    static final int PUSH_PROMISE = 0x5;
    static final int PING = 0x6;
    static final int GOAWAY = 0x7;
    static final int WINDOW_UPDATE = 0x8;
    static final int CONTINUATION = 0x9;

    static final int FLAG_END_STREAM = 0x1;
    static final int FLAG_ACK = 0x1;
    static final int FLAG_END_HEADERS = 0x4;
    static final int FLAG_PADDED = 0x8;
    static final int FLAG_PRIORITY = 0x20;

    /** The length of a frame header: 9 bytes. */
    static final int HEADER_LENGTH = 9;

    private static final String[] NAMES = {"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS",
        "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"};

    private FrameType() {
    }

    /** @return the type's name, e.g. {@code HEADERS}, or {@code type 0x%x} for an unknown type */
    static String name(int type) {
        return type >= 0 && type < NAMES.length ? NAMES[type] : "type 0x" + Integer.toHexString(type);
    }
}
