package io.berth.pool;

import io.berth.Outcome;
import java.lang.System.Logger.Level;
import java.lang.ref.WeakReference;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The unfinished responses of exchanges on multiplexed connections, watched so that one dropped
 * without being closed gives its exchange back: the HTTP/2 counterpart of
 * {@link PooledConnection#responseRef}. A connection of capacity one has one response at a time and
 * keeps it in a field; a multiplexed one has many, so each gets a {@link Watch} (a weak reference to
 * what the caller holds, with the exchange's lease and what abandons its stream), pushed on one
 * lock-free stack per pool.
 *
 * <p><b>Sweeping.</b> A sweep takes the whole stack with one swap (so two sweeps never share a
 * watch), drops the watches of leases released since (the normal end: body read or response
 * closed), and pushes the others back. The maintenance pass sweeps and reclaims: a watch whose
 * referent the GC cleared while its lease is still held belongs to a response nobody can reach any
 * more, so nobody can release it: its stream is abandoned (reset), its lease released, counted in
 * {@link StatsRecorder#abandoned} and reported once, as for HTTP/1.1. Between passes, every
 * {@value #SWEEP_EVERY}th watch pushed makes its caller sweep without reclaiming, so that watches of
 * finished exchanges do not pile up between passes at a high request rate: what the stack holds is
 * about the exchanges in flight plus {@value #SWEEP_EVERY}.
 *
 * <p><b>Reachability.</b> The stack holds the watches, which hold the leases strongly: a lease holds
 * its connection, never the response, and the abandon action must not reach the response either (it
 * holds the transport's stream), or the response could never be collected.
 *
 * <p>Thread-safe: pushes are a CAS on the top; a watch taken off by a sweep belongs to that sweep
 * until it pushes it back.
 */
final class StreamWatches {
    /** A caller whose push makes the stack this deep (a multiple of it) sweeps it: 1024. */
    static final int SWEEP_EVERY = 1024;

    /** The response of one exchange, weakly, and what abandons it. */
    static final class Watch extends WeakReference<Object> {
        final StreamLease lease;
        final Runnable abandon;
        /** The next watch down; written before the push's CAS, or by the sweep that owns the watch. */
        Watch next;
        /** Watches below and including this one when it was pushed (approximate after a sweep). */
        int depth;

        Watch(Object referent, StreamLease lease, Runnable abandon) {
            super(referent);
            this.lease = lease;
            this.abandon = abandon;
        }
    }

    private final LockFreeBackendPool pool;
    private final AtomicReference<Watch> top = new AtomicReference<>();

    StreamWatches(LockFreeBackendPool pool) {
        this.pool = pool;
    }

    /** Watches {@code referent} for the held {@code lease}; allocates the watch and nothing else. */
    void watch(StreamLease lease, Object referent, Runnable abandon) {
        Watch w = new Watch(referent, lease, abandon);
        Watch below;
        do {
            below = top.get();
            w.next = below;
            w.depth = below == null ? 1 : below.depth + 1;
        } while (!top.compareAndSet(below, w));
        if (w.depth % SWEEP_EVERY == 0) {
            sweep(false);
        }
    }

    /**
     * Drops the watches of released leases; with {@code reclaim}, also reclaims the exchanges whose
     * response was garbage-collected before its lease was released.
     *
     * @return how many exchanges were reclaimed
     */
    int sweep(boolean reclaim) {
        Watch keptTop = null;
        Watch keptBottom = null;
        int kept = 0;
        int reclaimed = 0;
        Watch next;
        for (Watch w = top.getAndSet(null); w != null; w = next) {
            next = w.next;
            w.next = null;
            if (w.lease.isReleased()) {
                continue; // finished: the watch is dropped
            }
            if (reclaim && w.refersTo(null)) {
                if (reclaim(w)) {
                    reclaimed++;
                }
                continue;
            }
            if (keptBottom == null) {
                keptTop = w;
            } else {
                keptBottom.next = w;
            }
            keptBottom = w;
            kept++;
        }
        if (keptTop != null) {
            Watch below;
            do {
                below = top.get();
                keptBottom.next = below;
                keptTop.depth = kept + (below == null ? 0 : below.depth);
            } while (!top.compareAndSet(below, keptTop));
        }
        return reclaimed;
    }

    /** @return whether this sweep released the lease (not a release that raced it) */
    private boolean reclaim(Watch w) {
        StreamLease l = w.lease;
        PooledConnection c = l.c;
        try {
            w.abandon.run();
        } catch (RuntimeException e) {
            LockFreeBackendPool.LOG.log(Level.DEBUG, () -> "pool '" + pool.name + "': abandoning a stream of " + c
                    + " threw " + e);
        }
        try {
            pool.release(l, c.connection.isOpen() ? Outcome.REUSABLE : Outcome.BROKEN);
        } catch (IllegalStateException raced) {
            return false; // released meanwhile
        }
        pool.stats.abandoned.incrementAndGet();
        LockFreeBackendPool.LOG.log(Level.WARNING, "pool '" + pool.name + "': a response from connection #" + c.id
                + " to " + c.server + " was garbage-collected without being closed; its stream was reset and the"
                + " connection goes on. Close every BerthResponse (try-with-resources) or read its body to the end.");
        return true;
    }

    /** For tests: the watches on the stack. */
    int size() {
        int n = 0;
        for (Watch w = top.get(); w != null; w = w.next) {
            n++;
        }
        return n;
    }
}
