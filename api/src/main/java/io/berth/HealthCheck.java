package io.berth;

import io.berth.internal.Checks;
import java.time.Duration;
import java.util.Objects;

/**
 * An active health check: every {@code interval}, off the callers' threads, a request
 * ({@code HEAD /} by default) on a new connection to each server, through the pool's TLS profile.
 * {@code fall} failures in a row mark a server down (its idle connections are closed); {@code rise}
 * successes in a row bring it back, with slow start. A success is a status in
 * {@code [minStatus, maxStatus]} within {@code timeout}. Passive checks (failed connects) run
 * whether or not an active check is set.
 *
 * <p>Immutable and thread-safe.
 */
public final class HealthCheck {
    private final String method;
    private final String path;
    private final Duration interval;
    private final Duration timeout;
    private final int minStatus;
    private final int maxStatus;
    private final int rise;
    private final int fall;

    private HealthCheck(Builder b) {
        method = b.method;
        path = b.path;
        interval = b.interval;
        timeout = b.timeout;
        minStatus = b.minStatus;
        maxStatus = b.maxStatus;
        rise = b.rise;
        fall = b.fall;
    }

    /** @return a builder: {@code HEAD /} every 5 s, 2 s timeout, 200-399 healthy, rise 2, fall 3 */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the method, {@code HEAD} or {@code GET} */
    public String method() {
        return method;
    }

    /** @return the request target */
    public String path() {
        return path;
    }

    /** @return how often each server is checked */
    public Duration interval() {
        return interval;
    }

    /** @return the limit on one check: connect, handshake and response */
    public Duration timeout() {
        return timeout;
    }

    /** @return the lowest healthy status */
    public int minStatus() {
        return minStatus;
    }

    /** @return the highest healthy status */
    public int maxStatus() {
        return maxStatus;
    }

    /** @return successes in a row that bring a down server back */
    public int rise() {
        return rise;
    }

    /** @return failures in a row that mark a server down */
    public int fall() {
        return fall;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HealthCheck h && h.method.equals(method) && h.path.equals(path)
                && h.interval.equals(interval) && h.timeout.equals(timeout) && h.minStatus == minStatus
                && h.maxStatus == maxStatus && h.rise == rise && h.fall == fall;
    }

    @Override
    public int hashCode() {
        return Objects.hash(method, path, interval, timeout, minStatus, maxStatus, rise, fall);
    }

    @Override
    public String toString() {
        return "HealthCheck{" + method + " " + path + " every " + interval + ", timeout " + timeout + ", healthy "
                + minStatus + ".." + maxStatus + ", rise " + rise + ", fall " + fall + "}";
    }

    /** Builds a {@link HealthCheck}; every setter validates at once. Not thread-safe. */
    public static final class Builder {
        private String method = "HEAD";
        private String path = "/";
        private Duration interval = Duration.ofSeconds(5);
        private Duration timeout = Duration.ofSeconds(2);
        private int minStatus = 200;
        private int maxStatus = 399;
        private int rise = 2;
        private int fall = 3;

        private Builder() {
        }

        /**
         * @param method {@code HEAD} (the default) or {@code GET}
         * @return this builder
         * @throws IllegalArgumentException if another method
         */
        public Builder method(String method) {
            if (!"HEAD".equals(method) && !"GET".equals(method)) {
                throw new IllegalArgumentException("healthCheck method must be HEAD or GET but was '" + method + "'");
            }
            this.method = method;
            return this;
        }

        /**
         * @param path the request target, starting with {@code /}; default {@code /}
         * @return this builder
         * @throws IllegalArgumentException if it does not start with {@code /} or holds spaces
         */
        public Builder path(String path) {
            Objects.requireNonNull(path, "path");
            if (!path.startsWith("/") || path.chars().anyMatch(c -> c <= ' ' || c >= 127)) {
                throw new IllegalArgumentException("healthCheck path must start with '/' and hold no spaces or"
                        + " control characters but was '" + path + "'");
            }
            this.path = path;
            return this;
        }

        /**
         * @param interval how often; positive; default 5 s
         * @return this builder
         */
        public Builder interval(Duration interval) {
            this.interval = Checks.positive("healthCheck interval", interval);
            return this;
        }

        /**
         * @param timeout the limit on one check; positive; default 2 s
         * @return this builder
         */
        public Builder timeout(Duration timeout) {
            this.timeout = Checks.positive("healthCheck timeout", timeout);
            return this;
        }

        /**
         * @param min the lowest healthy status
         * @param max the highest healthy status
         * @return this builder
         * @throws IllegalArgumentException unless 100 <= min <= max <= 599
         */
        public Builder healthyStatus(int min, int max) {
            if (min < 100 || max > 599 || min > max) {
                throw new IllegalArgumentException("healthCheck status range must satisfy 100 <= min <= max <= 599"
                        + " but was " + min + ".." + max);
            }
            this.minStatus = min;
            this.maxStatus = max;
            return this;
        }

        /**
         * @param rise successes in a row that bring a server back; default 2
         * @return this builder
         */
        public Builder rise(int rise) {
            this.rise = Checks.atLeast("healthCheck rise", rise, 1);
            return this;
        }

        /**
         * @param fall failures in a row that mark a server down; default 3
         * @return this builder
         */
        public Builder fall(int fall) {
            this.fall = Checks.atLeast("healthCheck fall", fall, 1);
            return this;
        }

        /** @return the health check */
        public HealthCheck build() {
            return new HealthCheck(this);
        }
    }
}
