package io.berth.pool;

import io.berth.BackendPool;
import io.berth.Lease;
import io.berth.Server;
import io.berth.Session;
import java.io.IOException;

/** What {@link BerthClient} needs of a pool beyond {@link BackendPool}. */
interface HttpEngine extends BackendPool {
    /**
     * Acquires a newly opened connection, never an idle one, on another server than {@code avoid} when
     * there is one: for the one retry of a replayable request whose reused connection failed before
     * any response byte.
     */
    Lease acquireNew(boolean replayable, Session session, long timeoutNanos, Server avoid) throws IOException;

    /** Watches a lease's unfinished response: reclaims the connection if the response is dropped unclosed. */
    void watch(Lease lease, Object response);
}
