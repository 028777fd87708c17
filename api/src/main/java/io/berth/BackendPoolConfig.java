package io.berth;

import io.berth.internal.Checks;
import java.time.Duration;
import java.util.Objects;

/**
 * The settings of a {@link BackendPool}: limits, timeouts, reuse rules and the pool's hooks.
 * Limits apply per server of the backend.
 *
 * <p>Built by {@link #builder()}; every setter rejects a bad value at once with an
 * {@link IllegalArgumentException} that names the setting, the rule and the value, and
 * {@link Builder#build()} checks combinations. Nothing is clamped silently. A running pool takes new
 * settings through {@link BackendPoolControl#reconfigure(BackendPoolConfig)}:
 * {@code pool.control().reconfigure(pool.config().toBuilder().maxConnections(16).build())}; the name,
 * listener, purge scheduler and ticker are fixed for the pool's life.
 *
 * <p>Immutable and thread-safe.
 */
public final class BackendPoolConfig {
    /** Default {@code maxConnections}: 64 per server. */
    public static final int DEFAULT_MAX_CONNECTIONS = 64;
    /** Default {@code maxIdle}: -1, no limit beyond {@code maxConnections}; purges size the idle set. */
    public static final int DEFAULT_MAX_IDLE = -1;
    /** Default {@code minIdle}: 0. */
    public static final int DEFAULT_MIN_IDLE = 0;
    /** Default {@code purgeDelay}: 5 s (HAProxy's {@code pool-purge-delay}). */
    public static final Duration DEFAULT_PURGE_DELAY = Duration.ofSeconds(5);
    /** Default {@code idleTimeout}: 30 s. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
    /** Default {@code validateAfterIdle}: 5 ms. */
    public static final Duration DEFAULT_VALIDATE_AFTER_IDLE = Duration.ofMillis(5);
    /** Default {@code maxLifetime}: 30 min. */
    public static final Duration DEFAULT_MAX_LIFETIME = Duration.ofMinutes(30);
    /** Default {@code maxUses}: -1, no limit. */
    public static final int DEFAULT_MAX_USES = -1;
    /** Default {@code acquireTimeout}: 10 s. */
    public static final Duration DEFAULT_ACQUIRE_TIMEOUT = Duration.ofSeconds(10);
    /** Default {@code connectTimeout}: 10 s. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** Default {@code responseTimeout}: 30 s. */
    public static final Duration DEFAULT_RESPONSE_TIMEOUT = Duration.ofSeconds(30);
    /** Default {@code retries}: 3 (HAProxy's {@code retries}). */
    public static final int DEFAULT_RETRIES = 3;
    /** Default {@code maxResponseHeadSize}: 64 KiB. */
    public static final int DEFAULT_MAX_RESPONSE_HEAD_SIZE = 64 * 1024;
    /** Default {@code failuresToMarkDown}: 3 failed connects in a row. */
    public static final int DEFAULT_FAILURES_TO_MARK_DOWN = 3;
    /** Default {@code downBackoff}: 1 s, doubling each time a server is marked down again. */
    public static final Duration DEFAULT_DOWN_BACKOFF = Duration.ofSeconds(1);
    /** Default {@code maxDownBackoff}: 60 s. */
    public static final Duration DEFAULT_MAX_DOWN_BACKOFF = Duration.ofSeconds(60);
    /** Default {@code maxConcurrentStreams}: 256, a cap on the server's HTTP/2 limit. */
    public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 256;
    /** Default {@code pingTimeout}: 2 s. */
    public static final Duration DEFAULT_PING_TIMEOUT = Duration.ofSeconds(2);
    /** Default {@code pingInterval}: zero, no idle PINGs. */
    public static final Duration DEFAULT_PING_INTERVAL = Duration.ZERO;
    /** Default {@code slowStart}: 5 s. */
    public static final Duration DEFAULT_SLOW_START = Duration.ofSeconds(5);

    private static final BackendPoolConfig DEFAULTS = new Builder().build();

