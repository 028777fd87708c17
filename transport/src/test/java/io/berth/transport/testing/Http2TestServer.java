package io.berth.transport.testing;

import io.berth.transport.http2.Http2ErrorCode;
import io.berth.transport.http2.Http2Exception;
import io.berth.transport.http2.Http2FrameReader;
import io.berth.transport.http2.Http2FrameWriter;
import io.berth.transport.http2.Http2Headers;
import io.berth.transport.http2.Http2Settings;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A scriptable HTTP/2 server at the frame level, on {@code 127.0.0.1}, port 0: TLS with ALPN
 * {@code h2} ({@link TestPki#SERVER}) or cleartext (prior knowledge). It does what no real server does
 * on purpose: SETTINGS late or never, a zero window, a CONTINUATION flood, GOAWAY with a last stream id
 * below streams in flight, REFUSED_STREAM or RST_STREAM with any code, PUSH_PROMISE, PING floods, a
 * lower MAX_CONCURRENT_STREAMS mid-connection, a connection that stops reading. It uses Berth's own
 * frame codec for its side ({@link Http2FrameReader} reads the client's frames, which begin with
 * SETTINGS as a server's do; {@link Http2FrameWriter} writes responses on the client's odd streams),
 * and raw bytes ({@link Peer#frame}) for what the codec would refuse to write.
 *
 * <p>Each accepted connection gets a {@link Peer} and runs the {@link Script} on its own thread; a
 * second thread per connection reads the client's frames: it checks the client preface, acknowledges
 * SETTINGS and PINGs and credits the client's DATA unless told not to
 * ({@link Peer#autoAckSettings}, {@link Peer#autoAckPings}, {@link Peer#autoCredit}), records every
 * frame ({@link Peer#frames()}, {@link Peer#awaitFrame}), and assembles requests
 * ({@link Peer#awaitRequest}). {@link #close()} closes every socket and waits for the threads.
 *
 * <p>Thread-safe. Shared with the pool's tests through the transport test-jar.
 */
public final class Http2TestServer implements AutoCloseable {
    /** What a server does with one request: {@link Peer#eachRequest}. */
    @FunctionalInterface
    public interface RequestHandler {
        /**
         * @param request the request the client completed
         * @throws Exception anything; ends the script
         */
        void handle(Request request) throws Exception;
    }

    /** What the server does on one connection, on that connection's script thread. */
    @FunctionalInterface
    public interface Script {
        /**
         * @param peer the server's side of the connection
         * @throws Exception anything; recorded in {@link #failures()} unless the server is closing or
         *     the client went away
         */
        void run(Peer peer) throws Exception;
    }

    /** How long the helpers wait for the client by default. */
    public static final Duration WAIT = Duration.ofSeconds(10);

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final ServerSocket listener;
    private final SSLContext tls;
    private final Script script;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final BlockingQueue<Peer> peers = new LinkedBlockingQueue<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile boolean closing;

    private Http2TestServer(SSLContext tls, Script script, int receiveBuffer) throws IOException {
        this.tls = tls;
        this.script = script;
        this.listener = new ServerSocket();
        if (receiveBuffer > 0) {
            listener.setReceiveBufferSize(receiveBuffer); // inherited by accepted sockets
        }
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        spawn("h2-test-server-accept-" + port(), this::acceptLoop);
    }

    /** @return a TLS server (ALPN {@code h2}, certificate {@link TestPki#SERVER}) running {@code script} per connection */
    public static Http2TestServer tls(Script script) throws IOException {
        return new Http2TestServer(TestPki.server().context(), script, 0);
    }

    /**
     * @param receiveBuffer the accepted sockets' SO_RCVBUF, small to make a client's writes block soon
     * @return a TLS server as {@link #tls(Script)}
     */
    public static Http2TestServer tls(Script script, int receiveBuffer) throws IOException {
        return new Http2TestServer(TestPki.server().context(), script, receiveBuffer);
    }

    /** @return a cleartext server (HTTP/2 by prior knowledge) running {@code script} per connection */
    public static Http2TestServer cleartext(Script script) throws IOException {
        return new Http2TestServer(null, script, 0);
    }

    /**
     * A script that serves like a plain server: SETTINGS with these parameters, then every request
     * answered {@code 200} with {@code body} (and {@code content-length}), one after another, until the
     * client goes away.
     *
     * @param body the response body
     * @param settings id, value, id, value... of the server's SETTINGS
     * @return the script
     */
    public static Script serving(String body, long... settings) {
        return peer -> {
            peer.settings(settings);
            peer.eachRequest(r -> peer.respond(r.streamId(), 200, body));
        };
    }

    /** @return the port on 127.0.0.1 */
    public int port() {
        return listener.getLocalPort();
    }

    /** @return how many connections were accepted */
    public int accepted() {
        return accepted.get();
    }

    /** @return what scripts and readers threw while the server was not closing */
    public List<Throwable> failures() {
        return failures;
    }

    /**
     * @param timeout how long to wait
     * @return the next accepted connection's peer, in the order of acceptance
     * @throws InterruptedException if interrupted
     * @throws AssertionError if none came in time
     */
    public Peer awaitPeer(Duration timeout) throws InterruptedException {
        Peer p = peers.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        if (p == null) {
            throw new AssertionError("no connection to the HTTP/2 test server in " + timeout);
        }
        return p;
    }

    private void acceptLoop() {
        while (!closing) {
            try {
                Socket s = listener.accept();
                s.setTcpNoDelay(true);
                sockets.add(s);
                accepted.incrementAndGet();
                spawn("h2-test-server-conn-" + s.getPort(), () -> serve(s));
            } catch (IOException e) {
                if (!closing) {
                    failures.add(e);
                }
                return;
            }
        }
    }

    private void serve(Socket raw) {
        Peer peer = null;
        try {
            Socket s = raw;
            if (tls != null) {
                SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(raw, null, true);
                ssl.setUseClientMode(false);
                SSLParameters p = ssl.getSSLParameters();
                p.setApplicationProtocols(new String[] {"h2"});
                ssl.setSSLParameters(p);
                ssl.startHandshake();
                sockets.add(ssl);
                s = ssl;
            }
            peer = new Peer(this, raw, s);
            peers.add(peer);
            Peer started = peer;
            spawn("h2-test-server-read-" + raw.getPort(), started::readLoop);
            script.run(peer);
        } catch (SocketException e) {
            // the client closed or reset the connection while the script wrote: its business
        } catch (Throwable t) {
            if (!closing && (peer == null || !peer.clientGone())) {
                failures.add(t);
            }
        }
    }

    private void spawn(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    @Override
    public void close() throws IOException {
        closing = true;
        listener.close();
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        for (Thread t : threads) {
            t.interrupt();
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while stopping " + t.getName());
            }
        }
    }

    // =============================================================================================

    /**
     * A frame the client sent, decoded.
     *
     * @param type the frame type (0 DATA, 1 HEADERS, 3 RST_STREAM, 4 SETTINGS, 6 PING, 7 GOAWAY, 8 WINDOW_UPDATE)
     * @param streamId the stream, 0 for the connection
     * @param endStream END_STREAM (DATA, HEADERS) or ACK (SETTINGS, PING)
     * @param headers the decoded header block of a HEADERS frame, else null
     * @param data a DATA frame's payload, or a GOAWAY's debug data, else empty
     * @param value a RST_STREAM's or GOAWAY's error code, a WINDOW_UPDATE's increment, a PING's payload
     * @param lastStreamId a GOAWAY's last stream id
     * @param settings a SETTINGS frame's parameters (id to value), else null
     */
    public record Frame(int type, int streamId, boolean endStream, Http2Headers headers, byte[] data, long value,
            int lastStreamId, Map<Integer, Long> settings) {
        public static final int DATA = 0x0;
        public static final int HEADERS = 0x1;
        public static final int RST_STREAM = 0x3;
        public static final int SETTINGS = 0x4;
        public static final int PUSH_PROMISE = 0x5;
        public static final int PING = 0x6;
        public static final int GOAWAY = 0x7;
        public static final int WINDOW_UPDATE = 0x8;
        public static final int CONTINUATION = 0x9;

        @Override
        public String toString() {
            return "Frame[type " + type + ", stream " + streamId + (endStream ? ", END" : "")
                    + (headers != null ? ", " + headers.toString().replace('\n', ';') : "")
                    + (data.length > 0 ? ", " + data.length + " bytes" : "") + ", value " + value
                    + (settings != null ? ", " + settings : "") + "]";
        }
    }

    /**
     * A request the client sent: its head and whole body.
     *
     * @param streamId its stream
     * @param headers its head
     * @param body its body
     */
    public record Request(int streamId, Http2Headers headers, byte[] body) {
        /** @return the body as ISO-8859-1 text */
        public String bodyText() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }
    }

    /**
     * The server's side of one connection. Writes are serialized by a lock (the script and the reader's
     * automatic answers write concurrently).
     */
    public static final class Peer {
        private final Http2TestServer server;
        private final Socket raw;
        private final InputStream in;
        private final OutputStream out;
        private final ReentrantLock writeLock = new ReentrantLock();
        private final Http2FrameWriter writer = new Http2FrameWriter();
        private final ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
        private final List<Frame> log = new CopyOnWriteArrayList<>();
        private final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();
        private final BlockingQueue<Request> requests = new LinkedBlockingQueue<>();
        private final Map<Integer, Request> partial = new HashMap<>();
        private final Map<Integer, ByteArrayOutputStream> bodies = new HashMap<>();
        private final ReentrantLock pause = new ReentrantLock();
        private final Condition resumed = pause.newCondition();
        private boolean paused;
        private volatile boolean autoAckSettings = true;
        private volatile boolean autoAckPings = true;
        private volatile boolean autoCredit = true;
        private volatile boolean closeWhenClientCloses = true;
        private volatile boolean gone;
        private volatile boolean clientClosed;
        private volatile Throwable readFailure;
        private final ByteArrayOutputStream dataFrame = new ByteArrayOutputStream();
        private final Http2FrameReader reader = new Http2FrameReader(new Handler());
        /** The header table sizes our SETTINGS announced, not yet acknowledged: applied to our decoder on the ACK. */
        private final BlockingQueue<Long> tableSizes = new LinkedBlockingQueue<>();
        /** Guarded by writeLock: whether the server's SETTINGS (its preface) went out. */
        private boolean prefaceSent;
        /** Guarded by writeLock: automatic answers held until the preface went out. */
        private final List<IoAction> afterPreface = new ArrayList<>();

        private Peer(Http2TestServer server, Socket raw, Socket s) throws IOException {
            this.server = server;
            this.raw = raw;
            this.in = s.getInputStream();
            this.out = s.getOutputStream();
        }

        // ---- settings of the automatic answers

        /** @param on whether the reader acknowledges the client's SETTINGS (default true) */
        public Peer autoAckSettings(boolean on) {
            autoAckSettings = on;
            return this;
        }

        /** @param on whether the reader answers the client's PINGs (default true) */
        public Peer autoAckPings(boolean on) {
            autoAckPings = on;
            return this;
        }

        /** @param on whether the reader credits the client's DATA at once, stream and connection (default true) */
        public Peer autoCredit(boolean on) {
            autoCredit = on;
            return this;
        }

        /**
         * @param on whether the server closes its side once the client closed its own (default true, as
         *     real servers do); off, the connection stays half-open until the test ends
         */
        public Peer closeWhenClientCloses(boolean on) {
            closeWhenClientCloses = on;
            return this;
        }

        /** Stops reading the socket (after the read under way, if any): the client's writes back up. */
        public void stopReading() {
            pause.lock();
            try {
                paused = true;
            } finally {
                pause.unlock();
            }
        }

        /** Reads again after {@link #stopReading()}. */
        public void resumeReading() {
            pause.lock();
            try {
                paused = false;
                resumed.signalAll();
            } finally {
                pause.unlock();
            }
        }

        // ---- what the client sent

        /** @return every frame received so far, in order */
        public List<Frame> frames() {
            return new ArrayList<>(log);
        }

        /**
         * @param which what to wait for
         * @param timeout how long
         * @return the next received frame that matches, skipping (but logging) others
         * @throws AssertionError if none came in time, or the client went away first
         */
        public Frame awaitFrame(Predicate<Frame> which, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                long left = deadline - System.nanoTime();
                Frame f = frames.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
                if (f == null) {
                    throw new AssertionError("no matching frame from the client in " + timeout
                            + (gone ? " (the client went away)" : "") + "; received " + log);
                }
                if (which.test(f)) {
                    return f;
                }
            }
        }

        /** @return the next frame of this type, as {@link #awaitFrame} with {@link #WAIT} */
        public Frame awaitFrame(int type) throws InterruptedException {
            return awaitFrame(f -> f.type() == type, WAIT);
        }

        /**
         * Hands every request the client completes to {@code handler}, one after another, until the
         * client goes away (each awaited for at most a minute).
         *
         * @param handler what the server does with a request
         * @throws Exception what the handler threw
         */
        public void eachRequest(RequestHandler handler) throws Exception {
            for (Request r = awaitRequest(Duration.ofMinutes(1)); r != null; r = awaitRequest(Duration.ofMinutes(1))) {
                handler.handle(r);
            }
        }

        /**
         * @param timeout how long to wait
         * @return the next request the client completed (END_STREAM), or {@code null} if the client
         *     went away first
         * @throws AssertionError if none came in time
         */
        public Request awaitRequest(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                Request r = requests.poll(Math.min(50, Math.max(0, deadline - System.nanoTime()) / 1_000_000),
                        TimeUnit.MILLISECONDS);
                if (r != null) {
                    return r;
                }
                if (gone) {
                    return requests.poll();
                }
                if (deadline - System.nanoTime() <= 0) {
                    throw new AssertionError("no request from the client in " + timeout + "; received " + log);
                }
            }
        }

        /** @return the next complete request, waiting {@link #WAIT} */
        public Request awaitRequest() throws InterruptedException {
            Request r = awaitRequest(WAIT);
            if (r == null) {
                throw new AssertionError("the client went away before its request; received " + log);
            }
            return r;
        }

        /**
         * Waits until the client went away (or the server closes), consuming nothing: a script that leaves
         * the conversation to the test.
         */
        public void awaitClientGone(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!gone && !server.closing && System.nanoTime() - deadline < 0) {
                Thread.sleep(10);
            }
        }

        /** @return whether the client closed or reset the connection (the reader saw its end) */
        public boolean clientGone() {
            return gone;
        }

        /** @return whether the client closed the connection gracefully (the reader saw its end of stream) */
        public boolean clientClosed() {
            return clientClosed;
        }

        /** @return what ended the reader other than the client's close, or null */
        public Throwable readFailure() {
            return readFailure;
        }

        // ---- writing

        /**
         * Sends a SETTINGS frame.
         *
         * @param idsAndValues id, value, id, value...
         */
        public void settings(long... idsAndValues) throws IOException {
            Http2Settings s = new Http2Settings();
            for (int i = 0; i < idsAndValues.length; i += 2) {
                s.set((int) idsAndValues[i], idsAndValues[i + 1]);
            }
            tableSizes.add(s.get(Http2Settings.HEADER_TABLE_SIZE, -1));
            writeLock.lock();
            try {
                write(b -> writer.writeSettings(b, s));
                prefaceWritten();
            } finally {
                writeLock.unlock();
            }
        }

        /** Sends a SETTINGS acknowledgement. */
        public void ackSettings() throws IOException {
            write(writer::writeSettingsAck);
        }

        /** Sends a header block on a client stream (HEADERS and CONTINUATIONs, HPACK-encoded). */
        public void headers(int streamId, Http2Headers headers, boolean endStream) throws IOException {
            write(b -> writer.writeHeaders(b, streamId, headers, endStream));
        }

        /** Sends DATA frames (unpadded, split at 16 KiB), regardless of the client's windows. */
        public void data(int streamId, byte[] bytes, boolean endStream) throws IOException {
            if (bytes.length == 0) {
                frame(Frame.DATA, endStream ? 0x1 : 0, streamId, bytes); // the writer writes no empty frame without END_STREAM
                return;
            }
            ByteBuffer src = ByteBuffer.wrap(bytes);
            writeLock.lock();
            try {
                boolean done;
                do {
                    buffer.clear();
                    done = writer.writeData(buffer, streamId, src, endStream);
                    out.write(buffer.array(), 0, buffer.position());
                } while (!done);
                out.flush();
            } finally {
                writeLock.unlock();
            }
        }

        /** Sends a response: {@code :status}, {@code content-length}, then the body if not empty. */
        public void respond(int streamId, int status, String body) throws IOException {
            byte[] bytes = body.getBytes(StandardCharsets.ISO_8859_1);
            headers(streamId, Http2Headers.of(":status", String.valueOf(status), "content-length",
                    String.valueOf(bytes.length)), bytes.length == 0);
            if (bytes.length > 0) {
                data(streamId, bytes, true);
            }
        }

        /**
         * Sends a small response in one write, as one TLS record: HEADERS ({@code :status},
         * {@code content-length}, {@code extra} name-value pairs) and, for a body, one DATA frame with
         * END_STREAM. A client reads both frames at once.
         */
        public void respondInOneWrite(int streamId, int status, String body, String... extra) throws IOException {
            byte[] bytes = body.getBytes(StandardCharsets.ISO_8859_1);
            if (bytes.length > 16 * 1024) {
                throw new IllegalArgumentException("one frame's body at most: " + bytes.length);
            }
            String[] fields = new String[4 + extra.length];
            fields[0] = ":status";
            fields[1] = String.valueOf(status);
            fields[2] = "content-length";
            fields[3] = String.valueOf(bytes.length);
            System.arraycopy(extra, 0, fields, 4, extra.length);
            write(b -> {
                writer.writeHeaders(b, streamId, Http2Headers.of(fields), bytes.length == 0);
                if (bytes.length > 0) {
                    writer.writeData(b, streamId, ByteBuffer.wrap(bytes), true);
                }
            });
        }

        /** Sends RST_STREAM with any code. */
        public void rst(int streamId, int errorCode) throws IOException {
            frame(Frame.RST_STREAM, 0, streamId, int32(errorCode));
        }

        /** Sends GOAWAY. */
        public void goAway(int lastStreamId, int errorCode, String debug) throws IOException {
            byte[] d = debug.getBytes(StandardCharsets.ISO_8859_1);
            byte[] p = new byte[8 + d.length];
            System.arraycopy(int32(lastStreamId), 0, p, 0, 4);
            System.arraycopy(int32(errorCode), 0, p, 4, 4);
            System.arraycopy(d, 0, p, 8, d.length);
            frame(Frame.GOAWAY, 0, 0, p);
        }

        /** Sends PING (or its ACK). */
        public void ping(long payload, boolean ack) throws IOException {
            write(b -> writer.writePing(b, payload, ack));
        }

        /** Sends WINDOW_UPDATE. */
        public void windowUpdate(int streamId, int increment) throws IOException {
            frame(Frame.WINDOW_UPDATE, 0, streamId, int32(increment));
        }

        /** Sends any frame, as raw bytes: type, flags, stream, payload. */
        public void frame(int type, int flags, int streamId, byte[] payload) throws IOException {
            byte[] f = new byte[9 + payload.length];
            f[0] = (byte) (payload.length >>> 16);
            f[1] = (byte) (payload.length >>> 8);
            f[2] = (byte) payload.length;
            f[3] = (byte) type;
            f[4] = (byte) flags;
            System.arraycopy(int32(streamId), 0, f, 5, 4);
            System.arraycopy(payload, 0, f, 9, payload.length);
            writeLock.lock();
            try {
                raw(f);
                if (type == Frame.SETTINGS && flags == 0) {
                    prefaceWritten();
                }
            } finally {
                writeLock.unlock();
            }
        }

        /** Writes raw bytes. */
        public void raw(byte[] bytes) throws IOException {
            writeLock.lock();
            try {
                out.write(bytes);
                out.flush();
            } finally {
                writeLock.unlock();
            }
        }

        /** Closes the connection (TLS close_notify, then FIN). */
        public void close() throws IOException {
            out.close();
        }

        /** Resets the connection (RST). */
        public void reset() throws IOException {
            raw.setSoLinger(true, 0);
            raw.close();
        }

        private interface FrameWrite {
            void write(ByteBuffer b);
        }

        private void write(FrameWrite w) throws IOException {
            writeLock.lock();
            try {
                buffer.clear();
                w.write(buffer);
                out.write(buffer.array(), 0, buffer.position());
                out.flush();
            } finally {
                writeLock.unlock();
            }
        }

        private static byte[] int32(long v) {
            return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
        }

        // ---- the reader

        private void readLoop() {
            reader.setMaxFrameSize(Http2Settings.MAX_MAX_FRAME_SIZE);
            byte[] b = new byte[64 * 1024];
            try {
                byte[] preface = in.readNBytes(PREFACE.length);
                if (!Arrays.equals(preface, PREFACE)) {
                    throw new IOException("the client preface is wrong: " + new String(preface, StandardCharsets.ISO_8859_1));
                }
                while (true) {
                    awaitResumed();
                    int n = in.read(b);
                    if (n < 0) {
                        break;
                    }
                    reader.read(ByteBuffer.wrap(b, 0, n));
                }
                clientClosed = true;
                if (closeWhenClientCloses) {
                    close();
                }
            } catch (SocketException | EOFException e) {
                // the client (or the test) closed or reset the connection
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable t) {
                readFailure = t;
                if (!server.closing) {
                    server.failures.add(t);
                }
            } finally {
                gone = true;
            }
        }

        private interface IoAction {
            void run() throws IOException;
        }

        /** With writeLock held. */
        private void prefaceWritten() throws IOException {
            if (!prefaceSent) {
                prefaceSent = true;
                for (IoAction a : afterPreface) {
                    a.run();
                }
                afterPreface.clear();
            }
        }

        /** An automatic answer: never before the server's SETTINGS, which must be its first frame. */
        private void auto(IoAction a) {
            writeLock.lock();
            try {
                if (prefaceSent) {
                    a.run();
                } else {
                    afterPreface.add(a);
                }
            } catch (IOException e) {
                // the client went away
            } finally {
                writeLock.unlock();
            }
        }

        private void awaitResumed() throws InterruptedException {
            pause.lock();
            try {
                while (paused) {
                    resumed.await();
                }
            } finally {
                pause.unlock();
            }
        }

        private void record(Frame f) {
            log.add(f);
            frames.add(f);
        }

        private static Frame frame(int type, int streamId, boolean end, long value) {
            return new Frame(type, streamId, end, null, new byte[0], value, 0, null);
        }

        private final class Handler implements Http2FrameReader.Handler {
            @Override
            public void onData(int streamId, ByteBuffer data, int flowControlled, boolean endOfFrame,
                    boolean endStream) {
                byte[] bytes = new byte[data.remaining()];
                data.get(bytes);
                dataFrame.writeBytes(bytes);
                bodies.computeIfAbsent(streamId, k -> new ByteArrayOutputStream()).writeBytes(bytes);
                if (flowControlled > 0) {
                    auto(() -> {
                        if (!autoCredit) {
                            return;
                        }
                        windowUpdate(0, flowControlled);
                        if (!endStream) {
                            windowUpdate(streamId, flowControlled);
                        }
                    });
                }
                if (endOfFrame) {
                    record(new Frame(Frame.DATA, streamId, endStream, null, dataFrame.toByteArray(), 0, 0, null));
                    dataFrame.reset();
                    if (endStream) {
                        complete(streamId);
                    }
                }
            }

            @Override
            public void onHeaders(int streamId, Http2Headers headers, boolean endStream) {
                record(new Frame(Frame.HEADERS, streamId, endStream, headers, new byte[0], 0, 0, null));
                partial.put(streamId, new Request(streamId, headers, new byte[0]));
                bodies.put(streamId, new ByteArrayOutputStream());
                if (endStream) {
                    complete(streamId);
                }
            }

            private void complete(int streamId) {
                Request r = partial.remove(streamId);
                ByteArrayOutputStream body = bodies.remove(streamId);
                if (r != null) {
                    requests.add(new Request(streamId, r.headers(), body == null ? new byte[0] : body.toByteArray()));
                }
            }

            @Override
            public void onRstStream(int streamId, int errorCode) {
                partial.remove(streamId);
                bodies.remove(streamId);
                record(frame(Frame.RST_STREAM, streamId, false, errorCode));
            }

            @Override
            public void onSettings(Http2Settings settings) {
                Map<Integer, Long> m = new HashMap<>();
                for (int id = 1; id <= 6; id++) {
                    if (settings.has(id)) {
                        m.put(id, settings.get(id, 0));
                    }
                }
                record(new Frame(Frame.SETTINGS, 0, false, null, new byte[0], 0, 0, m));
                auto(() -> {
                    if (autoAckSettings) {
                        ackSettings();
                    }
                });
            }

            @Override
            public void onSettingsAck() {
                Long table = tableSizes.poll();
                if (table != null && table >= 0) {
                    reader.setHeaderTableSizeLimit(table); // as a server must, once the client acknowledged it
                }
                record(frame(Frame.SETTINGS, 0, true, 0));
            }

            @Override
            public void onPing(long payload, boolean ack) {
                record(frame(Frame.PING, 0, ack, payload));
                if (!ack) {
                    auto(() -> {
                        if (autoAckPings) {
                            ping(payload, true);
                        }
                    });
                }
            }

            @Override
            public void onGoAway(int lastStreamId, int errorCode, ByteBuffer debugData) {
                byte[] d = new byte[debugData.remaining()];
                debugData.get(d);
                record(new Frame(Frame.GOAWAY, 0, false, null, d, errorCode, lastStreamId, null));
            }

            @Override
            public void onWindowUpdate(int streamId, int increment) {
                record(frame(Frame.WINDOW_UPDATE, streamId, false, increment));
            }

            @Override
            public void onStreamError(Http2Exception error) throws Http2Exception {
                throw Http2Exception.connectionError(Http2ErrorCode.PROTOCOL_ERROR, "the test server got a stream"
                        + " error from the client: " + error);
            }
        }
    }
}
