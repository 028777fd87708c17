package io.berth.e2e;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * The end-to-end closed-loop benchmark of issue 5: small keep-alive GETs over TLS 1.3 on loopback
 * to nginx in another process, from C concurrent callers, through Berth and the clients users would
 * pick instead, against a floor of plain blocking {@code SSLSocket}s (see {@link Peer} and its
 * subclasses for how each client is configured, and why).
 *
 * <p>Run it through the script, which generates the CA and certificate, starts and stops nginx, and
 * runs {@link ColdPath} after it:
 * <pre>
 * mvn -B -q -DskipTests package
 * benchmarks/e2e/run.sh                         # defaults: C = 1 8 64, 5 rounds of 2 s per client and C
 * E2E_CONCURRENCY="8" E2E_ROUNDS=3 benchmarks/e2e/run.sh
 * </pre>
 * or by hand against a running server:
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.berth.e2e.E2eBenchmark --ca /tmp/ca.pem --port 18443 \
 *     --status-port 18080 --body-length 100 --concurrency 1,8,64 --duration 2 --warmup 3 \
 *     --round-warmup 0.5 --rounds 5 --clients berth,okhttp,apache,jdk,jetty,floor --markdown out.md
 * </pre>
 *
 * <p>Method. For each C, every client gets its own load of C caller threads (see {@link Load}), is
 * probed once (its negotiated TLS is printed) and warmed up for {@code --warmup} seconds. Then, for
 * {@code --rounds} rounds, the clients take turns in an order rotated every round, so drift on the
 * machine hits all alike: each runs {@code --round-warmup} seconds unmeasured (reopening whatever
 * its pool may have closed while the others ran) and then a measured window of {@code --duration}
 * seconds. A figure is the median over rounds of its per-window value; the ratio to the floor is
 * taken within each round first.
 *
 * <p>Figures per window: requests per second; p50/p99/p99.9 latency from an HdrHistogram per caller,
 * merged; bytes allocated by every thread of this JVM (callers and the clients' own I/O threads)
 * per request; process CPU time per request (nginx is another process, so not included), and its
 * user-mode part (the rest is the kernel's: syscalls, TCP on loopback, scheduling); nginx's worker's
 * time on a CPU per request, its time waiting for one per request, and the share of the window it
 * was runnable ({@link NginxStatus}: near 100%, nginx was the bottleneck);
 * connections nginx accepted during the window ({@code stub_status}), which must be 0 for a warm
 * pool; requests that failed. Per client and C, also the connections nginx accepted from it from
 * its creation to its last window (set-up, warm-ups and windows: only one client runs at a time, so
 * nginx's count is its own). A
 * client that fails a request, or whose threads ended within a window (their allocation would be
 * lost), is flagged in the notes, never silently counted; a failed request never ends the run. And
 * the connections it holds open after its first warm-up ({@link Sockets}), with the streams per
 * connection that implies (C / open).
 *
 * <p>HTTP/2 ({@link Peer#H2}): those peers run against nginx's h2 listener, the others against the
 * HTTP/1.1 one, in the same rounds. Every client's probe exchange must have been served over the
 * version it is meant to speak ({@link Target#httpVersion}), or the client fails its set-up. When
 * the run includes an HTTP/2 peer other than Berth's, a column gives each client's requests per
 * second over the best such peer's in the same round (a window with failed requests is not a
 * candidate for best), the median over rounds.
 */
public final class E2eBenchmark {
    private E2eBenchmark() {
    }

    /**
     * @param args {@code --name value} options: {@code --ca} (required), {@code --host},
     *     {@code --port}, {@code --status-port}, {@code --body-length}, {@code --concurrency},
     *     {@code --duration}, {@code --warmup}, {@code --round-warmup} (seconds), {@code --rounds},
     *     {@code --clients}, {@code --h2-port}, {@code --threads} ({@code platform}, {@code virtual} or
     *     {@code virtual-per-request}), {@code --markdown} (a file to append the results to)
     * @throws Exception if the benchmark could not run
     */
    public static void main(String[] args) throws Exception {
        Args a = new Args(args);
        Target target = Target.fromArgs(a);
        List<Integer> concurrency = new ArrayList<>();
        for (String c : a.list("concurrency", "1,8,64")) {
            concurrency.add(Integer.parseInt(c));
        }
        Settings settings = new Settings(a.integer("rounds", 5), seconds(a.decimal("warmup", 3)),
                seconds(a.decimal("round-warmup", 0.5)), seconds(a.decimal("duration", 2)),
                Load.Threads.named(a.string("threads", "platform")));
        String markdown = a.string("markdown", null);
        // The JDK client's idle timeout is JVM-wide and read once: set it before any client exists.
        if (System.getProperty("jdk.httpclient.keepalive.timeout") == null) {
            System.setProperty("jdk.httpclient.keepalive.timeout", Long.toString(Peer.IDLE.toSeconds()));
        }
        List<Peer> peers = Peer.named(a.list("clients", String.join(",", Peer.ALL)));
        System.err.printf(Locale.ROOT, "closed loop: %d clients, C = %s, %d rounds of %.1f s (+%.1f s warm-up)"
                + " after %.1f s warm-up: about %.0f s%n", peers.size(), concurrency, settings.rounds,
                settings.duration / 1e9, settings.roundWarmup / 1e9, settings.warmup / 1e9,
                concurrency.size() * peers.size() * settings.seconds());

        boolean h2Peers = peers.stream().anyMatch(E2eBenchmark::h2Peer);
        List<String> headers = new ArrayList<>(List.of("client", "C", "req/s", "×floor"));
        if (h2Peers) {
            headers.add("×best h2 peer");
        }
        headers.addAll(List.of("p50 µs", "p99 µs", "p99.9 µs", "B/req", "CPU µs/req", "user µs/req", "nginx µs/req",
                "nginx wait µs/req", "nginx runnable %", "conns", "open",
                "streams/conn", "new conns", "failed", "notes"));
        Table table = new Table(true, headers.toArray(new String[0]));
        String[] roundHeaders = new String[settings.rounds + 2];
        roundHeaders[0] = "client";
        roundHeaders[1] = "C";
        for (int r = 1; r <= settings.rounds; r++) {
            roundHeaders[r + 1] = "round " + r;
        }
        Table perRound = new Table(false, roundHeaders);
        StringBuilder md = new StringBuilder("## Closed loop").append(settings.threads == Load.Threads.PLATFORM
                ? "" : " (callers: " + settings.threads.label() + ")").append("\n\n");
        md.append(String.format(Locale.ROOT, "%d rounds per client and C; in each, %.1f s unmeasured, then a %.1f s"
                + " measured window; %.1f s warm-up per client before the first round. Figures are medians over"
                + " rounds (×floor: of the ratio within each round%s); *conns*: the connections nginx accepted"
                + " from the client at this C, from its creation to its last window (set-up, warm-ups, windows);"
                + " *user µs/req*: the user-mode part of CPU µs/req, the rest being the kernel's (from"
                + " /proc/self/stat, in 10 ms ticks); *nginx µs/req*: the CPU time of nginx's worker per request it"
                + " served in the window, what the client costs the server (its scheduler's run time from"
                + " /proc/<pid>/schedstat, in nanoseconds; without schedstat, its CPU time from /proc/<pid>/stat"
                + " in 10 ms ticks);"
                + " *nginx wait µs/req*: how long the worker waited, runnable, for a CPU per request (the CPU"
                + " other threads, the client's among them, held), and *nginx runnable %%*: the share of the"
                + " window it was running or waiting to; near 100 %% nginx never"
                + " waited for a request, so it was the bottleneck, and a client's throughput followed nginx's"
                + " cost per request and the wait;"
                + " *open*: those of its connections still established after its first warm-up (this JVM's"
                + " sockets to the listener, from /proc/net/tcp), and *streams/conn* C over that; *new conns* and"
                + " *failed*: the totals over all measured windows (with the failed share of the requests sent;"
                + " a caller waits 10 ms after a failure, so the count depends on that; a failed request is not"
                + " counted in req/s, B/req or CPU/req). HTTP/2 clients (`-h2`) against"
                + " nginx's h2 listener, the others against its HTTP/1.1 listener. Callers: %s.%n%n",
                settings.rounds, settings.roundWarmup / 1e9, settings.duration / 1e9, settings.warmup / 1e9,
                h2Peers ? "; ×best h2 peer: of the ratio to the fastest HTTP/2 peer other than Berth's in the same"
                + " round, among its windows without failures" : "", describe(settings.threads)));
        for (int c : concurrency) {
            md.append(run(target, peers, c, settings, table, perRound, h2Peers));
        }
        System.out.println();
        System.out.print(table.text());
        if (markdown != null) {
            md.append('\n').append(table.markdown());
            md.append("\n*ended in window*: threads of the JVM (of any client: all clients stay open through"
                    + " all rounds) that ended during this client's measured windows, and how often; whatever"
                    + " they allocated within the window is missing from B/req. *short-lived*: started and ended"
                    + " within the window.\n");
            md.append("\nRequests per second in each measured window (the order of the clients rotates every"
                    + " round):\n\n").append(perRound.markdown()).append('\n');
            Files.writeString(Path.of(markdown), md, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        }
    }

    /** How long each phase runs, in nanoseconds, and what the callers run on. */
    private record Settings(int rounds, long warmup, long roundWarmup, long duration, Load.Threads threads) {
        /** @return the seconds one client takes at one C */
        double seconds() {
            return (warmup + rounds * (roundWarmup + duration)) / 1e9;
        }
    }

    private static String describe(Load.Threads threads) {
        switch (threads) {
            case VIRTUAL:
                return "each a virtual thread";
            case VIRTUAL_PER_REQUEST:
                return "each a virtual thread that sends every request from a new virtual thread and joins it";
            default:
                return "each a platform thread";
        }
    }

    private static long seconds(double s) {
        return (long) (s * 1e9);
    }

    private static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /**
     * Checks what nginx says a peer's probe exchange was served over.
     *
     * @param p the peer
     * @param negotiated the {@link Target#TLS_HEADER} of its probe exchange
     * @throws IOException if it was not {@link Tls#PROTOCOL}, or not the HTTP version the peer is meant
     *     to speak ({@link Target#HTTP_2} for an HTTP/2 peer, else {@link Target#HTTP_1_1})
     */
    static void checkNegotiated(Peer p, String negotiated) throws IOException {
        if (negotiated == null || !negotiated.startsWith(Tls.PROTOCOL + " ")) {
            throw new IOException("negotiated '" + negotiated + "', not " + Tls.PROTOCOL);
        }
        String expected = p.h2() ? Target.HTTP_2 : Target.HTTP_1_1;
        if (!expected.equals(Target.httpVersion(negotiated))) {
            throw new IOException("served over " + Target.httpVersion(negotiated) + ", not " + expected + " (the server"
                    + " says: " + negotiated + ")");
        }
    }

    /** @return whether the peer is an HTTP/2 peer other than Berth's: a candidate for the best h2 peer */
    private static boolean h2Peer(Peer p) {
        return p.h2() && !p.name().startsWith("berth");
    }

    /**
     * Runs every client at one C, and adds their rows to the tables.
     *
     * @param h2Peers whether the table has the column of the ratio to the best HTTP/2 peer
     * @return a Markdown paragraph on the run: load average and the TLS each client negotiated
     */
    private static String run(Target target, List<Peer> peers, int c, Settings settings, Table table, Table perRound,
            boolean h2Peers) {
        double loadBefore = loadAverage();
        Map<String, Load> loads = new LinkedHashMap<>();
        Map<String, String> failures = new LinkedHashMap<>();
        Map<String, String> tls = new LinkedHashMap<>();
        Map<String, Load.Window[]> windows = new LinkedHashMap<>();
        Map<String, Long> warmupErrors = new LinkedHashMap<>();
        Map<String, Long> opened = new LinkedHashMap<>();
        Map<String, Set<Long>> own = new HashMap<>(); // the connections each client opened, by socket inode
        Map<String, Long> held = new HashMap<>();
        Map<String, Integer> ports = new HashMap<>();
        List<String> bestCandidates = new ArrayList<>();
        for (Peer p : peers) {
            windows.put(p.name(), new Load.Window[settings.rounds]);
            if (h2Peer(p)) {
                bestCandidates.add(p.name());
            }
            try {
                Target t = p.targetOf(target);
                ports.put(p.name(), t.port());
                Set<Long> sockets = Sockets.established(t.port());
                NginxStatus before = NginxStatus.read(target);
                Load load = new Load(p, t, c, settings.threads);
                loads.put(p.name(), load);
                String negotiated = load.probeTls();
                opened.put(p.name(), NginxStatus.read(target).connectionsSince(before));
                own.put(p.name(), Sockets.openedBetween(sockets, Sockets.established(t.port())));
                tls.put(p.name(), negotiated);
                checkNegotiated(p, negotiated);
            } catch (Exception e) {
                fail(p.name(), "setup", e, loads, failures);
            }
        }
        System.err.println("C=" + c + ": TLS per client " + tls);
        for (String name : new ArrayList<>(loads.keySet())) {
            try {
                Set<Long> sockets = Sockets.established(ports.get(name));
                Load.Window w = loads.get(name).warmUp(settings.warmup);
                warmupErrors.merge(name, w.errors(), Long::sum);
                opened.merge(name, w.newConnections(), Long::sum);
                // Only this client ran in its set-up and its warm-up: what it opened then and still holds.
                Set<Long> now = Sockets.established(ports.get(name));
                Set<Long> mine = own.get(name);
                Set<Long> more = Sockets.openedBetween(sockets, now);
                if (mine != null && more != null) {
                    mine.addAll(more);
                    mine.retainAll(now);
                    held.put(name, (long) mine.size());
                }
                System.err.printf(Locale.ROOT, "C=%d warm-up %-10s %9.0f req/s%s%n", c, name, w.requestsPerSecond(),
                        w.errors() > 0 ? "  " + w.errors() + " errors: " + w.firstError() : "");
            } catch (Exception e) {
                fail(name, "warm-up", e, loads, failures);
            }
        }
        for (int r = 0; r < settings.rounds; r++) {
            List<String> order = new ArrayList<>(loads.keySet());
            Collections.rotate(order, -r);
            for (String name : order) {
                Load load = loads.get(name);
                if (load == null) {
                    continue; // failed earlier in this round
                }
                try {
                    Load.Window w = load.warmUp(settings.roundWarmup);
                    warmupErrors.merge(name, w.errors(), Long::sum);
                    opened.merge(name, w.newConnections(), Long::sum);
                    w = load.measure(settings.duration);
                    windows.get(name)[r] = w;
                    System.err.printf(Locale.ROOT, "C=%d round %d/%d %-10s %9.0f req/s  p99 %7.0f µs  %6.0f B/req"
                            + "  %6.1f µs CPU/req (user %.1f, nginx %.1f)  %d new conns%s%n", c, r + 1, settings.rounds,
                            name, w.requestsPerSecond(), w.micros(99), w.bytesPerRequest(), w.cpuMicrosPerRequest(),
                            w.userMicrosPerRequest(), w.nginxMicrosPerRequest(), w.newConnections(), w.errors() > 0 ? "  " + w.errors() + " errors: " + w.firstError() : "");
                } catch (Exception e) {
                    fail(name, "round " + (r + 1), e, loads, failures);
                }
            }
        }
        for (Load load : loads.values()) {
            load.close();
        }
        double loadAfter = loadAverage();
        System.err.printf(Locale.ROOT, "C=%d done: load average %.2f before, %.2f after%n", c, loadBefore, loadAfter);

        Load.Window[] floor = windows.get("floor");
        double[] best = bestPerRound(windows, bestCandidates, settings.rounds);
        for (Map.Entry<String, Load.Window[]> e : windows.entrySet()) {
            String name = e.getKey();
            Load.Window[] all = e.getValue();
            List<Load.Window> ws = new ArrayList<>();
            List<Double> ratios = new ArrayList<>();
            List<Double> bestRatios = new ArrayList<>();
            Object[] rounds = new Object[settings.rounds + 2];
            rounds[0] = name;
            rounds[1] = c;
            for (int r = 0; r < all.length; r++) {
                rounds[r + 2] = all[r] == null ? null : all[r].requestsPerSecond();
                if (all[r] != null) {
                    ws.add(all[r]);
                    if (floor != null && floor[r] != null) {
                        ratios.add(all[r].requestsPerSecond() / floor[r].requestsPerSecond());
                    }
                    if (best[r] > 0) {
                        bestRatios.add(all[r].requestsPerSecond() / best[r]);
                    }
                }
            }
            perRound.add(rounds);
            String notes = notes(failures.get(name), warmupErrors.getOrDefault(name, 0L), ws, all.length);
            Long conns = ws.isEmpty() ? null : opened.getOrDefault(name, 0L) + ws.stream().mapToLong(Load.Window::newConnections).sum();
            List<Object> row = new ArrayList<>(List.of(name, c));
            row.add(ws.isEmpty() ? null : median(ws, Load.Window::requestsPerSecond));
            row.add(ratios.isEmpty() ? null : median(ratios, Double::doubleValue));
            if (h2Peers) {
                row.add(bestRatios.isEmpty() ? null : median(bestRatios, Double::doubleValue));
            }
            row.add(ws.isEmpty() ? null : median(ws, w -> w.micros(50)));
            row.add(ws.isEmpty() ? null : median(ws, w -> w.micros(99)));
            row.add(ws.isEmpty() ? null : median(ws, w -> w.micros(99.9)));
            row.add(ws.isEmpty() ? null : median(ws, Load.Window::bytesPerRequest));
            row.add(ws.isEmpty() ? null : median(ws, Load.Window::cpuMicrosPerRequest));
            row.add(ws.isEmpty() ? null : median(ws, Load.Window::userMicrosPerRequest));
            row.add(ws.isEmpty() ? null : median(ws, Load.Window::nginxMicrosPerRequest));
            row.add(ws.isEmpty() ? null : median(ws, Load.Window::nginxWaitMicrosPerRequest));
            row.add(ws.isEmpty() ? null : median(ws, Load.Window::nginxRunnablePercent));
            Long open = ws.isEmpty() ? null : held.get(name);
            row.add(conns);
            row.add(open);
            row.add(open == null || open == 0 ? null : (double) c / open);
            row.add(ws.isEmpty() ? null : ws.stream().mapToLong(Load.Window::newConnections).sum());
            row.add(ws.isEmpty() ? null : failed(ws));
            row.add(notes);
            table.add(row.toArray());
        }
        return String.format(Locale.ROOT, "C = %d: load average %.2f before, %.2f after. Negotiated (nginx's"
                + " `$ssl_protocol $ssl_cipher $server_protocol`, one request per client): %s.%n%n", c, loadBefore, loadAfter,
                negotiatedSummary(tls));
    }

    /**
     * @return the requests that failed in these windows, and their share of all requests sent, e.g.
     *     {@code 0} or {@code 9615 (41%)}
     */
    private static String failed(List<Load.Window> ws) {
        long failed = ws.stream().mapToLong(Load.Window::errors).sum();
        long ok = ws.stream().mapToLong(Load.Window::requests).sum();
        return failed == 0 ? "0" : String.format(Locale.ROOT, "%d (%.0f%%)", failed, 100.0 * failed / (failed + ok));
    }

    /**
     * @return per round, the highest requests per second of the candidates' windows without failures
     *     (0 where there is none)
     */
    private static double[] bestPerRound(Map<String, Load.Window[]> windows, List<String> candidates, int rounds) {
        double[] best = new double[rounds];
        for (String name : candidates) {
            Load.Window[] all = windows.get(name);
            for (int r = 0; r < rounds; r++) {
                if (all[r] != null && all[r].errors() == 0) {
                    best[r] = Math.max(best[r], all[r].requestsPerSecond());
                }
            }
        }
        return best;
    }

    /** @return what a reader must know about a row: failures, and anything that makes a figure suspect */
    private static String notes(String failure, long warmupErrors, List<Load.Window> ws, int rounds) {
        List<String> notes = new ArrayList<>();
        if (failure != null) {
            notes.add("FAILED " + failure);
        }
        long errors = 0;
        long extraRequests = 0;
        Exception first = null;
        Map<String, Integer> ended = new TreeMap<>();
        for (Load.Window w : ws) {
            errors += w.errors();
            extraRequests += w.nginxRequests() - w.requests() - w.errors();
            if (first == null) {
                first = w.firstError();
            }
            for (String t : w.threadsEnded()) {
                ended.merge(t, 1, Integer::sum);
            }
        }
        if (errors > 0) {
            notes.add("FAILED " + errors + " requests, first: " + first);
        }
        if (warmupErrors > 0) {
            notes.add(warmupErrors + " errors in warm-ups");
        }
        if (extraRequests > 0) {
            notes.add("nginx counted " + extraRequests + " requests more than the callers (retries?)");
        } else if (extraRequests < 0) {
            notes.add("nginx counted " + -extraRequests + " requests fewer than the callers' ok and failed ones"
                    + " (failed before reaching it)");
        }
        if (!ended.isEmpty()) {
            List<String> names = new ArrayList<>();
            ended.forEach((t, n) -> names.add(t + " ×" + n));
            notes.add("ended in window: " + String.join(", ", names));
        }
        if (!ws.isEmpty() && ws.size() < rounds) {
            notes.add("only " + ws.size() + " of " + rounds + " rounds");
        }
        return String.join("; ", notes);
    }

    private static String negotiatedSummary(Map<String, String> tls) {
        Map<String, List<String>> byValue = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : tls.entrySet()) {
            String v = e.getValue() == null ? "?" : e.getValue().substring(0, Math.max(0, e.getValue().length() - 2));
            byValue.computeIfAbsent(v, k -> new ArrayList<>()).add(e.getKey());
        }
        List<String> parts = new ArrayList<>();
        byValue.forEach((v, names) -> parts.add("`" + v + "` for " + String.join(", ", names)));
        return String.join("; ", parts);
    }

    private static void fail(String name, String phase, Exception e, Map<String, Load> loads,
            Map<String, String> failures) {
        System.err.println(name + ": failed in " + phase + ": " + e);
        e.printStackTrace();
        failures.putIfAbsent(name, "in " + phase + ": " + e);
        Load load = loads.remove(name);
        if (load != null) {
            load.close();
        }
    }

    static <T> double median(List<T> values, ToDoubleFunction<T> f) {
        double[] v = values.stream().mapToDouble(f).sorted().toArray();
        int n = v.length;
        if (n == 0) {
            return Double.NaN;
        }
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