    private final String name;
    private final int maxConnections;
    private final int maxIdle;
    private final int minIdle;
    private final Duration purgeDelay;
    private final Duration idleTimeout;
    private final Duration validateAfterIdle;
    private final Duration maxLifetime;
    private final int maxUses;
    private final Duration acquireTimeout;
    private final Duration connectTimeout;
    private final Duration responseTimeout;
    private final ReusePolicy reusePolicy;
    private final int retries;
    private final boolean idempotencyKeyReplayable;
    private final boolean decompressGzip;
    private final int maxResponseHeadSize;
    private final int maxConcurrentStreams;
    private final Duration pingTimeout;
    private final Duration pingInterval;
    private final Duration leakDetectionThreshold;
    private final Balance balance;
    private final boolean preferLastServer;
    private final int failuresToMarkDown;
    private final PassiveHealth passiveHealth;
    private final Duration downBackoff;
    private final Duration maxDownBackoff;
    private final Duration slowStart;
    private final HealthCheck healthCheck;
    private final PoolListener listener;
    private final PurgeScheduler purgeScheduler;
    private final Ticker ticker;

    private BackendPoolConfig(Builder b) {
        name = b.name;
        maxConnections = b.maxConnections;
        maxIdle = b.maxIdle;
        minIdle = b.minIdle;
        purgeDelay = b.purgeDelay;
        idleTimeout = b.idleTimeout;
        validateAfterIdle = b.validateAfterIdle;
        maxLifetime = b.maxLifetime;
        maxUses = b.maxUses;
        acquireTimeout = b.acquireTimeout;
        connectTimeout = b.connectTimeout;
        responseTimeout = b.responseTimeout;
        reusePolicy = b.reusePolicy;
        retries = b.retries;
        idempotencyKeyReplayable = b.idempotencyKeyReplayable;
        decompressGzip = b.decompressGzip;
        maxResponseHeadSize = b.maxResponseHeadSize;
        maxConcurrentStreams = b.maxConcurrentStreams;
        pingTimeout = b.pingTimeout;
        pingInterval = b.pingInterval;
        leakDetectionThreshold = b.leakDetectionThreshold;
        balance = b.balance;
        preferLastServer = b.preferLastServer;
        failuresToMarkDown = b.failuresToMarkDown;
        passiveHealth = b.passiveHealth;
        downBackoff = b.downBackoff;
        maxDownBackoff = b.maxDownBackoff;
        slowStart = b.slowStart;
        healthCheck = b.healthCheck;
        listener = b.listener;
        purgeScheduler = b.purgeScheduler;
        ticker = b.ticker;
    }

    /** @return the default settings */
    public static BackendPoolConfig defaults() {
        return DEFAULTS;
    }

    /** @return a builder starting from the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder holding these settings, to derive a variant */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** @return the pool's name for logs, stats and metrics, or {@code null} to use the backend's URL */
    public String name() {
        return name;
    }

    /** @return the most connections open at once per server (in use, idle, and being opened) */
    public int maxConnections() {
        return maxConnections;
    }

    /** @return the most idle connections kept per server, or -1 for no limit */
    public int maxIdle() {
        return maxIdle;
    }

    /** @return how many idle connections are kept open ahead of need per server */
    public int minIdle() {
        return minIdle;
    }

    /** @return how often a purge pass closes part of the idle surplus */
    public Duration purgeDelay() {
        return purgeDelay;
    }

    /** @return how long a connection may stay idle before it is closed */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /**
     * @return how long a connection must have been idle before a replayable request on it first
     *     reads the socket for a close or stray bytes from the server; zero: always
     */
    public Duration validateAfterIdle() {
        return validateAfterIdle;
    }

    /** @return the age at which a connection is retired (less up to 2.5% jitter), or zero for none */
    public Duration maxLifetime() {
        return maxLifetime;
    }

    /** @return how many exchanges a connection carries before it is retired, or -1 for no limit */
    public int maxUses() {
        return maxUses;
    }

