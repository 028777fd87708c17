package io.berth.probe;

import static io.berth.probe.MiniJson.at;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The probe against its embedded backend, in process, over real TLS on 127.0.0.1. */
class ProbeEmbeddedTest {

    @ParameterizedTest
    @ValueSource(strings = {"safe", "aggressive", "always"})
    void reusingPoliciesCarryFortySequentialGetsOnOneConnection(String policy) {
        ProbeRun run = ProbeRun.of("--requests", "40", "--gap", "10ms", "--reuse", policy);

        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        assertThat(run.err()).isEmpty();
        assertThat(run.lastLine()).isEqualTo("summary: requests=40 failed=0 connections=1 reuse=98%");
        List<ProbeRun.Row> table = run.table();
        assertThat(table).hasSize(1);
        assertThat(table.get(0).uses()).isEqualTo(40);
        assertThat(table.get(0).state()).isEqualTo("IDLE");
        assertThat(table.get(0).closeReason()).isEqualTo("POOL_CLOSED");
        assertThat(run.value("Berth reuse probe", "reuse policy")).startsWith(policy + ":");
        assertThat(run.value("pool", "opened")).isEqualTo("1");
        assertThat(run.value("pool", "reused")).isEqualTo("39 of 40 acquisitions (98%)");
        assertThat(run.value("pool", "aborted (RST)")).isEqualTo("0");
        // The server's own count agrees, and it saw a graceful close.
        assertThat(run.value("embedded backend", "connections")).isEqualTo("1 accepted, SNI seen on 1");
        assertThat(run.value("embedded backend", "requests")).isEqualTo("40 answered");
        assertThat(run.value("embedded backend", "how they ended")).isEqualTo("close_notify+FIN 1");
        assertThat(run.value("embedded backend", "cross-check")).startsWith("ok:");
    }

    @Test
    void neverOpensAConnectionPerRequestAndClosesEachGracefully() {
        ProbeRun run = ProbeRun.of("--requests", "40", "--gap", "10ms", "--reuse", "never");

        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        assertThat(run.lastLine()).isEqualTo("summary: requests=40 failed=0 connections=40 reuse=0%");
        List<ProbeRun.Row> table = run.table();
        assertThat(table).hasSize(40);
        assertThat(table).allSatisfy(r -> {
            assertThat(r.uses()).isEqualTo(1);
            assertThat(r.state()).isEqualTo("CLOSED");
            assertThat(r.closeReason()).isEqualTo("NOT_SHARED");
        });
        assertThat(table).extracting(ProbeRun.Row::id).doesNotHaveDuplicates();
        assertThat(run.value("pool", "closed")).isEqualTo("40: NOT_SHARED 40");
        assertThat(run.value("pool", "aborted (RST)")).isEqualTo("0");
        assertThat(run.value("embedded backend", "connections")).startsWith("40 accepted");
        assertThat(run.value("embedded backend", "requests")).isEqualTo("40 answered");
        assertThat(run.value("embedded backend", "how they ended")).isEqualTo("close_notify+FIN 40");
    }

    @Test
    void jsonCarriesTheSameFactsAsOneObject() {
        ProbeRun run = ProbeRun.of("--requests", "40", "--gap", "10ms", "--json");

        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        assertThat(run.err()).isEmpty();
        assertThat(run.out().strip()).doesNotContain("\n").startsWith("{").endsWith("}");
        Object json = run.json();
        assertThat(at(json, "embedded")).isEqualTo(true);
        assertThat(at(json, "reusePolicy")).isEqualTo("safe");
        assertThat(at(json, "method")).isEqualTo("GET");
        assertThat(at(json, "requests")).isEqualTo(40L);
        assertThat(at(json, "gapMillis")).isEqualTo(10L);
        assertThat(at(json, "tls", "sni")).isEqualTo(true);
        assertThat(at(json, "tls", "sniSent")).isEqualTo("localhost");
        assertThat((List<?>) at(json, "connections")).hasSize(1);
        assertThat(at(json, "connections", 0, "uses")).isEqualTo(40L);
        assertThat(at(json, "connections", 0, "closeReason")).isEqualTo("POOL_CLOSED");
        assertThat(at(json, "pool", "opened")).isEqualTo(1L);
        assertThat(at(json, "pool", "acquired")).isEqualTo(40L);
        assertThat(at(json, "pool", "reused")).isEqualTo(39L);
        assertThat(at(json, "pool", "aborted")).isEqualTo(0L);
        assertThat(at(json, "statuses")).isEqualTo(Map.of("200", 40L));
        assertThat((List<?>) at(json, "failures")).isEmpty();
        assertThat(at(json, "tlsFailure")).isNull();
        assertThat(at(json, "server", "connections")).isEqualTo(1L);
        assertThat(at(json, "server", "requests")).isEqualTo(40L);
        assertThat(at(json, "server", "endings")).isEqualTo(Map.of("CLOSE_NOTIFY_FIN", 1L));
        assertThat(at(json, "server", "crossCheck")).isEqualTo("ok");
        assertThat(at(json, "summary")).isEqualTo(
                Map.of("requests", 40L, "failed", 0L, "connections", 1L, "reusePercent", 98L));
        assertThat(at(json, "exitCode")).isEqualTo(0L);
    }

