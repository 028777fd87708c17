package io.berth.transport.http1;

import io.berth.ResponseTimeoutException;
import io.berth.Server;
import io.berth.spi.Connection;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * An in-memory {@link Connection} that plays a script of server behaviour: byte chunks (each read
 * returns at most one chunk, as a socket would), stalls (a read throws {@link ResponseTimeoutException}
 * at once, as a real connection would after its timeout), the end of the stream, or a failure. With
 * the script used up, reads stall, like a server that says nothing more.
 *
 * <p>It records what was written, every read and write with its timeout (in order), and the calls the
 * pool would make. Not thread-safe.
 */
final class ScriptedConnection implements Connection {
    sealed interface Step permits Data, Stall, Eof, Fail {
    }

    record Data(byte[] bytes) implements Step {
    }

    record Stall() implements Step {
    }

    record Eof() implements Step {
    }

    record Fail(IOException error) implements Step {
    }

    private final Deque<Step> script = new ArrayDeque<>();
    private int dataOffset;
    private final ByteArrayOutputStream written = new ByteArrayOutputStream();
    /** Every I/O call in order: {@code read <timeout>}, {@code write <bytes>}. */
    final List<String> events = new ArrayList<>();
    final List<Long> readTimeouts = new ArrayList<>();
    int writes;
    int idleCalls;
    boolean closed;
    boolean aborted;
    Liveness liveness = Liveness.ALIVE;
    IOException writeFailure;

    ScriptedConnection data(String s) {
        return data(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    ScriptedConnection data(byte[] b) {
        script.add(new Data(b));
        return this;
    }

    /** Delivers {@code s} in pieces cut at {@code cuts}, one piece per read. */
    ScriptedConnection data(String s, int... cuts) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        int from = 0;
        for (int c : cuts) {
            if (c > from && c < b.length) {
                script.add(new Data(java.util.Arrays.copyOfRange(b, from, c)));
                from = c;
            }
        }
        script.add(new Data(java.util.Arrays.copyOfRange(b, from, b.length)));
        return this;
    }

    ScriptedConnection stall() {
        script.add(new Stall());
        return this;
    }

    ScriptedConnection eof() {
        script.add(new Eof());
        return this;
    }

    ScriptedConnection fail(IOException e) {
        script.add(new Fail(e));
        return this;
    }

    String written() {
        return written.toString(StandardCharsets.ISO_8859_1);
    }

    /** @return whether script steps are left unplayed */
    boolean hasUnplayed() {
        return !script.isEmpty() && !(script.size() == 1 && script.peek() instanceof Eof);
    }

    @Override
    public Server server() {
        return Server.of("backend.test", 8443);
    }

    @Override
    public int read(ByteBuffer dst, long timeoutNanos) throws IOException {
        if (timeoutNanos <= 0) {
            throw new AssertionError("read timeout must be positive but was " + timeoutNanos);
        }
        if (!dst.hasRemaining()) {
            throw new AssertionError("read into a full buffer");
        }
        readTimeouts.add(timeoutNanos);
        events.add("read");
        if (closed || aborted) {
            throw new SocketException("connection closed");
        }
        Step step = script.peek();
        if (step == null || step instanceof Stall) {
            script.poll();
            throw new ResponseTimeoutException("no byte from " + server() + " within " + timeoutNanos + " ns");
        }
        if (step instanceof Eof) {
            return -1;
        }
        if (step instanceof Fail f) {
            script.poll();
            throw f.error();
        }
        byte[] b = ((Data) step).bytes();
        int n = Math.min(dst.remaining(), b.length - dataOffset);
        dst.put(b, dataOffset, n);
        dataOffset += n;
        if (dataOffset == b.length) {
            script.poll();
            dataOffset = 0;
        }
        return n;
    }

    @Override
    public void write(ByteBuffer src, long timeoutNanos) throws IOException {
        if (timeoutNanos <= 0) {
            throw new AssertionError("write timeout must be positive but was " + timeoutNanos);
        }
        if (writeFailure != null) {
            throw writeFailure;
        }
        if (closed || aborted) {
            throw new SocketException("connection closed");
        }
        int n = src.remaining();
        byte[] b = new byte[n];
        src.get(b);
        written.write(b, 0, n);
        writes++;
        events.add("write " + n);
    }

    @Override
    public Liveness liveness() {
        return liveness;
    }

    @Override
    public void idle() {
        idleCalls++;
    }

    @Override
    public boolean tlsSessionResumed() {
        return true;
    }

    @Override
    public String tlsProtocol() {
        return "TLSv1.3";
    }

    @Override
    public boolean isOpen() {
        return !closed && !aborted;
    }

    @Override
    public boolean close() {
        boolean wasOpen = isOpen();
        closed = true;
        return wasOpen;
    }

    @Override
    public void abort() {
        aborted = true;
    }

    @Override
    public String describe() {
        return "backend.test:8443 scripted";
    }
}
