package io.berth.pool.jdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.PoolStats;
import io.berth.transport.testing.HttpTestServer.Reply;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpResponse.BodySubscribers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * JDK 21's {@code HttpClient} lifecycle ({@code shutdown}, {@code shutdownNow}, {@code awaitTermination},
 * {@code isTerminated}) and the default executor's threads. The lifecycle is called through
 * {@code HttpClient}'s own methods where the JDK has them (21+), which proves that Berth's are overrides
 * there; on 17 through {@link BerthHttpClient}'s.
 */
class JdkLifecycleTest extends JdkTestBase {
    private static final boolean JDK_21 = Runtime.version().feature() >= 21;

    /** Calls a lifecycle method as code written for JDK 21 does: on the {@code HttpClient} type. */
    private static Object lifecycle(HttpClient client, String name, Object... args) throws Exception {
        Class<?>[] types = args.length == 0 ? new Class<?>[0] : new Class<?>[] {Duration.class};
        Method m = (JDK_21 ? HttpClient.class : BerthHttpClient.class).getMethod(name, types);
        try {
            return m.invoke(client, args);
        } catch (InvocationTargetException e) {
            throw (Exception) e.getCause();
        }
    }

    @Test
    void onJdk21BerthsLifecycleMethodsOverrideHttpClientsDoNothingDefaults() throws Exception {
        assumeTrue(JDK_21, "JDK 17 has no HttpClient lifecycle to override");
        for (String name : List.of("shutdown", "shutdownNow", "isTerminated", "close")) {
            assertThat(BerthHttpClient.class.getMethod(name).getDeclaringClass()).as(name)
                    .isEqualTo(BerthHttpClient.class);
        }
        assertThat(HttpClient.class.getMethod("awaitTermination", Duration.class).getDeclaringClass())
                .isEqualTo(HttpClient.class);
        HttpClient client = client();
        long start = System.nanoTime();
        // HttpClient's default returns true at once; a client that was not shut down never terminates.
        assertThat(lifecycle(client, "awaitTermination", Duration.ofMillis(300))).isEqualTo(false);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        assertThat(lifecycle(client, "isTerminated")).isEqualTo(false);
    }

    @Test
    void shutdownRunsSubmittedRequestsToCompletionRefusesNewOnesThenTerminates() throws Exception {
        serve(r -> Reply.ok("done " + r.target()).delay(Duration.ofMillis(600)));
        BerthHttpClient client = client();
        CompletableFuture<HttpResponse<String>> async = client.sendAsync(get("/async"), BodyHandlers.ofString());
        CompletableFuture<HttpResponse<String>> sync = new CompletableFuture<>();
        Thread caller = new Thread(() -> {
            try {
                sync.complete(client.send(get("/sync"), BodyHandlers.ofString()));
            } catch (Exception e) {
                sync.completeExceptionally(e);
            }
        });
        caller.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> server.requests().size() == 2);

        lifecycle(client, "shutdown");
        lifecycle(client, "shutdown"); // idempotent
        assertThatThrownBy(() -> client.send(get("/late"), BodyHandlers.ofString()))
                .isInstanceOf(IOException.class).hasMessageContaining("shut down");
        assertThatThrownBy(() -> client.sendAsync(get("/late"), BodyHandlers.ofString()).get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(IOException.class);
        assertThat(lifecycle(client, "isTerminated")).isEqualTo(false);
        assertThat(lifecycle(client, "awaitTermination", Duration.ZERO)).isEqualTo(false);

        assertThat(async.get(5, TimeUnit.SECONDS).body()).isEqualTo("done /async");
        assertThat(sync.get(5, TimeUnit.SECONDS).body()).isEqualTo("done /sync");
        assertThat(lifecycle(client, "awaitTermination", Duration.ofSeconds(5))).isEqualTo(true);
        assertThat(lifecycle(client, "isTerminated")).isEqualTo(true);
        assertThat(server.requests()).hasSize(2);
        assertThat(client.pools().clients()).allSatisfy(c -> assertThat(c.pool().isClosed()).isTrue());
    }