    /** @return how long an acquisition waits for a connection at {@code maxConnections}; zero: not at all */
    public Duration acquireTimeout() {
        return acquireTimeout;
    }

    /** @return the limit on opening a TCP connection (the TLS handshake has its own) */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** @return the longest silence tolerated while waiting for response bytes (on every read) */
    public Duration responseTimeout() {
        return responseTimeout;
    }

    /** @return which idle connection may carry which request */
    public ReusePolicy reusePolicy() {
        return reusePolicy;
    }

    /** @return how many times a failed attempt to open a connection is retried */
    public int retries() {
        return retries;
    }

    /** @return whether a request carrying an {@code Idempotency-Key} header counts as replayable */
    public boolean idempotencyKeyReplayable() {
        return idempotencyKeyReplayable;
    }

    /** @return whether {@code Accept-Encoding: gzip} is added and gzip bodies are decoded transparently */
    public boolean decompressGzip() {
        return decompressGzip;
    }

    /** @return the largest response head (status line and headers) accepted, in bytes */
    public int maxResponseHeadSize() {
        return maxResponseHeadSize;
    }

    /** @return the most streams an HTTP/2 connection carries at once, whatever its server allows */
    public int maxConcurrentStreams() {
        return maxConcurrentStreams;
    }

    /**
     * @return how long a PING acknowledgement may take on HTTP/2 (the check before a request that is
     *     not replayable, and idle PINGs) before the connection fails as a whole
     */
    public Duration pingTimeout() {
        return pingTimeout;
    }

    /** @return the silence after which an idle HTTP/2 connection is PINGed, or zero for never */
    public Duration pingInterval() {
        return pingInterval;
    }

    /** @return how long a lease may be held before its holder's stack is logged, or zero for never */
    public Duration leakDetectionThreshold() {
        return leakDetectionThreshold;
    }

    /** @return how a pool of several servers picks the server for a new connection */
    public Balance balance() {
        return balance;
    }

    /** @return whether a caller (thread or session) first tries the server and connection it used last */
    public boolean preferLastServer() {
        return preferLastServer;
    }

    /** @return failed connects in a row that mark a server down */
    public int failuresToMarkDown() {
        return failuresToMarkDown;
    }

    /** @return which failures of real traffic count towards {@code failuresToMarkDown} */
    public PassiveHealth passiveHealth() {
        return passiveHealth;
    }

    /** @return how long a server stays down the first time; doubled each time after, up to the maximum */
    public Duration downBackoff() {
        return downBackoff;
    }

    /** @return the longest a server stays down before it is tried again */
    public Duration maxDownBackoff() {
        return maxDownBackoff;
    }

    /** @return how long a server coming back takes to reach its full share; zero for at once */
    public Duration slowStart() {
        return slowStart;
    }

    /** @return the active health check, or {@code null} for none (the default) */
    public HealthCheck healthCheck() {
        return healthCheck;
    }

    /** @return the listener told of connection events */
    public PoolListener listener() {
        return listener;
    }

    /** @return the scheduler that runs purge passes */
    public PurgeScheduler purgeScheduler() {
        return purgeScheduler;
    }

    /** @return the source of time */
    public Ticker ticker() {
        return ticker;
    }

