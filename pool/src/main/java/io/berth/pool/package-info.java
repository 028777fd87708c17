/**
 * Pools of warm TLS connections and the HTTP client over them. Start at {@link io.berth.pool.Berth}.
 */
package io.berth.pool;
