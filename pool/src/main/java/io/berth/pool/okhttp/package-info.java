/**
 * Runs OkHttp calls over Berth pools; needs the optional OkHttp dependency, 4.12 or 5
 * ({@link io.berth.pool.okhttp.BerthCallFactory} works with both; {@link io.berth.pool.okhttp.BerthInterceptor}
 * used on its own needs 5 and says so when created on 4). The application
 * keeps its {@code OkHttpClient}, its interceptors and OkHttp's {@code Request}/{@code Response};
 * the connections come from a {@link io.berth.pool.http.BerthPools}, one pool per origin, with Berth's
 * reuse policies, purging and stats.
 *
 * <pre>{@code
 * BerthPools pools = BerthPools.builder()
 *         .defaults(BerthCallFactory.poolDefaults(okHttpClient)      // the client's connect timeout
 *                 .reusePolicy(ReusePolicy.AGGRESSIVE).build())
 *         .build();
 *
 * // Either: a Call.Factory (e.g. for Retrofit), whose call timeout also covers reading the body ...
 * Call.Factory calls = BerthCallFactory.create(okHttpClient, pools);
 * // ... or, with OkHttp 5: an interceptor, added last, in the application's own client.
 * OkHttpClient client = okHttpClient.newBuilder().addInterceptor(BerthInterceptor.create(pools)).build();
 *
 * try (Response response = calls.newCall(new Request.Builder().url("https://api.example.com/v1/items").build())
 *         .execute()) {
 *     String json = response.body().string(); // read to its end: the connection goes back to the pool
 * }
 * pools.close(); // at shutdown
 * }</pre>
 *
 * <p>{@link io.berth.pool.okhttp.BerthInterceptor} describes the mapping, the timeouts, cancellation
 * and what OkHttp features do not apply (certificate pinning, proxies, cache, OkHttp's TLS and DNS
 * settings).
 */
package io.berth.pool.okhttp;
