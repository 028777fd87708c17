package io.berth.pool;

import io.berth.CloseReason;
import io.berth.ConnectionInfo;
import io.berth.Outcome;
import io.berth.PoolListener;
import io.berth.ReusePolicy;
import io.berth.Server;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Calls the user's {@link PoolListener} and reports user-code failures (listener, reuse policy,
 * scheduler) once per pool at WARNING; the pool carries on as if the callback had returned.
 */
final class ListenerGuard {
    private static final System.Logger LOG = System.getLogger(LockFreeBackendPool.class.getName());

    private final String pool;
    private final PoolListener listener;
    private final boolean none;
    private final AtomicBoolean listenerReported = new AtomicBoolean();
    private final AtomicBoolean policyReported = new AtomicBoolean();
    private final AtomicBoolean schedulerReported = new AtomicBoolean();

    ListenerGuard(String pool, PoolListener listener) {
        this.pool = pool;
        this.listener = listener;
        this.none = listener == PoolListener.NONE;
    }

    void opened(ConnectionInfo c) {
        if (none) {
            return;
        }
        try {
            listener.connectionOpened(c);
        } catch (RuntimeException | Error e) {
            listenerFailed("connectionOpened", e);
        }
    }

    void acquired(ConnectionInfo c, boolean reused) {
        if (none) {
            return;
        }
        try {
            listener.connectionAcquired(c, reused);
        } catch (RuntimeException | Error e) {
            listenerFailed("connectionAcquired", e);
        }
    }

    void released(ConnectionInfo c, Outcome outcome) {
        if (none) {
            return;
        }
        try {
            listener.connectionReleased(c, outcome);
        } catch (RuntimeException | Error e) {
            listenerFailed("connectionReleased", e);
        }
    }

    void closed(ConnectionInfo c, CloseReason reason) {
        if (none) {
            return;
        }
        try {
            listener.connectionClosed(c, reason);
        } catch (RuntimeException | Error e) {
            listenerFailed("connectionClosed", e);
        }
    }

    void connectFailed(Server server, IOException failure) {
        if (none) {
            return;
        }
        try {
            listener.connectFailed(server, failure);
        } catch (RuntimeException | Error e) {
            listenerFailed("connectFailed", e);
        }
    }

    private void listenerFailed(String method, Throwable e) {
        if (listenerReported.compareAndSet(false, true)) {
            LOG.log(Level.WARNING, "pool '" + pool + "': PoolListener." + method
                    + " threw; the pool ignores it (reported once)", e);
        }
    }

    void policyFailed(ReusePolicy policy, Throwable e) {
        if (policyReported.compareAndSet(false, true)) {
            LOG.log(Level.WARNING, "pool '" + pool + "': ReusePolicy " + policy
                    + " threw; treated as 'may not carry' (reported once)", e);
        }
    }

    void schedulerFailed(Throwable e) {
        if (schedulerReported.compareAndSet(false, true)) {
            LOG.log(Level.WARNING, "pool '" + pool + "': PurgeScheduler.schedule threw; maintenance is retried"
                    + " at the next release (reported once)", e);
        }
    }

    void maintenanceFailed(Throwable e) {
        LOG.log(Level.WARNING, "pool '" + pool + "': a maintenance pass failed", e);
    }
}
