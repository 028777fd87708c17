package io.berth.probe;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.HttpProtocol;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The command line: every bad argument exits 2 with one line naming the problem, then the usage. */
class ProbeArgsTest {
    @TempDir
    static Path dir;
    static String notPem;
    static String pem;

    @BeforeAll
    static void files() throws IOException {
        notPem = Files.writeString(dir.resolve("not.pem"), "hello\n").toString();
        pem = Files.writeString(dir.resolve("ca.pem"), new okhttp3.tls.HeldCertificate.Builder()
                .certificateAuthority(0).ecdsa256().build().certificatePem()).toString();
    }

    static Stream<Arguments> badCommandLines() {
        return Stream.of(
                bad("unknown option '--bogus'", "--bogus"),
                bad("unknown option '-x'", "-x"),
                bad("--requests needs a value", "--requests"),
                bad("--gap needs a value", "--gap", "--json"),
                bad("--requests must be a whole number from 1 to 1000000 but was 'abc'", "--requests", "abc"),
                bad("--requests must be a whole number from 1 to 1000000 but was '0'", "--requests", "0"),
                bad("--requests must be a whole number from 1 to 1000000 but was '-3'", "--requests", "-3"),
                bad("--requests must be a whole number from 1 to 1000000 but was '99999999999'", "--requests",
                        "99999999999"),
                bad("--concurrency must be a whole number from 1 to 1024 but was '0'", "--concurrency", "0"),
                bad("--gap must be a duration such as 300ms, 1500ms, 2s or 0, at most 1 hour but was '3x'", "--gap", "3x"),
                bad("--gap must be a duration", "--gap", "1.5s"),
                bad("--gap must be a duration", "--gap", "-5ms"),
                bad("--gap must be a duration", "--gap", "7200s"),
                bad("--reuse must be never, safe, aggressive or always but was 'sometimes'", "--reuse", "sometimes"),
                bad("--method must be GET or POST but was 'PUT'", "--method", "PUT"),
                bad("--ca-file '/no/such/ca.pem' cannot be read: no such file", "https://localhost:1", "--ca-file",
                        "/no/such/ca.pem"),
                bad("cannot be read: it is a directory", "https://localhost:1", "--ca-file", "@dir"),
                bad("is not usable", "https://localhost:1", "--ca-file", "@notPem"),
                bad("--ca-file needs a URL", "--ca-file", "@pem"),
                bad("--ca-file applies to https only", "http://localhost:1", "--ca-file", "@pem"),
                bad("--no-sni applies to https only", "http://localhost:1", "--no-sni"),
                bad("--http2 applies to https only (h2 is offered through ALPN, with HTTP/1.1 as the fallback), but URL"
                        + " 'http://localhost:1' is plain http", "http://localhost:1", "--http2"),
                bad("--http2 takes no value but was given 'on'", "--http2=on"),
                bad("URL 'ftp://example.com' must start with https:// or http://", "ftp://example.com"),
                bad("URL 'https://exa mple.com' is malformed", "https://exa mple.com"),
                bad("URL 'https://' is malformed", "https://"),
                bad("URL 'localhost:8443' must start with https:// or http://", "localhost:8443"),
                bad("URL 'https://localhost:99999' is not usable", "https://localhost:99999"),
                bad("must not carry user info", "https://user@localhost"),
                bad("must not have a fragment", "https://localhost/#top"),
                bad("unexpected argument 'b': only one URL may be given", "https://a", "b"),
                bad("--json takes no value but was given 'yes'", "--json=yes"),
                bad("--gap was given more than once", "--gap", "10ms", "--gap=20ms"));
    }

    private static Arguments bad(String message, String... args) {
        return Arguments.of(message, args);
    }

