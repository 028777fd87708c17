package io.berth.pool.okhttp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.PoolStats;
import io.berth.ReusePolicy;
import io.berth.transport.testing.HttpTestServer;
import io.berth.transport.testing.HttpTestServer.End;
import io.berth.transport.testing.HttpTestServer.Reply;
import io.berth.transport.testing.Hygiene;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * DESIGN.md's seed scenario through OkHttp: 40 sequential GETs, each from a fresh caller (a new
 * thread, a new {@code OkHttpClient} and a new adapter) over one shared {@code BerthPools}, counted
 * by the server.
 */
@ExtendWith(Hygiene.class)
@Timeout(60)
class OkHttpSeedScenarioTest {
    private final OkHttpFixture fx = new OkHttpFixture();

    /** How a fresh caller runs its GET. */
    enum Mode {
        /** A new client with the interceptor last; {@code execute()}. */
        INTERCEPTOR,
        /** A new client and a new {@link BerthCallFactory} over it; {@code execute()}. */
        CALL_FACTORY,
        /** A new client and a new {@link BerthCallFactory} over it; {@code enqueue()}. */
        CALL_FACTORY_ENQUEUE
    }

    @AfterEach
    void stop() throws IOException {
        fx.close();
    }

    @ParameterizedTest(name = "{0} via {1}")
    @CsvSource({
        "safe, INTERCEPTOR", "aggressive, INTERCEPTOR", "always, INTERCEPTOR",
        "safe, CALL_FACTORY", "aggressive, CALL_FACTORY", "always, CALL_FACTORY",
        "safe, CALL_FACTORY_ENQUEUE", "aggressive, CALL_FACTORY_ENQUEUE", "always, CALL_FACTORY_ENQUEUE"})
    void fortySequentialGetsFromFreshCallersUseOneBackendConnection(String policy, Mode mode) throws Exception {
        assumeInterceptorRuns(mode);
        fx.serve(r -> Reply.ok("hello " + r.exchange()));
        fx.pools(b -> b.reusePolicy(ReusePolicy.named(policy)));
        for (int i = 0; i < 40; i++) {
            assertThat(getFromFreshCaller(mode, "/seed/" + i)).isEqualTo("hello " + i);
        }
        HttpTestServer server = fx.server;
        assertThat(server.connections()).as("backend connections, counted by the server").isEqualTo(1);
        assertThat(server.requests()).hasSize(40).allSatisfy(r -> assertThat(r.connection()).isZero());
        PoolStats s = fx.stats();
        assertThat(s.opened()).isEqualTo(1);
        assertThat(s.reused()).isEqualTo(39);
        assertThat(s.inUse()).isZero();
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void underNeverFortyConnectionsEachEndGracefully(Mode mode) throws Exception {
        assumeInterceptorRuns(mode);
        fx.serve(r -> Reply.ok("hello"));
        fx.pools(b -> b.reusePolicy(ReusePolicy.NEVER));
        for (int i = 0; i < 40; i++) {
            assertThat(getFromFreshCaller(mode, "/seed/" + i)).isEqualTo("hello");
        }
        HttpTestServer server = fx.server;
        assertThat(server.connections()).isEqualTo(40);
        await().atMost(Duration.ofSeconds(5)).until(() -> server.ends().size() == 40);
        assertThat(server.ends().values()).as("how each connection ended, seen by the server")
                .containsOnly(End.CLIENT_CLOSED_GRACEFULLY);
        assertThat(fx.stats().aborted()).isZero();
    }

    /** The plain interceptor needs OkHttp 5 (on 4 its refusal is {@link OkHttpVersionTest}'s). */
    private static void assumeInterceptorRuns(Mode mode) {
        assumeTrue(mode != Mode.INTERCEPTOR || OkHttpVersion.IS_5, "BerthInterceptor.create needs OkHttp 5");
    }

    /** One GET from a new thread with a new client and adapter; returns the body. */
    private String getFromFreshCaller(Mode mode, String path) throws Exception {
        CompletableFuture<String> result = new CompletableFuture<>();
        Thread caller = new Thread(() -> {
            try {
                Request request = new Request.Builder().url(fx.url(path)).build();
                OkHttpClient client = OkHttpFixture.BASE.newBuilder().build();
                switch (mode) {
                    case INTERCEPTOR:
                        OkHttpClient intercepted = client.newBuilder()
                                .addInterceptor(BerthInterceptor.create(fx.pools)).build();
                        try (Response r = intercepted.newCall(request).execute()) {
                            result.complete(r.body().string());
                        }
                        break;
                    case CALL_FACTORY:
                        try (Response r = BerthCallFactory.create(client, fx.pools).newCall(request).execute()) {
                            result.complete(r.body().string());
                        }
                        break;
                    default:
                        BerthCallFactory.create(client, fx.pools).newCall(request).enqueue(new Callback() {
                            @Override
                            public void onFailure(Call call, IOException e) {
                                result.completeExceptionally(e);
                            }

                            @Override
                            public void onResponse(Call call, Response response) throws IOException {
                                try (Response r = response) {
                                    result.complete(r.body().string());
                                }
                            }
                        });
                }
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        }, "fresh-caller");
        caller.start();
        String body = result.get(10, TimeUnit.SECONDS);
        caller.join(5_000);
        return body;
    }
}
