package io.berth.probe;

import io.berth.Backend;
import io.berth.BackendPool;
import io.berth.BackendPoolConfig;
import io.berth.ConnectionInfo;
import io.berth.PoolListener;
import io.berth.PoolStats;
import io.berth.TlsConfig;
import io.berth.pool.Berth;
import io.berth.pool.http.BerthClient;
import io.berth.pool.http.BerthRequest;
import io.berth.pool.http.BerthResponse;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The reuse probe: sends requests to a backend through one shared Berth pool, each from a new caller,
 * and prints which connection served how many of them (the connection &rarr; uses table), the pool's
 * counters and, for its embedded backend, the server's own count of connections and how each ended.
 *
 * <p>It repeats, in one command, the experiment Berth was born from: HAProxy 2.0 as a pooling proxy
 * opened 28 backend connections for 40 sequential requests from separate curl processes, and packet
 * captures and a Lua script were needed to see it. Here each request is made by a fresh caller (a new
 * thread and a new {@link BerthClient#over(BackendPool) BerthClient.over(pool)} over the one shared
 * pool), like those separate processes.
 *
 * <p>Build and run (from the repository root):
 * <pre>
 * mvn -B -q -DskipTests package
 * java -jar benchmarks/target/berth-probe.jar                      # embedded TLS backend, 40 GETs, 300ms apart
 * java -jar benchmarks/target/berth-probe.jar --reuse never --gap 0
 * java -jar benchmarks/target/berth-probe.jar --method POST --requests 10
 * java -jar benchmarks/target/berth-probe.jar https://api.example.com/health --ca-file ca.pem --no-sni
 * java -jar benchmarks/target/berth-probe.jar --json
 * java -jar benchmarks/target/berth-probe.jar --http2                 # h2 offered: one connection, its streams
 * java -jar benchmarks/target/berth-probe.jar --http2 --concurrency 8 --gap 0 --requests 400
 * </pre>
 *
 * <p>Options ({@code --help} prints them): {@code [URL] [--requests N] [--gap DURATION]
 * [--reuse never|safe|aggressive|always] [--method GET|POST] [--ca-file PEM] [--no-sni]
 * [--concurrency C] [--http2] [--json]}. Defaults: the embedded backend, 40 requests, a 300 ms gap
 * between a caller's requests, {@code safe}, GET, one caller at a time, HTTP/1.1 alone. Durations are
 * written {@code 300ms}, {@code 1500ms}, {@code 2s} or {@code 0}.
 *
 * <p>{@code --http2} offers {@code h2}, then {@code http/1.1}, through ALPN
 * ({@code Backend.Builder.protocols(HTTP_2, HTTP_1_1)}): the server picks per connection, and a server
 * that does not pick {@code h2} is spoken to over HTTP/1.1 (the report says so). The report then
 * shows each connection's protocol, the streams it carried, the most it carried at once (counted by
 * a {@link io.berth.PoolListener} from {@link io.berth.ConnectionInfo#inFlight()} at each
 * acquisition), the server's stream limit, resets and the last GOAWAY.
 *
 * <p>Without a URL the probe starts an embedded TLS backend on 127.0.0.1 (a CA generated at start,
 * which the client trusts exclusively, and a certificate for {@code localhost}; HTTP/1.1, and HTTP/2
 * for a client that picks it through ALPN, at most 100 streams at once); the client connects
 * to 127.0.0.1, sends SNI {@code localhost} (unless {@code --no-sni}) and verifies the certificate
 * against {@code localhost}.
 *
 * <p>The last line of the report is always {@code summary: requests=N failed=F connections=C reuse=R%}:
 * N requests sent, F of them failed (no response), C connections the pool opened, R the share of
 * acquisitions that reused a connection, rounded. A request fails when no response comes back (any
 * status counts as a response); failures are summarized by type and message. {@code --json} prints the
 * same as one JSON object on stdout and nothing else.
 *
 * <p>The run stops early after a TLS handshake failure (the report, and one line on stderr, say
 * whether the chain was untrusted, the host name wrong or the certificate expired), and when the
 * first 3 requests all failed (the backend is unreachable). Exit status: 0 if no request failed, 1 if
 * any did or the probe could not run, 2 for a bad command line (one line naming the problem, then the
 * usage, on stderr).
 */
public final class Probe {
    private Probe() {
    }

    /**
     * Runs the probe and exits with its status.
     *
     * @param args the command line, see the class comment
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs the probe in this JVM. Everything it starts (the pool, the embedded backend, its threads)
     * is closed before it returns.
     *
     * @param args the command line
     * @param out where the report goes
     * @param err where errors go
     * @return the exit status: 0 if no request failed, 1 if any did or the probe could not run, 2 for a
     *     bad command line
     */
    static int run(String[] args, PrintStream out, PrintStream err) {
        ProbeArgs a;
        try {
            a = ProbeArgs.parse(args);
        } catch (ProbeArgs.UsageException e) {
            err.println("berth-probe: " + e.getMessage());
            err.print(ProbeArgs.USAGE);
            err.flush();
            return 2;
        }
        if (a.help) {
            out.print(ProbeArgs.USAGE);
            out.flush();
            return 0;
        }
        EmbeddedBackend server = null;
        BackendPool pool = null;
        try {
            Backend backend;
            String trust;
            if (a.backend == null) {
                try {
                    server = EmbeddedBackend.start();
                } catch (IOException | RuntimeException e) {
                    err.println("berth-probe: cannot start the embedded backend on 127.0.0.1: " + e);
                    return 1;
                }
                TlsConfig tls = TlsConfig.builder()
                        .trustCertificates(List.of(server.ca()))
                        .sniName("localhost")
                        .verifyHostname("localhost")
                        .sni(a.sni)
                        .build();
                backend = Backend.builder().server("127.0.0.1", server.port()).tls(tls).build();
                if (a.http2) {
                    backend = ProbeArgs.offeringH2(backend);
                }
                trust = "the embedded backend's CA only (generated at start)";
            } else {
                backend = a.backend;
                trust = !backend.isSecure() ? null
                        : a.caFile != null ? "the CA certificates in " + a.caFile + " only" : "the JDK trust store";
            }
            ProbeReport.Setup setup = new ProbeReport.Setup(backend, server != null, a.target, a.reuseName, a.method,
                    a.requests, a.gap, Math.min(a.concurrency, a.requests), trust);

            long startMillis = System.currentTimeMillis();
            long startNanos = System.nanoTime();
            PeakStreams peaks = new PeakStreams();
            pool = Berth.newPool(backend, BackendPoolConfig.builder()
                    .name("berth-probe")
                    .reusePolicy(a.reuse)
                    .maxConnections(Math.max(BackendPoolConfig.DEFAULT_MAX_CONNECTIONS, a.concurrency))
                    .listener(peaks)
                    .build());
            Callers callers = new Callers(pool, a, setup);
            List<ProbeReport.Result> results = callers.runAll();
            long elapsedNanos = System.nanoTime() - startNanos;

            PoolStats atEnd = pool.stats();
            pool.close();
            PoolStats afterClose = pool.stats();
            EmbeddedBackend.Snapshot seen = null;
            if (server != null) {
                // The pool closes without waiting; give the server a moment to see each close_notify and FIN.
                server.awaitAllEnded(EmbeddedBackend.FIN_WAIT.plusSeconds(1));
                seen = server.snapshot();
            }
            ProbeReport report = new ProbeReport(setup, results, callers.tlsFailure.get(), callers.stopReason.get(),
                    atEnd, afterClose, peaks.snapshot(), seen, startMillis, elapsedNanos);
            if (report.tlsFailure() != null) {
                err.println("berth-probe: TLS handshake with " + backend.server() + " failed: "
                        + report.tlsFailure().describe());
            }
            if (a.json) {
                out.println(report.json());
            } else {
                report.print(out);
            }
            out.flush();
            return report.exitCode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("berth-probe: interrupted");
            return 1;
        } catch (RuntimeException e) {
            err.println("berth-probe: failed: " + e);
            return 1;
        } finally {
            if (pool != null) {
                pool.close();
            }
            if (server != null) {
                server.close();
            }
        }
    }

    /**
     * Counts, per multiplexed connection, the most exchanges (streams) it carried at once: at each
     * acquisition the pool has counted the new exchange in {@link ConnectionInfo#inFlight()}, so the
     * highest value read there is the connection's peak. Fast and non-blocking, as a listener must be.
     */
    static final class PeakStreams implements PoolListener {
        private final ConcurrentHashMap<Long, AtomicInteger> peaks = new ConcurrentHashMap<>();

        @Override
        public void connectionAcquired(ConnectionInfo connection, boolean reused) {
            if (connection.multiplexed()) {
                AtomicInteger peak = peaks.computeIfAbsent(connection.id(), id -> new AtomicInteger());
                peak.accumulateAndGet(connection.inFlight(), Math::max);
            }
        }

        /** @return the peak of each multiplexed connection, by id */
        Map<Long, Integer> snapshot() {
            Map<Long, Integer> m = new HashMap<>();
            peaks.forEach((id, peak) -> m.put(id, peak.get()));
            return m;
        }
    }

    /**
     * The callers: {@code concurrency} lanes at once, each sending its share of the requests in turn,
     * the gap between them; every request from a new thread through a new client over the shared pool.
     */
    private static final class Callers {
        /** Without a single success, the run stops after this many failures: the backend is unreachable. */
        private static final int GIVE_UP_AFTER = 3;
        private final BackendPool pool;
        private final ProbeArgs args;
        private final ProbeReport.Setup setup;
        private final ProbeReport.Result[] results;
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicInteger succeeded = new AtomicInteger();
        private final AtomicInteger failed = new AtomicInteger();
        final AtomicReference<TlsFailure> tlsFailure = new AtomicReference<>();
        final AtomicReference<String> stopReason = new AtomicReference<>();

        Callers(BackendPool pool, ProbeArgs args, ProbeReport.Setup setup) {
            this.pool = pool;
            this.args = args;
            this.setup = setup;
            this.results = new ProbeReport.Result[args.requests];
        }

        List<ProbeReport.Result> runAll() throws InterruptedException {
            int lanes = Math.min(args.concurrency, args.requests);
            if (lanes == 1) {
                lane(0, 1);
            } else {
                List<Thread> threads = new ArrayList<>();
                for (int j = 0; j < lanes; j++) {
                    int lane = j;
                    Thread t = new Thread(() -> {
                        try {
                            lane(lane, lanes);
                        } catch (InterruptedException e) {
                            stop("interrupted");
                        }
                    }, "berth-probe-lane-" + (j + 1));
                    threads.add(t);
                    t.start();
                }
                for (Thread t : threads) {
                    t.join();
                }
            }
            List<ProbeReport.Result> sent = new ArrayList<>();
            for (ProbeReport.Result r : results) {
                if (r != null) {
                    sent.add(r);
                }
            }
            return sent;
        }

        /** Sends requests {@code lane}, {@code lane + lanes}, ... one after the other. */
        private void lane(int lane, int lanes) throws InterruptedException {
            boolean first = true;
            for (int i = lane; i < args.requests && !stop.get(); i += lanes) {
                if (!first && !args.gap.isZero()) {
                    Thread.sleep(args.gap.toMillis());
                    if (stop.get()) {
                        return;
                    }
                }
                first = false;
                int index = i;
                Thread caller = new Thread(() -> results[index] = send(index), "berth-probe-caller-" + (index + 1));
                caller.start();
                caller.join();
            }
        }

        private void stop(String reason) {
            stopReason.compareAndSet(null, reason);
            stop.set(true);
        }

        private ProbeReport.Result send(int index) {
            BerthRequest request = args.method.equals("POST")
                    ? BerthRequest.newBuilder("POST", args.target)
                            .header("Content-Type", "text/plain; charset=utf-8")
                            .body(BerthRequest.Body.of("berth probe request " + (index + 1) + "\n"))
                            .build()
                    : BerthRequest.get(args.target);
            long start = System.nanoTime();
            try (BerthClient client = BerthClient.over(pool);
                 BerthResponse response = client.send(request)) {
                response.bodyBytes();
                succeeded.incrementAndGet();
                return new ProbeReport.Result(index + 1, response.connectionId(), response.connectionReused(),
                        response.status(), response.version(), System.nanoTime() - start, null);
            } catch (IOException | RuntimeException e) {
                TlsFailure tls = TlsFailure.of(e, setup.trust(), setup.verifyName());
                if (tls != null) {
                    tlsFailure.compareAndSet(null, tls);
                    stop("the TLS handshake failed; every further one would too");
                } else if (failed.incrementAndGet() >= GIVE_UP_AFTER && succeeded.get() == 0) {
                    stop("the first " + GIVE_UP_AFTER + " requests all failed");
                }
                return new ProbeReport.Result(index + 1, -1, false, 0, null, System.nanoTime() - start, e);
            }
        }
    }
}