    @ParameterizedTest(name = "{1} -> {0}")
    @MethodSource("badCommandLines")
    void badArgumentsExitTwoWithOneLineAndTheUsage(String message, String[] args) {
        List<String> resolved = new ArrayList<>();
        for (String a : args) {
            resolved.add(switch (a) {
                case "@dir" -> dir.toString();
                case "@notPem" -> notPem;
                case "@pem" -> pem;
                default -> a;
            });
        }

        ProbeRun run = ProbeRun.of(resolved.toArray(String[]::new));

        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        String first = run.err().lines().findFirst().orElseThrow();
        assertThat(first).startsWith("berth-probe: ").contains(message);
        assertThat(run.err()).isEqualTo(first + System.lineSeparator() + ProbeArgs.USAGE);
    }

    @Test
    void helpPrintsTheUsageOnStdout() {
        ProbeRun run = ProbeRun.of("--help");

        assertThat(run.exit()).isZero();
        assertThat(run.out()).isEqualTo(ProbeArgs.USAGE);
        assertThat(run.err()).isEmpty();
    }

    @Test
    void defaultsAndBothValueForms() throws Exception {
        ProbeArgs d = ProbeArgs.parse();
        assertThat(d.url).isNull();
        assertThat(d.requests).isEqualTo(40);
        assertThat(d.gap).isEqualTo(Duration.ofMillis(300));
        assertThat(d.reuseName).isEqualTo("safe");
        assertThat(d.method).isEqualTo("GET");
        assertThat(d.concurrency).isEqualTo(1);
        assertThat(d.sni).isTrue();
        assertThat(d.http2).isFalse();
        assertThat(d.json).isFalse();
        assertThat(ProbeArgs.parse("https://h").backend.protocols()).containsExactly(HttpProtocol.HTTP_1_1);

        ProbeArgs a = ProbeArgs.parse("https://api.example.com:8443/v1/items?limit=2", "--gap=1500ms",
                "--requests", "7", "--reuse=ALWAYS", "--method", "post", "--concurrency", "2", "--no-sni", "--json");
        assertThat(a.backend.toString()).isEqualTo("https://api.example.com:8443");
        assertThat(a.backend.tls().sni()).isFalse();
        assertThat(a.target).isEqualTo("/v1/items?limit=2");
        assertThat(a.gap).isEqualTo(Duration.ofMillis(1500));
        assertThat(a.requests).isEqualTo(7);
        assertThat(a.reuseName).isEqualTo("always");
        assertThat(a.method).isEqualTo("POST");
        assertThat(a.concurrency).isEqualTo(2);
        assertThat(a.json).isTrue();
        assertThat(a.http2).isFalse();
        assertThat(ProbeArgs.parse("https://h").target).isEqualTo("/");

        ProbeArgs h2 = ProbeArgs.parse("--http2", "https://h:8443/x", "--no-sni");
        assertThat(h2.http2).isTrue();
        assertThat(h2.backend.protocols()).containsExactly(HttpProtocol.HTTP_2, HttpProtocol.HTTP_1_1);
        assertThat(h2.backend.alpnOffered()).containsExactly("h2", "http/1.1");
        assertThat(h2.backend.tls().sni()).isFalse();
        assertThat(ProbeArgs.parse("--http2").http2).isTrue(); // the embedded backend
    }

    @Test
    void durations() {
        assertThat(ProbeArgs.parseDuration("300ms")).isEqualTo(Duration.ofMillis(300));
        assertThat(ProbeArgs.parseDuration("1500ms")).isEqualTo(Duration.ofMillis(1500));
        assertThat(ProbeArgs.parseDuration("2s")).isEqualTo(Duration.ofSeconds(2));
        assertThat(ProbeArgs.parseDuration("0")).isEqualTo(Duration.ZERO);
        assertThat(ProbeArgs.parseDuration("0ms")).isEqualTo(Duration.ZERO);
        assertThat(ProbeArgs.parseDuration("2")).isNull();
        assertThat(ProbeArgs.parseDuration("2 s")).isNull();
        assertThat(ProbeArgs.parseDuration("2m")).isNull();
        assertThat(ProbeArgs.formatDuration(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(ProbeArgs.formatDuration(Duration.ofSeconds(2))).isEqualTo("2s");
        assertThat(ProbeArgs.formatDuration(Duration.ZERO)).isEqualTo("0");
    }
}
