package io.berth.pool.micrometer;

import io.berth.pool.http.BerthClient;
import io.berth.pool.http.BerthPools;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The meters of every pool of a {@link BerthPools}, those open now and those created later (one per
 * origin, on first use): what {@link BerthMetrics#bind(BerthPools, MeterRegistry, Iterable)} returns.
 * Each pool gets the meters of {@link BerthMetrics}, tagged {@code pool} and {@code backend} (its
 * origin, e.g. {@code https://api.example.com:443}), plus the tags given; a new pool's meters are
 * registered before its first request goes out.
 *
 * <p>Thread-safe.
 *
 * @since 1.0
 */
public final class BerthPoolsMetrics implements AutoCloseable {
    private final BerthPools pools;
    private final List<BerthMetrics> bound = new CopyOnWriteArrayList<>();
    private final Consumer<BerthClient> listener;
    private volatile boolean closed;

    BerthPoolsMetrics(BerthPools pools, MeterRegistry registry, Iterable<Tag> tags) {
        this.pools = pools;
        this.listener = client -> {
            if (!closed) {
                bound.add(BerthMetrics.bind(client.pool(), registry, tags));
            }
        };
        pools.addClientListener(listener);
    }

    /** @return how many pools have meters so far */
    public int pools() {
        return bound.size();
    }

    /** Stops binding new pools and removes every pool's meters from the registry. Idempotent. */
    @Override
    public void close() {
        closed = true;
        pools.removeClientListener(listener);
        for (BerthMetrics m : bound) {
            m.close();
        }
        bound.clear();
    }
}