    @Override
    public String toString() {
        return "BackendPoolConfig{name=" + name + ", maxConnections=" + maxConnections + ", maxIdle=" + maxIdle
                + ", minIdle=" + minIdle + ", purgeDelay=" + purgeDelay + ", idleTimeout=" + idleTimeout
                + ", validateAfterIdle=" + validateAfterIdle
                + ", maxLifetime=" + maxLifetime + ", maxUses=" + maxUses + ", acquireTimeout=" + acquireTimeout
                + ", connectTimeout=" + connectTimeout + ", responseTimeout=" + responseTimeout
                + ", reusePolicy=" + reusePolicy + ", retries=" + retries
                + ", idempotencyKeyReplayable=" + idempotencyKeyReplayable + ", decompressGzip=" + decompressGzip
                + ", maxResponseHeadSize=" + maxResponseHeadSize + ", maxConcurrentStreams=" + maxConcurrentStreams
                + ", pingTimeout=" + pingTimeout + ", pingInterval=" + pingInterval
                + ", leakDetectionThreshold=" + leakDetectionThreshold + ", balance=" + balance
                + ", preferLastServer=" + preferLastServer + ", failuresToMarkDown=" + failuresToMarkDown
                + ", passiveHealth=" + passiveHealth
                + ", downBackoff=" + downBackoff + ", maxDownBackoff=" + maxDownBackoff + ", slowStart=" + slowStart
                + ", healthCheck=" + healthCheck + "}";
    }

    /** Builds a {@link BackendPoolConfig}. Not thread-safe. */
    public static final class Builder {
        private String name;
        private int maxConnections = DEFAULT_MAX_CONNECTIONS;
        private int maxIdle = DEFAULT_MAX_IDLE;
        private int minIdle = DEFAULT_MIN_IDLE;
        private Duration purgeDelay = DEFAULT_PURGE_DELAY;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private Duration validateAfterIdle = DEFAULT_VALIDATE_AFTER_IDLE;
        private Duration maxLifetime = DEFAULT_MAX_LIFETIME;
        private int maxUses = DEFAULT_MAX_USES;
        private Duration acquireTimeout = DEFAULT_ACQUIRE_TIMEOUT;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration responseTimeout = DEFAULT_RESPONSE_TIMEOUT;
        private ReusePolicy reusePolicy = ReusePolicy.SAFE;
        private int retries = DEFAULT_RETRIES;
        private boolean idempotencyKeyReplayable;
        private boolean decompressGzip = true;
        private int maxResponseHeadSize = DEFAULT_MAX_RESPONSE_HEAD_SIZE;
        private int maxConcurrentStreams = DEFAULT_MAX_CONCURRENT_STREAMS;
        private Duration pingTimeout = DEFAULT_PING_TIMEOUT;
        private Duration pingInterval = DEFAULT_PING_INTERVAL;
        private Duration leakDetectionThreshold = Duration.ZERO;
        private Balance balance = Balance.ROUND_ROBIN;
        private boolean preferLastServer;
        private int failuresToMarkDown = DEFAULT_FAILURES_TO_MARK_DOWN;
        private PassiveHealth passiveHealth = PassiveHealth.CONNECTS;
        private Duration downBackoff = DEFAULT_DOWN_BACKOFF;
        private Duration maxDownBackoff = DEFAULT_MAX_DOWN_BACKOFF;
        private Duration slowStart = DEFAULT_SLOW_START;
        private HealthCheck healthCheck;
        private PoolListener listener = PoolListener.NONE;
        private PurgeScheduler purgeScheduler = PurgeScheduler.shared();
        private Ticker ticker = Ticker.system();

        private Builder() {
        }

        private Builder(BackendPoolConfig c) {
            name = c.name;
            maxConnections = c.maxConnections;
            maxIdle = c.maxIdle;
            minIdle = c.minIdle;
            purgeDelay = c.purgeDelay;
            idleTimeout = c.idleTimeout;
            validateAfterIdle = c.validateAfterIdle;
            maxLifetime = c.maxLifetime;
            maxUses = c.maxUses;
            acquireTimeout = c.acquireTimeout;
            connectTimeout = c.connectTimeout;
            responseTimeout = c.responseTimeout;
            reusePolicy = c.reusePolicy;
            retries = c.retries;
            idempotencyKeyReplayable = c.idempotencyKeyReplayable;
            decompressGzip = c.decompressGzip;
            maxResponseHeadSize = c.maxResponseHeadSize;
            maxConcurrentStreams = c.maxConcurrentStreams;
            pingTimeout = c.pingTimeout;
            pingInterval = c.pingInterval;
            leakDetectionThreshold = c.leakDetectionThreshold;
            balance = c.balance;
            preferLastServer = c.preferLastServer;
            failuresToMarkDown = c.failuresToMarkDown;
            passiveHealth = c.passiveHealth;
            downBackoff = c.downBackoff;
            maxDownBackoff = c.maxDownBackoff;
            slowStart = c.slowStart;
            healthCheck = c.healthCheck;
            listener = c.listener;
            purgeScheduler = c.purgeScheduler;
            ticker = c.ticker;
        }

