/**
 * Pools of warm TLS connections. Start at {@link io.berth.pool.Berth}, the factory; the HTTP client
 * over a pool is in {@link io.berth.pool.http}.
 *
 * <p>The engine behind every pool is package-private and codes only against {@code io.berth} and
 * {@code io.berth.spi}: {@code LockFreeBackendPool} (acquire, release, hand-off, close) over
 * per-server {@code ServerEntry}s (a {@code SlotTable} of connections whose idle bit is the ownership
 * token, counts, weight, {@code ServerHealth}), with one unit per job: {@code Acquirer} (the slow path:
 * opening with redispatch, waiting), {@code WaitQueue} (one FIFO of waiters for the backend),
 * {@code ServerSelector} (balancing), {@code Maintenance} (one task per pool: expiry, liveness
 * probes, purges, {@code minIdle}, health checks), {@code Retirement} and {@code Purge} (rules as pure
 * functions), {@code StatsRecorder}, {@code PinnedSession} and {@code PoolControl}. A connection
 * carries up to its capacity of exchanges at once: 1 for HTTP/1.1, more for a multiplexed one; the
 * ownership argument for both is in {@code PooledConnection}.
 */
package io.berth.pool;
