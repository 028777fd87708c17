package io.berth.transport.http2;

/**
 * A budget of {@code count} events per {@code period}, as a generic cell rate algorithm: one long,
 * the time at which the budget would be full again; each event moves it {@code period / count} later;
 * an event that would move it more than {@code period} beyond now is over budget. So bursts of up to
 * {@code count} pass, and a sustained rate of {@code count / period}.
 *
 * <p>Not thread-safe: guarded by its owner's lock.
 */
final class RateBudget {
    private final long costNanos;
    private final long periodNanos;
    private long fullAgainAt;
    private boolean started;

    RateBudget(int count, long periodNanos) {
        this.periodNanos = periodNanos;
        this.costNanos = Math.max(1, periodNanos / count);
    }

    /**
     * Counts one event.
     *
     * @param now {@link System#nanoTime()}
     * @return whether it fits in the budget (if not, it is not counted)
     */
    boolean tryTake(long now) {
        long base = !started || fullAgainAt - now < 0 ? now : fullAgainAt;
        long next = base + costNanos;
        if (next - now > periodNanos) {
            return false;
        }
        started = true;
        fullAgainAt = next;
        return true;
    }
}
