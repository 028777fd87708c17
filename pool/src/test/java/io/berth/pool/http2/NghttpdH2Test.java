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
import io.berth.transport.http2.Http2Options;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.Nghttpd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BerthClient} over HTTP/2 against nghttpd ({@code -m 10 -v}: ten streams per connection, every
 * frame in its log): a response nobody reads holds one stream window of data and stalls no other
 * request on its connection, and its early close resets that stream only. What nghttpd logged is the
 * server's side of it. Skipped without nghttpd, failed then if {@code BERTH_REQUIRE_SERVERS=1}.
 */
@ExtendWith(Hygiene.class)
@Timeout(60)
class NghttpdH2Test {
    /** A session's SETTINGS, by nghttpd's session id (its readiness probe, a bare TCP connect, has an id too). */
    private static final Pattern SETTINGS_SENT = Pattern.compile("^\\[id=(\\d+)\\] \\[[ .0-9]+\\] send SETTINGS frame <length=6",
            Pattern.MULTILINE);
    private static final Pattern DATA_SENT = Pattern.compile("send DATA frame <length=(\\d+), flags=0x0[01], stream_id=(\\d+)>");
    private static final Pattern LARGE_STREAM = Pattern.compile("recv \\(stream_id=(\\d+)\\) :path: /large.bin");

    @TempDir
    Path dir;
    private Nghttpd nghttpd;
    private BerthClient client;

    @AfterEach
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (nghttpd != null) {
            nghttpd.close();
        }
    }

    @Test
    void aResponseNobodyReadsStallsNoOtherStreamAndItsCloseResetsItAlone() throws Exception {
        Path docroot = Files.createDirectories(dir.resolve("docroot"));
        Files.writeString(docroot.resolve("small.txt"), "x".repeat(100));
        Files.write(docroot.resolve("large.bin"), new byte[4 * 1024 * 1024]);
        nghttpd = Nghttpd.start(dir, docroot, true, "-m", "10", "-v");
        client = client(nghttpd.port(), testTls().build(), b -> b, HttpProtocol.HTTP_2);

        BerthResponse stalled = client.send(BerthRequest.get("/large.bin"));
        assertThat(stalled.version()).isEqualTo("HTTP/2");
        int stalledId = Integer.parseInt(await().until(() -> find(LARGE_STREAM, nghttpd.log()), id -> id != null));
        int window = Http2Options.DEFAULT_STREAM_WINDOW_SIZE;
        await("nghttpd fills the unread stream's window").atMost(Duration.ofSeconds(5))
                .until(() -> dataSent(nghttpd.log(), stalledId) == window);

        List<String> bodies = concurrently(4, 40, n -> {
            try (BerthResponse r = client.send(BerthRequest.get("/small.txt"))) {
                return r.bodyString();
            }
        });
        assertThat(bodies).hasSize(40).containsOnly("x".repeat(100));
        String log = nghttpd.log();
        assertThat(dataSent(log, stalledId)).as("the unread stream got its window, no more").isEqualTo(window);
        assertThat(log).contains("send SETTINGS frame").contains("[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):10]");
        assertThat(count(log, "SSL/TLS handshake completed")).as("nghttpd's TLS connections").isEqualTo(1);
        assertThat(SETTINGS_SENT.matcher(log).results().map(m -> m.group(1)).distinct())
                .as("nghttpd's HTTP/2 sessions").hasSize(1);
        assertThat(count(log, "recv HEADERS frame")).as("requests nghttpd received").isEqualTo(41);

        StreamStats streams = rows(client).get(0).streams();
        assertThat(streams.serverMaxConcurrentStreams()).as("nghttpd -m 10").isEqualTo(10);
        assertThat(streams.capacity()).isEqualTo(10);
        assertThat(streams.streamsInFlight()).as("the unread one").isEqualTo(1);
        assertThat(client.pool().stats().opened()).isEqualTo(1);

        stalled.close();
        await("nghttpd sees the reset").atMost(Duration.ofSeconds(5)).until(() -> nghttpd.log()
                .contains("recv RST_STREAM frame <length=4, flags=0x00, stream_id=" + stalledId + ">"));
        assertThat(nghttpd.log()).contains("(error_code=CANCEL(0x08))");
        try (BerthResponse r = client.send(BerthRequest.get("/small.txt"))) {
            assertThat(r.bodyString()).isEqualTo("x".repeat(100));
            assertThat(r.connectionReused()).isTrue();
        }
        assertThat(rows(client).get(0).streams().resetsSent()).isEqualTo(1);
        assertThat(client.pool().stats().opened()).isEqualTo(1);
        assertThat(dataSent(nghttpd.log(), stalledId)).as("nothing more after the reset").isEqualTo(window);
    }

    private static String find(Pattern p, String text) {
        Matcher m = p.matcher(text);
        return m.find() ? m.group(1) : null;
    }

    /** @return the DATA bytes nghttpd logged sending on a stream */
    private static long dataSent(String log, int streamId) {
        return DATA_SENT.matcher(log).results().filter(m -> Integer.parseInt(m.group(2)) == streamId)
                .mapToLong(m -> Long.parseLong(m.group(1))).sum();
    }

    private static long count(String text, String what) {
        return text.split(Pattern.quote(what), -1).length - 1;
    }
}
