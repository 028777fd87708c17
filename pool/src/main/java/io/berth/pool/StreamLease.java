package io.berth.pool;

import io.berth.Lease;
import io.berth.Server;
import io.berth.Session;
import io.berth.spi.Connection;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The lease of one exchange on a multiplexed connection: several may be held on one connection at
 * once, so each exchange gets its own (a connection of capacity one is its own lease, see
 * {@link PooledConnection}). Its {@link #released} flag makes a second release fail.
 */
final class StreamLease implements Lease {
    private static final VarHandle RELEASED;

    static {
        try {
            RELEASED = MethodHandles.lookup().findVarHandle(StreamLease.class, "released", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final PooledConnection c;
    final PinnedSession session;
    final boolean reused;
    final long acquiredNanos;
    private volatile boolean released;

    StreamLease(PooledConnection c, PinnedSession session, boolean reused, long acquiredNanos) {
        this.c = c;
        this.session = session;
        this.reused = reused;
        this.acquiredNanos = acquiredNanos;
    }

    /** @return whether this call released the lease (false if it was released already) */
    boolean markReleased() {
        return RELEASED.compareAndSet(this, false, true);
    }

    boolean isReleased() {
        return released;
    }

    @Override
    public Connection connection() {
        if (released) {
            throw new IllegalStateException("lease of an exchange on connection #" + c.id + " of pool '"
                    + c.pool.name() + "' is not held (it was released)");
        }
        return c.connection;
    }

    @Override
    public boolean reused() {
        return reused;
    }

    @Override
    public Session session() {
        return session;
    }

    @Override
    public void makePrivate() {
        connection(); // throws if released
        c.privateToSession = true;
    }

    @Override
    public Object attachment() {
        return c.attachment;
    }

    @Override
    public void attach(Object value) {
        c.attachment = value;
    }

    @Override
    public long id() {
        return c.id;
    }

    @Override
    public Server server() {
        return c.server;
    }

    @Override
    public int uses() {
        return c.uses;
    }

    @Override
    public int inFlight() {
        return c.streams;
    }

    @Override
    public boolean multiplexed() {
        return true;
    }

    @Override
    public long createdNanos() {
        return c.createdNanos;
    }

    @Override
    public long lastUsedNanos() {
        return c.lastUsedNanos;
    }

    @Override
    public boolean tlsSessionResumed() {
        return c.tlsResumed;
    }

    @Override
    public String describe() {
        return c.describe();
    }

    @Override
    public String toString() {
        return "StreamLease{" + c.describe() + (released ? ", released" : "") + "}";
    }
}
