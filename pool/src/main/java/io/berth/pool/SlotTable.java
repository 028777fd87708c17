package io.berth.pool;

import io.berth.ReusePolicy;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The table of one server's open connections and its shared idle set: lock-free, allocation-free,
 * and ordered by recency of use.
 *
 * <h2>Structure</h2>
 * Every open connection holds a <em>slot</em>, an index into segments of 64 slots. A segment has three
 * 64-bit words and two arrays:
 * <ul>
 *   <li>{@code used}: bit {@code i} set while slot {@code i} belongs to an open connection;</li>
 *   <li>{@code idle}: bit {@code i} set while that connection is in the shared idle set;</li>
 *   <li>{@code mux}: bit {@code i} set while that connection is multiplexed (it may carry several
 *       exchanges at once; see {@link PooledConnection}), so that callers look for room on busy
 *       connections only where there can be some;</li>
 *   <li>{@code entries[i]}: the connection in slot {@code i};</li>
 *   <li>{@code stamps[i]}: the time it was last made idle, for most-recently-used order.</li>
 * </ul>
 *
 * <h2>Ownership</h2>
 * The {@code idle} bit is the connection's ownership token while it is idle. Whoever clears the bit
 * with a successful CAS owns the connection exclusively: a borrower to use it, the purger to close
 * it. There is no other state to agree on, so a borrower and the purger can never both win, and
 * there is no ABA hazard: a bit that was cleared and set again between a read and a CAS means the
 * connection is idle again, which is all the CAS asserts. An owner makes a connection idle by
 * writing its stamp and then setting the bit; the CAS that sets it publishes the stamp and every
 * field the owner wrote to the next owner, whose CAS reads that bit (volatile semantics).
 *
 * <p>A connection parked by its last caller (see {@link LockFreeBackendPool}) is idle without its bit:
 * its own state is its token then, and the table only lists it among the registered slots.
 *
 * <p>{@code entries[i]} changes only when a slot is registered or unregistered, which happens only
 * while the connection is owned (its idle bit clear). A reader that picked slot {@code i} from a
 * stale read may therefore win the bit of a newer connection in the same slot; it re-reads the entry
 * after winning and re-checks it, so it always judges the connection it actually got.
 *
 * <h2>Order</h2>
 * {@link #pollMostRecent} picks, among idle connections the reuse policy accepts, the one with the
 * largest stamp; {@link #pollColdest} the smallest. Both scan the set bits of each segment, which is
 * cheap for the sizes pools have (a segment's stamps fill eight cache lines), and keeps the warm set
 * warm: under steady load the same few connections cycle while the surplus ages for the purger.
 *
 * <p>Segments are only ever added (when {@code maxConnections} grows); a reader holding an older
 * array misses at most the newest slots for one scan.
 */
final class SlotTable {
    static final int SEGMENT_SIZE = 64;

    private static final VarHandle ENTRIES = MethodHandles.arrayElementVarHandle(PooledConnection[].class);
    private static final VarHandle STAMPS = MethodHandles.arrayElementVarHandle(long[].class);

    private volatile Segment[] segments;
    /** Set once the first multiplexed connection registers; never cleared (a hint for the fast path). */
    private volatile boolean anyMux;

    SlotTable(int capacity) {
        int n = segmentsFor(capacity);
        Segment[] segs = new Segment[n];
        for (int i = 0; i < n; i++) {
            segs[i] = new Segment(i * SEGMENT_SIZE);
        }
        segments = segs;
    }

    private static int segmentsFor(int capacity) {
        return Math.max(1, (capacity + SEGMENT_SIZE - 1) / SEGMENT_SIZE);
    }

    /** Adds segments so that at least {@code capacity} slots exist. Cold path. */
    synchronized void ensureCapacity(int capacity) {
        Segment[] old = segments;
        int n = segmentsFor(capacity);
        if (n <= old.length) {
            return;
        }
        Segment[] segs = java.util.Arrays.copyOf(old, n);
        for (int i = old.length; i < n; i++) {
            segs[i] = new Segment(i * SEGMENT_SIZE);
        }
        segments = segs;
    }

    /**
     * Gives a connection a free slot. It is not idle yet.
     *
     * @param multiplexed whether the connection may carry several exchanges at once
     * @return the slot, or -1 if every slot is used
     */
    int register(PooledConnection c, boolean multiplexed) {
        for (Segment s : segments) {
            for (;;) {
                long used = s.used;
                long free = ~used;
                if (free == 0) {
                    break;
                }
                int bit = Long.numberOfTrailingZeros(free);
                if (Segment.USED.compareAndSet(s, used, used | (1L << bit))) {
                    ENTRIES.setRelease(s.entries, bit, c);
                    if (multiplexed) {
                        Segment.MUX.getAndBitwiseOr(s, 1L << bit);
                        anyMux = true;
                    }
                    return s.base + bit;
                }
            }
        }
        return -1;
    }

    /** Frees the slot of a closed connection, which the caller owns (its idle bit is clear). */
    void unregister(int slot) {
        Segment s = segments[slot / SEGMENT_SIZE];
        int bit = slot % SEGMENT_SIZE;
        Segment.MUX.getAndBitwiseAnd(s, ~(1L << bit));
        ENTRIES.setRelease(s.entries, bit, null);
        Segment.USED.getAndBitwiseAnd(s, ~(1L << bit));
    }

    /** @return whether a multiplexed connection was ever registered: until then there is no busy one to join */
    boolean mayHaveMultiplexed() {
        return anyMux;
    }

    /**
     * Calls {@code test} with each registered multiplexed connection, most recently registered slots
     * last, until it returns true (for finding room on a busy connection; racy: the test must claim
     * what it takes with a CAS of its own).
     *
     * @return the connection for which {@code test} returned true, or null
     */
    PooledConnection findMultiplexed(java.util.function.Predicate<PooledConnection> test) {
        for (Segment s : segments) {
            for (long bits = s.mux; bits != 0; bits &= bits - 1) {
                PooledConnection c = (PooledConnection) ENTRIES.getAcquire(s.entries, Long.numberOfTrailingZeros(bits));
                if (c != null && test.test(c)) {
                    return c;
                }
            }
        }
        return null;
    }

    /** @return the connection in a slot, or null */
    PooledConnection entry(int slot) {
        Segment[] segs = segments;
        int seg = slot / SEGMENT_SIZE;
        if (seg >= segs.length) {
            return null;
        }
        return (PooledConnection) ENTRIES.getAcquire(segs[seg].entries, slot % SEGMENT_SIZE);
    }

    /** @return whether the slot's connection is in the idle set right now (racy) */
    boolean isIdle(int slot) {
        Segment[] segs = segments;
        int seg = slot / SEGMENT_SIZE;
        return slot >= 0 && seg < segs.length && (segs[seg].idle & (1L << (slot % SEGMENT_SIZE))) != 0;
    }

    /**
     * Makes an owned connection idle: records its stamp, then sets its bit (which hands it over).
     */
    void add(int slot, long stamp) {
        Segment s = segments[slot / SEGMENT_SIZE];
        int bit = slot % SEGMENT_SIZE;
        STAMPS.setOpaque(s.stamps, bit, stamp);
        s.lastBit = bit;
        Segment.IDLE.getAndBitwiseOr(s, 1L << bit);
    }

    /**
     * Takes a particular connection out of the idle set.
     *
     * @return whether this call took it (false if it was not idle)
     */
    boolean remove(int slot) {
        Segment s = segments[slot / SEGMENT_SIZE];
        long mask = 1L << (slot % SEGMENT_SIZE);
        for (;;) {
            long w = s.idle;
            if ((w & mask) == 0) {
                return false;
            }
            if (Segment.IDLE.compareAndSet(s, w, w & ~mask)) {
                return true;
            }
        }
    }

    /**
     * Takes a particular connection back out of the idle set, if it is still there. Its slot's bit
     * may by now belong to a newer connection in the same slot (the connection was taken, closed,
     * and its slot reused): then the bit is set again and nothing is taken.
     *
     * @return whether this call took {@code c}
     */
    boolean remove(PooledConnection c) {
        if (!remove(c.index)) {
            return false;
        }
        if (entry(c.index) == c) {
            return true;
        }
        Segment.IDLE.getAndBitwiseOr(segments[c.index / SEGMENT_SIZE], 1L << (c.index % SEGMENT_SIZE));
        return false;
    }

    /**
     * Takes the most recently used idle connection that {@code policy} lets carry a request.
     *
     * @return the connection, now owned by the caller, or null if none qualifies
     */
    PooledConnection pollMostRecent(boolean replayable, ReusePolicy policy) {
        // Fast path: the connection made idle last in each segment is that segment's most recent.
        Segment[] segs = segments;
        Segment hinted = null;
        int hintBit = -1;
        long hintStamp = Long.MIN_VALUE;
        for (Segment s : segs) {
            int bit = s.lastBit;
            if ((s.idle & (1L << bit)) != 0) {
                long stamp = (long) STAMPS.getOpaque(s.stamps, bit);
                if (hinted == null || stamp > hintStamp) {
                    hinted = s;
                    hintBit = bit;
                    hintStamp = stamp;
                }
            }
        }
        if (hinted != null) {
            PooledConnection c = (PooledConnection) ENTRIES.getAcquire(hinted.entries, hintBit);
            if (c != null && accepts(policy, replayable, c) && remove(c)) {
                return c;
            }
        }
        return scanMostRecent(replayable, policy);
    }

    private PooledConnection scanMostRecent(boolean replayable, ReusePolicy policy) {
        for (;;) {
            Segment[] segs = segments;
            int bestSlot = -1;
            long bestStamp = Long.MIN_VALUE;
            for (Segment s : segs) {
                for (long bits = s.idle; bits != 0; bits &= bits - 1) {
                    int bit = Long.numberOfTrailingZeros(bits);
                    long stamp = (long) STAMPS.getOpaque(s.stamps, bit);
                    if (bestSlot == -1 || stamp > bestStamp) {
                        PooledConnection c = (PooledConnection) ENTRIES.getAcquire(s.entries, bit);
                        if (c != null && accepts(policy, replayable, c)) {
                            bestSlot = s.base + bit;
                            bestStamp = stamp;
                        }
                    }
                }
            }
            if (bestSlot == -1) {
                return null;
            }
            if (remove(bestSlot)) {
                PooledConnection c = entry(bestSlot);
                if (accepts(policy, replayable, c)) {
                    return c;
                }
                // The slot was reused by a newer connection this request may not use: put it back.
                add(bestSlot, c.lastUsedNanos);
            }
        }
    }

    /**
     * Takes the least recently used idle connection.
     *
     * @return the connection, now owned by the caller, or null if the set is empty
     */
    PooledConnection pollColdest() {
        for (;;) {
            int bestSlot = -1;
            long bestStamp = Long.MAX_VALUE;
            for (Segment s : segments) {
                for (long bits = s.idle; bits != 0; bits &= bits - 1) {
                    int bit = Long.numberOfTrailingZeros(bits);
                    long stamp = (long) STAMPS.getOpaque(s.stamps, bit);
                    if (bestSlot == -1 || stamp < bestStamp) {
                        bestSlot = s.base + bit;
                        bestStamp = stamp;
                    }
                }
            }
            if (bestSlot == -1) {
                return null;
            }
            if (remove(bestSlot)) {
                return entry(bestSlot);
            }
        }
    }

    /** @return how many connections are idle right now */
    int size() {
        int n = 0;
        for (Segment s : segments) {
            n += Long.bitCount(s.idle);
        }
        return n;
    }

    /** @return how many slots are registered right now */
    int registered() {
        int n = 0;
        for (Segment s : segments) {
            n += Long.bitCount(s.used);
        }
        return n;
    }

    /**
     * @return a registered connection for which {@code test} returns true, or null (slow path; racy)
     */
    PooledConnection findRegistered(java.util.function.Predicate<PooledConnection> test) {
        for (Segment s : segments) {
            for (long bits = s.used; bits != 0; bits &= bits - 1) {
                PooledConnection c = (PooledConnection) ENTRIES.getAcquire(s.entries, Long.numberOfTrailingZeros(bits));
                if (c != null && test.test(c)) {
                    return c;
                }
            }
        }
        return null;
    }

    /**
     * Calls {@code action} with each registered connection (for stats and maintenance; racy).
     */
    void forEachRegistered(java.util.function.Consumer<PooledConnection> action) {
        for (Segment s : segments) {
            for (long bits = s.used; bits != 0; bits &= bits - 1) {
                PooledConnection c = (PooledConnection) ENTRIES.getAcquire(s.entries, Long.numberOfTrailingZeros(bits));
                if (c != null) {
                    action.accept(c);
                }
            }
        }
    }

    /**
     * @return the idle slots right now, as a list of slot numbers in a new array (maintenance only)
     */
    int[] idleSlots() {
        Segment[] segs = segments;
        int[] out = new int[size() + SEGMENT_SIZE];
        int n = 0;
        for (Segment s : segs) {
            for (long bits = s.idle; bits != 0 && n < out.length; bits &= bits - 1) {
                out[n++] = s.base + Long.numberOfTrailingZeros(bits);
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    private static boolean accepts(ReusePolicy policy, boolean replayable, PooledConnection c) {
        try {
            return policy.mayCarry(replayable, c);
        } catch (RuntimeException | Error e) {
            c.pool.guard.policyFailed(policy, e);
            return false;
        }
    }

    /** Padding so that a segment's hot words do not share cache lines with other objects' fields. */
    abstract static class Pad0 {
        long p00, p01, p02, p03, p04, p05, p06, p07;
    }

    abstract static class IdleWord extends Pad0 {
        volatile long idle;
        /** The bit made idle last: a hint, on the same cache line as {@link #idle}. */
        int lastBit;
    }

    abstract static class Pad1 extends IdleWord {
        long p10, p11, p12, p13, p14, p15, p16, p17;
    }

    abstract static class UsedWord extends Pad1 {
        volatile long used;
        /** Changes only at register and unregister, like {@code used}: on its cache line. */
        volatile long mux;
    }

    abstract static class Pad2 extends UsedWord {
        long p20, p21, p22, p23, p24, p25, p26, p27;
    }

    static final class Segment extends Pad2 {
        static final VarHandle IDLE;
        static final VarHandle USED;
        static final VarHandle MUX;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                IDLE = l.findVarHandle(IdleWord.class, "idle", long.class);
                USED = l.findVarHandle(UsedWord.class, "used", long.class);
                MUX = l.findVarHandle(UsedWord.class, "mux", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final int base;
        final PooledConnection[] entries = new PooledConnection[SEGMENT_SIZE];
        final long[] stamps = new long[SEGMENT_SIZE];

        Segment(int base) {
            this.base = base;
        }
    }
}
