package io.berth.e2e;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The cold-path benchmark of issue 5: what a request costs when it needs a new connection, and
 * what a trickle of requests from short-lived callers costs. Same server, TLS and clients as
 * {@link E2eBenchmark}, each client with its library's default pool settings.
 *
 * <p><b>1. Connection set-up.</b> Per sample and client, untimed: a new client instance with a new
 * TLS context, so an empty session cache (for Berth a new pool, so a new connector and context).
 * Timed:
 * <ul>
 *   <li><i>full</i>: its first request, held open once the response head is in (connect, full TLS
 *       1.3 handshake, one exchange);</li>
 *   <li><i>resumed</i>: a second request on the same instance while the first still holds its
 *       connection, so it must open another one, resuming the session the first handshake got
 *       a ticket for (connect, resumed handshake, one exchange).</li>
 * </ul>
 * nginx tells, in an {@code X-TLS} header, whether each connection's session was resumed; every
 * sample checks that the first was not and the second was, and that nginx accepted exactly two
 * connections. Clients are interleaved sample by sample; the first {@code --warmup-samples} are
 * dropped (class loading, JIT).
 *
 * <p><b>2. The seed scenario.</b> {@code --seed-requests} sequential requests, each from a new
 * thread that makes a new client instance over whatever the library lets instances share (see each
 * peer's {@code shared}), with {@code --seed-gap-ms} between requests. Reported: latency per request
 * (from creating the instance to the body read, and of the request alone), and the connections nginx
 * accepted over the scenario. Run once per client, one client after the other, after part 1 (so
 * classes are loaded).
 *
 * <p>Run it through {@code benchmarks/e2e/run.sh} ({@code E2E_COLD=1}, the default), or by hand:
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.berth.e2e.ColdPath --ca /tmp/ca.pem --port 18443 \
 *     --status-port 18080 --samples 200 --seed-requests 40 --seed-gap-ms 300 --markdown out.md
 * </pre>
 */
public final class ColdPath {
    private ColdPath() {
    }

    /**
     * @param args {@code --name value} options: {@code --ca} (required), {@code --host}, {@code --port},
     *     {@code --status-port}, {@code --body-length}, {@code --clients}, {@code --samples},
     *     {@code --warmup-samples}, {@code --seed-requests}, {@code --seed-gap-ms}, {@code --markdown}
     * @throws Exception if the benchmark could not run
     */
    public static void main(String[] args) throws Exception {
        Args a = new Args(args);
        Target target = Target.fromArgs(a);
        int samples = a.integer("samples", 200);
        int warmupSamples = a.integer("warmup-samples", 10);
        int seedRequests = a.integer("seed-requests", 40);
        long seedGap = a.integer("seed-gap-ms", 300);
        String markdown = a.string("markdown", null);
        List<Peer> peers = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (Peer p : Peer.named(a.list("clients", String.join(",", Peer.ALL)))) {
            if (p.h2()) {
                skipped.add(p.name());
            } else {
                peers.add(p);
            }
        }

        StringBuilder md = new StringBuilder();
        double load0 = loadAverage();
        md.append("## Cold path: connection set-up\n\n");
        if (!skipped.isEmpty()) {
            // A held response keeps an HTTP/1.1 connection busy, not an h2 one: its next request would be
            // multiplexed rather than open the connection that part 1 times.
            md.append("HTTP/2 clients (").append(String.join(", ", skipped)).append(") are not run here: part 1"
                    + " needs a held response to keep its connection busy, which an h2 connection is not.\n\n");
            System.err.println("cold path: skipping the HTTP/2 clients " + skipped);
        }
        md.append(String.format(Locale.ROOT, "%d samples per client (after %d dropped as warm-up), clients"
                + " interleaved. *full*: the first request of a new instance with a new TLS context (connect, full"
                + " handshake, exchange); *resumed*: a second request of the same instance while the first holds"
                + " its connection (connect, resumed handshake, exchange). Microseconds.%n%n", samples,
                warmupSamples));
        Table setup = setup(target, peers, samples, warmupSamples);
        System.out.println();
        System.out.print(setup.text());
        md.append(setup.markdown());
        double load1 = loadAverage();
        md.append(String.format(Locale.ROOT, "%nLoad average %.2f before, %.2f after.%n%n", load0, load1));

        md.append("## Cold path: the seed scenario\n\n");
        md.append(String.format(Locale.ROOT, "%d sequential requests, each from a new thread with a new client"
                + " instance, %d ms apart. *request*: the request alone; *with instance*: from creating the"
                + " client instance to the body read. Microseconds; p99 of %d requests is their maximum.%n%n",
                seedRequests, seedGap, seedRequests));
        Table seed = new Table(true, "client", "conns opened", "first request", "request p50", "request p99",
                "with instance p50", "with instance p99", "what the instances share; notes");
        for (Peer p : peers) {
            seed(target, p, seedRequests, seedGap, seed);
        }
        System.out.println();
        System.out.print(seed.text());
        md.append(seed.markdown());
        md.append(String.format(Locale.ROOT, "%nLoad average %.2f before, %.2f after.%n%n", load1, loadAverage()));
        if (markdown != null) {
            Files.writeString(Path.of(markdown), md, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        }
    }

    private static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /** Figures of one client in part 1. */
    private static final class SetupFigures {
        final List<Long> full = new ArrayList<>();
        final List<Long> resumed = new ArrayList<>();
        int fullResumed;
        int resumedFull;
        int badConnectionCounts;
        long connections;
        int failures;
        Exception firstFailure;
    }

    private static Table setup(Target target, List<Peer> peers, int samples, int warmup) {
        Map<String, SetupFigures> figures = new LinkedHashMap<>();
        for (Peer p : peers) {
            figures.put(p.name(), new SetupFigures());
        }
        List<Peer> order = new ArrayList<>(peers);
        for (int i = 0; i < warmup + samples; i++) {
            Collections.rotate(order, 1);
            for (Peer p : order) {
                SetupFigures f = figures.get(p.name());
                if (f.failures > 10) {
                    continue;
                }
                try {
                    sample(target, p, f, i >= warmup);
                } catch (Exception e) {
                    f.failures++;
                    if (f.firstFailure == null) {
                        f.firstFailure = e;
                        System.err.println(p.name() + ": set-up sample failed: " + e);
                    }
                }
            }
            if (i % 20 == 19) {
                // Lets unreachable JDK clients (not closeable before JDK 21) end their threads and connections.
                System.gc();
                System.err.printf(Locale.ROOT, "set-up samples: %d of %d%n", i + 1, warmup + samples);
            }
        }
        Table table = new Table(true, "client", "full p50", "full p99", "resumed p50", "resumed p99", "resumed/full",
                "resumed, as nginx saw it", "conns per sample", "notes");
        for (Map.Entry<String, SetupFigures> e : figures.entrySet()) {
            SetupFigures f = e.getValue();
            List<String> notes = new ArrayList<>();
            if (f.failures > 0) {
                notes.add("FAILED " + f.failures + " samples, first: " + f.firstFailure);
            }
            if (f.fullResumed > 0) {
                notes.add(f.fullResumed + " first connections were resumed");
            }
            if (f.badConnectionCounts > 0) {
                notes.add(f.badConnectionCounts + " samples did not open exactly 2 connections");
            }
            String note = String.join("; ", notes);
            int n = f.full.size();
            if (n == 0) {
                table.add(e.getKey(), null, null, null, null, null, "–", null, note);
                continue;
            }
            double full50 = percentile(f.full, 50) / 1e3;
            double res50 = percentile(f.resumed, 50) / 1e3;
            table.add(e.getKey(), full50, percentile(f.full, 99) / 1e3, res50, percentile(f.resumed, 99) / 1e3,
                    res50 / full50, (n - f.resumedFull) + "/" + n, (double) f.connections / n, note);
        }
        return table;
    }

    private static void sample(Target target, Peer peer, SetupFigures f, boolean record) throws Exception {
        NginxStatus before = NginxStatus.read(target);
        long full;
        long resumed;
        String fullTls;
        String resumedTls;
        try (Client client = peer.fresh(target)) {
            long t0 = System.nanoTime();
            try (Client.Held first = client.hold()) {
                full = System.nanoTime() - t0;
                fullTls = first.tls();
                long t1 = System.nanoTime();
                resumedTls = client.getTls();
                resumed = System.nanoTime() - t1;
            }
        }
        long conns = NginxStatus.read(target).connectionsSince(before);
        if (record) {
            f.full.add(full);
            f.resumed.add(resumed);
            f.connections += conns;
            if (Target.resumed(fullTls)) {
                f.fullResumed++;
            }
            if (!Target.resumed(resumedTls)) {
                f.resumedFull++;
            }
            if (conns != 2) {
                f.badConnectionCounts++;
            }
        }
    }

    private static void seed(Target target, Peer peer, int requests, long gapMillis, Table table) {
        List<Long> request = new ArrayList<>();
        List<Long> withInstance = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        long conns = -1;
        String sharing = "";
        int resumed = 0;
        try (Peer.Shared shared = peer.shared(target)) {
            sharing = shared.sharing();
            NginxStatus before = NginxStatus.read(target);
            for (int i = 0; i < requests; i++) {
                long[] times = new long[2];
                String[] tls = new String[1];
                Exception[] failure = new Exception[1];
                Thread caller = new Thread(() -> {
                    try {
                        long t0 = System.nanoTime();
                        try (Client c = shared.newInstance()) {
                            long t1 = System.nanoTime();
                            tls[0] = c.getTls();
                            long t2 = System.nanoTime();
                            times[0] = t2 - t1;
                            times[1] = t2 - t0;
                        }
                    } catch (Exception e) {
                        failure[0] = e;
                    }
                }, "seed-" + peer.name() + "-" + i);
                caller.start();
                caller.join();
                if (failure[0] != null) {
                    notes.add("FAILED request " + (i + 1) + ": " + failure[0]);
                    System.err.println(peer.name() + ": seed request " + (i + 1) + " failed: " + failure[0]);
                    break;
                }
                request.add(times[0]);
                withInstance.add(times[1]);
                if (Target.resumed(tls[0])) {
                    resumed++;
                }
                Thread.sleep(gapMillis);
            }
            conns = NginxStatus.read(target).connectionsSince(before);
        } catch (Exception e) {
            notes.add("FAILED: " + e);
            System.err.println(peer.name() + ": seed scenario failed: " + e);
        }
        System.gc();
        String name = peer.name();
        if (resumed > 0) {
            notes.add(resumed + " of " + request.size() + " requests on resumed sessions");
        }
        String note = sharing + (notes.isEmpty() ? "" : "; " + String.join("; ", notes));
        System.err.printf(Locale.ROOT, "seed %s done: %d conns%n", name, conns);
        if (request.isEmpty()) {
            table.add(name, conns < 0 ? null : conns, null, null, null, null, null, note);
            return;
        }
        table.add(name, conns < 0 ? null : conns, request.get(0) / 1e3, percentile(request, 50) / 1e3,
                percentile(request, 99) / 1e3, percentile(withInstance, 50) / 1e3, percentile(withInstance, 99) / 1e3,
                note);
    }

    /** @return the nearest-rank percentile */
    static long percentile(List<Long> values, double p) {
        long[] v = values.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(v);
        int rank = (int) Math.ceil(p / 100 * v.length);
        return v[Math.max(0, Math.min(v.length - 1, rank - 1))];
    }
}
