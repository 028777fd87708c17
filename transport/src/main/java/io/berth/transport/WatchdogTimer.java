package io.berth.transport;

import java.util.Objects;

/**
 * Two timers run by the {@code berth-watchdog} thread, which enforces every connection's deadlines:
 * each timer, once {@linkplain #schedule scheduled}, runs its action on the watchdog thread when its
 * timeout passes, unless it was {@linkplain #cancel cancelled} first. The seam through which an HTTP/2
 * connection puts its own deadlines (the acknowledgement of its SETTINGS, idle PINGs) on the one
 * watchdog instead of a thread of its own.
 *
 * <p>The actions run on the watchdog thread, which serves every connection of the JVM: they must be
 * quick and must never block (abort a connection, start a thread, re-arm). A timer keeps the watchdog
 * thread alive until {@link #close()}.
 *
 * <p>Scheduling and cancelling take no lock and allocate nothing. Each timer is scheduled and
 * cancelled by one thread at a time (the watchdog's action may schedule its own timer again).
 * Thread-safe otherwise.
 */
public final class WatchdogTimer extends Watchdog.Watched {
    /** The first timer. */
    public static final int FIRST = Watchdog.READ;
    /** The second timer. */
    public static final int SECOND = Watchdog.WRITE;

    private final String name;
    private final Runnable first;
    private final Runnable second;

    /**
     * Creates the timers and registers them with the watchdog (starting its thread if needed).
     *
     * @param name what the timers belong to, for messages
     * @param first what the watchdog thread runs when the first timer fires
     * @param second what it runs when the second timer fires
     */
    public WatchdogTimer(String name, Runnable first, Runnable second) {
        super(Watchdog.SHARED);
        this.name = Objects.requireNonNull(name, "name");
        this.first = Objects.requireNonNull(first, "first");
        this.second = Objects.requireNonNull(second, "second");
        watch();
    }

    /**
     * Schedules a timer, replacing its previous deadline.
     *
     * @param timer {@link #FIRST} or {@link #SECOND}
     * @param timeoutNanos when it fires from now; positive
     * @return the deadline, for {@link #cancel}
     * @throws IllegalArgumentException if {@code timer} or {@code timeoutNanos} is out of range
     */
    public long schedule(int timer, long timeoutNanos) {
        check(timer);
        if (timeoutNanos <= 0) {
            throw new IllegalArgumentException("timeoutNanos must be positive but was " + timeoutNanos);
        }
        return arm(timer, timeoutNanos);
    }

    /**
     * Cancels a timer scheduled with {@code deadline}.
     *
     * @param timer {@link #FIRST} or {@link #SECOND}
     * @param deadline what {@link #schedule} returned
     * @return {@code true} if it was cancelled in time; {@code false} if it fired (its action ran or
     *     is about to) or was scheduled again since
     */
    public boolean cancel(int timer, long deadline) {
        check(timer);
        return disarm(timer, deadline);
    }

    /** Stops both timers for good and lets the watchdog thread end if nothing else needs it; idempotent. */
    public void close() {
        unwatch();
    }

    @Override
    void expire(int side) {
        (side == FIRST ? first : second).run();
    }

    @Override
    public String toString() {
        return "timers of " + name;
    }

    private static void check(int timer) {
        if (timer != FIRST && timer != SECOND) {
            throw new IllegalArgumentException("timer must be FIRST or SECOND but was " + timer);
        }
    }
}
