/**
 * Berth: warm, reusable TLS connection pools for outbound HTTP calls, with HAProxy's reuse rules.
 *
 * <p>The central type is {@link io.berth.BackendPool}: a pool of connections to one
 * {@link io.berth.Backend}, tuned by an immutable {@link io.berth.BackendPoolConfig}. A caller
 * {@linkplain io.berth.BackendPool#acquire(boolean) acquires} a {@link io.berth.Lease} for one
 * exchange and {@linkplain io.berth.BackendPool#release(io.berth.Lease, io.berth.Outcome) releases}
 * it with the exchange's {@link io.berth.Outcome}. Which idle connection may carry which request is
 * decided by the pool's {@link io.berth.ReusePolicy}; surplus idle connections are closed by purge
 * passes that a {@link io.berth.PurgeScheduler} runs; {@link io.berth.BackendPool#stats()} shows
 * every connection and why each one closed.
 *
 * <p>Conventions: no method accepts or returns {@code null} unless its documentation says so.
 * Failures caused by the network or the server are {@link java.io.IOException}s; caller mistakes
 * (bad settings, use of a released lease) are {@link java.lang.IllegalArgumentException}s or
 * {@link java.lang.IllegalStateException}s whose message names what was wrong.
 */
package io.berth;
