package io.berth.pool;

import io.berth.BackendPoolConfig;
import io.berth.Balance;
import io.berth.HealthCheck;
import io.berth.PassiveHealth;
import io.berth.ReusePolicy;

/**
 * A {@link BackendPoolConfig} with its durations converted to nanoseconds once, so the hot path
 * reads plain fields. Immutable; a pool swaps the whole object on reconfiguration.
 */
final class Settings {
    /** The longest a maintenance pass waits: idle connections closed by the server are noticed within it. */
    static final long MAX_MAINTENANCE_INTERVAL_NANOS = 1_000_000_000L;

    final BackendPoolConfig config;
    final int maxConnections;
    final int maxIdle;
    final int minIdle;
    final int maxUses;
    final int retries;
    final long purgeDelayNanos;
    final long idleTimeoutNanos;
    final long validateAfterIdleNanos;
    final long maxLifetimeNanos;
    final long acquireTimeoutNanos;
    final long connectTimeoutNanos;
    final long leakThresholdNanos;
    final ReusePolicy policy;
    final Balance balance;
    final boolean preferLastServer;
    final int failuresToMarkDown;
    final PassiveHealth passiveHealth;
    final long downBackoffNanos;
    final long maxDownBackoffNanos;
    final long slowStartNanos;
    final HealthCheck healthCheck;

    Settings(BackendPoolConfig c) {
        config = c;
        maxConnections = c.maxConnections();
        maxIdle = c.maxIdle();
        minIdle = c.minIdle();
        maxUses = c.maxUses();
        retries = c.retries();
        purgeDelayNanos = c.purgeDelay().toNanos();
        idleTimeoutNanos = c.idleTimeout().toNanos();
        validateAfterIdleNanos = c.validateAfterIdle().toNanos();
        maxLifetimeNanos = c.maxLifetime().toNanos();
        acquireTimeoutNanos = c.acquireTimeout().toNanos();
        connectTimeoutNanos = c.connectTimeout().toNanos();
        leakThresholdNanos = c.leakDetectionThreshold().toNanos();
        policy = c.reusePolicy();
        balance = c.balance();
        preferLastServer = c.preferLastServer();
        failuresToMarkDown = c.failuresToMarkDown();
        passiveHealth = c.passiveHealth();
        downBackoffNanos = c.downBackoff().toNanos();
        maxDownBackoffNanos = c.maxDownBackoff().toNanos();
        slowStartNanos = c.slowStart().toNanos();
        healthCheck = c.healthCheck();
    }

    long maintenanceIntervalNanos() {
        return Math.min(purgeDelayNanos, MAX_MAINTENANCE_INTERVAL_NANOS);
    }
}
