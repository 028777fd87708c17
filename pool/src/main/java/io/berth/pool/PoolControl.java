package io.berth.pool;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.BackendPoolControl;
import io.berth.CloseReason;
import io.berth.Server;
import io.berth.ServerState;
import io.berth.internal.Checks;
import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The control operations of a running pool: new settings, and servers added, removed, drained,
 * resumed and re-weighted. One lock orders them (and the pool's close) against each other; the
 * request path never takes it: it reads the server array and the settings, which are replaced
 * whole. Connections are closed outside the lock.
 *
 * <p>Thread-safe.
 */
final class PoolControl implements BackendPoolControl {
    private final LockFreeBackendPool pool;
    private final ReentrantLock lock = new ReentrantLock();

    PoolControl(LockFreeBackendPool pool) {
        this.pool = pool;
    }

    /** @return whether this call closed the pool (false if it was closed already) */
    boolean markClosed() {
        lock.lock();
        try {
            if (pool.closed) {
                return false;
            }
            pool.closed = true;
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void reconfigure(BackendPoolConfig config) {
        Objects.requireNonNull(config, "config");
        Settings old;
        Settings st;
        lock.lock();
        try {
            requireOpen();
            old = pool.settings;
            requireReconfigurable(old.config, config);
            for (ServerEntry e : pool.entries) {
                e.table.ensureCapacity(config.maxConnections());
            }
            st = new Settings(config);
            pool.settings = st;
        } finally {
            lock.unlock();
        }
        if (old.purgeDelayNanos != st.purgeDelayNanos || old.minIdle != st.minIdle
                || !Objects.equals(old.healthCheck, st.healthCheck)) {
            pool.maintenance.restart(pool.ticker.read(), st.minIdle > old.minIdle || st.healthCheck != null);
        }
        for (ServerEntry e : pool.entries) {
            // Parked connections go back to the shared set under the new settings, first.
            pool.recycler.publishParked(e, st);
            // Lowered limits: close idle connections beyond them now (in-use ones close at release).
            PooledConnection c;
            while (e.total.get() > st.maxConnections && (c = e.table.pollColdest()) != null) {
                pool.recycler.closeConnection(c, CloseReason.EVICTED, false);
            }
            while (st.maxIdle >= 0 && e.table.size() > st.maxIdle && (c = e.table.pollColdest()) != null) {
                pool.recycler.closeConnection(c, CloseReason.IDLE_LIMIT, false);
            }
            if (!st.policy.sharesIdleConnections()) {
                while ((c = e.table.pollColdest()) != null) {
                    pool.recycler.closeConnection(c, CloseReason.NOT_SHARED, false);
                }
            }
            // Raised limits: admit waiters at once.
            pool.recycler.signalFreeSlot(e);
        }
    }

    @Override
    public void addServer(Server server, int weight) {
        Objects.requireNonNull(server, "server");
        Checks.weight(server, weight, Backend.MAX_WEIGHT);
        ServerEntry added;
        lock.lock();
        try {
            requireOpen();
            for (ServerEntry e : pool.entries) {
                if (e.server.equals(server)) {
                    throw new IllegalArgumentException(server + " is a server of pool '" + pool.name + "' already");
                }
            }
            added = pool.newEntry(server, weight, pool.ticker.read());
            ServerEntry[] next = Arrays.copyOf(pool.entries, pool.entries.length + 1);
            next[next.length - 1] = added;
            pool.entries = next;
        } finally {
            lock.unlock();
        }
        LockFreeBackendPool.LOG.log(Level.INFO, () -> "pool '" + pool.name + "': server " + server
                + " added with weight " + weight);
        pool.recycler.signalFreeSlot(added);
    }

    @Override
    public void removeServer(Server server) {
        ServerEntry gone;
        lock.lock();
        try {
            requireOpen();
            gone = find(server);
            if (pool.entries.length == 1) {
                throw new IllegalArgumentException(server + " is the last server of pool '" + pool.name
                        + "': a pool needs one");
            }
            ServerEntry[] next = new ServerEntry[pool.entries.length - 1];
            int i = 0;
            for (ServerEntry e : pool.entries) {
                if (e != gone) {
                    next[i++] = e;
                }
            }
            gone.removed = true;
            pool.leaving.add(gone);
            pool.entries = next;
        } finally {
            lock.unlock();
        }
        // Idle connections close now; connections in use close when released.
        pool.recycler.closeIdle(gone, CloseReason.SERVER_UNAVAILABLE);
        LockFreeBackendPool.LOG.log(Level.INFO, () -> "pool '" + pool.name + "': server " + server + " removed");
    }

    @Override
    public void drainServer(Server server) {
        ServerEntry e;
        lock.lock();
        try {
            requireOpen();
            e = find(server);
            e.health.drain();
        } finally {
            lock.unlock();
        }
        pool.recycler.closeIdle(e, CloseReason.SERVER_UNAVAILABLE);
        LockFreeBackendPool.LOG.log(Level.INFO, () -> "pool '" + pool.name + "': server " + server + " draining");
    }

    @Override
    public void resumeServer(Server server) {
        ServerEntry e;
        lock.lock();
        try {
            requireOpen();
            e = find(server);
            ServerState s = e.state();
            if (s != ServerState.DRAINING && s != ServerState.DOWN) {
                return;
            }
            Settings st = pool.settings;
            e.health.comeBack(pool.ticker.read(), st.slowStartNanos, st.downBackoffNanos);
        } finally {
            lock.unlock();
        }
        pool.recycler.signalFreeSlot(e);
    }

    @Override
    public void reweight(Server server, int weight) {
        Checks.weight(server, weight, Backend.MAX_WEIGHT);
        ServerEntry e;
        lock.lock();
        try {
            requireOpen();
            e = find(server);
            e.weight = weight;
        } finally {
            lock.unlock();
        }
        if (weight > 0) {
            pool.recycler.offerIdle(e); // its idle connections serve again: waiters may use them
        }
        pool.recycler.signalFreeSlot(e);
    }

    /** The hooks a pool was built with are fixed for its life. */
    private static void requireReconfigurable(BackendPoolConfig now, BackendPoolConfig next) {
        if (!Objects.equals(now.name(), next.name())) {
            throw new IllegalArgumentException("name cannot change on a running pool (" + now.name() + " -> "
                    + next.name() + ")");
        }
        if (now.listener() != next.listener()) {
            throw new IllegalArgumentException("listener cannot change on a running pool");
        }
        if (now.purgeScheduler() != next.purgeScheduler()) {
            throw new IllegalArgumentException("purgeScheduler cannot change on a running pool");
        }
        if (now.ticker() != next.ticker()) {
            throw new IllegalArgumentException("ticker cannot change on a running pool");
        }
    }

    private ServerEntry find(Server server) {
        Objects.requireNonNull(server, "server");
        for (ServerEntry e : pool.entries) {
            if (e.server.equals(server)) {
                return e;
            }
        }
        throw new IllegalArgumentException(server + " is not a server of pool '" + pool.name + "'");
    }

    private void requireOpen() {
        if (pool.closed) {
            throw new IllegalStateException("pool '" + pool.name + "' is closed");
        }
    }
}
