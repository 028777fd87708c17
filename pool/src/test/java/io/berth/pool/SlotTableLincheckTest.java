package io.berth.pool;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.berth.ReusePolicy;
import io.berth.Server;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ThreadIdGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Linearizability of the idle set as a bag of exclusively owned connections. Which idle connection
 * a take returns is a preference (most recent, or coldest) judged from a scan, not part of the
 * contract: a connection made idle during the scan may be passed over. The contract is what this
 * checks: a take succeeds exactly when some connection is idle, no connection is ever taken twice,
 * none is lost, and the size is exact. Each thread gives back only connections it took (as a pool
 * does), so every result is determined by the order of operations alone. A racy bitmap beside it
 * must fail, proving the check can fail.
 */
@Param(name = "tid", gen = ThreadIdGen.class)
public class SlotTableLincheckTest {
    private static final int CONNECTIONS = 4;
    private static final int THREADS = 3;

    private final SlotTable set = new SlotTable(SlotTable.SEGMENT_SIZE);
    /** Per thread: slots it took and has not given back. Each row is touched by its thread only. */
    private final int[][] owned = new int[THREADS + 1][CONNECTIONS];
    private final int[] ownedCount = new int[THREADS + 1];

    public SlotTableLincheckTest() {
        Server server = Server.of("backend.test", 443);
        for (int i = 0; i < CONNECTIONS; i++) {
            PooledConnection c = new PooledConnection(null, null, i + 1, new FakeConnection(server, i + 1, false), 0,
                    Long.MAX_VALUE);
            c.index = set.register(c, false);
            set.add(c.index, i);
        }
    }

    private boolean keep(int tid, PooledConnection c) {
        if (c == null) {
            return false;
        }
        owned[tid][ownedCount[tid]++] = c.index;
        return true;
    }

    @Operation
    public boolean takeMostRecent(@Param(name = "tid") int tid) {
        return keep(tid, set.pollMostRecent(true, ReusePolicy.ALWAYS));
    }

    @Operation
    public boolean takeColdest(@Param(name = "tid") int tid) {
        return keep(tid, set.pollColdest());
    }

    @Operation
    public boolean giveBack(@Param(name = "tid") int tid) {
        if (ownedCount[tid] == 0) {
            return false;
        }
        int slot = owned[tid][--ownedCount[tid]];
        set.add(slot, tid);
        return true;
    }

    @Operation
    public int size() {
        return set.size();
    }

    @Test
    @Timeout(120)
    void isLinearizableUnderModelChecking() {
        new ModelCheckingOptions().iterations(10).invocationsPerIteration(200).threads(THREADS).actorsPerThread(3)
                .check(SlotTableLincheckTest.class);
    }

    @Test
    @Timeout(120)
    void isLinearizableUnderStress() {
        new StressOptions().iterations(10).invocationsPerIteration(500).threads(THREADS).actorsPerThread(3)
                .check(SlotTableLincheckTest.class);
    }

    @Test
    @Timeout(120)
    void canaryRacyBitmapIsCaught() {
        AssertionError e = assertThrows(AssertionError.class, () -> new ModelCheckingOptions().iterations(10)
                .invocationsPerIteration(200).threads(2).actorsPerThread(2).minimizeFailedScenario(false)
                .check(RacyBitmap.class));
        org.assertj.core.api.Assertions.assertThat(e).hasMessageContaining("Invalid execution results");
    }

    /** A bitmap that takes its bit with a plain read and write: two pollers can take the same slot. */
    @Param(name = "slot", gen = IntGen.class, conf = "0:3")
    public static class RacyBitmap {
        private volatile long idle;

        public RacyBitmap() {
        }

        @Operation
        public void add(@Param(name = "slot") int slot) {
            idle = idle | (1L << slot);
        }

        @Operation
        public int poll() {
            long w = idle;
            if (w == 0) {
                return -1;
            }
            int slot = Long.numberOfTrailingZeros(w);
            idle = w & ~(1L << slot);
            return slot;
        }
    }
}
