package io.berth.pool.jdk;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.PoolStats;
import io.berth.ReusePolicy;
import io.berth.pool.http.BerthPools;
import io.berth.pool.micrometer.BerthMetrics;
import io.berth.pool.micrometer.BerthPoolsMetrics;
import io.berth.transport.testing.HttpTestServer.Reply;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.web.client.RestClient;

/**
 * The README's Spring recipe, as it runs: Spring 6.2's {@code RestClient} on
 * {@code JdkClientHttpRequestFactory} over a {@link BerthHttpClient}, with a Prometheus registry bound
 * to the client's pools, against a real TLS server on 127.0.0.1 that counts its connections.
 */
class SpringRestClientRecipeTest extends JdkTestBase {
    @Test
    void restClientRunsOverBerthAndPrometheusSeesItsPool() throws Exception {
        serve(r -> Reply.ok("{\"id\":\"" + r.target() + "\"}").header("Content-Type", "application/json"));
        // Spring streams every request body (BodyPublishers.fromPublisher): not replayable, so under SAFE
        // each request with a body would open a connection of its own; AGGRESSIVE lets it reuse a proven one.
        BerthPools pools = pools(b -> b.reusePolicy(ReusePolicy.AGGRESSIVE));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // --- the recipe
        BerthPoolsMetrics metrics = BerthMetrics.bind(pools, registry, Tags.of("app", "shop"));
        BerthHttpClient http = BerthHttpClient.newBuilder().pools(pools).build();
        RestClient rest = RestClient.builder()
                .requestFactory(new JdkClientHttpRequestFactory(http))
                .baseUrl("https://127.0.0.1:" + server.port())
                .build();
        String item = rest.get().uri("/v1/items/{id}", 7).retrieve().body(String.class);
        // ---
        closeLater(metrics);
        closeLater(http);
        assertThat(item).isEqualTo("{\"id\":\"/v1/items/7\"}");
        for (int i = 0; i < 9; i++) {
            assertThat(rest.get().uri("/v1/items/{id}", i).retrieve().body(String.class)).contains("/v1/items/" + i);
        }
        assertThat(rest.put().uri("/v1/items/7").contentType(MediaType.APPLICATION_JSON).body("{\"n\":1}")
                .retrieve().toBodilessEntity().getStatusCode().value()).isEqualTo(200);

        PoolStats stats = stats(http, server);
        assertThat(server.requests()).hasSize(11);
        assertThat(server.connections()).as("the server's own count").isEqualTo(1);
        assertThat(stats.opened()).isEqualTo(1);
        assertThat(stats.acquired()).isEqualTo(11);
        String origin = "https://127.0.0.1:" + server.port();
        assertThat(registry.scrape())
                .contains("berth_connections_opened_total{app=\"shop\",backend=\"" + origin + "\",pool=\"jdk-test\"} 1.0")
                .contains("berth_acquire_total{app=\"shop\",backend=\"" + origin + "\",pool=\"jdk-test\"} 11.0");
    }

    /**
     * The load: Spring calls {@code sendAsync} for every request; 1,000 callers at once (virtual
     * threads where the JDK has them) made hundreds of platform threads. Now none on JDK 21+ (each
     * exchange runs on a virtual thread), at most 64 on 17; sampled every few milliseconds.
     */
    @Test
    void aThousandConcurrentCallersMakeNoPlatformThreadPerCall() throws Exception {
        serve(r -> Reply.ok("ok"));
        // The test is about threads: a generous acquire timeout keeps a loaded machine from failing it.
        BerthHttpClient http = closeLater(BerthHttpClient.newBuilder()
                .pools(pools(b -> b.acquireTimeout(Duration.ofSeconds(50)))).build());
        RestClient rest = RestClient.builder().requestFactory(new JdkClientHttpRequestFactory(http))
                .baseUrl("https://127.0.0.1:" + server.port()).build();
        boolean jdk21 = Runtime.version().feature() >= 21;
        AtomicInteger peak = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (running.get()) {
                int n = (int) Thread.getAllStackTraces().keySet().stream()
                        .filter(t -> t.getName().startsWith("berth-http-")).count();
                peak.accumulateAndGet(n, Math::max);
                Thread.onSpinWait();
            }
        });
        sampler.start();
        ExecutorService callers = jdk21 ? virtualThreadPerTask() : Executors.newFixedThreadPool(200);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 1_000; i++) {
                results.add(callers.submit(() -> rest.get().uri("/").retrieve().body(String.class)));
            }
            for (Future<String> f : results) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo("ok");
            }
        } finally {
            callers.shutdown();
            assertThat(callers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            running.set(false);
            sampler.join(5_000);
        }
        System.out.println("1,000 concurrent RestClient calls: peak berth-http platform threads " + peak.get()
                + " (JDK " + Runtime.version().feature() + ")");
        // JDK 17: 64 threads for exchanges and 64 reading bodies ahead, at most.
        assertThat(peak.get()).isLessThanOrEqualTo(jdk21 ? 0 : 2 * DefaultExecutor.PLATFORM_THREADS);
        assertThat(server.requests()).hasSize(1_000);
        PoolStats stats = stats(http, server);
        assertThat(server.connections()).as("the server's own count").isEqualTo((int) stats.opened());
        assertThat(stats.peakInUse()).isLessThanOrEqualTo(64); // maxConnections
    }

    private static ExecutorService virtualThreadPerTask() throws ReflectiveOperationException {
        return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
    }
}
