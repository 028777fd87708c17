package io.berth.pool;

/**
 * HAProxy's purge (2.2+, coldest first as in 2.9), as pure arithmetic over one server's figures.
 * Every {@code purgeDelay}: the surplus is {@code inUse + idle - max(peak, need)}; half of it (rounded
 * up) closes, coldest first, never taking the idle count below {@code minIdle}; then {@code need}
 * decays towards the period's peak: {@code max((need + peak) / 2, peak)}. A steady load of k callers
 * keeps about k connections; 20 idle connections after a burst of 20 go 20, 20, 15, 10, 6, 3, 1, 0.
 */
final class Purge {
    private Purge() {
    }

    /**
     * @param inUse connections in use now
     * @param idle connections idle now
     * @param peak the most connections in use at once since the last pass
     * @param need the estimate of needed connections from the last pass
     * @param minIdle the idle connections to keep anyway
     * @return how many idle connections to close now
     */
    static int toClose(int inUse, int idle, int peak, int need, int minIdle) {
        int surplus = inUse + idle - Math.max(peak, need);
        return Math.max(0, Math.min(surplus > 0 ? (surplus + 1) / 2 : 0, idle - minIdle));
    }

    /** @return the estimate of needed connections for the next pass */
    static int nextNeed(int need, int peak) {
        return Math.max((need + peak) / 2, peak);
    }
}
