package io.berth.pool;

import io.berth.ConnectionStats;
import io.berth.PoolStats;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/** The rows of the most recently closed connections, newest first, at most {@link PoolStats#CLOSED_ROWS_KEPT}. */
final class ClosedHistory {
    private final ArrayDeque<ConnectionStats> rows = new ArrayDeque<>();

    synchronized void add(ConnectionStats row) {
        if (rows.size() == PoolStats.CLOSED_ROWS_KEPT) {
            rows.removeLast();
        }
        rows.addFirst(row);
    }

    synchronized List<ConnectionStats> snapshot() {
        return new ArrayList<>(rows);
    }
}
