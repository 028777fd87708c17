package io.berth.transport.http2;

import java.time.Duration;
import java.util.Objects;

/**
 * The settings of an {@link Http2Connection}: what it advertises to the server, its limits on the
 * server, and its timeouts. Built with {@link #builder()}; every setter rejects a bad value at once
 * with an {@link IllegalArgumentException} naming the setting, the rule and the value.
 *
 * <table>
 * <caption>Settings and defaults</caption>
 * <tr><th>setting</th><th>default</th><th>meaning</th></tr>
 * <tr><td>{@code maxConcurrentStreams}</td><td>256</td><td>our cap on streams at once: the
 *     connection's capacity is the lower of this and the server's SETTINGS_MAX_CONCURRENT_STREAMS</td></tr>
 * <tr><td>{@code streamWindowSize}</td><td>256 KiB</td><td>each stream's receive window
 *     (SETTINGS_INITIAL_WINDOW_SIZE): the most response bytes buffered per stream before its
 *     reader reads them</td></tr>
 * <tr><td>{@code connectionWindowSize}</td><td>16 MiB</td><td>the connection's receive window,
 *     credited as DATA arrives while the bytes buffered unread stay below it, then only as they are
 *     read: a connection buffers at most about twice this</td></tr>
 * <tr><td>{@code maxFrameSize}</td><td>16384</td><td>the largest frame payload accepted
 *     (SETTINGS_MAX_FRAME_SIZE)</td></tr>
 * <tr><td>{@code maxHeaderListSize}</td><td>64 KiB</td><td>the largest response head or trailer
 *     section, decoded (SETTINGS_MAX_HEADER_LIST_SIZE); a larger one fails its stream only</td></tr>
 * <tr><td>{@code headerTableSize}</td><td>4096</td><td>our HPACK decoder's dynamic table
 *     (SETTINGS_HEADER_TABLE_SIZE)</td></tr>
 * <tr><td>{@code maxContinuations}</td><td>32</td><td>CONTINUATION frames per header block (the
 *     CONTINUATION flood)</td></tr>
 * <tr><td>{@code settingsTimeout}</td><td>10 s</td><td>how long {@link Http2Connection#open} waits
 *     for the server's SETTINGS, and how long the server may take to acknowledge ours</td></tr>
 * <tr><td>{@code writeTimeout}</td><td>10 s</td><td>bound on the connection's own writes (acknowledgements,
 *     window updates, resets, GOAWAY); a write that cannot complete in it fails the connection</td></tr>
 * <tr><td>{@code resetBudget}</td><td>100 per 30 s</td><td>RST_STREAM frames we may send to cancel
 *     streams; once spent, the connection drains (capacity 0) instead (servers punish rapid resets,
 *     e.g. Netty after 200 in 30 s)</td></tr>
 * <tr><td>{@code glitchBudget}</td><td>1000 per 60 s</td><td>server oddities tolerated (PINGs and
 *     SETTINGS beyond the first, empty DATA frames, header blocks for reset or forgotten streams,
 *     unsolicited PING acknowledgements...); beyond it GOAWAY(ENHANCE_YOUR_CALM) and close</td></tr>
 * <tr><td>{@code pingInterval}</td><td>0 (off)</td><td>if set, an idle connection is PINGed at this
 *     interval, at most twice between two streams' traffic (so that servers enforcing gRPC's
 *     too_many_pings are not provoked), and fails if the acknowledgement takes longer than
 *     {@code pingTimeout}</td></tr>
 * <tr><td>{@code pingTimeout}</td><td>5 s</td><td>how long an idle PING waits for its acknowledgement</td></tr>
 * </table>
 *
 * <p>Immutable and thread-safe.
 */