    @Test
    void aStreamedBodyIsPartOfItsRequestUntilItIsClosed() throws Exception {
        byte[] big = new byte[4 << 20]; // far more than the executor reads ahead
        java.util.Arrays.fill(big, (byte) 'x');
        serve(r -> Reply.ok("").body(big));
        BerthHttpClient client = client();
        HttpResponse<java.io.InputStream> r = client.send(get("/"), BodyHandlers.ofInputStream());
        lifecycle(client, "shutdown");
        assertThat(lifecycle(client, "awaitTermination", Duration.ofMillis(200))).isEqualTo(false);
        try (java.io.InputStream in = r.body()) {
            assertThat(in.readAllBytes()).isEqualTo(big);
        }
        assertThat(lifecycle(client, "awaitTermination", Duration.ofSeconds(5))).isEqualTo(true);
    }

    @Test
    void shutdownNowAbortsRequestsInFlightWithAnIoException() throws Exception {
        serve(r -> Reply.ok("late").delay(Duration.ofSeconds(4)));
        BerthHttpClient client = client();
        CompletableFuture<HttpResponse<String>> async = client.sendAsync(get("/async"), BodyHandlers.ofString());
        CompletableFuture<HttpResponse<String>> sync = new CompletableFuture<>();
        Thread caller = new Thread(() -> {
            try {
                sync.complete(client.send(get("/sync"), BodyHandlers.ofString()));
            } catch (Exception e) {
                sync.completeExceptionally(e);
            }
        });
        caller.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> server.requests().size() == 2);
        long start = System.nanoTime();
        lifecycle(client, "shutdownNow");
        assertThatThrownBy(() -> async.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IOException.class);
        assertThatThrownBy(() -> sync.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IOException.class);
        assertThat(lifecycle(client, "awaitTermination", Duration.ofSeconds(5))).isEqualTo(true);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2500));
        caller.join(5_000);
    }

    @Test
    void shutdownNowEndsEveryRequestEvenThoseStillWaitingForAThreadOrAConnection() throws Exception {
        serve(r -> Reply.ok("late").delay(Duration.ofSeconds(3)));
        BerthHttpClient client = client(b -> b.defaults(io.berth.BackendPoolConfig.builder().name("jdk-test")
                .maxConnections(4).build()));
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            futures.add(client.sendAsync(get("/" + i), BodyHandlers.ofString()));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.requests().size() == 4);
        lifecycle(client, "shutdownNow");
        assertThat(lifecycle(client, "awaitTermination", Duration.ofSeconds(10))).isEqualTo(true);
        for (CompletableFuture<HttpResponse<String>> f : futures) {
            assertThatThrownBy(() -> f.get(1, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(IOException.class);
        }
        assertThat(server.requests()).hasSize(4);
    }

    /**
     * Spring 6.2 sends everything with {@code sendAsync}: a thousand callers at once must not make a
     * thousand platform threads. On JDK 21+ each exchange runs on a virtual thread; on 17 at most 64
     * platform threads serve them all.
     */
    @Test
    void aThousandAsyncExchangesAtOnceUseVirtualThreadsOrAtMost64PlatformOnes() throws Exception {
        serve(r -> Reply.ok("ok"));
        // The test is about threads: a generous acquire timeout keeps a loaded machine from failing it.
        BerthHttpClient client = client(b -> b.defaults(io.berth.BackendPoolConfig.builder().name("jdk-test")
                .acquireTimeout(Duration.ofSeconds(50)).build()));
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        BodyHandler<String> recording = info -> {
            threads.add(Thread.currentThread());
            return BodySubscribers.ofString(StandardCharsets.UTF_8);
        };
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            futures.add(client.sendAsync(get("/" + i), recording));
        }
        for (CompletableFuture<HttpResponse<String>> f : futures) {
            assertThat(f.get(30, TimeUnit.SECONDS).body()).isEqualTo("ok");
        }
        assertThat(threads).allSatisfy(t -> assertThat(t.getName()).startsWith("berth-http-"));
        if (JDK_21) {
            assertThat(threads).allSatisfy(t -> assertThat(isVirtual(t)).as(t.getName()).isTrue());
            assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().startsWith("berth-http-"));
        } else {
            assertThat(threads).hasSizeLessThanOrEqualTo(DefaultExecutor.PLATFORM_THREADS);
        }
        assertThat(server.requests()).hasSize(1_000);
        PoolStats stats = stats(client, server);
        assertThat(server.connections()).as("the server's own count").isEqualTo((int) stats.opened());
        assertThat(stats.peakInUse()).isLessThanOrEqualTo(64); // maxConnections
    }

    static boolean isVirtual(Thread t) {
        try {
            return (Boolean) Thread.class.getMethod("isVirtual").invoke(t);
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }
}
