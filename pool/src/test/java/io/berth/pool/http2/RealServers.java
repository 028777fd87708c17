package io.berth.pool.http2;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.ConnectionStats;
import io.berth.HttpProtocol;
import io.berth.PoolStats;
import io.berth.TlsConfig;
import io.berth.pool.http.BerthClient;
import io.berth.transport.testing.TestPki;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * What the tests against real HTTP/2 servers share: clients of a server on 127.0.0.1 that trust the
 * test CA, and callers on threads of their own taking numbered requests until a total is reached.
 */
final class RealServers {
    private RealServers() {
    }

    /** @return TLS settings trusting the test CA only */
    static TlsConfig.Builder testTls() {
        return TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate()));
    }

    /** @return a client of one server on 127.0.0.1 offering {@code protocols} over TLS */
    static BerthClient client(int port, TlsConfig tls, UnaryOperator<BackendPoolConfig.Builder> config,
            HttpProtocol... protocols) {
        Backend backend = Backend.builder().server("127.0.0.1", port).protocols(protocols).tls(tls).build();
        return BerthClient.create(backend, config.apply(BackendPoolConfig.builder().name("h2-real")).build());
    }

    /** A request by number, as a caller sends it; what it returns is collected. */
    interface Call<T> {
        T run(int number) throws Exception;
    }

    /**
     * Runs {@code total} calls numbered 0 to {@code total - 1} from {@code callers} threads, each taking
     * the next number until none is left, within 60 s.
     *
     * @return the results, in no particular order
     * @throws AssertionError naming every call that failed, with the first failure as cause
     */
    static <T> List<T> concurrently(int callers, int total, Call<T> call) throws Exception {
        AtomicInteger next = new AtomicInteger();
        List<T> results = new CopyOnWriteArrayList<>();
        List<String> failures = new CopyOnWriteArrayList<>();
        List<Throwable> causes = new CopyOnWriteArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(callers);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                done.add(threads.submit(() -> {
                    for (int n = next.getAndIncrement(); n < total; n = next.getAndIncrement()) {
                        try {
                            results.add(call.run(n));
                        } catch (Exception | AssertionError e) {
                            failures.add(n + ": " + e);
                            causes.add(e);
                        }
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
            threads.awaitTermination(5, TimeUnit.SECONDS);
        }
        if (!failures.isEmpty()) {
            throw new AssertionError(failures.size() + " of " + total + " calls failed: " + failures, causes.get(0));
        }
        return results;
    }

    /** @return the pool's rows of connections, open and closed */
    static List<ConnectionStats> rows(BerthClient client) {
        PoolStats stats = client.pool().stats();
        return stats.connections();
    }
}
