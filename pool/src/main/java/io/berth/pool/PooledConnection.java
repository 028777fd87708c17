package io.berth.pool;

import io.berth.CloseReason;
import io.berth.ConnectionState;
import io.berth.Lease;
import io.berth.Server;
import io.berth.Session;
import io.berth.spi.Connection;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A pool's record of one connection, and for a connection that carries one exchange at a time the
 * {@link Lease} handed out for it: the same object for every acquisition, so acquiring and releasing
 * allocate nothing. A multiplexed connection hands out a {@link StreamLease} per exchange instead.
 *
 * <h2>Ownership</h2>
 * At every moment a connection is in exactly one of these places, and only the holder of that place
 * may move it:
 * <ul>
 *   <li><b>idle in the shared set</b>: its bit in the server's {@link SlotTable} is set, and the bit is
 *       the token: whoever clears it with a CAS owns the connection;</li>
 *   <li><b>idle in a session</b>: in a {@link PinnedSession}'s stack, owned under its monitor;</li>
 *   <li><b>owned</b> by one thread that is not a lease holder: the thread opening it, the one that
 *       took it from the idle set or a session, the releaser of its last exchange, the maintenance
 *       pass checking it; the owner leases it, makes it idle, hands it to a waiter or closes it;</li>
 *   <li><b>parked</b>: idle, but left on its own {@link #state} ({@link #PARKED}) rather than in the
 *       shared set, by the release of a lease its caller took as the connection it used last; whoever
 *       moves {@code state} from {@code PARKED} to {@code OWNED} with a CAS owns it (see
 *       {@link LockFreeBackendPool}'s fast path);</li>
 *   <li><b>busy</b>: {@link #streams} &gt;= 1 exchanges in flight, each held by its lease.</li>
 * </ul>
 *
 * <h2>Capacity</h2>
 * {@link #streams} counts the exchanges in flight. A connection of capacity one goes from owned to
 * busy (0 to 1) and back (1 to 0) only by its owner and its one lease holder, in turn. A multiplexed
 * connection ({@link Connection#multiplexed()}) also lets other callers <em>join</em> while it is busy:
 * a CAS of {@code streams} from {@code k} to {@code k + 1}, allowed only for {@code 1 <= k <
 * capacity()} and while it is not {@link #draining}. Leaving is a CAS from {@code k} to {@code k - 1};
 * the thread whose CAS takes it from 1 to 0 becomes its owner. Because a join needs {@code k >= 1},
 * nobody can join a connection whose count is 0, which is exactly when it is idle or owned: the idle
 * bit (or the session's monitor, or the owner) and the count never both admit a second party. So, as
 * for capacity one, a purge or a close (which needs ownership) never races an exchange, and a
 * connection is counted once in {@code inUse} however many exchanges it carries.
 *
 * <p>Fields without {@code volatile} are written only by the current owner, or by the lease holder
 * of a connection of capacity one, and reach the next owner through the {@link SlotTable} CAS, the
 * waiter hand-off or the {@code streams} CAS; stats read them racily, which is fine for a snapshot.
 * {@link #state} guards the release of an exclusive lease: only one release of it can win its CAS.
 */
final class PooledConnection implements Lease {
    /** Held by one thread that is not a lease holder (opening, releasing, checking, closing). */
    static final int OWNED = 0;
    static final int IDLE = 1;
    static final int SESSION_IDLE = 2;
    static final int IN_USE = 3;
    static final int CLOSED = 4;
    /** Idle outside the shared set, on this state alone: see the class comment. */
    static final int PARKED = 5;

    private static final VarHandle STATE;
    private static final VarHandle STREAMS;
    private static final VarHandle USES;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(PooledConnection.class, "state", int.class);
            STREAMS = l.findVarHandle(PooledConnection.class, "streams", int.class);
            USES = l.findVarHandle(PooledConnection.class, "uses", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final LockFreeBackendPool pool;
    final ServerEntry entry;
    final long id;
    final Server server;
    final Connection connection;
    final boolean multiplexed;
    final long createdNanos;
    /** When {@code maxLifetime} (less jitter) retires it; {@code Long.MAX_VALUE} for never. */
    final long expiresAtNanos;
    final boolean tlsResumed;

    /** Its slot in the server's {@link SlotTable}. */
    int index = -1;
    /** Exchanges carried, counting those in flight; counted atomically on a multiplexed connection. */
    int uses;
    boolean reused;
    long lastUsedNanos;
    long acquiredNanos;
    /** The server's {@code Keep-Alive: timeout=} less the margin; {@code Long.MAX_VALUE} if it gave none. */
    long serverIdleNanos = Long.MAX_VALUE;
    /** When the server's idle timeout (less the margin) runs out since the last release. */
    long keepAliveDeadlineNanos = Long.MAX_VALUE;
    boolean everReleased;
    /** Leased by the caller that used it last, through that affinity: its release may park it. */
    boolean affine;
    /**
     * Whether it counts in its server's {@code inUse} (and the backend's): from its lease until it goes
     * to the idle set, a session, a waiter or closes. A parked connection stays counted, so that the
     * caller taking it back writes nothing shared; the stats and the maintenance pass correct for it.
     */
    boolean counted;
    /** From the server's {@code Keep-Alive: max=}: requests it still accepts; -1 if unknown. */
    int serverRemaining = -1;
    PinnedSession session;
    boolean privateToSession;
    /** Set while the maintenance pass owns this idle connection to check it: callers wait for it. */
    volatile boolean checking;
    /** A multiplexed connection that takes no new exchange: it closes when its last one ends. */
    volatile boolean draining;
    /** Why a draining connection closes once its last exchange ends. */
    volatile CloseReason drainReason;
    /**
     * The response being read from this connection, weakly: if the caller drops it unclosed, the GC
     * clears this and maintenance reclaims the connection. Null when there is none to watch.
     */
    volatile java.lang.ref.WeakReference<Object> responseRef;
    /** The stack of the holder, when leak detection is on. */
    Throwable acquireTrace;
    boolean leakReported;
    volatile int state = OWNED;
    /** Exchanges in flight (see the class comment). */
    volatile int streams;
    /** What the protocol layer keeps with the connection (its codec): {@link Lease#attach}. */
    volatile Object attachment;
    volatile CloseReason closeReason;
    /** This connection, weakly, as {@link LastConnections} holds it: one per connection, made once. */
    final java.lang.ref.WeakReference<PooledConnection> weakSelf = new java.lang.ref.WeakReference<>(this);

    PooledConnection(LockFreeBackendPool pool, ServerEntry entry, long id, Connection connection, long nowNanos,
            long expiresAtNanos) {
        this.pool = pool;
        this.entry = entry;
        this.id = id;
        this.server = connection.server();
        this.connection = connection;
        this.multiplexed = connection.multiplexed();
        this.createdNanos = nowNanos;
        this.lastUsedNanos = nowNanos;
        this.expiresAtNanos = expiresAtNanos;
        this.tlsResumed = connection.tlsSessionResumed();
    }

    boolean casState(int expect, int update) {
        return STATE.compareAndSet(this, expect, update);
    }

    /**
     * Joins a busy multiplexed connection: one more exchange, if it has room and takes new ones.
     *
     * @return whether the caller now holds one exchange on it
     */
    boolean tryJoin() {
        for (;;) {
            int k = streams;
            if (k < 1 || draining || k >= connection.capacity()) {
                return false;
            }
            if (STREAMS.compareAndSet(this, k, k + 1)) {
                return true;
            }
        }
    }

    /**
     * Leaves one exchange of a multiplexed connection.
     *
     * @return whether that was the last one: the caller now owns the connection
     */
    boolean leave() {
        return (int) STREAMS.getAndAdd(this, -1) == 1;
    }

    /** @return the count of exchanges carried, after counting one more */
    int countUse() {
        if (multiplexed) {
            return (int) USES.getAndAdd(this, 1) + 1;
        }
        int u = uses + 1;
        uses = u;
        return u;
    }

    ConnectionState publicState() {
        switch (state) {
            case IDLE:
            case PARKED:
                return ConnectionState.IDLE;
            case SESSION_IDLE:
                return ConnectionState.SESSION_IDLE;
            case CLOSED:
                return ConnectionState.CLOSED;
            default:
                return streams > 0 || state == IN_USE ? ConnectionState.IN_USE : ConnectionState.IDLE;
        }
    }

    private IllegalStateException notHeld() {
        return new IllegalStateException("lease on connection #" + id + " of pool '" + pool.name()
                + "' is not held (it was released)");
    }

    // ---- Lease (a connection of capacity one is its own lease) ----

    @Override
    public Connection connection() {
        if (state != IN_USE) {
            throw notHeld();
        }
        return connection;
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
        if (state != IN_USE) {
            throw notHeld();
        }
        privateToSession = true;
    }

    @Override
    public Object attachment() {
        return attachment;
    }

    @Override
    public void attach(Object value) {
        attachment = value;
    }

    // ---- ConnectionInfo ----

    @Override
    public long id() {
        return id;
    }

    @Override
    public Server server() {
        return server;
    }

    @Override
    public int uses() {
        return uses;
    }

    @Override
    public int inFlight() {
        return multiplexed ? streams : state == IN_USE ? 1 : 0;
    }

    @Override
    public boolean multiplexed() {
        return multiplexed;
    }

    @Override
    public long createdNanos() {
        return createdNanos;
    }

    @Override
    public long lastUsedNanos() {
        return lastUsedNanos;
    }

    @Override
    public boolean tlsSessionResumed() {
        return tlsResumed;
    }

    @Override
    public String describe() {
        return "#" + id + " " + connection.describe();
    }

    @Override
    public String toString() {
        return "PooledConnection" + describe() + "{state=" + publicState() + ", uses=" + uses + ", streams="
                + streams + "}";
    }
}
