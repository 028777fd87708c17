package io.berth.probe;

import static io.berth.probe.MiniJson.at;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --http2}: the probe offers h2, then http/1.1, through ALPN, against its embedded backend
 * (which speaks both) and against a backend that speaks HTTP/1.1 only, over real TLS on 127.0.0.1.
 */
@Timeout(60)
class ProbeHttp2Test {
    @TempDir
    Path dir;

    @Test
    void fortySequentialGetsUseOneH2ConnectionAndItsStreams() {
        ProbeRun run = ProbeRun.of("--http2", "--requests", "40", "--gap", "10ms");

        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        assertThat(run.err()).isEmpty();
        assertThat(run.lastLine()).isEqualTo("summary: requests=40 failed=0 connections=1 reuse=98% h2=1/1");
        assertThat(run.value("Berth reuse probe", "protocols"))
                .isEqualTo("h2, then http/1.1, offered through ALPN: the server picks per connection");
        List<ProbeRun.Row> table = run.table();
        assertThat(table).hasSize(1);
        assertThat(table.get(0).uses()).isEqualTo(40);
        assertThat(table.get(0).protocol()).isEqualTo("h2");
        assertThat(table.get(0).streams()).isEqualTo("0/100"); // none in flight at the end, the server's limit
        assertThat(table.get(0).closeReason()).isEqualTo("POOL_CLOSED");
        assertThat(run.streamsTable()).containsExactly(
                new ProbeRun.StreamsRow(table.get(0).id(), "h2", "40", "1", "100", "0/0", "-"));
        assertThat(run.value("pool", "protocols")).isEqualTo("h2 on 1 connection");
        assertThat(run.value("pool", "responses")).isEqualTo("HTTP/2 x40");
        assertThat(run.value("pool", "aborted (RST)")).isEqualTo("0");
        // The server's own count: one h2 connection, 40 streams, closed with GOAWAY, close_notify and FIN.
        assertThat(run.value("embedded backend", "connections")).isEqualTo("1 accepted, SNI seen on 1");
        assertThat(run.value("embedded backend", "protocols")).isEqualTo("h2 on 1");
        assertThat(run.value("embedded backend", "streams"))
                .isEqualTo("40 on h2 (its limit: 100 at once), 0 refused; GOAWAY from the client on 1 of 1 h2 connection");
        assertThat(run.value("embedded backend", "how they ended")).isEqualTo("close_notify+FIN 1");
        assertThat(run.value("embedded backend", "cross-check")).startsWith("ok:");
    }

    @Test
    void withoutHttp2TheSameBackendIsSpokenToOverHttp11() {
        ProbeRun run = ProbeRun.of("--requests", "3", "--gap", "0");

        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        assertThat(run.lastLine()).isEqualTo("summary: requests=3 failed=0 connections=1 reuse=67%");
        assertThat(run.value("Berth reuse probe", "protocols")).isEqualTo("http/1.1 (--http2 offers h2 first)");
        assertThat(run.table()).singleElement().satisfies(r -> assertThat(r.protocol()).isNull());
        assertThat(run.streamsTable()).isEmpty();
        assertThat(run.out()).doesNotContain("streams per connection");
        assertThat(run.value("pool", "protocols")).isEqualTo("http/1.1 on 1 connection");
        assertThat(run.value("pool", "responses")).isEqualTo("HTTP/1.1 x3");
        assertThat(run.value("embedded backend", "protocols")).isEqualTo("http/1.1 on 1");
    }

    @Test
    void concurrentCallersShareH2ConnectionsWithinTheServersLimit() {
        ProbeRun run = ProbeRun.of("--http2", "--requests", "160", "--gap", "0", "--concurrency", "8", "--json");

        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        Object json = run.json();
        assertThat(at(json, "http2")).isEqualTo(true);
        assertThat(at(json, "summary", "failed")).isEqualTo(0L);
        long opened = (Long) at(json, "pool", "opened");
        assertThat(opened).isBetween(1L, 8L);
        assertThat(at(json, "summary", "h2Connections")).isEqualTo(opened);
        assertThat(at(json, "pool", "responses")).isEqualTo(Map.of("HTTP/2", 160L));
        assertThat(at(json, "pool", "fellBackToHttp11")).isEqualTo(false);
        long carried = 0;
        for (Object row : (List<?>) at(json, "connections")) {
            assertThat(at(row, "protocol")).isEqualTo("h2");
            assertThat((Long) at(row, "streams", "peak")).isBetween(1L, 8L); // never more than the callers
            assertThat(at(row, "streams", "serverMaxConcurrentStreams")).isEqualTo(100L);
            assertThat(at(row, "streams", "resetsSent")).isEqualTo(0L);
            assertThat(at(row, "streams", "carried")).isEqualTo(at(row, "uses"));
            carried += (Long) at(row, "streams", "carried");
        }
        assertThat(carried).isEqualTo(160L);
        assertThat(at(json, "server", "connections")).isEqualTo(opened);
        assertThat(at(json, "server", "h2Requests")).isEqualTo(160L);
        assertThat(at(json, "server", "refusedStreams")).isEqualTo(0L);
        assertThat(at(json, "server", "crossCheck")).isEqualTo("ok");
    }