        /**
         * @param name the pool's name in logs, stats and metrics; default: the backend's URL
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank but was '" + name + "'");
            }
            this.name = name;
            return this;
        }

        /**
         * @param max the most connections open at once per server; default 64 (HAProxy {@code maxconn})
         * @return this builder
         * @throws IllegalArgumentException if below 1
         */
        public Builder maxConnections(int max) {
            this.maxConnections = Checks.atLeast("maxConnections", max, 1);
            return this;
        }

        /**
         * @param max the most idle connections kept per server, -1 for no limit (the default), 0 to keep
         *     none (HAProxy {@code pool-max-conn})
         * @return this builder
         * @throws IllegalArgumentException if below -1
         */
        public Builder maxIdle(int max) {
            this.maxIdle = Checks.unlimitedOrAtLeast("maxIdle", max, 0);
            return this;
        }

        /**
         * @param min idle connections kept open ahead of need per server, opened off the callers'
         *     threads; default 0 (HAProxy {@code pool-low-conn})
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder minIdle(int min) {
            this.minIdle = Checks.atLeast("minIdle", min, 0);
            return this;
        }

        /**
         * @param delay how often a purge pass closes half the idle surplus over recent peak demand;
         *     default 5 s (HAProxy {@code pool-purge-delay})
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder purgeDelay(Duration delay) {
            this.purgeDelay = Checks.positive("purgeDelay", delay);
            return this;
        }

        /**
         * @param timeout how long a connection may stay idle; default 30 s. A server's
         *     {@code Keep-Alive: timeout=} hint lowers it for that connection.
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = Checks.positive("idleTimeout", timeout);
            return this;
        }

        /**
         * How long a connection must have been idle before a replayable request on it pays for a
         * socket read that looks for a close or stray bytes from the server. A connection released
         * less than this ago is only checked for what it already holds (no system call): a close
         * that races the reuse cannot be seen by any check, and the request is retried once on a new
         * connection if the reused one fails before any response byte. A request that is not
         * replayable always gets the read. Expiry (idle timeout, lifetime, keep-alive hints) is
         * always checked.
         *
         * @param idle the idle time from which the read is done; zero to read before every reuse;
         *     default 5 ms (Apache HttpClient's {@code validateAfterInactivity} is 2 s)
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder validateAfterIdle(Duration idle) {
            this.validateAfterIdle = Checks.positiveOrZero("validateAfterIdle", idle, "a read before every reuse");
            return this;
        }

        /**
         * @param lifetime the age at which a connection is retired, less a random 0-2.5% per connection
         *     so that connections do not all reconnect at once; zero for no limit; default 30 min
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder maxLifetime(Duration lifetime) {
            this.maxLifetime = Checks.positiveOrZero("maxLifetime", lifetime, "no limit");
            return this;
        }

        /**
         * @param max exchanges a connection carries before it is retired, -1 for no limit (the default)
         *     (HAProxy {@code max-reuse})
         * @return this builder
         * @throws IllegalArgumentException if 0 or below -1
         */
        public Builder maxUses(int max) {
            this.maxUses = Checks.unlimitedOrAtLeast("maxUses", max, 1);
            return this;
        }

