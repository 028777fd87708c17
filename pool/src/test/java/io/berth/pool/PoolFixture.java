package io.berth.pool;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.Lease;
import io.berth.testing.ManualPurgeScheduler;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A pool over fake connections, a fake ticker and a manual scheduler, for a backend of one server or
 * several. Limits are per server, so the helpers that fill a pool fill every server.
 */
final class PoolFixture implements AutoCloseable {
    /**
     * Runs each task on a thread of its own. Tests whose tasks block (waiters) must not use the
     * common pool: on two cores its parallelism is 1, and on JDK 25 a second blocked task waits
     * behind the first.
     */
    static final java.util.concurrent.Executor OWN_THREAD = r -> new Thread(r, "test-task").start();

    static final Backend BACKEND = Backend.of("https://backend.test:8443");

    final FakeTicker ticker = new FakeTicker();
    final ManualPurgeScheduler scheduler = new ManualPurgeScheduler();
    final FakeConnector connector = new FakeConnector();
    final LockFreeBackendPool pool;

    PoolFixture(UnaryOperator<BackendPoolConfig.Builder> config) {
        this(1, config);
    }

    /** @param servers how many servers the backend has: {@code s0.test:8443}, {@code s1.test:8443}... */
    PoolFixture(int servers, UnaryOperator<BackendPoolConfig.Builder> config) {
        BackendPoolConfig c = config.apply(BackendPoolConfig.builder()
                .name("test")
                .ticker(ticker)
                .purgeScheduler(scheduler)
                .acquireTimeout(Duration.ofMillis(200))).build();
        pool = Berth.engine(backend(servers), c, connector);
    }

    /** @return {@link #BACKEND} for one server, else {@link #backendOf} */
    static Backend backend(int servers) {
        return servers == 1 ? BACKEND : backendOf(servers);
    }

    static Backend backendOf(int servers) {
        Backend.Builder b = Backend.builder();
        for (int i = 0; i < servers; i++) {
            b.server(server(i), 1);
        }
        return b.build();
    }

    static io.berth.Server server(int i) {
        return io.berth.Server.of("s" + i + ".test", 8443);
    }

    PoolFixture() {
        this(b -> b);
    }

    /** Advances time and runs the pending maintenance pass, as the scheduler would. */
    void advanceAndMaintain(Duration d) {
        ticker.advance(d);
        pool.maintain(ticker.read());
    }

    FakeConnection fake(Lease lease) {
        return (FakeConnection) lease.connection();
    }

    /** @return the most connections the backend may have open: {@code maxConnections} on each server */
    int capacity() {
        return pool.config().maxConnections() * pool.entries.length;
    }

    /** @return the index of the server a lease's connection is on, in the pool's order */
    int serverOf(Lease lease) {
        ServerEntry[] es = pool.entries;
        for (int i = 0; i < es.length; i++) {
            if (es[i].server.equals(lease.server())) {
                return i;
            }
        }
        throw new AssertionError(lease + " is on no server of the pool");
    }

    /** @return the connections idle in the shared set of server {@code i} */
    int idleOn(int i) {
        return pool.entries[i].table.size();
    }

    /**
     * Acquires {@code perServer} new connections on every server of a pool that has no idle
     * connection (new connections go round robin, so they spread evenly; checked here).
     *
     * @return the leases round by round: the first {@code k * servers} hold {@code k} on each server
     */
    List<Lease> acquirePerServer(int perServer, boolean replayable) throws IOException {
        int n = pool.entries.length;
        List<List<Lease>> byServer = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byServer.add(new ArrayList<>());
        }
        for (int i = 0; i < perServer * n; i++) {
            Lease l = pool.acquire(replayable);
            byServer.get(serverOf(l)).add(l);
        }
        List<Lease> rounds = new ArrayList<>();
        for (int r = 0; r < perServer; r++) {
            for (int i = 0; i < n; i++) {
                List<Lease> mine = byServer.get(i);
                if (mine.size() != perServer) {
                    throw new AssertionError("server " + i + " got " + mine.size() + " of " + perServer * n
                            + " new connections, not " + perServer + ": " + byServer);
                }
                rounds.add(mine.get(r));
            }
        }
        return rounds;
    }

    /** Acquires every connection the backend may have: {@code maxConnections} on each server. */
    List<Lease> fill() throws IOException {
        return acquirePerServer(pool.config().maxConnections(), true);
    }

    /** Gives every server but {@code i} weight 0: new connections all go to server {@code i}. */
    void onlyServer(int i) {
        for (int k = 0; k < pool.entries.length; k++) {
            pool.control().reweight(pool.entries[k].server, k == i ? 1 : 0);
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}