public final class Http2Options {
    /** Default of {@code maxConcurrentStreams}: 256. */
    public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 256;
    /** Default of {@code streamWindowSize}: 256 KiB. */
    public static final int DEFAULT_STREAM_WINDOW_SIZE = 256 * 1024;
    /** Default of {@code connectionWindowSize}: 16 MiB. */
    public static final int DEFAULT_CONNECTION_WINDOW_SIZE = 16 * 1024 * 1024;
    /** Default of {@code settingsTimeout}: 10 s. */
    public static final Duration DEFAULT_SETTINGS_TIMEOUT = Duration.ofSeconds(10);
    /** Default of {@code writeTimeout}: 10 s. */
    public static final Duration DEFAULT_WRITE_TIMEOUT = Duration.ofSeconds(10);
    /** Default of {@code resetBudget}: 100 resets. */
    public static final int DEFAULT_RESET_BUDGET = 100;
    /** Default of the period of {@code resetBudget}: 30 s. */
    public static final Duration DEFAULT_RESET_PERIOD = Duration.ofSeconds(30);
    /** Default of {@code glitchBudget}: 1000 glitches. */
    public static final int DEFAULT_GLITCH_BUDGET = 1000;
    /** Default of the period of {@code glitchBudget}: 60 s. */
    public static final Duration DEFAULT_GLITCH_PERIOD = Duration.ofSeconds(60);
    /** Default of {@code pingTimeout}: 5 s. */
    public static final Duration DEFAULT_PING_TIMEOUT = Duration.ofSeconds(5);

    private static final Http2Options DEFAULTS = builder().build();

    private final int maxConcurrentStreams;
    private final int streamWindowSize;
    private final int connectionWindowSize;
    private final int maxFrameSize;
    private final int maxHeaderListSize;
    private final int headerTableSize;
    private final int maxContinuations;
    private final long settingsTimeoutNanos;
    private final long writeTimeoutNanos;
    private final int resetBudget;
    private final long resetPeriodNanos;
    private final int glitchBudget;
    private final long glitchPeriodNanos;
    private final long pingIntervalNanos;
    private final long pingTimeoutNanos;
    private final int firstStreamId;

    private Http2Options(Builder b) {
        maxConcurrentStreams = b.maxConcurrentStreams;
        streamWindowSize = b.streamWindowSize;
        connectionWindowSize = b.connectionWindowSize;
        maxFrameSize = b.maxFrameSize;
        maxHeaderListSize = b.maxHeaderListSize;
        headerTableSize = b.headerTableSize;
        maxContinuations = b.maxContinuations;
        settingsTimeoutNanos = b.settingsTimeoutNanos;
        writeTimeoutNanos = b.writeTimeoutNanos;
        resetBudget = b.resetBudget;
        resetPeriodNanos = b.resetPeriodNanos;
        glitchBudget = b.glitchBudget;
        glitchPeriodNanos = b.glitchPeriodNanos;
        pingIntervalNanos = b.pingIntervalNanos;
        pingTimeoutNanos = b.pingTimeoutNanos;
        firstStreamId = b.firstStreamId;
    }

    /** @return the defaults */
    public static Http2Options defaults() {
        return DEFAULTS;
    }

