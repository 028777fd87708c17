package io.berth.e2e;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 * per request; process CPU time per request (nginx is another process, so not included);
 * connections nginx accepted during the window ({@code stub_status}), which must be 0 for a warm
 * pool. A client that fails a request, or whose threads ended within a window (their allocation
 * would be lost), is flagged in the notes, never silently counted.
 */
public final class E2eBenchmark {
    private E2eBenchmark() {
    }

    /**
     * @param args {@code --name value} options: {@code --ca} (required), {@code --host},
     *     {@code --port}, {@code --status-port}, {@code --body-length}, {@code --concurrency},
     *     {@code --duration}, {@code --warmup}, {@code --round-warmup} (seconds), {@code --rounds},
     *     {@code --clients}, {@code --threads} ({@code platform}, {@code virtual} or
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

        Table table = new Table(true, "client", "C", "req/s", "×floor", "p50 µs", "p99 µs", "p99.9 µs", "B/req",
                "CPU µs/req", "new conns", "notes");
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
                + " rounds (×floor: of the ratio within each round); new conns is the total over all measured"
                + " windows. Callers: %s.%n%n", settings.rounds, settings.roundWarmup / 1e9, settings.duration / 1e9,
                settings.warmup / 1e9, describe(settings.threads)));
        for (int c : concurrency) {
            md.append(run(target, peers, c, settings, table, perRound));
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
     * Runs every client at one C, and adds their rows to the tables.
     *
     * @return a Markdown paragraph on the run: load average and the TLS each client negotiated
     */
    private static String run(Target target, List<Peer> peers, int c, Settings settings, Table table, Table perRound) {
        double loadBefore = loadAverage();
        Map<String, Load> loads = new LinkedHashMap<>();
        Map<String, String> failures = new LinkedHashMap<>();
        Map<String, String> tls = new LinkedHashMap<>();
        Map<String, Load.Window[]> windows = new LinkedHashMap<>();
        Map<String, Long> warmupErrors = new LinkedHashMap<>();
        for (Peer p : peers) {
            windows.put(p.name(), new Load.Window[settings.rounds]);
            try {
                Load load = new Load(p, target, c, settings.threads);
                loads.put(p.name(), load);
                String negotiated = load.probeTls();
                tls.put(p.name(), negotiated);
                if (negotiated == null || !negotiated.startsWith(Tls.PROTOCOL + " ")) {
                    throw new IOException("negotiated '" + negotiated + "', not " + Tls.PROTOCOL);
                }
            } catch (Exception e) {
                fail(p.name(), "setup", e, loads, failures);
            }
        }
        System.err.println("C=" + c + ": TLS per client " + tls);
        for (String name : new ArrayList<>(loads.keySet())) {
            try {
                Load.Window w = loads.get(name).warmUp(settings.warmup);
                warmupErrors.merge(name, w.errors(), Long::sum);
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
                    w = load.measure(settings.duration);
                    windows.get(name)[r] = w;
                    System.err.printf(Locale.ROOT, "C=%d round %d/%d %-10s %9.0f req/s  p99 %7.0f µs  %6.0f B/req"
                            + "  %6.1f µs CPU/req  %d new conns%s%n", c, r + 1, settings.rounds, name,
                            w.requestsPerSecond(), w.micros(99), w.bytesPerRequest(), w.cpuMicrosPerRequest(),
                            w.newConnections(), w.errors() > 0 ? "  " + w.errors() + " errors: " + w.firstError() : "");
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
        for (Map.Entry<String, Load.Window[]> e : windows.entrySet()) {
            String name = e.getKey();
            Load.Window[] all = e.getValue();
            List<Load.Window> ws = new ArrayList<>();
            List<Double> ratios = new ArrayList<>();
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
                }
            }
            perRound.add(rounds);
            String notes = notes(failures.get(name), warmupErrors.getOrDefault(name, 0L), ws, all.length);
            if (ws.isEmpty()) {
                table.add(name, c, null, null, null, null, null, null, null, null, notes);
                continue;
            }
            table.add(name, c,
                    median(ws, Load.Window::requestsPerSecond),
                    ratios.isEmpty() ? null : median(ratios, Double::doubleValue),
                    median(ws, w -> w.micros(50)),
                    median(ws, w -> w.micros(99)),
                    median(ws, w -> w.micros(99.9)),
                    median(ws, Load.Window::bytesPerRequest),
                    median(ws, Load.Window::cpuMicrosPerRequest),
                    ws.stream().mapToLong(Load.Window::newConnections).sum(),
                    notes);
        }
        return String.format(Locale.ROOT, "C = %d: load average %.2f before, %.2f after. Negotiated (nginx's"
                + " `$ssl_protocol $ssl_cipher`, one request per client): %s.%n%n", c, loadBefore, loadAfter,
                negotiatedSummary(tls));
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
        if (extraRequests != 0) {
            notes.add("nginx counted " + extraRequests + " requests more than the callers (retries?)");
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
