package io.berth.pool.http2;

import static io.berth.pool.http2.RealServers.client;
import static io.berth.pool.http2.RealServers.concurrently;
import static io.berth.pool.http2.RealServers.rows;
import static io.berth.pool.http2.RealServers.testTls;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.berth.HttpProtocol;
import io.berth.StreamStats;
import io.berth.pool.http.BerthClient;
import io.berth.pool.http.BerthRequest;
import io.berth.pool.http.BerthResponse;
import io.berth.transport.testing.Haproxy;
import io.berth.transport.testing.Hygiene;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BerthClient} over HTTP/2 against HAProxy 2.6 as the server ({@code http-request return}),
 * which allows 10 streams per connection ({@code tune.h2.max-concurrent-streams 10}): with one
 * connection allowed, 32 callers share it 10 at a time, waiting for room instead of failing, and
 * HAProxy's stats socket counts one connection and every request once. Skipped without HAProxy,
 * failed then if {@code BERTH_REQUIRE_SERVERS=1}.
 */
@ExtendWith(Hygiene.class)
@Timeout(60)
class HaproxyH2Test {
    @TempDir
    static Path dir;
    private static final int HELD_BODY_BYTES = 20_000;
    private static Haproxy haproxy;

    private BerthClient client;

    @BeforeAll
    static void start() throws Exception {
        // /held/ answers 20,000 bytes, more than a body taken with its head (16 KiB): unread, it holds
        // its stream. A buffer of 64 KiB lets HAProxy return that much.
        Path large = Files.writeString(dir.resolve("large.txt"), "x".repeat(HELD_BODY_BYTES));
        haproxy = Haproxy.start(dir, List.of("tune.h2.max-concurrent-streams 10", "tune.bufsize 65536"),
                s -> String.join("\n",
                        "frontend h2",
                        "    bind 127.0.0.1:" + s.port("h2") + " ssl crt " + s.pem() + " alpn h2,http/1.1",
                        "    http-request return status 200 content-type text/plain file " + large
                                + " if { path_beg /held/ }",
                        "    http-request return status 200 content-type text/plain string ok"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (haproxy != null) {
            haproxy.close();
        }
    }

    @AfterEach
    void closeClient() {
        if (client != null) {
            client.close();
        }
    }

    private BerthClient oneConnection() {
        client = client(haproxy.port("h2"), testTls().build(), b -> b.maxConnections(1), HttpProtocol.HTTP_2,
                HttpProtocol.HTTP_1_1);
        return client;
    }

    @Test
    void thirtyTwoCallersShareOneConnectionTenStreamsAtATime() throws Exception {
        Haproxy.Frontend before = haproxy.frontend("h2");
        BerthClient c = oneConnection();
        List<String> versions = concurrently(32, 640, n -> {
            try (BerthResponse r = c.send(BerthRequest.get("/item/" + n))) {
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.bodyString()).isEqualTo("ok");
                return r.version();
            }
        });
        assertThat(versions).hasSize(640).containsOnly("HTTP/2");

        StreamStats streams = rows(c).get(0).streams();
        assertThat(streams.serverMaxConcurrentStreams()).as("HAProxy's SETTINGS_MAX_CONCURRENT_STREAMS").isEqualTo(10);
        assertThat(streams.capacity()).isEqualTo(10);
        assertThat(streams.streamsCarried()).isEqualTo(640);
        assertThat(streams.resetsReceived()).as("no stream refused").isZero();
        assertThat(c.pool().stats().opened()).isEqualTo(1);
        assertThat(c.pool().stats().acquireWaits()).as("callers waited for room").isPositive();
        Haproxy.Frontend after = haproxy.frontend("h2");
        assertThat(after.connections() - before.connections()).as("connections HAProxy accepted").isEqualTo(1);
        assertThat(after.requests() - before.requests()).as("requests HAProxy received").isEqualTo(640);
    }

    @Test
    void theEleventhCallerWaitsForAStreamToEndAndIsNotSentBefore() throws Exception {
        Haproxy.Frontend before = haproxy.frontend("h2");
        BerthClient c = oneConnection();
        List<BerthResponse> held = new ArrayList<>();
        try {
            for (int i = 0; i < 10; i++) {
                // A response not yet read holds its stream when its body is over 16 KiB (a smaller one
                // is taken with its head and gives its stream back at once, below).
                held.add(c.send(BerthRequest.get("/held/" + i)));
            }
            assertThat(c.pool().stats().inUse()).isEqualTo(1);
            assertThat(c.pool().stats().connections().get(0).inFlight()).as("ten streams held").isEqualTo(10);
            CompletableFuture<String> eleventh = CompletableFuture.supplyAsync(() -> {
                try (BerthResponse r = c.send(BerthRequest.get("/eleventh"))) {
                    return r.bodyString();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, r -> new Thread(r, "eleventh").start());
            await().until(() -> c.pool().stats().waiting() == 1);
            assertThat(haproxy.frontend("h2").requests() - before.requests()).as("HAProxy got the ten, not the eleventh")
                    .isEqualTo(10);
            assertThat(eleventh).isNotDone();
            try (BerthResponse first = held.remove(0)) {
                assertThat(first.bodyBytes()).hasSize(HELD_BODY_BYTES);
            }
            assertThat(eleventh.get(10, TimeUnit.SECONDS)).isEqualTo("ok");
        } finally {
            held.forEach(BerthResponse::close);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> haproxy.frontend("h2").requests() - before.requests() == 11);
        assertThat(haproxy.frontend("h2").connections() - before.connections()).isEqualTo(1);
    }

    @Test
    void responsesThatEndedWithASmallBodyHoldNoStreamEvenUnread() throws Exception {
        Haproxy.Frontend before = haproxy.frontend("h2");
        BerthClient c = oneConnection();
        List<BerthResponse> unread = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            // Neither read nor closed yet. Were their streams held, the eleventh would wait for room
            // that never comes (the test then fails on its acquire timeout).
            unread.add(c.send(BerthRequest.get("/unread/" + i)));
        }
        // HAProxy sends HEADERS and DATA together, and the reader wakes a caller once per read; only a
        // caller that looks between the two frames of one read keeps its stream, which is rare.
        assertThat(c.pool().stats().inUse()).as("streams held by unread responses").isLessThan(10);
        for (BerthResponse r : unread) {
            assertThat(r.version()).isEqualTo("HTTP/2");
            assertThat(r.header("content-type")).isEqualTo("text/plain");
            assertThat(r.bodyString()).isEqualTo("ok");
        }
        assertThat(haproxy.frontend("h2").requests() - before.requests()).isEqualTo(25);
        assertThat(haproxy.frontend("h2").connections() - before.connections()).isEqualTo(1);
    }
}
