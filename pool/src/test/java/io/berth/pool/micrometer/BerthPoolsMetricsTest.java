package io.berth.pool.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.BackendPoolConfig;
import io.berth.CloseReason;
import io.berth.TlsConfig;
import io.berth.pool.http.BerthPools;
import io.berth.pool.okhttp.BerthCallFactory;
import io.berth.transport.testing.HttpTestServer.Reply;
import io.berth.transport.testing.HttpTestServer;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.TestPki;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import okhttp3.Call;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The README's metrics recipe with OkHttp: one {@code BerthMetrics.bind(pools, ...)} call, before any
 * request, exports the pool of every origin the calls reach, the ones reached later included, with
 * the README table's meters, tagged by pool and backend (the origin), over real TLS to two servers.
 */
@ExtendWith(Hygiene.class)
@Timeout(30)
class BerthPoolsMetricsTest {
    /** The README table: 21 meters, plus one per close reason of berth.connections.closed. */
    private static final Set<String> README_METERS = Set.of(BerthMetrics.CONNECTIONS, BerthMetrics.IDLE,
            BerthMetrics.SESSION_IDLE, BerthMetrics.IN_USE, BerthMetrics.PEAK_IN_USE, BerthMetrics.WAITING,
            BerthMetrics.OPENED, BerthMetrics.CLOSED, BerthMetrics.ABORTED, BerthMetrics.ACQUIRED, BerthMetrics.REUSED,
            BerthMetrics.WAITS, BerthMetrics.TIMEOUTS, BerthMetrics.CONNECT_FAILURES, BerthMetrics.TLS_RESUMED,
            BerthMetrics.SERVER_UP, BerthMetrics.SERVER_WEIGHT, BerthMetrics.SERVER_IN_USE, BerthMetrics.SERVER_IDLE,
            BerthMetrics.SERVER_OPENED, BerthMetrics.SERVER_CONNECT_FAILURES, BerthMetrics.SERVER_DOWN,
            BerthMetrics.H2_CONNECTIONS, BerthMetrics.STREAMS_IN_FLIGHT, BerthMetrics.STREAMS, BerthMetrics.RESETS_SENT,
            BerthMetrics.RESETS_RECEIVED, BerthMetrics.GOAWAYS);

    @Test
    void oneBindExportsEveryOriginsPoolPresentAndFuture() throws Exception {
        try (HttpTestServer a = HttpTestServer.start(TestPki.server().context(), r -> Reply.ok("a"));
                HttpTestServer b = HttpTestServer.start(TestPki.server().context(), r -> Reply.ok("b"))) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            OkHttpClient okHttp = new OkHttpClient.Builder().build();
            BerthPools pools = BerthPools.builder()
                    .defaults(BerthCallFactory.poolDefaults(okHttp).build())
                    .tls(TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate())).build())
                    .build();
            try (pools; BerthPoolsMetrics metrics = BerthMetrics.bind(pools, registry, Tags.of("app", "shop"))) {
                Call.Factory calls = BerthCallFactory.create(okHttp, pools);
                for (int i = 0; i < 5; i++) {
                    assertThat(get(calls, a, "/items/" + i)).isEqualTo("a");
                }
                for (int i = 0; i < 3; i++) {
                    assertThat(get(calls, b, "/items/" + i)).isEqualTo("b"); // an origin first reached after bind
                }
                assertThat(metrics.pools()).isEqualTo(2).isEqualTo(pools.clients().size());
                for (HttpTestServer s : List.of(a, b)) {
                    String origin = "https://127.0.0.1:" + s.port();
                    Tags t = Tags.of("backend", origin, "pool", origin, "app", "shop");
                    assertThat(registry.get(BerthMetrics.ACQUIRED).tags(t).functionCounter().count())
                            .isEqualTo(s.requests().size());
                    assertThat(registry.get(BerthMetrics.OPENED).tags(t).functionCounter().count())
                            .as("opened = the server's own count").isEqualTo(s.connections());
                    assertThat(registry.get(BerthMetrics.SERVER_UP).tags(t).tag("server", "127.0.0.1:" + s.port())
                            .gauge().value()).isEqualTo(1);
                    List<Meter> mine = registry.getMeters().stream()
                            .filter(m -> origin.equals(m.getId().getTag("backend"))).toList();
                    assertThat(mine.stream().map(m -> m.getId().getName()).collect(Collectors.toSet()))
                            .isEqualTo(README_METERS);
                    assertThat(mine).hasSize(README_METERS.size() - 1 + CloseReason.values().length);
                }
                assertThat(a.connections()).isEqualTo(1);
                assertThat(b.connections()).isEqualTo(1);
            }
            assertThat(registry.getMeters()).as("removed on close").isEmpty();
        }
    }

    private static String get(Call.Factory calls, HttpTestServer s, String path) throws Exception {
        try (Response r = calls.newCall(new Request.Builder().url("https://127.0.0.1:" + s.port() + path).build())
                .execute()) {
            return r.body().string();
        }
    }
}
