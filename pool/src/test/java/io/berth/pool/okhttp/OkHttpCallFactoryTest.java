package io.berth.pool.okhttp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.CloseReason;
import io.berth.transport.testing.HttpTestServer.End;
import io.berth.transport.testing.HttpTestServer.Reply;
import io.berth.transport.testing.Hygiene;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.CertificatePinner;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link BerthCallFactory}: execute, enqueue, cancel, the call timeout over the body, placement. */
@ExtendWith(Hygiene.class)
@Timeout(30)
class OkHttpCallFactoryTest {
    private final OkHttpFixture fx = new OkHttpFixture();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() throws Exception {
        timer.shutdownNow();
        assertThat(timer.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        fx.close();
    }

    private BerthCallFactory factory(OkHttpClient client) {
        if (fx.pools == null) {
            fx.pools(b -> b);
        }
        return BerthCallFactory.create(client, fx.pools);
    }

    private Request get(String path) {
        return new Request.Builder().url(fx.url(path)).build();
    }

    /** Enqueues a call; the future completes with the body, or the failure, and the call the callback got. */
    private static CompletableFuture<String> enqueue(Call call, List<Call> seen) {
        CompletableFuture<String> f = new CompletableFuture<>();
        call.enqueue(new Callback() {
            @Override
            public void onFailure(Call c, IOException e) {
                seen.add(c);
                f.completeExceptionally(e);
            }

            @Override
            public void onResponse(Call c, Response response) {
                seen.add(c);
                try (Response r = response) {
                    f.complete(r.body().string());
                } catch (IOException e) {
                    f.completeExceptionally(e);
                }
            }
        });
        return f;
    }

    @Test
    void executeAndEnqueueRunOverBerthWithTheClientsInterceptors() throws Exception {
        fx.serve(r -> Reply.ok("tag=" + r.header("X-Tag")));
        OkHttpClient client = OkHttpFixture.BASE.newBuilder()
                .addInterceptor(chain -> chain.proceed(chain.request().newBuilder().header("X-Tag", "app").build()))
                .build();
        Call.Factory calls = factory(client);
        try (Response r = calls.newCall(get("/")).execute()) {
            assertThat(r.body().string()).isEqualTo("tag=app");
        }
        List<Call> seen = new CopyOnWriteArrayList<>();
        Call call = calls.newCall(get("/"));
        assertThat(enqueue(call, seen).get(5, TimeUnit.SECONDS)).isEqualTo("tag=app");
        assertThat(seen).containsExactly(call);
        assertThat(call.isExecuted()).isTrue();
        assertThatThrownBy(call::execute).isInstanceOf(IllegalStateException.class).hasMessage("Already Executed");
        try (Response r = call.clone().execute()) {
            assertThat(r.body().string()).isEqualTo("tag=app");
        }
        assertThat(fx.server.connections()).isEqualTo(1);
        assertThat(client.interceptors()).as("the application's client is left as it was").hasSize(1);
    }

    @Test
    void theBerthInterceptorIsAlwaysLast() throws Exception {
        fx.serve(r -> Reply.ok("tag=" + r.header("X-Tag")));
        fx.pools(b -> b);
        OkHttpClient misordered = OkHttpFixture.BASE.newBuilder()
                .addInterceptor(new BerthInterceptor(fx.pools, null)) // create(..) needs OkHttp 5; this runs on 4 too
                .addInterceptor(chain -> chain.proceed(chain.request().newBuilder().header("X-Tag", "late").build()))
                .build();
        try (Response r = factory(misordered).newCall(get("/")).execute()) {
            assertThat(r.body().string()).isEqualTo("tag=late");
        }
    }

    @Test
    void theCallTimeoutCoversReadingTheBody() throws Exception {
        CountDownLatch ended = new CountDownLatch(1);
        fx.stallingBody(ended);
        Call call = factory(OkHttpFixture.BASE.newBuilder().callTimeout(Duration.ofMillis(500))
                .readTimeout(Duration.ofSeconds(10)).build()).newCall(get("/stall"));
        long start = System.nanoTime();
        try (Response r = call.execute()) {
            InputStream body = r.body().byteStream();
            assertThat(body.readNBytes(5)).isEqualTo("01234".getBytes(StandardCharsets.US_ASCII));
            assertThatThrownBy(() -> body.readNBytes(1000)).isInstanceOf(InterruptedIOException.class)
                    .hasMessage("timeout");
        }
        assertThat(OkHttpFixture.since(start)).isBetween(Duration.ofMillis(450), Duration.ofMillis(2500));
        assertThat(call.isCanceled()).as("a call timeout cancels the call").isTrue();
        assertThat(OkHttpFixture.ended(ended)).isTrue();
        assertThat(fx.stats().closed(CloseReason.BROKEN)).isEqualTo(1);
    }

    @Test
    void theCallTimeoutCanBeSetPerCallAndCoversTheWaitForTheHead() throws Exception {
        fx.serve(r -> Reply.ok("late").delay(Duration.ofMillis(1500)));
        Call call = factory(OkHttpFixture.BASE).newCall(get("/slow"));
        call.timeout().timeout(300, TimeUnit.MILLISECONDS);
        long start = System.nanoTime();
        assertThatThrownBy(call::execute).isInstanceOf(InterruptedIOException.class).hasMessage("timeout")
                .hasRootCauseInstanceOf(IOException.class);
        assertThat(OkHttpFixture.since(start)).isBetween(Duration.ofMillis(250), Duration.ofMillis(1400));
        assertThat(fx.stats().inUse()).isZero();
    }

    @Test
    void aBodyReadToItsEndEndsTheCallTimeout() throws Exception {
        fx.serve(r -> Reply.ok("quick"));
        // Generous enough for a first handshake on a loaded machine; then wait past it.
        Call call = factory(OkHttpFixture.BASE.newBuilder().callTimeout(Duration.ofMillis(1500)).build())
                .newCall(get("/"));
        try (Response r = call.execute()) {
            assertThat(r.body().string()).isEqualTo("quick");
        }
        Thread.sleep(1800);
        assertThat(call.isCanceled()).as("the timeout stopped with the body").isFalse();
    }

    @Test
    void aResponseAnApplicationInterceptorMadeItselfEndsTheCallTimeout() throws Exception {
        fx.pools(b -> b);
        OkHttpClient answering = OkHttpFixture.BASE.newBuilder().callTimeout(Duration.ofMillis(300))
                .addInterceptor(chain -> new Response.Builder().request(chain.request()).protocol(Protocol.HTTP_1_1)
                        .code(204).message("No Content").body(ResponseBody.create(new byte[0], null)).build())
                .build();
        Call call = factory(answering).newCall(new Request.Builder().url("https://backend.test/").build());
        try (Response r = call.execute()) {
            assertThat(r.code()).isEqualTo(204);
        }
        Thread.sleep(500);
        assertThat(call.isCanceled()).isFalse();
    }

    @Test
    void cancelBeforeExecuteFailsAtOnce() throws Exception {
        fx.serve(r -> Reply.ok("ok"));
        Call call = factory(OkHttpFixture.BASE).newCall(get("/"));
        call.cancel();
        assertThat(call.isCanceled()).isTrue();
        assertThatThrownBy(call::execute).isInstanceOf(IOException.class).hasMessage("Canceled");
        assertThat(fx.server.connections()).isZero();
    }

    @Test
    void cancelOfAnEnqueuedCallAbortsTheExchangeAndReportsTheFactorysCall() throws Exception {
        fx.serve(r -> Reply.ok("late").delay(Duration.ofSeconds(2)));
        Call call = factory(OkHttpFixture.BASE).newCall(get("/slow"));
        List<Call> seen = new CopyOnWriteArrayList<>();
        long start = System.nanoTime();
        CompletableFuture<String> f = enqueue(call, seen);
        timer.schedule(call::cancel, 200, TimeUnit.MILLISECONDS);
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(IOException.class)
                .cause().hasMessage("Canceled");
        assertThat(OkHttpFixture.since(start)).isLessThan(Duration.ofMillis(1500));
        assertThat(seen).containsExactly(call);
        await().until(() -> fx.server.ends().size() == 1);
        assertThat(fx.server.ends()).containsEntry(0, End.CLIENT_RESET);
        assertThat(fx.stats().closed(CloseReason.BROKEN)).isEqualTo(1);
    }

    @Test
    void cancelWhileTheBodyIsReadDiscardsTheConnection() throws Exception {
        CountDownLatch ended = new CountDownLatch(1);
        fx.stallingBody(ended);
        Call call = factory(OkHttpFixture.BASE).newCall(get("/stall"));
        try (Response r = call.execute()) {
            InputStream body = r.body().byteStream();
            assertThat(body.readNBytes(3)).hasSize(3);
            timer.schedule(call::cancel, 200, TimeUnit.MILLISECONDS);
            long start = System.nanoTime();
            assertThatThrownBy(() -> body.readNBytes(1000)).isInstanceOf(IOException.class).hasMessage("Canceled");
            assertThat(OkHttpFixture.since(start)).isLessThan(Duration.ofMillis(2000));
        }
        assertThat(OkHttpFixture.ended(ended)).isTrue();
        assertThat(fx.stats().total()).isZero();
    }

    @Test
    void clientsThatPinOrProxyAreRefused() {
        fx.pools(b -> b);
        OkHttpClient pinned = OkHttpFixture.BASE.newBuilder().certificatePinner(new CertificatePinner.Builder()
                .add("example.com", "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").build()).build();
        assertThatThrownBy(() -> BerthCallFactory.create(pinned, fx.pools)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("CertificatePinner");
        OkHttpClient proxied = OkHttpFixture.BASE.newBuilder().proxy(new java.net.Proxy(java.net.Proxy.Type.SOCKS,
                new java.net.InetSocketAddress("127.0.0.1", 1080))).build();
        assertThatThrownBy(() -> BerthCallFactory.create(proxied, fx.pools))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("proxy");
    }

    @Test
    void aFactoryOfItsOwnTakesTheClientsConnectTimeoutAndClosesItsPools() {
        OkHttpClient client = OkHttpFixture.BASE.newBuilder().connectTimeout(Duration.ofMillis(1234)).build();
        assertThat(BerthCallFactory.poolDefaults(client).build().connectTimeout()).isEqualTo(Duration.ofMillis(1234));
        assertThat(BerthCallFactory.poolDefaults(client.newBuilder().connectTimeout(Duration.ZERO).build()).build()
                .connectTimeout()).isEqualTo(BerthInterceptor.NO_TIMEOUT);
        BerthCallFactory factory = BerthCallFactory.create(client);
        io.berth.BackendPool own = factory.pools().client(URI.create("https://backend.test/")).pool();
        assertThat(own.config().connectTimeout()).isEqualTo(Duration.ofMillis(1234));
        factory.close();
        assertThat(own.isClosed()).isTrue();
        fx.pools(b -> b);
        io.berth.BackendPool shared = fx.pools.client(URI.create("https://backend.test/")).pool();
        BerthCallFactory.create(client, fx.pools).close();
        assertThat(shared.isClosed()).as("not its pools to close").isFalse();
    }
}
