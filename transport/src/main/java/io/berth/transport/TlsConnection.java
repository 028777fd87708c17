package io.berth.transport;

import io.berth.HandshakeTimeoutException;
import io.berth.Server;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
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
 * A TLS connection: an {@link SSLEngine} over a blocking channel (see {@link NioConnection}).
 *
 * <p><b>Buffers.</b> Three buffers from the {@link BufferPool}, each kept in read mode (the bytes
 * between position and limit are pending): {@code netIn} holds ciphertext received and not yet
 * decrypted, {@code appIn} plaintext decrypted but not yet delivered (both of the read side),
 * {@code netOut} ciphertext not yet sent (of the write side). Records are decrypted straight into
 * the caller's buffer when it has room for a whole record; {@code appIn} is only used otherwise.
 * {@link #idle()} gives back every buffer that holds no pending bytes; the next I/O takes them again.
 * Each side has its own one-element array for the engine's calls, so a wrap and an unwrap may run at
 * once.
 *
 * <p><b>Post-handshake messages.</b> A TLS 1.3 NewSessionTicket or KeyUpdate decrypts to no
 * application bytes; reads and {@link #liveness()} process it and go on, so it is neither data nor
 * end of stream. A KeyUpdate that asks for ours is answered at once by a read with a deadline or a
 * liveness look, if the write side is free; otherwise (a writer is busy, or the read has no deadline,
 * or the look must make no syscall) the engine holds the answer and the next write sends it before
 * its data, as TLS 1.3 allows. A close_notify is end of stream.
 *
 * <p><b>Resumption</b> is known from the trust manager: a handshake that did not verify a
 * certificate chain resumed a session (see {@link VerifyingTrustManager}).
 */
final class TlsConnection extends NioConnection {
    private static final System.Logger LOG = System.getLogger(TlsConnection.class.getName());
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** {@link #unwrapInto}: {@code netIn} holds no whole record. */
    private static final int NEED_BYTES = -2;
    /** {@link #handlePostHandshake}: write an answer without waiting (the channel is non-blocking). */
    private static final long ANSWER_NOW = 0;
    /** {@link #handlePostHandshake}: leave an answer to the next write. */
    private static final long ANSWER_LATER = -1;

    private final SSLEngine engine;
    private final String verifyName;
    private final int netSize;
    private ByteBuffer netIn;
    private ByteBuffer netOut;
    private ByteBuffer appIn;
    /**
     * Hold the one application buffer of an unwrap (read side) and of a wrap (write side): the
     * engine's single-buffer overloads allocate such an array on every call. Emptied after each call,
     * so that no caller buffer is kept.
     */
    private final ByteBuffer[] oneIn = new ByteBuffer[1];
    private final ByteBuffer[] oneOut = new ByteBuffer[1];
    /**
     * Whether an unwrap reported the inbound side closed (close_notify): what
     * {@code engine.isInboundDone()} says after our own unwraps (we never close it ourselves), without
     * taking the engine's lock on every read. Volatile: a liveness look may run on another thread.
     */
    private volatile boolean inboundClosed;
    /** Set by the trust manager, possibly on a delegated-task thread; read after the handshake. */
    private volatile boolean chainVerified;
    private boolean resumed;
    private String protocol;
    /** What ALPN negotiated, or null. */
    private String applicationProtocol;
    private String description;

    TlsConnection(Server server, SocketChannel channel, NioConnector connector, TlsProfile tls) {
        super(server, channel, connector);
        this.engine = tls.newEngine(server);
        this.verifyName = tls.config().verifyHostnameFor(server);
        // The JDK's packet size exceeds a pooled buffer only with jsse.SSLEngine.acceptLargeFragments.
        this.netSize = Math.max(BufferPool.BUFFER_SIZE, engine.getSession().getPacketBufferSize());
        this.description = server + " TLS handshaking";
    }

    // ---- handshake

    /**
     * Performs the handshake within {@code timeoutNanos}, enforced by the watchdog, with both sides
     * locked (the watchdog may abort meanwhile; the buffers stay ours until the end).
     *
     * @throws HandshakeTimeoutException if it took too long
     * @throws InterruptedIOException if the thread was interrupted; the flag stays set
     * @throws SSLException as the JDK reports a failed handshake, with a suppressed exception naming
     *     the server
     */
    void handshake(TlsProfile tls, long timeoutNanos, Executor taskExecutor) throws IOException {
        VerifyingTrustManager trust = tls.trustManager();
        readLock.lock();
        writeLock.lock();
        trust.begin(engine, this);
        armReadOperation(timeoutNanos);
        try {
            try {
                runHandshake(System.nanoTime() + timeoutNanos, timeoutNanos, taskExecutor);
            } catch (SSLException e) {
                sendAlertQuietly(); // still bounded by the handshake's deadline
                endReadWait();
                e.addSuppressed(new FailureContext("TLS handshake with " + server + " failed ("
                        + tls.describeFor(server) + ")"));
                throw e;
            } catch (IOException | RuntimeException e) {
                if (!endReadWait()) {
                    throw withCause(handshakeTimeout(timeoutNanos), e);
                }
                if (e instanceof ClosedByInterruptException) {
                    throw withCause(new InterruptedIOException("interrupted during the TLS handshake with " + server), e);
                }
                throw e;
            }
            if (!endReadWait()) {
                throw handshakeTimeout(timeoutNanos);
            }
        } finally {
            endReadWait();
            trust.end(engine);
            endWrite();
            endRead();
        }
        SSLSession session = engine.getSession();
        resumed = !chainVerified;
        protocol = session.getProtocol();
        applicationProtocol = negotiatedApplicationProtocol();
        description = server + " " + protocol + " " + session.getCipherSuite() + (resumed ? " resumed" : "");
    }

    private void runHandshake(long deadline, long timeoutNanos, Executor taskExecutor) throws IOException {
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
                    while (netOut.hasRemaining()) {
                        channel.write(netOut);
                    }
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    appIn = appIn == null ? takeBuffer() : appIn;
                    SSLEngineResult r = unwrap(appIn);
                    if (r.getStatus() == Status.BUFFER_UNDERFLOW) {
                        if (readChannel(true) < 0) {
                            // A TCP close, not a TLS refusal: the cause says so (the pool may retry it).
                            SSLHandshakeException e = new SSLHandshakeException(server
                                    + " closed the connection during the TLS handshake");
                            e.initCause(new EOFException("end of stream from " + server + " during the TLS handshake"));
                            throw e;
                        }
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
    }

    /** @return what ALPN negotiated, or null for nothing (or a provider that cannot tell) */
    private String negotiatedApplicationProtocol() {
        try {
            String alpn = engine.getApplicationProtocol();
            return alpn == null || alpn.isEmpty() ? null : alpn;
        } catch (UnsupportedOperationException e) {
            return null;
        }
    }

    /** Called by the trust manager once the server's chain passed; the host name is checked here. */
    void serverChainVerified(X509Certificate[] chain) throws CertificateException {
        HostnameMatcher.verify(verifyName, chain[0]);
        chainVerified = true;
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

    /** After a failed handshake, the engine holds an alert; send it, within the handshake's deadline. */
    private void sendAlertQuietly() {
        try {
            engine.closeOutbound();
            wrap(EMPTY);
            while (netOut.hasRemaining()) {
                channel.write(netOut);
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.TRACE, () -> server + ": cannot send the TLS alert: " + e);
        }
    }

    // ---- exchange

    @Override
    int doRead(ByteBuffer dst, long timeoutNanos) throws IOException {
        ensureNetIn();
        long answer = timeoutNanos > 0 ? timeoutNanos : ANSWER_LATER;
        while (true) {
            if (appIn != null && appIn.hasRemaining()) {
                return transfer(appIn, dst);
            }
            if (inboundClosed) {
                return -1;
            }
            if (netIn.hasRemaining()) {
                int n = unwrapInto(dst, answer);
                if (n == 0) {
                    continue; // a post-handshake message: look at the next record
                }
                if (n != NEED_BYTES) {
                    return n;
                }
            }
            if (readChannel(true) < 0) {
                return endOfStream();
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
    private int unwrapInto(ByteBuffer dst, long answer) throws IOException {
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
        handlePostHandshake(r.getHandshakeStatus(), answer);
        int direct = dst.position() - before;
        if (direct > 0) {
            return direct;
        }
        return appIn != null && appIn.hasRemaining() ? transfer(appIn, dst) : 0;
    }

    /**
     * A KeyUpdate needs an answer, a TLS 1.2 renegotiation tasks and messages; a ticket needs
     * nothing. Tasks run on this thread: they are rare after the handshake. An answer needs the write
     * side: taken here if free (a read's own thread may hold it already), else left to the next write.
     *
     * @param answer how long to wait for the send buffer when writing an answer; {@link #ANSWER_NOW}
     *     to write without waiting (the channel is non-blocking: a liveness look), what cannot be
     *     written staying in {@code netOut} for the next write; {@link #ANSWER_LATER} to write nothing
     */
    private void handlePostHandshake(HandshakeStatus hs, long answer) throws IOException {
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
                    boolean own = !writeLock.isHeldByCurrentThread();
                    if (answer == ANSWER_LATER || own && !writeLock.tryLock()) {
                        return; // the engine keeps the answer; the next wrap sends it first
                    }
                    try {
                        SSLEngineResult r = wrap(EMPTY);
                        if (r.getStatus() == Status.BUFFER_OVERFLOW && !netOut.hasRemaining()) {
                            throw overflow(netOut);
                        }
                        hs = r.getHandshakeStatus();
                        if (answer > 0) {
                            writeFully(netOut, answer);
                        } else {
                            channel.write(netOut);
                            if (netOut.hasRemaining()) {
                                return;
                            }
                        }
                    } finally {
                        if (own) {
                            endWrite();
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
        return look(true);
    }

    @Override
    Liveness doBufferedLiveness() throws IOException {
        if (netIn != null && netIn.hasRemaining()) {
            return look(false); // records to decrypt first (perhaps only a session ticket); rare
        }
        if (appIn != null && appIn.hasRemaining()) {
            return Liveness.UNEXPECTED_DATA;
        }
        return inboundClosed ? Liveness.CLOSED_BY_PEER : Liveness.ALIVE;
    }

    /**
     * Decrypts what arrived on the idle connection, and with {@code readSocket} what the (now
     * non-blocking) socket holds.
     */
    private Liveness look(boolean readSocket) throws IOException {
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
                if (inboundClosed) {
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
                    handlePostHandshake(r.getHandshakeStatus(), readSocket ? ANSWER_NOW : ANSWER_LATER);
                    if (r.getStatus() != Status.BUFFER_UNDERFLOW) {
                        continue;
                    }
                }
                if (!readSocket) {
                    return Liveness.ALIVE;
                }
                int n = readChannel(false);
                if (n < 0) {
                    return Liveness.CLOSED_BY_PEER;
                }
                if (n == 0) {
                    return Liveness.ALIVE;
                }
            }
        } finally {
            if (!held) {
                releaseReadBuffers(true);
                if (readSocket) {
                    releaseWriteBuffers(true); // the write side is ours during a look at the socket
                }
            }
        }
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
        oneOut[0] = src;
        try {
            return engine.wrap(oneOut, 0, 1, netOut);
        } finally {
            oneOut[0] = null;
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
        oneIn[0] = dst;
        try {
            SSLEngineResult r = engine.unwrap(netIn, oneIn, 0, 1);
            if (r.getStatus() == Status.CLOSED) {
                inboundClosed = true;
            }
            return r;
        } finally {
            oneIn[0] = null;
        }
    }

    /**
     * Reads into {@code netIn}: blocking, under the read operation's deadline ({@link #channelRead}),
     * or once without waiting (a liveness look, with the channel non-blocking).
     *
     * @return bytes read into {@code netIn}; 0 if none were there (only without blocking); -1 at end
     *     of stream
     */
    private int readChannel(boolean blocking) throws IOException {
        netIn.compact();
        try {
            if (!netIn.hasRemaining()) {
                throw new SSLException(server + " sent a TLS record larger than " + netIn.capacity() + " bytes");
            }
            return blocking ? channelRead(netIn) : channel.read(netIn);
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
    void releaseReadBuffers(boolean onlyEmpty) {
        if (netIn != null && !(onlyEmpty && netIn.hasRemaining())) {
            buffers.give(netIn);
            netIn = null;
        }
        if (appIn != null && !(onlyEmpty && appIn.hasRemaining())) {
            buffers.give(appIn);
            appIn = null;
        }
    }

    @Override
    void releaseWriteBuffers(boolean onlyEmpty) {
        if (netOut != null && !(onlyEmpty && netOut.hasRemaining())) {
            buffers.give(netOut);
            netOut = null;
        }
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
    public String applicationProtocol() {
        return applicationProtocol;
    }

    @Override
    public String describe() {
        return description;
    }
}
