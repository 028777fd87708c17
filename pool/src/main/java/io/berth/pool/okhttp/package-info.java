/**
 * Runs OkHttp calls over Berth pools; needs the optional {@code okhttp} dependency.
 */
package io.berth.pool.okhttp;
