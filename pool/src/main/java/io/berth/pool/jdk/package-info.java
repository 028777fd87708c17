/**
 * A drop-in {@link java.net.http.HttpClient} whose requests run over Berth pools:
 * {@link io.berth.pool.jdk.BerthHttpClient}. Code written against {@code HttpClient} keeps its
 * requests, body publishers and body handlers; each origin gets a pool of warm TLS connections that
 * every caller shares, under an explicit {@link io.berth.ReusePolicy}.
 *
 * <pre>{@code
 * BerthPools pools = BerthPools.builder()
 *         .defaults(BackendPoolConfig.builder().reusePolicy(ReusePolicy.SAFE).build())
 *         .tls(TlsConfig.builder().trustPemFile(Path.of("/etc/vendor-ca.pem")).build())
 *         .build();
 * HttpClient http = BerthHttpClient.newBuilder().pools(pools)
 *         .followRedirects(HttpClient.Redirect.NORMAL).build();
 * HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://api.vendor.example/v1/items"))
 *         .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
 * PoolStats stats = pools.clients().iterator().next().pool().stats(); // which connection served what
 * pools.close(); // at shutdown: closes every pool gracefully
 * }</pre>
 *
 * <p>See {@link io.berth.pool.jdk.BerthHttpClient} for what is supported, what is refused with an
 * {@link java.lang.UnsupportedOperationException}, and how request and response bodies are bridged.
 */
package io.berth.pool.jdk;
