package io.berth.pool;

import io.berth.Server;
import io.berth.spi.Connection;
import java.nio.ByteBuffer;

/** A connection that does no I/O, so pool benchmarks measure only the pool. Subclasses may answer reads. */
class StubConnection implements Connection {
    private final Server server;
    private volatile boolean open = true;

    StubConnection(Server server) {
        this.server = server;
    }

    @Override
    public Server server() {
        return server;
    }

    @Override
    public int read(ByteBuffer dst, long timeoutNanos) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void write(ByteBuffer src, long timeoutNanos) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Liveness liveness() {
        return Liveness.ALIVE;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean close() {
        open = false;
        return true;
    }

    @Override
    public void abort() {
        open = false;
    }

    @Override
    public String describe() {
        return "stub " + server;
    }
}
