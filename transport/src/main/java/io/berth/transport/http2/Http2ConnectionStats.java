package io.berth.transport.http2;

import io.berth.StreamStats;
import java.time.Duration;

/**
 * A snapshot of one {@link Http2Connection}, for the pool's per-connection rows.
 *
 * @param protocol always {@code h2}
 * @param streamsInFlight streams open now (ours: opened and not yet closed on both sides)
 * @param serverMaxConcurrentStreams the server's SETTINGS_MAX_CONCURRENT_STREAMS, or -1 if it set none
 *     (unlimited)
 * @param capacity what {@link Http2Connection#capacity()} says now: 0 once it takes no new stream
 * @param sendWindow the connection's send window: DATA bytes the server lets us send now (may be negative)
 * @param receiveWindow the connection's receive window as the server sees it: DATA bytes it may send now
 * @param bufferedBytes response bytes received and not yet read by their streams' readers
 * @param streamsCarried streams opened over the connection's life
 * @param lastGoAway the last GOAWAY received, or {@code null}
 * @param resetsSent RST_STREAM frames we sent
 * @param resetsReceived RST_STREAM frames the server sent
 * @param glitches server oddities counted (see {@link Http2Options})
 * @param lastPingRtt the round-trip time of the last acknowledged PING, or {@code null}
 */
public record Http2ConnectionStats(String protocol, int streamsInFlight, long serverMaxConcurrentStreams,
        int capacity, long sendWindow, long receiveWindow, long bufferedBytes, long streamsCarried,
        GoAway lastGoAway, long resetsSent, long resetsReceived, long glitches, Duration lastPingRtt)
        implements StreamStats {

    @Override
    public String goAway() {
        return lastGoAway == null ? null : lastGoAway.toString();
    }

    /**
     * A GOAWAY frame the server sent. When several arrived, {@code lastStreamId} is the lowest one
     * (the one that counts) and the code and debug data are the latest.
     *
     * @param errorCode the error code on the wire
     * @param errorName its name, e.g. {@code NO_ERROR}, or {@code 0x%x} for an unknown code
     * @param lastStreamId the highest stream the server may have processed
     * @param debugData the debug data, as ISO-8859-1 text, at most 256 characters
     */
    public record GoAway(int errorCode, String errorName, int lastStreamId, String debugData) {
        /** @return e.g. {@code GOAWAY(NO_ERROR, last stream 7, "shutting down")} */
        @Override
        public String toString() {
            return "GOAWAY(" + errorName + ", last stream " + lastStreamId
                    + (debugData.isEmpty() ? "" : ", \"" + debugData + "\"") + ")";
        }
    }
}
