/**
 * Micrometer meters for Berth pools; needs the optional {@code micrometer-core} dependency.
 */
package io.berth.pool.micrometer;