    /** @return a builder holding the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder holding these settings */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxConcurrentStreams = maxConcurrentStreams;
        b.streamWindowSize = streamWindowSize;
        b.connectionWindowSize = connectionWindowSize;
        b.maxFrameSize = maxFrameSize;
        b.maxHeaderListSize = maxHeaderListSize;
        b.headerTableSize = headerTableSize;
        b.maxContinuations = maxContinuations;
        b.settingsTimeoutNanos = settingsTimeoutNanos;
        b.writeTimeoutNanos = writeTimeoutNanos;
        b.resetBudget = resetBudget;
        b.resetPeriodNanos = resetPeriodNanos;
        b.glitchBudget = glitchBudget;
        b.glitchPeriodNanos = glitchPeriodNanos;
        b.pingIntervalNanos = pingIntervalNanos;
        b.pingTimeoutNanos = pingTimeoutNanos;
        b.firstStreamId = firstStreamId;
        return b;
    }

    /** @return our cap on concurrent streams */
    public int maxConcurrentStreams() {
        return maxConcurrentStreams;
    }

    /** @return each stream's receive window, in bytes */
    public int streamWindowSize() {
        return streamWindowSize;
    }

    /** @return the connection's receive window and buffering bound, in bytes */
    public int connectionWindowSize() {
        return connectionWindowSize;
    }

    /** @return the largest frame payload accepted */
    public int maxFrameSize() {
        return maxFrameSize;
    }

    /** @return the largest decoded response head or trailer section */
    public int maxHeaderListSize() {
        return maxHeaderListSize;
    }

    /** @return our HPACK decoder's dynamic table size */
    public int headerTableSize() {
        return headerTableSize;
    }

    /** @return the most CONTINUATION frames per header block */
    public int maxContinuations() {
        return maxContinuations;
    }

    /** @return how long to wait for the server's SETTINGS and for its acknowledgement of ours */
    public Duration settingsTimeout() {
        return Duration.ofNanos(settingsTimeoutNanos);
    }

    /** @return the bound on the connection's own writes */
    public Duration writeTimeout() {
        return Duration.ofNanos(writeTimeoutNanos);
    }

    /** @return how many streams may be reset per {@link #resetPeriod()} */
    public int resetBudget() {
        return resetBudget;
    }

    /** @return the period of {@link #resetBudget()} */
    public Duration resetPeriod() {
        return Duration.ofNanos(resetPeriodNanos);
    }

    /** @return how many glitches are tolerated per {@link #glitchPeriod()} */
    public int glitchBudget() {
        return glitchBudget;
    }

    /** @return the period of {@link #glitchBudget()} */
    public Duration glitchPeriod() {
        return Duration.ofNanos(glitchPeriodNanos);
    }

    /** @return the idle PING interval; zero: no idle PINGs */
    public Duration pingInterval() {
        return Duration.ofNanos(pingIntervalNanos);
    }

    /** @return how long an idle PING waits for its acknowledgement */
    public Duration pingTimeout() {
        return Duration.ofNanos(pingTimeoutNanos);
    }

    long settingsTimeoutNanos() {
        return settingsTimeoutNanos;
    }

    long writeTimeoutNanos() {
        return writeTimeoutNanos;
    }

    long resetPeriodNanos() {
        return resetPeriodNanos;
    }

    long glitchPeriodNanos() {
        return glitchPeriodNanos;
    }

    long pingIntervalNanos() {
        return pingIntervalNanos;
    }

    long pingTimeoutNanos() {
        return pingTimeoutNanos;
    }

    int firstStreamId() {
        return firstStreamId;
    }

    @Override
    public String toString() {
        return "Http2Options{maxConcurrentStreams=" + maxConcurrentStreams + ", streamWindowSize=" + streamWindowSize
                + ", connectionWindowSize=" + connectionWindowSize + ", maxFrameSize=" + maxFrameSize
                + ", maxHeaderListSize=" + maxHeaderListSize + ", headerTableSize=" + headerTableSize
                + ", maxContinuations=" + maxContinuations + ", settingsTimeout=" + settingsTimeout()
                + ", writeTimeout=" + writeTimeout() + ", resetBudget=" + resetBudget + "/" + resetPeriod()
                + ", glitchBudget=" + glitchBudget + "/" + glitchPeriod() + ", pingInterval=" + pingInterval()
                + ", pingTimeout=" + pingTimeout() + "}";
    }

    /** Builds {@link Http2Options}. Not thread-safe. */
    public static final class Builder {
        private int maxConcurrentStreams = DEFAULT_MAX_CONCURRENT_STREAMS;
        private int streamWindowSize = DEFAULT_STREAM_WINDOW_SIZE;
        private int connectionWindowSize = DEFAULT_CONNECTION_WINDOW_SIZE;
        private int maxFrameSize = Http2Settings.DEFAULT_MAX_FRAME_SIZE;
        private int maxHeaderListSize = Http2FrameReader.DEFAULT_MAX_HEADER_LIST_SIZE;
        private int headerTableSize = Http2Settings.DEFAULT_HEADER_TABLE_SIZE;
        private int maxContinuations = Http2FrameReader.DEFAULT_MAX_CONTINUATIONS;
        private long settingsTimeoutNanos = DEFAULT_SETTINGS_TIMEOUT.toNanos();
        private long writeTimeoutNanos = DEFAULT_WRITE_TIMEOUT.toNanos();
        private int resetBudget = DEFAULT_RESET_BUDGET;
        private long resetPeriodNanos = DEFAULT_RESET_PERIOD.toNanos();
        private int glitchBudget = DEFAULT_GLITCH_BUDGET;
        private long glitchPeriodNanos = DEFAULT_GLITCH_PERIOD.toNanos();
        private long pingIntervalNanos;
        private long pingTimeoutNanos = DEFAULT_PING_TIMEOUT.toNanos();
        private int firstStreamId = 1;

        private Builder() {
        }

        /**
         * @param max our cap on concurrent streams, at least 1
         * @return this
         */
        public Builder maxConcurrentStreams(int max) {
            maxConcurrentStreams = atLeast("maxConcurrentStreams", max, 1);
            return this;
        }

        /**
         * @param bytes each stream's receive window, 1 to 2^31-1
         * @return this
         */
        public Builder streamWindowSize(int bytes) {
            streamWindowSize = atLeast("streamWindowSize", bytes, 1);
            return this;
        }

        /**
         * @param bytes the connection's receive window and buffering bound, 65535 to 2^31-1
         * @return this
         */
        public Builder connectionWindowSize(int bytes) {
            connectionWindowSize = atLeast("connectionWindowSize", bytes, Http2Settings.DEFAULT_INITIAL_WINDOW_SIZE);
            return this;
        }

        /**
         * @param bytes the largest frame payload accepted, 16384 to 2^24-1
         * @return this
         */
        public Builder maxFrameSize(int bytes) {
            if (bytes < Http2Settings.DEFAULT_MAX_FRAME_SIZE || bytes > Http2Settings.MAX_MAX_FRAME_SIZE) {
                throw new IllegalArgumentException("maxFrameSize must be in 16384..16777215 but was " + bytes);
            }
            maxFrameSize = bytes;
            return this;
        }

        /**
         * @param bytes the largest decoded response head or trailer section, at least 256
         * @return this
         */
        public Builder maxHeaderListSize(int bytes) {
            maxHeaderListSize = atLeast("maxHeaderListSize", bytes, 256);
            return this;
        }

        /**
         * @param bytes our HPACK decoder's dynamic table size, at least 0
         * @return this
         */
        public Builder headerTableSize(int bytes) {
            headerTableSize = atLeast("headerTableSize", bytes, 0);
            return this;
        }

        /**
         * @param max the most CONTINUATION frames per header block, at least 0
         * @return this
         */
        public Builder maxContinuations(int max) {
            maxContinuations = atLeast("maxContinuations", max, 0);
            return this;
        }

        /**
         * @param timeout how long to wait for the server's SETTINGS and its acknowledgement of ours; positive
         * @return this
         */
        public Builder settingsTimeout(Duration timeout) {
            settingsTimeoutNanos = positive("settingsTimeout", timeout);
            return this;
        }

        /**
         * @param timeout the bound on the connection's own writes; positive
         * @return this
         */
        public Builder writeTimeout(Duration timeout) {
            writeTimeoutNanos = positive("writeTimeout", timeout);
            return this;
        }

        /**
         * @param resets how many streams may be reset per period, at least 1
         * @param period the period; positive
         * @return this
         */
        public Builder resetBudget(int resets, Duration period) {
            resetBudget = atLeast("resetBudget", resets, 1);
            resetPeriodNanos = positive("resetBudget period", period);
            return this;
        }

        /**
         * @param glitches how many glitches are tolerated per period, at least 1
         * @param period the period; positive
         * @return this
         */
        public Builder glitchBudget(int glitches, Duration period) {
            glitchBudget = atLeast("glitchBudget", glitches, 1);
            glitchPeriodNanos = positive("glitchBudget period", period);
            return this;
        }

        /**
         * @param interval how often an idle connection is PINGed; zero for never
         * @return this
         */
        public Builder pingInterval(Duration interval) {
            Objects.requireNonNull(interval, "pingInterval");
            if (interval.isNegative()) {
                throw new IllegalArgumentException("pingInterval must be >= 0 but was " + interval);
            }
            pingIntervalNanos = saturatedNanos(interval);
            return this;
        }

        /**
         * @param timeout how long an idle PING waits for its acknowledgement; positive
         * @return this
         */
        public Builder pingTimeout(Duration timeout) {
            pingTimeoutNanos = positive("pingTimeout", timeout);
            return this;
        }

        /** For tests: the first stream id (odd), to reach the end of the id space quickly. */
        Builder firstStreamId(int id) {
            if (id <= 0 || (id & 1) == 0) {
                throw new IllegalArgumentException("firstStreamId must be odd and positive but was " + id);
            }
            firstStreamId = id;
            return this;
        }

        /** @return the options */
        public Http2Options build() {
            return new Http2Options(this);
        }

        private static int atLeast(String name, int value, int min) {
            if (value < min) {
                throw new IllegalArgumentException(name + " must be >= " + min + " but was " + value);
            }
            return value;
        }

        private static long positive(String name, Duration d) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive but was " + d);
            }
            return saturatedNanos(d);
        }

        private static long saturatedNanos(Duration d) {
            try {
                return d.toNanos();
            } catch (ArithmeticException e) {
                return Long.MAX_VALUE;
            }
        }
    }
}