    @Test
    void jsonUnderNeverAgreesWithTheServer() {
        ProbeRun run = ProbeRun.of("--requests", "10", "--gap", "0", "--reuse", "never", "--json");

        assertThat(run.exit()).isZero();
        Object json = run.json();
        assertThat(at(json, "summary", "connections")).isEqualTo(10L);
        assertThat(at(json, "summary", "reusePercent")).isEqualTo(0L);
        assertThat((List<?>) at(json, "connections")).hasSize(10);
        assertThat(at(json, "pool", "closed")).isEqualTo(Map.of("NOT_SHARED", 10L));
        assertThat(at(json, "server", "connections")).isEqualTo(10L);
        assertThat(at(json, "server", "endings")).isEqualTo(Map.of("CLOSE_NOTIFY_FIN", 10L));
    }

    @ParameterizedTest
    @CsvSource({"safe, 8, 0", "aggressive, 8, 0", "always, 1, 88"})
    void postIsNotReplayableSoOnlyAlwaysReusesForIt(String policy, int connections, int reuse) {
        ProbeRun run = ProbeRun.of("--method", "POST", "--requests", "8", "--gap", "10ms", "--reuse", policy);

        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        assertThat(run.lastLine()).isEqualTo("summary: requests=8 failed=0 connections=" + connections + " reuse="
                + reuse + "%");
        assertThat(run.value("Berth reuse probe", "method")).isEqualTo("POST /");
        assertThat(run.value("embedded backend", "connections")).startsWith(connections + " accepted");
        assertThat(run.value("embedded backend", "requests")).isEqualTo("8 answered");
        assertThat(run.value("embedded backend", "how they ended")).isEqualTo("close_notify+FIN " + connections);
    }

    @Test
    void concurrentCallersShareThePoolAndTheServerNeverSeesMoreThanItOpened() {
        ProbeRun run = ProbeRun.of("--requests", "40", "--gap", "10ms", "--concurrency", "4", "--json");

        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        Object json = run.json();
        long opened = (Long) at(json, "pool", "opened");
        long serverConnections = (Long) at(json, "server", "connections");
        assertThat(at(json, "summary", "requests")).isEqualTo(40L);
        assertThat(at(json, "summary", "failed")).isEqualTo(0L);
        assertThat(opened).isBetween(1L, 4L);
        assertThat(serverConnections).isLessThanOrEqualTo(opened);
        assertThat(at(json, "server", "requests")).isEqualTo(40L);
        long uses = 0;
        for (Object row : (List<?>) at(json, "connections")) {
            uses += (Long) at(row, "uses");
        }
        assertThat(uses).isEqualTo(40L);
        assertThat((Long) at(json, "pool", "peakInUse")).isBetween(1L, 4L);
    }

    @Test
    void noSniIsHonouredAndTheServerSeesNone() {
        ProbeRun run = ProbeRun.of("--requests", "3", "--gap", "0", "--no-sni");

        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        assertThat(run.value("Berth reuse probe", "TLS")).startsWith("SNI off, certificate verified for localhost");
        assertThat(run.value("embedded backend", "connections")).isEqualTo("1 accepted, no SNI seen");
    }

    @Test
    void leavesNoThreadBehind() throws InterruptedException {
        ProbeRun run = ProbeRun.of("--requests", "6", "--gap", "0", "--concurrency", "3");
        assertThat(run.exit()).isZero();

        long deadline = System.nanoTime() + 5_000_000_000L;
        List<String> left;
        do {
            left = Thread.getAllStackTraces().keySet().stream()
                    .filter(Thread::isAlive)
                    .map(Thread::getName)
                    .filter(n -> n.startsWith("berth-"))
                    .toList();
            if (left.isEmpty()) {
                break;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        assertThat(left).isEmpty();
    }
}
