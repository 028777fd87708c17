package io.berth.transport;

import io.berth.HandshakeTimeoutException;
import io.berth.Server;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSession;

/**
 * A TLS connection: an {@link SSLEngine} over a non-blocking channel (see {@link NioConnection}).
 *
 * <p><b>Buffers.</b> Three buffers from the {@link BufferPool}, each kept in read mode (the bytes
 * between position and limit are pending): {@code netIn} holds ciphertext received and not yet
 * decrypted, {@code netOut} ciphertext not yet sent, {@code appIn} plaintext decrypted but not yet
 * delivered. Records are decrypted straight into the caller's buffer when it has room for a whole
 * record; {@code appIn} is only used otherwise. {@link #idle()} gives back every buffer that holds no
 * pending bytes; the next I/O takes them again.
 *
 * <p><b>Post-handshake messages.</b> A TLS 1.3 NewSessionTicket or KeyUpdate decrypts to no
 * application bytes; reads and {@link #liveness()} process it (answering a KeyUpdate) and go on, so
 * it is neither data nor end of stream. A close_notify is end of stream.
 *
 * <p><b>Resumption</b> is known from the trust manager: a handshake that did not verify a
 * certificate chain resumed a session (see {@link VerifyingTrustManager}).
 */
final class TlsConnection extends NioConnection {
    private static final System.Logger LOG = System.getLogger(TlsConnection.class.getName());
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** {@link #unwrapInto}: {@code netIn} holds no whole record. */
    private static final int NEED_BYTES = -2;

    private final SSLEngine engine;
    private final String verifyName;
    private final int netSize;
    private ByteBuffer netIn;
    private ByteBuffer netOut;
    private ByteBuffer appIn;
    /**
     * Holds the one application buffer of a wrap or unwrap: the engine's single-buffer overloads
     * allocate such an array on every call. Emptied after each call, so that no caller buffer is kept.
     */
    private final ByteBuffer[] one = new ByteBuffer[1];
    /** Set by the trust manager, possibly on a delegated-task thread; read after the handshake. */
    private volatile boolean chainVerified;
    private boolean resumed;
    private String protocol;
    private String description;

    TlsConnection(Server server, SocketChannel channel, Selector selector, NioConnector connector, TlsProfile tls) {
        super(server, channel, selector, connector);
        this.engine = tls.newEngine(server);
        this.verifyName = tls.config().verifyHostnameFor(server);
        // The JDK's packet size exceeds a pooled buffer only with jsse.SSLEngine.acceptLargeFragments.
        this.netSize = Math.max(BufferPool.BUFFER_SIZE, engine.getSession().getPacketBufferSize());
        this.description = server + " TLS handshaking";
    }

    // ---- handshake

    /**
     * Performs the handshake within {@code timeoutNanos}.
     *
     * @throws HandshakeTimeoutException if it took too long
     * @throws SSLException as the JDK reports a failed handshake, with a suppressed exception naming
     *     the server
     */
    void handshake(TlsProfile tls, long timeoutNanos, Executor taskExecutor) throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        VerifyingTrustManager trust = tls.trustManager();
        trust.begin(engine, this);
        try {
            ensureNetIn();
            engine.beginHandshake();
            HandshakeStatus hs = engine.getHandshakeStatus();
            while (hs != HandshakeStatus.FINISHED && hs != HandshakeStatus.NOT_HANDSHAKING) {
                switch (hs) {
                    case NEED_WRAP -> {
                        SSLEngineResult r = wrap(EMPTY);
                        if (r.getStatus() == Status.BUFFER_OVERFLOW) {
                            throw overflow(netOut);
                        }
                        hs = r.getHandshakeStatus();
                        flush(deadline, timeoutNanos);
                    }
                    case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                        appIn = appIn == null ? takeBuffer() : appIn;
                        SSLEngineResult r = unwrap(appIn);
                        if (r.getStatus() == Status.BUFFER_UNDERFLOW) {
                            fillForHandshake(deadline, timeoutNanos);
                        } else if (r.getStatus() == Status.CLOSED) {
                            throw new SSLHandshakeException(server + " closed the TLS connection during the handshake");
                        } else if (r.getStatus() == Status.BUFFER_OVERFLOW) {
                            throw overflow(appIn);
                        }
                        hs = r.getHandshakeStatus();
                    }
                    case NEED_TASK -> {
                        runTasks(taskExecutor, deadline, timeoutNanos);
                        hs = engine.getHandshakeStatus();
                    }
                    default -> throw new IllegalStateException("unexpected handshake status " + hs);
                }
            }
        } catch (SSLException e) {
            sendAlertQuietly();
            e.addSuppressed(new FailureContext("TLS handshake with " + server + " failed ("
                    + tls.describeFor(server) + ")"));
            throw e;
        } finally {
            trust.end(engine);
        }
        SSLSession session = engine.getSession();
        resumed = !chainVerified;
        protocol = session.getProtocol();
        description = server + " " + protocol + " " + session.getCipherSuite() + (resumed ? " resumed" : "");
    }

    /** Called by the trust manager once the server's chain passed; the host name is checked here. */
    void serverChainVerified(X509Certificate[] chain) throws CertificateException {
        HostnameMatcher.verify(verifyName, chain[0]);
        chainVerified = true;
    }

    private void fillForHandshake(long deadline, long timeoutNanos) throws IOException {
        while (true) {
            int n = readChannel();
            if (n > 0) {
                return;
            }
            if (n < 0) {
                throw new SSLHandshakeException(server + " closed the connection during the TLS handshake");
            }
            if (!await(SelectionKey.OP_READ, deadline)) {
                throw handshakeTimeout(timeoutNanos);
            }
        }
    }

    private void flush(long deadline, long timeoutNanos) throws IOException {
        while (netOut.hasRemaining()) {
            if (channel.write(netOut) == 0 && !await(SelectionKey.OP_WRITE, deadline)) {
                throw handshakeTimeout(timeoutNanos);
            }
        }
    }

    private HandshakeTimeoutException handshakeTimeout(long timeoutNanos) {
        return new HandshakeTimeoutException("TLS handshake with " + server + " timed out after "
                + millis(timeoutNanos) + " (handshakeTimeout)");
    }

    private void runTasks(Executor executor, long deadline, long timeoutNanos) throws IOException {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            if (executor == null) {
                task.run();
                continue;
            }
            CompletableFuture<Void> done = CompletableFuture.runAsync(task, executor);
            try {
                done.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                throw handshakeTimeout(timeoutNanos);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted during the TLS handshake with " + server);
            } catch (ExecutionException e) {
                throw new SSLException("a TLS handshake task for " + server + " failed", e.getCause());
            }
        }
    }

    /** After a failed handshake, the engine holds an alert; send it if that needs no waiting. */
    private void sendAlertQuietly() {
        try {
            engine.closeOutbound();
            wrap(EMPTY);
            channel.write(netOut);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.TRACE, () -> server + ": cannot send the TLS alert: " + e);
        }
    }

    // ---- exchange

    @Override
    int doRead(ByteBuffer dst, long timeoutNanos) throws IOException {
        ensureNetIn();
        long deadline = 0;
        boolean waited = false;
        while (true) {
            if (appIn != null && appIn.hasRemaining()) {
                return transfer(appIn, dst);
            }
            if (engine.isInboundDone()) {
                return -1;
            }
            if (netIn.hasRemaining()) {
                int n = unwrapInto(dst, timeoutNanos);
                if (n == 0) {
                    continue; // a post-handshake message: look at the next record
                }
                if (n != NEED_BYTES) {
                    return n;
                }
            }
            if (waited || !responseDue) { // right after a request, wait first: its response is not here yet
                int r = readChannel();
                if (r > 0) {
                    continue;
                }
                if (r < 0) {
                    return endOfStream();
                }
            }
            if (!waited) {
                deadline = System.nanoTime() + timeoutNanos;
                waited = true;
            }
            if (!await(SelectionKey.OP_READ, deadline)) {
                throw responseTimeout(timeoutNanos);
            }
        }
    }

    /**
     * Decrypts the next record of {@code netIn}, into {@code dst} if a whole record fits, else into
     * {@code appIn} and from there into {@code dst}; answers post-handshake messages.
     *
     * @return bytes delivered, -1 for close_notify, 0 for a record without application data (a
     *     post-handshake message), or {@link #NEED_BYTES}
     */
    private int unwrapInto(ByteBuffer dst, long timeoutNanos) throws IOException {
        int before = dst.position();
        SSLEngineResult r = engineUnwrap(dst);
        if (r.getStatus() == Status.BUFFER_OVERFLOW) {
            appIn = appIn == null ? takeBuffer() : appIn;
            r = unwrap(appIn);
            if (r.getStatus() == Status.BUFFER_OVERFLOW) {
                throw overflow(appIn);
            }
        }
        if (r.getStatus() == Status.BUFFER_UNDERFLOW) {
            return NEED_BYTES;
        }
        if (r.getStatus() == Status.CLOSED) {
            return -1;
        }
        handlePostHandshake(r.getHandshakeStatus(), timeoutNanos);
        int direct = dst.position() - before;
        if (direct > 0) {
            return direct;
        }
        return appIn != null && appIn.hasRemaining() ? transfer(appIn, dst) : 0;
    }

    /**
     * A KeyUpdate needs an answer, a TLS 1.2 renegotiation tasks and messages; a ticket needs
     * nothing. Tasks run on this thread: they are rare after the handshake.
     *
     * @param timeoutNanos how long to wait for the send buffer, or 0 to never wait (liveness): what
     *     cannot be written now stays in {@code netOut} and goes out before the next request
     */
    private void handlePostHandshake(HandshakeStatus hs, long timeoutNanos) throws IOException {
        while (true) {
            switch (hs) {
                case NEED_TASK -> {
                    Runnable task;
                    while ((task = engine.getDelegatedTask()) != null) {
                        task.run();
                    }
                    hs = engine.getHandshakeStatus();
                }
                case NEED_WRAP -> {
                    SSLEngineResult r = wrap(EMPTY);
                    if (r.getStatus() == Status.BUFFER_OVERFLOW && !netOut.hasRemaining()) {
                        throw overflow(netOut);
                    }
                    hs = r.getHandshakeStatus();
                    if (timeoutNanos > 0) {
                        writeFully(netOut, timeoutNanos);
                    } else {
                        channel.write(netOut);
                        if (netOut.hasRemaining()) {
                            return;
                        }
                    }
                }
                default -> {
                    return; // NEED_UNWRAP: more records; FINISHED or NOT_HANDSHAKING: done
                }
            }
        }
    }

    private int endOfStream() throws IOException {
        if (netIn.hasRemaining()) {
            throw new EOFException(server + " closed the connection in the middle of a TLS record ("
                    + netIn.remaining() + " bytes of it received)");
        }
        return -1; // without close_notify: HTTP framing tells whether anything is missing
    }

    @Override
    void doWrite(ByteBuffer src, long timeoutNanos) throws IOException {
        ensureNetOut();
        writeFully(netOut, timeoutNanos); // e.g. the answer to a KeyUpdate seen while idle
        while (src.hasRemaining()) {
            SSLEngineResult r = wrap(src);
            if (r.getStatus() == Status.CLOSED) {
                throw new SSLException("cannot write to " + server + ": the TLS connection is closed for output");
            }
            if (r.getStatus() == Status.BUFFER_OVERFLOW) {
                throw overflow(netOut);
            }
            writeFully(netOut, timeoutNanos);
            if (r.getHandshakeStatus() != HandshakeStatus.NOT_HANDSHAKING) {
                handlePostHandshake(r.getHandshakeStatus(), timeoutNanos);
            }
        }
    }

    @Override
    Liveness doLiveness() throws IOException {
        // A connection that holds its buffers (it was busy a moment ago) keeps them: the pool takes
        // them back from connections idle long enough (idle()). One that did not gives back what the
        // look took.
        boolean held = netIn != null;
        ensureNetIn();
        try {
            while (true) {
                if (appIn != null && appIn.hasRemaining()) {
                    return Liveness.UNEXPECTED_DATA;
                }
                if (engine.isInboundDone()) {
                    return Liveness.CLOSED_BY_PEER;
                }
                if (netIn.hasRemaining()) {
                    appIn = appIn == null ? takeBuffer() : appIn;
                    SSLEngineResult r = unwrap(appIn);
                    if (r.getStatus() == Status.CLOSED) {
                        return Liveness.CLOSED_BY_PEER;
                    }
                    if (r.getStatus() == Status.BUFFER_OVERFLOW) {
                        throw overflow(appIn);
                    }
                    handlePostHandshake(r.getHandshakeStatus(), 0);
                    if (r.getStatus() != Status.BUFFER_UNDERFLOW) {
                        continue;
                    }
                }
                int n = readChannel();
                if (n < 0) {
                    return Liveness.CLOSED_BY_PEER;
                }
                if (n == 0) {
                    return Liveness.ALIVE;
                }
            }
        } finally {
            if (!held) {
                releaseIdleBuffers();
            }
        }
    }

    @Override
    Liveness doBufferedLiveness() throws IOException {
        if (netIn != null && netIn.hasRemaining()) {
            return doLiveness(); // records to decrypt first (perhaps only a session ticket); rare
        }
        if (appIn != null && appIn.hasRemaining()) {
            return Liveness.UNEXPECTED_DATA;
        }
        return engine.isInboundDone() ? Liveness.CLOSED_BY_PEER : Liveness.ALIVE;
    }

    @Override
    boolean writeCloseNotify() throws IOException {
        engine.closeOutbound();
        while (!engine.isOutboundDone()) {
            SSLEngineResult r = wrap(EMPTY);
            if (r.getStatus() != Status.OK && r.getStatus() != Status.CLOSED) {
                return false;
            }
            if (r.bytesProduced() == 0) {
                break;
            }
        }
        channel.write(netOut);
        return !netOut.hasRemaining();
    }

    // ---- engine and buffer plumbing

    /** Wraps {@code src} into {@code netOut}, both kept in read mode. */
    private SSLEngineResult wrap(ByteBuffer src) throws SSLException {
        ensureNetOut();
        netOut.compact();
        one[0] = src;
        try {
            return engine.wrap(one, 0, 1, netOut);
        } finally {
            one[0] = null;
            netOut.flip();
        }
    }

    /** Unwraps {@code netIn} into {@code into}, a buffer of ours kept in read mode. */
    private SSLEngineResult unwrap(ByteBuffer into) throws SSLException {
        into.compact();
        try {
            return engineUnwrap(into);
        } finally {
            into.flip();
        }
    }

    /** Unwraps {@code netIn} into {@code dst}, in write mode. */
    private SSLEngineResult engineUnwrap(ByteBuffer dst) throws SSLException {
        one[0] = dst;
        try {
            return engine.unwrap(netIn, one, 0, 1);
        } finally {
            one[0] = null;
        }
    }

    /** @return bytes read into {@code netIn}, 0 if none are there now, -1 at end of stream */
    private int readChannel() throws IOException {
        netIn.compact();
        try {
            if (!netIn.hasRemaining()) {
                throw new SSLException(server + " sent a TLS record larger than " + netIn.capacity() + " bytes");
            }
            return channel.read(netIn);
        } finally {
            netIn.flip();
        }
    }

    private SSLException overflow(ByteBuffer buffer) {
        return new SSLException("a TLS record of " + server + " does not fit in a buffer of " + buffer.capacity()
                + " bytes (" + buffer.remaining() + " pending)");
    }

    private static int transfer(ByteBuffer from, ByteBuffer to) {
        int n = Math.min(from.remaining(), to.remaining());
        to.put(to.position(), from, from.position(), n);
        to.position(to.position() + n);
        from.position(from.position() + n);
        return n;
    }

    private void ensureNetIn() {
        if (netIn == null) {
            netIn = takeBuffer();
        }
    }

    private void ensureNetOut() {
        if (netOut == null) {
            netOut = takeBuffer();
        }
    }

    private ByteBuffer takeBuffer() {
        ByteBuffer b = netSize == BufferPool.BUFFER_SIZE ? buffers.take() : ByteBuffer.allocate(netSize);
        return b.limit(0); // read mode, empty
    }

    @Override
    void releaseIdleBuffers() {
        if (netIn != null && !netIn.hasRemaining()) {
            buffers.give(netIn);
            netIn = null;
        }
        if (netOut != null && !netOut.hasRemaining()) {
            buffers.give(netOut);
            netOut = null;
        }
        if (appIn != null && !appIn.hasRemaining()) {
            buffers.give(appIn);
            appIn = null;
        }
    }

    @Override
    void releaseAllBuffers() {
        buffers.give(netIn);
        buffers.give(netOut);
        buffers.give(appIn);
        netIn = null;
        netOut = null;
        appIn = null;
    }

    /** @return how many pooled buffers this connection holds now (for tests) */
    int heldBuffers() {
        return (netIn == null ? 0 : 1) + (netOut == null ? 0 : 1) + (appIn == null ? 0 : 1);
    }

    // ---- description

    @Override
    public boolean tlsSessionResumed() {
        return resumed;
    }

    @Override
    public String tlsProtocol() {
        return protocol;
    }

    @Override
    public String describe() {
        return description;
    }
}