    @Test
    void postsShareTheH2ConnectionUnderSafeOnceItIsProvenAlive() {
        ProbeRun run = ProbeRun.of("--http2", "--method", "POST", "--requests", "8", "--gap", "10ms");

        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        // Over HTTP/1.1 each of these POSTs opens a connection of its own (ProbeEmbeddedTest).
        assertThat(run.lastLine()).isEqualTo("summary: requests=8 failed=0 connections=1 reuse=88% h2=1/1");
        assertThat(run.value("Berth reuse probe", "reuse policy")).startsWith("safe: a POST (not replayable) may share"
                + " an HTTP/2 connection proven alive");
        assertThat(run.value("embedded backend", "requests")).isEqualTo("8 answered");
        assertThat(run.value("embedded backend", "how they ended")).isEqualTo("close_notify+FIN 1");
    }

    @Test
    void againstAnHttp11OnlyServerItFallsBackAndSaysSo() throws Exception {
        HeldCertificate ca = new HeldCertificate.Builder().certificateAuthority(0).ecdsa256().build();
        HeldCertificate leaf = new HeldCertificate.Builder().signedBy(ca).ecdsa256().commonName("localhost")
                .addSubjectAlternativeName("localhost").build();
        try (EmbeddedBackend http11 = EmbeddedBackend.start(ca, leaf, false)) {
            Path pem = Files.writeString(dir.resolve("ca.pem"), http11.caPem());
            String url = "https://localhost:" + http11.port() + "/";

            ProbeRun run = ProbeRun.of(url, "--ca-file", pem.toString(), "--http2", "--requests", "5", "--gap", "0");
            ProbeRun json = ProbeRun.of(url, "--ca-file", pem.toString(), "--http2", "--requests", "2", "--gap", "0",
                    "--json");

            assertThat(run.exit()).as(run.out() + run.err()).isZero();
            assertThat(run.lastLine()).isEqualTo("summary: requests=5 failed=0 connections=1 reuse=80% h2=0/1");
            assertThat(run.value("pool", "protocols")).isEqualTo("http/1.1 on 1 connection: h2 was offered, but the"
                    + " server did not choose it, so the pool fell back to HTTP/1.1");
            assertThat(run.value("pool", "responses")).isEqualTo("HTTP/1.1 x5");
            assertThat(run.table()).singleElement().satisfies(r -> assertThat(r.uses()).isEqualTo(5));
            assertThat(run.streamsTable()).containsExactly(
                    new ProbeRun.StreamsRow(run.table().get(0).id(), "http/1.1", "-", "-", "-", "-", "-"));
            assertThat(run.out()).contains("(no connection speaks HTTP/2: the server did not choose h2, so every one"
                    + " fell back to HTTP/1.1)");

            assertThat(json.exit()).isZero();
            assertThat(at(json.json(), "pool", "fellBackToHttp11")).isEqualTo(true);
            assertThat(at(json.json(), "pool", "protocols")).isEqualTo(Map.of("http/1.1", 1L));
            assertThat(at(json.json(), "connections", 0, "protocol")).isEqualTo("http/1.1");
            assertThat(at(json.json(), "connections", 0, "streams")).isNull();
            assertThat(at(json.json(), "summary", "h2Connections")).isEqualTo(0L);

            assertThat(http11.awaitAllEnded(Duration.ofSeconds(5))).isTrue();
            assertThat(http11.snapshot().protocols()).isEqualTo(Map.of("http/1.1", 2));
        }
    }
}
