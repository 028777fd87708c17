package io.berth;

/** The state of a server of a pool, in {@link ServerStats}. */
public enum ServerState {
    /** Taking traffic. */
    UP,
    /**
     * Taking traffic again after being down, with a share that grows over {@code slowStart} from
     * almost nothing to its full weight.
     */
    SLOW_START,
    /** Marked down by failed connects or health checks; no traffic until its back-off has passed. */
    DOWN,
    /** Drained: no new requests; requests in flight finish; its idle connections were closed. */
    DRAINING
}