        /**
         * @param timeout how long an acquisition waits, in FIFO order, for a connection when
         *     {@code maxConnections} are open; zero to fail at once; default 10 s (HAProxy
         *     {@code timeout queue})
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder acquireTimeout(Duration timeout) {
            this.acquireTimeout = Checks.positiveOrZero("acquireTimeout", timeout, "no waiting");
            return this;
        }

        /**
         * @param timeout the limit on opening a TCP connection; default 10 s
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = Checks.positive("connectTimeout", timeout);
            return this;
        }

        /**
         * @param timeout the longest silence tolerated on any read of a response; default 30 s
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder responseTimeout(Duration timeout) {
            this.responseTimeout = Checks.positive("responseTimeout", timeout);
            return this;
        }

        /**
         * @param policy which idle connection may carry which request; default {@link ReusePolicy#SAFE}
         * @return this builder
         */
        public Builder reusePolicy(ReusePolicy policy) {
            this.reusePolicy = Objects.requireNonNull(policy, "reusePolicy");
            return this;
        }

        /**
         * @param retries how many times a failed connection attempt is retried (on another server when
         *     there is one); default 3
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder retries(int retries) {
            this.retries = Checks.atLeast("retries", retries, 0);
            return this;
        }

        /**
         * @param replayable whether a request with an {@code Idempotency-Key} header counts as
         *     replayable (retried, and reusing connections as a GET would); default false
         * @return this builder
         */
        public Builder idempotencyKeyReplayable(boolean replayable) {
            this.idempotencyKeyReplayable = replayable;
            return this;
        }

        /**
         * @param decompress whether to ask for gzip and decode it transparently; default true
         * @return this builder
         */
        public Builder decompressGzip(boolean decompress) {
            this.decompressGzip = decompress;
            return this;
        }

        /**
         * @param bytes the largest response head accepted; default 64 KiB
         * @return this builder
         * @throws IllegalArgumentException if below 1024
         */
        public Builder maxResponseHeadSize(int bytes) {
            this.maxResponseHeadSize = Checks.atLeast("maxResponseHeadSize", bytes, 1024);
            return this;
        }

        /**
         * Caps the streams an HTTP/2 connection carries at once: its capacity is the lower of this and
         * the server's {@code SETTINGS_MAX_CONCURRENT_STREAMS}. Applies to connections opened after
         * the change. Callers beyond the capacity of every connection wait, or overflow to a new
         * connection within {@code maxConnections}; none gets a "too many streams" error.
         *
         * @param max at least 1; default {@value #DEFAULT_MAX_CONCURRENT_STREAMS}
         * @return this builder
         * @throws IllegalArgumentException if below 1
         */
        public Builder maxConcurrentStreams(int max) {
            this.maxConcurrentStreams = Checks.atLeast("maxConcurrentStreams", max, 1);
            return this;
        }

        /**
         * Bounds the wait for an HTTP/2 PING acknowledgement. Under {@link ReusePolicy#SAFE} a request
         * that is not replayable goes on an HTTP/2 connection that has been silent for longer than
         * {@code validateAfterIdle} only after a PING round trip proved it alive; a PING not
         * acknowledged in time fails the connection as a whole, and the request goes elsewhere
         * unsent. Applies to connections opened after the change.
         *
         * @param timeout positive; default 2 s
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder pingTimeout(Duration timeout) {
            this.pingTimeout = Checks.positive("pingTimeout", timeout);
            return this;
        }

        /**
         * PINGs an HTTP/2 connection that has been silent this long, so that a dead one is found
         * (and closed) before a request meets it, and middleboxes keep it open. Applies to
         * connections opened after the change.
         *
         * @param interval the silence; zero for no idle PINGs; default zero
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder pingInterval(Duration interval) {
            this.pingInterval = Checks.positiveOrZero("pingInterval", interval, "no idle PINGs");
            return this;
        }

        /**
         * @param threshold how long a lease may be held before the stack of its holder is logged once
         *     at WARNING; zero (the default) turns detection off
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder leakDetectionThreshold(Duration threshold) {
            this.leakDetectionThreshold = Checks.positiveOrZero("leakDetectionThreshold", threshold, "off");
            return this;
        }

        /**
         * @param balance how new connections are spread over several servers; default
         *     {@link Balance#ROUND_ROBIN}
         * @return this builder
         */
        public Builder balance(Balance balance) {
            this.balance = Objects.requireNonNull(balance, "balance");
            return this;
        }

