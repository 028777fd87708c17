/**
 * Berth's internals shared by its own packages: what the HTTP client needs of the engine
 * ({@link io.berth.pool.internal.PoolAccess}), the HTTP health probe, and the origin rules the
 * adapters share. Not exported: no user code can reach it on the module path, and none should on the
 * class path.
 */
package io.berth.pool.internal;
