package io.berth.pool;

import io.berth.Server;
import io.berth.spi.Connection;
import io.berth.spi.Connector;
import java.io.IOException;
import java.net.ConnectException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * In-memory connections for engine tests: the engine codes only against the SPI, so these
 * exercise every pool rule without sockets. (Tests of sockets and TLS use real ones.)
 */
final class FakeConnector implements Connector {
    final List<FakeConnection> connections = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    final AtomicInteger attempts = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    /** Failures to throw, one per attempt, before connecting succeeds again. */
    final ConcurrentLinkedQueue<IOException> failures = new ConcurrentLinkedQueue<>();
    volatile boolean resumeTls;
    /** Connections opened from now on are multiplexed with this capacity (0: not multiplexed). */
    volatile int multiplexedCapacity;
    /** The connector's hint of what a connection being opened will carry ({@code expectedCapacity}). */
    volatile int expectedCapacityHint = 1;
    /** How long each connect takes. */
    volatile long connectDelayMillis;
    /** How long liveness reads of connections opened from now on take. */
    volatile long livenessDelayMillis;
    /** Servers that refuse every connection for now (each attempt fails with a {@link ConnectException}). */
    final Set<Server> refusing = ConcurrentHashMap.newKeySet();
    /**
     * Run first by every connect: a test that serializes its threads (the fuzzer) may hold one here.
     * Null for none.
     */
    volatile Runnable gate;

    @Override
    public Connection connect(Server server, long connectTimeoutNanos) throws IOException {
        Runnable g = gate;
        if (g != null) {
            g.run();
        }
        attempts.incrementAndGet();
        long delay = connectDelayMillis;
        if (delay > 0) {
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while connecting");
            }
        }
        IOException f = failures.poll();
        if (f != null) {
            throw f;
        }
        if (refusing.contains(server)) {
            throw new ConnectException("refused by " + server + " (test)");
        }
        synchronized (connections) {
            open.incrementAndGet();
            int cap = multiplexedCapacity;
            FakeConnection c = new FakeConnection(server, connections.size() + 1, resumeTls, open, cap > 0);
            c.capacity = Math.max(1, cap);
            c.livenessDelayMillis = livenessDelayMillis;
            connections.add(c);
            return c;
        }
    }

    @Override
    public int expectedCapacity(Server server) {
        return expectedCapacityHint;
    }

    int opened() {
        return connections.size();
    }

    long openCount() {
        return open.get();
    }
}