        /**
         * @param prefer whether a caller (a thread, or a session) first tries the connection, and then
         *     the server, it used last (HAProxy {@code option prefer-last-server}); connections are never
         *     held for it: any other caller may take them; default false. A backend of one server does
         *     this whatever the setting, as it cannot skew the balance there
         * @return this builder
         */
        public Builder preferLastServer(boolean prefer) {
            this.preferLastServer = prefer;
            return this;
        }

        /**
         * @param failures failures in a row (of the kinds {@link #passiveHealth} counts) that mark a
         *     server down for new connections; default 3
         * @return this builder
         * @throws IllegalArgumentException if below 1
         */
        public Builder failuresToMarkDown(int failures) {
            this.failuresToMarkDown = Checks.atLeast("failuresToMarkDown", failures, 1);
            return this;
        }

        /**
         * @param health which failures of real traffic count towards {@code failuresToMarkDown};
         *     default {@link PassiveHealth#CONNECTS}
         * @return this builder
         */
        public Builder passiveHealth(PassiveHealth health) {
            this.passiveHealth = Objects.requireNonNull(health, "passiveHealth");
            return this;
        }

        /**
         * @param backoff how long a server marked down stays down the first time; doubled each time it
         *     is marked down again without a success in between; default 1 s
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder downBackoff(Duration backoff) {
            this.downBackoff = Checks.positive("downBackoff", backoff);
            return this;
        }

        /**
         * @param backoff the longest a server stays down; default 60 s
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder maxDownBackoff(Duration backoff) {
            this.maxDownBackoff = Checks.positive("maxDownBackoff", backoff);
            return this;
        }

        /**
         * @param duration how long a server coming back (from down, drained, or newly added) takes to
         *     reach its full share of new connections; zero for at once; default 5 s
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder slowStart(Duration duration) {
            this.slowStart = Checks.positiveOrZero("slowStart", duration, "at once");
            return this;
        }

        /**
         * @param check the active health check, or {@code null} for none (the default)
         * @return this builder
         */
        public Builder healthCheck(HealthCheck check) {
            this.healthCheck = check;
            return this;
        }

        /**
         * @param listener told of connection events; a listener that throws is logged once and ignored
         * @return this builder
         */
        public Builder listener(PoolListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * @param scheduler runs the purge passes; default {@link PurgeScheduler#shared()}
         * @return this builder
         */
        public Builder purgeScheduler(PurgeScheduler scheduler) {
            this.purgeScheduler = Objects.requireNonNull(scheduler, "purgeScheduler");
            return this;
        }

        /**
         * @param ticker the source of time; default {@link Ticker#system()}
         * @return this builder
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * @return the settings
         * @throws IllegalArgumentException if settings contradict each other: {@code minIdle} above
         *     {@code maxConnections} or {@code maxIdle}, or {@code maxIdle} above {@code maxConnections}
         */
        public BackendPoolConfig build() {
            if (minIdle > maxConnections) {
                throw new IllegalArgumentException("minIdle (" + minIdle + ") must be <= maxConnections ("
                        + maxConnections + ")");
            }
            if (maxIdle != -1 && maxIdle > maxConnections) {
                throw new IllegalArgumentException("maxIdle (" + maxIdle + ") must be <= maxConnections ("
                        + maxConnections + ")");
            }
            if (maxIdle != -1 && minIdle > maxIdle) {
                throw new IllegalArgumentException("minIdle (" + minIdle + ") must be <= maxIdle (" + maxIdle + ")");
            }
            if (downBackoff.compareTo(maxDownBackoff) > 0) {
                throw new IllegalArgumentException("downBackoff (" + downBackoff + ") must be <= maxDownBackoff ("
                        + maxDownBackoff + ")");
            }
            return new BackendPoolConfig(this);
        }
    }
}
