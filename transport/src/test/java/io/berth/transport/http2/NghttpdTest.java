package io.berth.transport.http2;

import static io.berth.transport.http2.H2.TIMEOUT;
import static io.berth.transport.http2.H2.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.berth.spi.Connection.Liveness;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.Nghttpd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against a real HTTP/2 server, nghttpd (nghttp2-server), over TLS with ALPN h2 and by prior
 * knowledge: many concurrent streams on one connection, flow control with large bodies both ways
 * (nghttpd honours every window), an unread stream that stalls no other, and GOAWAY at shutdown.
 * Skipped when nghttpd is absent, failed then if {@code BERTH_REQUIRE_SERVERS=1}.
 */
@ExtendWith(Hygiene.class)
@Timeout(60)
class NghttpdTest {
    private static final int LARGE = 8 * 1024 * 1024;
    private static final Duration WAIT = Duration.ofSeconds(5);

    @TempDir
    static Path dir;
    private static Path docroot;
    private static Nghttpd nghttpd;
    private static byte[] large;

    private final H2 h2 = new H2();

    @BeforeAll
    static void start() throws Exception {
        docroot = Files.createDirectories(dir.resolve("docroot"));
        Files.writeString(docroot.resolve("small.txt"), "x".repeat(100));
        large = new byte[LARGE];
        new Random(13).nextBytes(large);
        Files.write(docroot.resolve("large.bin"), large);
        nghttpd = Nghttpd.start(dir, docroot, true, "-m", "100", "--echo-upload");
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (nghttpd != null) {
            nghttpd.close();
        }
    }

    @AfterEach
    void stop() {
        h2.close();
    }

    @Test
    void manyConcurrentStreamsOnOneConnection() throws Exception {
        Http2Connection c = h2.open(nghttpd.port());
        assertThat(c.capacity()).as("nghttpd -m 100").isEqualTo(100);
        int callers = 64;
        int each = 16;
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < callers; t++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        Http2Stream s = c.newStream(get("/small.txt"), true, TIMEOUT);
                        if (!s.awaitResponseHeaders(TIMEOUT).first(":status").equals("200")
                                || !H2.body(s).equals("x".repeat(100)) || !s.isComplete()) {
                            throw new AssertionError("wrong response on " + s);
                        }
                    }
                    return each;
                }));
            }
            int total = 0;
            for (Future<Integer> f : done) {
                total += f.get(50, TimeUnit.SECONDS);
            }
            assertThat(total).isEqualTo(callers * each);
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(5, TimeUnit.SECONDS);
        }
        Http2ConnectionStats stats = c.stats();
        assertThat(stats.streamsCarried()).isEqualTo(callers * each);
        assertThat(stats.streamsInFlight()).isZero();
        assertThat(stats.resetsSent()).isZero();
        assertThat(stats.resetsReceived()).isZero();
        assertThat(c.close()).as("graceful close; failure %s", c.failure()).isTrue();
        await().atMost(WAIT).until(() -> h2.connector.gracefulCloses() == 1);
    }

    @Test
    void largeBodiesThroughSmallWindowsBothWays() throws Exception {
        Http2Connection c = h2.open(nghttpd.port(), Http2Options.builder().streamWindowSize(65_535)
                .connectionWindowSize(128 * 1024).build());
        List<Http2Stream> downloads = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            downloads.add(c.newStream(get("/large.bin"), true, TIMEOUT));
        }
        for (Http2Stream s : downloads) {
            assertThat(sha256(s)).isEqualTo(sha256(large));
        }
        byte[] upload = Arrays.copyOf(large, 3 * 1024 * 1024 + 7);
        Http2Stream echo = c.newStream(H2.request("POST", "/echo"), ByteBuffer.wrap(upload), true, TIMEOUT);
        assertThat(echo.awaitResponseHeaders(TIMEOUT).first(":status")).isEqualTo("200");
        assertThat(sha256(echo)).isEqualTo(sha256(upload));
        assertThat(c.stats().bufferedBytes()).isZero();
    }

    @Test
    void anUnreadStreamStallsNoOther() throws Exception {
        // the unread stream may buffer its whole window (1 MiB), as large as the connection's: were
        // the connection credited only as bytes are read, nothing else could arrive
        Http2Connection c = h2.open(nghttpd.port(), Http2Options.builder().streamWindowSize(1 << 20)
                .connectionWindowSize(1 << 20).build());
        Http2Stream unread = c.newStream(get("/large.bin"), true, TIMEOUT);
        unread.awaitResponseHeaders(TIMEOUT);
        await().atMost(WAIT).until(() -> c.stats().bufferedBytes() == 1 << 20);
        for (int i = 0; i < 2; i++) {
            Http2Stream other = c.newStream(get("/large.bin"), true, TIMEOUT);
            assertThat(sha256(other)).isEqualTo(sha256(large));
        }
        assertThat(c.stats().bufferedBytes()).as("the unread stream's window, no more").isEqualTo(1 << 20);
        assertThat(sha256(unread)).isEqualTo(sha256(large));
    }

    @Test
    void cleartextByPriorKnowledge() throws Exception {
        try (Nghttpd plain = Nghttpd.start(dir, docroot, false, "-m", "7")) {
            Http2Connection c = h2.track(Http2Connection.open(h2.plain(plain.port()), Http2Options.defaults()));
            assertThat(c.capacity()).isEqualTo(7);
            assertThat(H2.body(c.newStream(get("/small.txt"), true, TIMEOUT))).isEqualTo("x".repeat(100));
            assertThat(c.close()).as("graceful close; failure %s", c.failure()).isTrue();
            await().atMost(WAIT).until(() -> h2.connector.gracefulCloses() == 1);
        }
    }

    @Test
    void aServerShuttingDownEndsTheConnectionAndItsStreamsFailTyped() throws Exception {
        try (Nghttpd dying = Nghttpd.start(dir, docroot, true)) {
            Http2Connection c = h2.open(dying.port(), Http2Options.builder().streamWindowSize(65_535).build());
            Http2Stream s = c.newStream(get("/large.bin"), true, TIMEOUT);
            s.awaitResponseHeaders(TIMEOUT);
            ByteBuffer b = ByteBuffer.allocate(1024);
            assertThat(s.read(b, TIMEOUT)).isPositive();
            dying.terminate();
            await().atMost(WAIT).until(() -> c.liveness() == Liveness.CLOSED_BY_PEER);
            assertThat(c.capacity()).isZero();
            IOException failure = null;
            try {
                H2.drain(s);
            } catch (IOException e) {
                failure = e;
            }
            assertThat(failure).as("the body was cut: never passed off as complete").isNotNull();
            assertThat(s.isComplete()).isFalse();
            System.out.println("nghttpd at shutdown: " + c.stats().lastGoAway() + "; the stream: " + failure);
            await().atMost(WAIT).until(() -> !c.readerAlive());
        }
    }

    private static String sha256(Http2Stream s) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        while (true) {
            b.clear();
            int n = s.read(b, TIMEOUT);
            if (n < 0) {
                return HexFormat.of().formatHex(d.digest());
            }
            d.update(b.array(), 0, n);
        }
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
