/**
 * A drop-in {@link java.net.http.HttpClient} whose requests run over Berth pools.
 */
package io.berth.pool.jdk;
