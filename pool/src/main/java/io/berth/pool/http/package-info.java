/**
 * Berth's HTTP client over a pool: {@link io.berth.pool.http.BerthClient} sends
 * {@link io.berth.pool.http.BerthRequest}s and streams {@link io.berth.pool.http.BerthResponse}s
 * over the connections of one {@link io.berth.BackendPool}, with the pool's reuse policy, one retry of
 * a replayable request whose reused connection died before any response byte, keep-alive hints and
 * gzip; {@link io.berth.pool.http.Cancellation} aborts an exchange from another thread;
 * {@link io.berth.pool.http.BerthPools} keeps one pool per origin for the adapters. It uses only the
 * pool's public API and the engine's {@code PoolAccess}: the engine knows nothing of HTTP.
 */
package io.berth.pool.http;
