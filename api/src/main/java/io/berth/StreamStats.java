package io.berth;

import java.time.Duration;

/**
 * What an HTTP/2 connection's row adds to {@link ConnectionStats}: its streams, the server's limit,
 * flow-control windows, resets, the last GOAWAY and the PING round trip. Immutable (a snapshot); only
 * Berth implements it.
 *
 * @since 1.0
 */
public interface StreamStats {
    /** @return streams open now */
    int streamsInFlight();

    /** @return the server's {@code SETTINGS_MAX_CONCURRENT_STREAMS}, or -1 if it set none (unlimited) */
    long serverMaxConcurrentStreams();

    /**
     * @return the streams the connection may carry at once now: the lower of the server's limit and
     *     {@code maxConcurrentStreams}; 0 once it takes no new stream (GOAWAY, failure, closing)
     */
    int capacity();

    /** @return DATA bytes the server lets us send now on the connection (may be negative) */
    long sendWindow();

    /** @return DATA bytes the server may send us now on the connection */
    long receiveWindow();

    /** @return streams opened over the connection's life */
    long streamsCarried();

    /** @return RST_STREAM frames sent (cancels, abandoned responses) */
    long resetsSent();

    /** @return RST_STREAM frames the server sent */
    long resetsReceived();

    /**
     * @return the last GOAWAY received, e.g. {@code GOAWAY(NO_ERROR, last stream 7, "shutting down")},
     *     or {@code null} if none came
     */
    String goAway();

    /** @return the round-trip time of the last acknowledged PING, or {@code null} if none was */
    Duration lastPingRtt();
}
