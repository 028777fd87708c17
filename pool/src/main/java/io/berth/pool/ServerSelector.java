package io.berth.pool;

import io.berth.Balance;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Picks the server for a new connection, by {@link Balance} and weight, among the servers that take
 * new connections: pure over the array of servers it is given, but for a round-robin counter.
 * Idle reuse comes before it (prefer warm); it is asked only when a connection must be opened.
 *
 * <p>Thread-safe.
 */
final class ServerSelector {
    private final AtomicLong rr = new AtomicLong();

    /** @return where the next idle scan starts, so that idle connections of all servers get used */
    int scanStart(int servers) {
        return servers == 1 ? 0 : (int) Long.remainderUnsigned(rr.get(), servers);
    }

    /**
     * @param entries the pool's servers
     * @param excluded servers not to pick (they failed for this request), may be empty
     * @param avoid a server to pick only if no other takes new connections, or null
     * @param max {@code maxConnections}, or {@link Integer#MAX_VALUE} to ignore the limit
     * @return the server, or null if none qualifies
     */
    ServerEntry choose(ServerEntry[] entries, Balance balance, long now, long slowStartNanos,
            List<ServerEntry> excluded, ServerEntry avoid, int max) {
        int n = entries.length;
        double[] weights = null;
        double sum = 0;
        int candidates = 0;
        int avoided = -1;
        for (int i = 0; i < n; i++) {
            ServerEntry e = entries[i];
            if (!e.takesNewConnections(now, slowStartNanos) || excluded.contains(e) || e.total.get() >= max) {
                continue;
            }
            double w = e.health.effectiveWeight(e.weight, now, slowStartNanos);
            if (w <= 0) {
                continue;
            }
            if (e == avoid) {
                avoided = i;
                continue;
            }
            if (weights == null) {
                weights = new double[n];
            }
            weights[i] = w;
            sum += w;
            candidates++;
        }
        if (candidates == 0) {
            return avoided >= 0 ? entries[avoided] : null;
        }
        if (candidates == 1) {
            for (int i = 0; i < n; i++) {
                if (weights[i] > 0) {
                    return entries[i];
                }
            }
        }
        switch (balance) {
            case LEAST_CONNECTIONS: {
                ServerEntry best = null;
                double bestLoad = Double.MAX_VALUE;
                int start = (int) Long.remainderUnsigned(rr.getAndIncrement(), n);
                for (int k = 0; k < n; k++) {
                    int i = (start + k) % n;
                    if (weights[i] > 0) {
                        double load = (entries[i].inUse.get() + 1) / weights[i];
                        if (load < bestLoad) {
                            bestLoad = load;
                            best = entries[i];
                        }
                    }
                }
                return best;
            }
            case RANDOM_TWO_CHOICES: {
                int a = pick(weights, sum * ThreadLocalRandom.current().nextDouble());
                int b = pick(weights, sum * ThreadLocalRandom.current().nextDouble());
                double la = (entries[a].inUse.get() + 1) / weights[a];
                double lb = (entries[b].inUse.get() + 1) / weights[b];
                return la <= lb ? entries[a] : entries[b];
            }
            default: {
                // Weighted round robin: a shared counter walks the cumulative weights.
                long scale = 1000;
                long span = 0;
                for (double w : weights) {
                    span += Math.round(w * scale);
                }
                long pos = Long.remainderUnsigned(rr.getAndIncrement() * scale, Math.max(1, span));
                return entries[pick(weights, (double) pos / scale)];
            }
        }
    }

    private static int pick(double[] weights, double point) {
        double acc = 0;
        int last = -1;
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] > 0) {
                acc += weights[i];
                last = i;
                if (point < acc) {
                    return i;
                }
            }
        }
        return last;
    }
}
