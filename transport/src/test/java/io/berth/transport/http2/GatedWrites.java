package io.berth.transport.http2;

import io.berth.Server;
import io.berth.StreamStats;
import io.berth.transport.DuplexConnection;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real connection (TLS from {@link H2#tls}) whose socket writes are counted, and whose next write can
 * be held at its start until released: a socket the server reads slowly, made deterministic. Every
 * call goes to the real connection.
 */
final class GatedWrites implements DuplexConnection {
    private final DuplexConnection real;
    private final AtomicInteger writes = new AtomicInteger();
    private final AtomicInteger held = new AtomicInteger();
    private volatile CountDownLatch gate;
    private volatile CountDownLatch lastGate;

    GatedWrites(DuplexConnection real) {
        this.real = real;
    }

    /** The next write waits, once it began, until {@link #release()}. */
    void holdNextWrite() {
        lastGate = new CountDownLatch(1);
        gate = lastGate;
    }

    /** Lets the held write (or the next one, if none began yet) go on. */
    void release() {
        lastGate.countDown();
    }

    /** @return the writes begun */
    int writes() {
        return writes.get();
    }

    /** @return the writes now waiting at the gate */
    int held() {
        return held.get();
    }

    @Override
    public void write(ByteBuffer src, long timeoutNanos) throws IOException {
        writes.incrementAndGet();
        CountDownLatch g = gate;
        if (g != null) {
            gate = null;
            held.incrementAndGet();
            try {
                if (!g.await(30, TimeUnit.SECONDS)) {
                    throw new IOException("the test never released the held write");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException();
            } finally {
                held.decrementAndGet();
            }
        }
        real.write(src, timeoutNanos);
    }

    @Override
    public int readNoDeadline(ByteBuffer dst) throws IOException {
        return real.readNoDeadline(dst);
    }

    @Override
    public boolean closeOutput(ByteBuffer last, long lingerNanos) {
        return real.closeOutput(last, lingerNanos);
    }

    @Override
    public Server server() {
        return real.server();
    }

    @Override
    public int read(ByteBuffer dst, long timeoutNanos) throws IOException {
        return real.read(dst, timeoutNanos);
    }

    @Override
    public Liveness liveness() {
        return real.liveness();
    }

    @Override
    public Liveness bufferedLiveness() {
        return real.bufferedLiveness();
    }

    @Override
    public boolean tlsSessionResumed() {
        return real.tlsSessionResumed();
    }

    @Override
    public String tlsProtocol() {
        return real.tlsProtocol();
    }

    @Override
    public String applicationProtocol() {
        return real.applicationProtocol();
    }

    @Override
    public boolean isOpen() {
        return real.isOpen();
    }

    @Override
    public boolean close() {
        return real.close();
    }

    @Override
    public void abort() {
        real.abort();
    }

    @Override
    public String describe() {
        return real.describe();
    }

    @Override
    public StreamStats streamStats() {
        return real.streamStats();
    }
}
