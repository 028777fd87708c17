package io.berth;

/**
 * A source of nanosecond time for a pool's timers ({@code idleTimeout}, {@code maxLifetime},
 * purges, waits). Only differences between readings matter, as with {@link System#nanoTime()}.
 * Tests pass a ticker they advance by hand, so purges run at literal times without sleeping.
 *
 * <p>Implementations must be thread-safe and cheap.
 */
@FunctionalInterface
public interface Ticker {
    /** @return the current time in nanoseconds, from an arbitrary origin */
    long read();

    /** @return the system ticker, {@link System#nanoTime()} */
    static Ticker system() {
        return SystemTicker.INSTANCE;
    }
}
