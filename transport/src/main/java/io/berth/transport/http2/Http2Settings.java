package io.berth.transport.http2;

/**
 * The parameters of one SETTINGS frame (RFC 9113 §6.5): which of the six defined settings it carries,
 * and their values. Used both ways: {@link Http2FrameReader} fills one (reused for every frame, valid
 * during the {@link Http2FrameReader.Handler#onSettings} call) and {@link Http2FrameWriter} writes
 * one. Settings the frame does not carry keep the peer's previous value; this class does not track
 * those, the connection does.
 *
 * <p>Values are unsigned 32-bit numbers, hence {@code long}. {@link #set(int, long)} checks the range
 * RFC 9113 gives each setting; the reader reports a peer's out-of-range value as the connection error
 * the RFC names.
 *
 * <p>Not thread-safe.
 */
public final class Http2Settings {
    /** 0x1 SETTINGS_HEADER_TABLE_SIZE: the HPACK dynamic table size the sender's decoder allows; initially 4096. */
    public static final int HEADER_TABLE_SIZE = 0x1;
    /** 0x2 SETTINGS_ENABLE_PUSH: 0 or 1; initially 1. A server never sends 1. */
    public static final int ENABLE_PUSH = 0x2;
    /** 0x3 SETTINGS_MAX_CONCURRENT_STREAMS: streams the sender allows the peer to open; initially unlimited. */
    public static final int MAX_CONCURRENT_STREAMS = 0x3;
    /** 0x4 SETTINGS_INITIAL_WINDOW_SIZE: the stream flow-control window; at most 2^31-1; initially 65535. */
    public static final int INITIAL_WINDOW_SIZE = 0x4;
    /** 0x5 SETTINGS_MAX_FRAME_SIZE: the largest frame payload the sender accepts; 16384 to 2^24-1; initially 16384. */
    public static final int MAX_FRAME_SIZE = 0x5;
    /** 0x6 SETTINGS_MAX_HEADER_LIST_SIZE: advisory limit of a decoded field section; initially unlimited. */
    public static final int MAX_HEADER_LIST_SIZE = 0x6;

    /** The initial SETTINGS_HEADER_TABLE_SIZE: 4096. */
    public static final int DEFAULT_HEADER_TABLE_SIZE = 4096;
    /** The initial SETTINGS_INITIAL_WINDOW_SIZE: 65535. */
    public static final int DEFAULT_INITIAL_WINDOW_SIZE = 65_535;
    /** The initial and smallest SETTINGS_MAX_FRAME_SIZE: 16384. */
    public static final int DEFAULT_MAX_FRAME_SIZE = 16_384;
    /** The largest SETTINGS_MAX_FRAME_SIZE: 2^24-1. */
    public static final int MAX_MAX_FRAME_SIZE = (1 << 24) - 1;
    /** The largest flow-control window and SETTINGS_INITIAL_WINDOW_SIZE: 2^31-1. */
    public static final int MAX_WINDOW_SIZE = Integer.MAX_VALUE;

    private static final int COUNT = 6;
    private static final long MAX_VALUE = 0xFFFF_FFFFL;

    private final long[] values = new long[COUNT + 1];
    private int present; // bit i set: setting i is present

    /** An empty set: a SETTINGS frame with no parameters. */
    public Http2Settings() {
    }

    /**
     * @param id a setting identifier
     * @return its RFC name, e.g. {@code SETTINGS_MAX_FRAME_SIZE}, or {@code 0x%x} for an unknown one
     */
    public static String name(int id) {
        switch (id) {
            case HEADER_TABLE_SIZE: return "SETTINGS_HEADER_TABLE_SIZE";
            case ENABLE_PUSH: return "SETTINGS_ENABLE_PUSH";
            case MAX_CONCURRENT_STREAMS: return "SETTINGS_MAX_CONCURRENT_STREAMS";
            case INITIAL_WINDOW_SIZE: return "SETTINGS_INITIAL_WINDOW_SIZE";
            case MAX_FRAME_SIZE: return "SETTINGS_MAX_FRAME_SIZE";
            case MAX_HEADER_LIST_SIZE: return "SETTINGS_MAX_HEADER_LIST_SIZE";
            default: return "0x" + Integer.toHexString(id);
        }
    }

    /**
     * Sets a parameter.
     *
     * @param id one of the six constants of this class
     * @param value the value, in the range RFC 9113 §6.5.2 allows for {@code id}
     * @return this
     * @throws IllegalArgumentException if {@code id} is unknown or {@code value} out of range; the
     *     message names the setting
     */
    public Http2Settings set(int id, long value) {
        String problem = check(id, value);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        values[id] = value;
        present |= 1 << id;
        return this;
    }

    /**
     * @param id a setting identifier
     * @return whether this set carries {@code id}
     */
    public boolean has(int id) {
        return id > 0 && id <= COUNT && (present & (1 << id)) != 0;
    }

    /**
     * @param id a setting identifier
     * @param absent what to return if this set does not carry {@code id}
     * @return the value of {@code id}, or {@code absent}
     */
    public long get(int id, long absent) {
        return has(id) ? values[id] : absent;
    }

    /** @return the number of parameters this set carries */
    public int size() {
        return Integer.bitCount(present);
    }

    /** @return whether this set carries no parameter */
    public boolean isEmpty() {
        return present == 0;
    }

    /** Removes every parameter. */
    public void clear() {
        present = 0;
    }

    /**
     * @return {@code null} if {@code value} is a valid value of {@code id}, else why not; a peer's
     *     unknown identifier is not a problem (it is ignored), but it cannot be set
     */
    static String check(int id, long value) {
        if (id < 1 || id > COUNT) {
            return "unknown setting " + name(id);
        }
        if (value < 0 || value > MAX_VALUE) {
            return name(id) + " must be an unsigned 32-bit value but was " + value;
        }
        if (id == ENABLE_PUSH && value > 1) {
            return "SETTINGS_ENABLE_PUSH must be 0 or 1 but was " + value;
        }
        if (id == INITIAL_WINDOW_SIZE && value > MAX_WINDOW_SIZE) {
            return "SETTINGS_INITIAL_WINDOW_SIZE must be <= 2^31-1 but was " + value;
        }
        if (id == MAX_FRAME_SIZE && (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE)) {
            return "SETTINGS_MAX_FRAME_SIZE must be in 16384..16777215 but was " + value;
        }
        return null;
    }

    /** @return the parameters in identifier order, e.g. {@code {SETTINGS_MAX_FRAME_SIZE=16384}} */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        for (int id = 1; id <= COUNT; id++) {
            if (has(id)) {
                if (sb.length() > 1) {
                    sb.append(", ");
                }
                sb.append(name(id)).append('=').append(values[id]);
            }
        }
        return sb.append('}').toString();
    }
}
