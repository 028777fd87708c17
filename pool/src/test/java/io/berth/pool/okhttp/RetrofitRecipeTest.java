package io.berth.pool.okhttp;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.BackendPoolConfig;
import io.berth.PoolStats;
import io.berth.ReusePolicy;
import io.berth.TlsConfig;
import io.berth.pool.http.BerthPools;
import io.berth.transport.testing.HttpTestServer.Reply;
import io.berth.transport.testing.HttpTestServer;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.TestPki;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.RequestBody;
import okhttp3.ResponseBody;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.http.Body;
import retrofit2.http.GET;
import retrofit2.http.POST;
import retrofit2.http.Path;

/**
 * The README's Retrofit recipe, as it runs: Retrofit 3.0.0 over {@link BerthCallFactory}, against a
 * real TLS server on 127.0.0.1 that counts its connections. The build runs it twice: with OkHttp 5
 * (okhttp-jvm, Retrofit's own OkHttp excluded) and with OkHttp 4.12, the one Retrofit brings
 * ({@link OkHttpVersionTest} checks each run has the version it claims).
 */
@ExtendWith(Hygiene.class)
@Timeout(30)
class RetrofitRecipeTest {
    /** The application's API, as Retrofit users declare it. */
    interface Items {
        @GET("v1/items/{id}")
        Call<ResponseBody> item(@Path("id") String id);

        @POST("v1/orders")
        Call<ResponseBody> order(@Body RequestBody order);
    }

    @Test
    void retrofitCallsRunOverOneWarmBerthConnection() throws Exception {
        try (HttpTestServer server = HttpTestServer.start(TestPki.server().context(),
                r -> Reply.ok(r.method() + " " + r.target()))) {
            // --- the recipe
            OkHttpClient okHttp = new OkHttpClient.Builder().build();
            BerthPools pools = BerthPools.builder()
                    .defaults(BerthCallFactory.poolDefaults(okHttp).reusePolicy(ReusePolicy.AGGRESSIVE).build())
                    .tls(TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate())).build())
                    .build();
            Retrofit retrofit = new Retrofit.Builder()
                    .baseUrl("https://127.0.0.1:" + server.port() + "/")
                    .callFactory(BerthCallFactory.create(okHttp, pools))
                    .build();
            Items items = retrofit.create(Items.class);
            // ---
            try (pools) {
                for (int i = 0; i < 20; i++) {
                    try (ResponseBody body = items.item("a-" + i).execute().body()) {
                        assertThat(body.string()).isEqualTo("GET /v1/items/a-" + i);
                    }
                }
                CompletableFuture<String> async = new CompletableFuture<>();
                items.item("async").enqueue(new Callback<>() {
                    @Override
                    public void onResponse(Call<ResponseBody> call, Response<ResponseBody> response) {
                        try (ResponseBody body = response.body()) {
                            async.complete(body.string());
                        } catch (IOException e) {
                            async.completeExceptionally(e);
                        }
                    }

                    @Override
                    public void onFailure(Call<ResponseBody> call, Throwable t) {
                        async.completeExceptionally(t);
                    }
                });
                assertThat(async.get(10, TimeUnit.SECONDS)).isEqualTo("GET /v1/items/async");
                // AGGRESSIVE: a POST may reuse the proven connection.
                try (ResponseBody body = items.order(RequestBody.create("{\"sku\":\"a-1\"}",
                        MediaType.get("application/json"))).execute().body()) {
                    assertThat(body.string()).isEqualTo("POST /v1/orders");
                }
                PoolStats stats = pools.clients().iterator().next().pool().stats();
                assertThat(server.requests()).hasSize(22);
                assertThat(server.connections()).as("the server's own count").isEqualTo(1);
                assertThat(stats.opened()).isEqualTo(1);
                assertThat(stats.acquired()).isEqualTo(22);
                assertThat(server.requests().get(0).header("User-Agent")).isEqualTo("okhttp/" + OkHttpVersion.FOUND);
            }
        }
    }
}
