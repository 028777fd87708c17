package io.berth.pool;

import io.berth.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A ticker that moves only when told to. */
final class FakeTicker implements Ticker {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    /**
     * Run first by every read: a test that serializes its threads (the fuzzer) may hold one here. Null
     * for none.
     */
    volatile Runnable gate;

    @Override
    public long read() {
        Runnable g = gate;
        if (g != null) {
            g.run();
        }
        return now.get();
    }

    void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }
}
