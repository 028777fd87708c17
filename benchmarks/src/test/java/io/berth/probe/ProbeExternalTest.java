package io.berth.probe;

import static io.berth.probe.MiniJson.at;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The probe against a URL: a second embedded backend started by the test, standing in for an external
 * server whose CA the probe does not know unless given {@code --ca-file}.
 */
class ProbeExternalTest {
    private static final HeldCertificate CA = new HeldCertificate.Builder()
            .certificateAuthority(0).commonName("Berth probe test CA").ecdsa256().build();

    @TempDir
    Path dir;
    private EmbeddedBackend backend;

    @AfterEach
    void stop() {
        if (backend != null) {
            backend.close();
        }
    }

    private String start(HeldCertificate leaf) throws IOException {
        backend = EmbeddedBackend.start(CA, leaf);
        Path pem = dir.resolve("ca.pem");
        Files.writeString(pem, backend.caPem());
        return pem.toString();
    }

    private static HeldCertificate leaf(String... names) {
        HeldCertificate.Builder b = new HeldCertificate.Builder().signedBy(CA).ecdsa256().commonName(names[0]);
        for (String n : names) {
            b.addSubjectAlternativeName(n);
        }
        return b.build();
    }

    private String url(String path) {
        return "https://localhost:" + backend.port() + path;
    }

    private EmbeddedBackend.Snapshot settled() throws InterruptedException {
        assertThat(backend.awaitAllEnded(Duration.ofSeconds(5))).isTrue();
        return backend.snapshot();
    }

    @Test
    void trustsExactlyTheCaFileAndSendsSni() throws Exception {
        String pem = start(leaf("localhost", "127.0.0.1"));

        ProbeRun run = ProbeRun.of(url("/health?x=1"), "--ca-file", pem, "--requests", "5", "--gap", "0");

        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        assertThat(run.lastLine()).isEqualTo("summary: requests=5 failed=0 connections=1 reuse=80%");
        assertThat(run.value("Berth reuse probe", "target")).isEqualTo(url("/health?x=1"));
        assertThat(run.value("Berth reuse probe", "TLS"))
                .isEqualTo("SNI on (localhost), certificate verified for localhost, trust: the CA certificates in "
                        + pem + " only");
        assertThat(run.out()).doesNotContain("embedded backend (");
        EmbeddedBackend.Snapshot seen = settled();
        assertThat(seen.connections()).hasSize(1);
        assertThat(seen.requests()).isEqualTo(5);
        assertThat(seen.connections().get(0).sni()).isEqualTo("localhost");
        assertThat(seen.endings()).containsExactly(java.util.Map.entry(EmbeddedBackend.Ending.CLOSE_NOTIFY_FIN, 1));
    }

    @Test
    void noSniSendsNoneOnAnyConnectionResumedOnesIncluded() throws Exception {
        String pem = start(leaf("localhost", "127.0.0.1"));

        ProbeRun run = ProbeRun.of(url(""), "--ca-file", pem, "--no-sni", "--reuse", "never", "--requests", "4",
                "--gap", "0", "--json");

        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        Object json = run.json();
        assertThat(at(json, "tls", "sni")).isEqualTo(false);
        assertThat(at(json, "tls", "sniSent")).isNull();
        assertThat(at(json, "server")).isNull();
        assertThat(at(json, "summary", "connections")).isEqualTo(4L);
        assertThat((Long) at(json, "pool", "tlsResumed")).isPositive();
        EmbeddedBackend.Snapshot seen = settled();
        assertThat(seen.connections()).hasSize(4);
        assertThat(seen.withSni()).isZero();
    }

    @Test
    void untrustedChainWithoutCaFileExitsOneAndSaysSo() throws Exception {
        start(leaf("localhost", "127.0.0.1"));

        ProbeRun run = ProbeRun.of(url("/"), "--requests", "5", "--gap", "0");

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).startsWith("berth-probe: TLS handshake with localhost:" + backend.port() + " failed: ")
                .contains("untrusted chain").contains("JDK trust store").doesNotContain("\tat ");
        assertThat(run.err().lines()).hasSize(1);
        assertThat(run.lastLine()).isEqualTo("summary: requests=1 failed=1 connections=0 reuse=0%");
        assertThat(run.value("pool", "requests")).contains("4 not sent");
        assertThat(run.out()).contains("TLS: untrusted chain:").doesNotContain("\tat ");
        assertThat(settled().endings()).containsOnlyKeys(EmbeddedBackend.Ending.HANDSHAKE_FAILED);
    }

    @Test
    void untrustedChainInJson() throws Exception {
        start(leaf("localhost", "127.0.0.1"));

        ProbeRun run = ProbeRun.of(url("/"), "--requests", "2", "--json");

        assertThat(run.exit()).isEqualTo(1);
        Object json = run.json();
        assertThat(at(json, "tlsFailure", "kind")).isEqualTo("untrusted chain");
        assertThat(at(json, "summary", "failed")).isEqualTo(1L);
        assertThat(at(json, "exitCode")).isEqualTo(1L);
        assertThat(run.err()).contains("untrusted");
    }

    @Test
    void certificateForAnotherHostIsAWrongHost() throws Exception {
        String pem = start(leaf("other.test"));

        ProbeRun run = ProbeRun.of(url("/"), "--ca-file", pem, "--requests", "3");

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).contains("wrong host").contains("'localhost'");
        assertThat(run.lastLine()).startsWith("summary: requests=1 failed=1 connections=0");
    }

    @Test
    void expiredCertificateIsExpired() throws Exception {
        long now = System.currentTimeMillis();
        String pem = start(new HeldCertificate.Builder().signedBy(CA).ecdsa256()
                .validityInterval(now - TimeUnit.HOURS.toMillis(3), now - TimeUnit.HOURS.toMillis(2))
                .addSubjectAlternativeName("localhost").build());

        ProbeRun run = ProbeRun.of(url("/"), "--ca-file", pem, "--requests", "3");

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).contains(": expired:");
    }

    @Test
    void unreachableBackendIsCountedAndSummarizedWithoutStackTraces() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again: connections to it are refused
        }

        ProbeRun run = ProbeRun.of("http://127.0.0.1:" + port, "--requests", "40", "--gap", "0");

        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).isEmpty();
        assertThat(run.out()).doesNotContain("\tat ");
        assertThat(run.lastLine()).isEqualTo("summary: requests=3 failed=3 connections=0 reuse=0%");
        assertThat(run.value("Berth reuse probe", "TLS")).isEqualTo("none (plain http)");
        assertThat(run.value("pool", "requests")).contains("37 not sent (the first 3 requests all failed)");
        // The first request's connects are refused and mark the server down (for new connections).
        // The next two do not fail at once: each waits for the end of the back-off (well within its
        // acquire timeout), tries the server again, and fails with the refusal itself.
        List<String> failures = run.outLines().stream().filter(l -> l.matches("  \\d x .*")).toList();
        assertThat(failures).singleElement().asString().startsWith("  3 x ").contains("ConnectException")
                .contains("refused");
        assertThat(run.out()).doesNotContain("BackendUnavailableException");
    }
}
