package io.berth.probe;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToIntFunction;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIMatcher;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.StandardConstants;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;

/**
 * The probe's own TLS backend on 127.0.0.1: an HTTP/1.1 keep-alive server that also speaks HTTP/2
 * where a client chooses it through ALPN ({@code h2} preferred, then {@code http/1.1}; see
 * {@link Http2Serving}), a thread per connection, answering every request with the same small
 * response, that counts its connections, the requests (streams) on each and how each one ended. It
 * is the cross-check of the pool's own table. A backend started with {@code h2} off offers
 * {@code http/1.1} alone, as a server that does not speak HTTP/2.
 *
 * <p>Its certificates are made at start (okhttp-tls {@link HeldCertificate}, ECDSA P-256): a CA, and
 * a leaf for {@code localhost} and {@code 127.0.0.1} signed by it. Clients trust {@link #ca()}.
 *
 * <p>TLS runs over a plain {@link ServerSocket}'s sockets, layered with
 * {@code SSLSocketFactory.createSocket(socket, null, true)} in server mode, rather than on an
 * {@code SSLServerSocket}, so that the server can tell how a client ended a connection. The JDK's TLS
 * socket reports end of stream alike for a close_notify and for a bare TCP FIN (JDK 17 does not fail
 * on the latter), so the server watches the TCP socket under it: its accepted sockets note when the
 * TLS layer read TCP end of stream. End of stream from the TLS layer without that is a close_notify;
 * the server then reads the TCP socket itself (the TLS layer reads records exactly and has consumed
 * nothing after the alert) to see whether a FIN, a reset or nothing followed.
 *
 * <p>Requests may carry a {@code Content-Length} body (read and discarded); {@code Transfer-Encoding}
 * is answered with 501 and a close. {@code Connection: close} and HTTP/1.0 requests are answered and
 * then closed by the server. The server never closes an idle connection by itself: what the client
 * does is what the counts show.
 *
 * <p>Thread-safe.
 */
final class EmbeddedBackend implements AutoCloseable {
    /** How a connection ended, as the server saw it. */
    enum Ending {
        /** The client sent a TLS close_notify, then a TCP FIN: a graceful close. */
        CLOSE_NOTIFY_FIN("close_notify+FIN"),
        /** The client sent a close_notify, then reset the TCP connection. */
        CLOSE_NOTIFY_RESET("close_notify+RST"),
        /** The client sent a close_notify but no FIN followed within {@link #FIN_WAIT}. */
        CLOSE_NOTIFY_ONLY("close_notify, no FIN seen"),
        /** The client sent a FIN without a close_notify (a truncation as far as TLS can tell). */
        FIN_WITHOUT_CLOSE_NOTIFY("FIN without close_notify"),
        /** The client reset the connection (TCP RST) without a close_notify. */
        RESET("reset"),
        /** The TLS handshake failed (e.g. the client did not trust the certificate). */
        HANDSHAKE_FAILED("TLS handshake failed"),
        /**
         * The server closed it after a request it does not keep alive for (Connection: close, HTTP/1.0, bad
         * request), or after GOAWAY for an HTTP/2 protocol error.
         */
        SERVER_CLOSED("closed by the server"),
        /** Still open when the server stopped. */
        STILL_OPEN("still open");

        final String label;

        Ending(String label) {
            this.label = label;
        }
    }

    /** How long the server waits for the FIN after a close_notify. */
    static final Duration FIN_WAIT = Duration.ofSeconds(2);
    private static final int MAX_HEAD = 64 * 1024;
    private static final int MAX_BODY = 16 * 1024 * 1024;
    private static final byte[] BODY = "berth probe: ok\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] RESPONSE = response(200, "OK", BODY, false);

    private final HeldCertificate ca;
    private final SSLContext tls;
    /** The ALPN protocols offered, in order of preference. */
    private final String[] alpn;
    private final ServerSocket serverSocket;
    private final Thread acceptor;
    private final AtomicInteger ids = new AtomicInteger();
    private final List<Conn> connections = new ArrayList<>();
    /** The connection threads still running. */
    private final Set<Thread> threads = new HashSet<>();
    private final List<Throwable> failures = new ArrayList<>();
    private volatile boolean stopping;

    private EmbeddedBackend(HeldCertificate ca, HeldCertificate leaf, boolean h2) throws IOException {
        this.ca = ca;
        this.alpn = h2 ? new String[] {"h2", "http/1.1"} : new String[] {"http/1.1"};
        this.tls = new HandshakeCertificates.Builder().heldCertificate(leaf, ca.certificate()).build().sslContext();
        this.serverSocket = new ObservingServerSocket();
        try {
            serverSocket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
        } catch (IOException e) {
            serverSocket.close();
            throw e;
        }
        this.acceptor = new Thread(this::acceptLoop, "berth-probe-backend-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /**
     * Generates a CA and a leaf for {@code localhost} and {@code 127.0.0.1}, and starts serving
     * HTTP/2 and HTTP/1.1.
     *
     * @return the running backend; close it
     * @throws IOException if it cannot listen on 127.0.0.1
     */
    static EmbeddedBackend start() throws IOException {
        HeldCertificate ca = new HeldCertificate.Builder()
                .certificateAuthority(0).commonName("Berth probe CA (generated)").ecdsa256().build();
        HeldCertificate leaf = new HeldCertificate.Builder()
                .signedBy(ca).ecdsa256().commonName("localhost")
                .addSubjectAlternativeName("localhost").addSubjectAlternativeName("127.0.0.1")
                .build();
        return start(ca, leaf);
    }

    /**
     * Starts serving HTTP/2 and HTTP/1.1 with given certificates (tests use wrong-host or expired leaves).
     *
     * @param ca the CA that signed {@code leaf}; sent in the chain
     * @param leaf the server's certificate and key
     * @return the running backend; close it
     * @throws IOException if it cannot listen on 127.0.0.1
     */
    static EmbeddedBackend start(HeldCertificate ca, HeldCertificate leaf) throws IOException {
        return start(ca, leaf, true);
    }

    /**
     * Starts serving with given certificates.
     *
     * @param ca the CA that signed {@code leaf}; sent in the chain
     * @param leaf the server's certificate and key
     * @param h2 whether {@code h2} is offered through ALPN (before {@code http/1.1}); without it the
     *     server offers {@code http/1.1} alone
     * @return the running backend; close it
     * @throws IOException if it cannot listen on 127.0.0.1
     */
    static EmbeddedBackend start(HeldCertificate ca, HeldCertificate leaf, boolean h2) throws IOException {
        return new EmbeddedBackend(ca, leaf, h2);
    }

    /** @return the port it listens on, on 127.0.0.1 */
    int port() {
        return serverSocket.getLocalPort();
    }

    /** @return the CA certificate clients should trust */
    X509Certificate ca() {
        return ca.certificate();
    }

    /** @return the CA certificate in PEM */
    String caPem() {
        return ca.certificatePem();
    }

    /** @return what the server saw so far, one row per accepted connection */
    Snapshot snapshot() {
        synchronized (connections) {
            List<ConnectionRecord> rows = new ArrayList<>(connections.size());
            for (Conn c : connections) {
                rows.add(c.record());
            }
            return new Snapshot(rows, List.copyOf(failures));
        }
    }

    /**
     * Waits until every accepted connection has ended.
     *
     * @param timeout how long to wait at most
     * @return whether all had ended in time
     * @throws InterruptedException if interrupted
     */
    boolean awaitAllEnded(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean open = false;
            synchronized (connections) {
                for (Conn c : connections) {
                    open |= c.ending == null;
                }
            }
            if (!open) {
                return true;
            }
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            Thread.sleep(5);
        }
    }

    /** Stops accepting, closes the connections still open (recorded as still open) and joins its threads. */
    @Override
    public void close() {
        stopping = true;
        try {
            serverSocket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        List<Thread> toJoin;
        synchronized (connections) {
            for (Conn c : connections) {
                if (c.ending == null) {
                    c.ending = Ending.STILL_OPEN;
                }
                closeQuietly(c.raw);
            }
            toJoin = new ArrayList<>(threads);
        }
        toJoin.add(acceptor);
        for (Thread t : toJoin) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void acceptLoop() {
        while (!stopping) {
            Socket raw;
            try {
                raw = serverSocket.accept();
            } catch (IOException e) {
                if (!stopping) {
                    failed(e);
                }
                return;
            }
            Conn c = new Conn(ids.incrementAndGet(), (ObservedSocket) raw);
            Thread t = new Thread(() -> serve(c), "berth-probe-backend-conn-" + c.id);
            t.setDaemon(true);
            synchronized (connections) {
                if (stopping) {
                    closeQuietly(raw);
                    return;
                }
                connections.add(c);
                threads.add(t);
            }
            t.start();
        }
    }

    private void serve(Conn c) {
        try {
            c.raw.setTcpNoDelay(true);
            c.raw.setSoTimeout(10_000);
            SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(c.raw, null, true);
            SSLParameters params = ssl.getSSLParameters();
            params.setSNIMatchers(List.of(new SNIMatcher(StandardConstants.SNI_HOST_NAME) {
                @Override
                public boolean matches(SNIServerName name) {
                    c.sni = name instanceof SNIHostName h ? h.getAsciiName() : name.toString();
                    return true;
                }
            }));
            params.setApplicationProtocols(alpn);
            ssl.setSSLParameters(params);
            try {
                ssl.startHandshake();
            } catch (IOException e) {
                end(c, Ending.HANDSHAKE_FAILED);
                return;
            }
            c.protocol = ssl.getSession().getProtocol();
            String chosen = ssl.getApplicationProtocol();
            c.alpn = chosen == null || chosen.isEmpty() ? null : chosen;
            if ("h2".equals(c.alpn)) {
                http2(c, ssl);
            } else {
                exchanges(c, ssl);
            }
        } catch (IOException | RuntimeException e) {
            if (!stopping) {
                failed(e);
            }
            end(c, stopping ? Ending.STILL_OPEN : Ending.RESET);
        } finally {
            closeQuietly(c.raw);
            synchronized (connections) {
                threads.remove(Thread.currentThread());
            }
        }
    }

    private void exchanges(Conn c, SSLSocket ssl) throws IOException {
        InputStream in = new BufferedInputStream(ssl.getInputStream(), 8192);
        OutputStream out = ssl.getOutputStream();
        while (true) {
            c.raw.setSoTimeout(0); // idle: the server never closes first
            Request request;
            try {
                request = readRequest(in, c);
            } catch (SocketTimeoutException e) {
                end(c, Ending.SERVER_CLOSED); // a request stalled half-way
                return;
            } catch (SocketException | SSLException e) {
                end(c, failedRead(e));
                return;
            } catch (EOFException e) {
                request = null; // the stream ended in the middle of a request: the same question as below
            } catch (BadRequest e) {
                out.write(response(e.status, e.reason, (e.getMessage() + "\n").getBytes(StandardCharsets.US_ASCII),
                        true));
                out.flush();
                end(c, Ending.SERVER_CLOSED);
                ssl.close();
                return;
            }
            if (request == null) {
                end(c, endOfStream(c));
                return;
            }
            c.requests.incrementAndGet();
            if (request.keepAlive) {
                out.write(RESPONSE);
                out.flush();
            } else {
                out.write(response(200, "OK", BODY, true));
                out.flush();
                end(c, Ending.SERVER_CLOSED);
                ssl.close();
                return;
            }
        }
    }

    private void http2(Conn c, SSLSocket ssl) throws IOException {
        c.raw.setSoTimeout(0); // the server never closes first
        String problem;
        try {
            problem = new Http2Serving(new BufferedInputStream(ssl.getInputStream(), 16 * 1024),
                    new BufferedOutputStream(ssl.getOutputStream(), 16 * 1024), BODY, c).serve();
        } catch (SocketException | SSLException e) {
            end(c, failedRead(e));
            return;
        } catch (EOFException e) {
            problem = null; // the stream ended inside a frame: how, the TCP socket tells, as below
        }
        if (problem != null) {
            c.protocolError = problem;
            end(c, Ending.SERVER_CLOSED);
            ssl.close();
            return;
        }
        end(c, endOfStream(c));
    }

    /** @return how a failed read ended a connection: reset, or a TLS failure's way (still open once stopping) */
    private Ending failedRead(IOException e) {
        if (stopping) {
            return Ending.STILL_OPEN;
        }
        return e instanceof SSLException ssl ? endingOf(ssl) : Ending.RESET;
    }

    /** @return how the client ended its stream of bytes: a FIN under TLS, or a close_notify and what followed */
    private Ending endOfStream(Conn c) {
        return c.raw.endOfStreamRead ? Ending.FIN_WITHOUT_CLOSE_NOTIFY : afterCloseNotify(c.raw);
    }

    /** A close_notify arrived: what does the TCP connection under it do next? */
    private Ending afterCloseNotify(Socket raw) {
        try {
            raw.setSoTimeout((int) FIN_WAIT.toMillis());
            int b = raw.getInputStream().read();
            return b < 0 ? Ending.CLOSE_NOTIFY_FIN : Ending.CLOSE_NOTIFY_ONLY;
        } catch (SocketTimeoutException e) {
            return Ending.CLOSE_NOTIFY_ONLY;
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
            return m.contains("reset") ? Ending.CLOSE_NOTIFY_RESET : Ending.CLOSE_NOTIFY_ONLY;
        }
    }

    /** A TLS read failed: a FIN without close_notify may show as an EOFException in the cause chain. */
    private static Ending endingOf(SSLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof EOFException) {
                return Ending.FIN_WITHOUT_CLOSE_NOTIFY;
            }
            if (t instanceof SocketException) {
                return Ending.RESET;
            }
        }
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        return m.contains("shut down incorrectly") || m.contains("end of stream") ? Ending.FIN_WITHOUT_CLOSE_NOTIFY
                : Ending.RESET;
    }

    /**
     * Reads one request.
     *
     * @return the request, or {@code null} if the stream ended (close_notify) before its first byte
     */
    private static Request readRequest(InputStream in, Conn c) throws IOException, BadRequest {
        ByteArrayOutputStream head = new ByteArrayOutputStream(256);
        int last4 = 0;
        while (last4 != 0x0D0A0D0A) {
            int b = in.read();
            if (b < 0) {
                if (head.size() == 0) {
                    return null;
                }
                throw new EOFException("the request head ended early");
            }
            if (head.size() == 0) {
                c.raw.setSoTimeout(30_000); // a request started: it must not stall
            }
            head.write(b);
            if (head.size() > MAX_HEAD) {
                throw new BadRequest(431, "Request Header Fields Too Large", "request head over " + MAX_HEAD + " bytes");
            }
            last4 = (last4 << 8) | b;
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        String[] start = lines[0].split(" ", -1);
        if (start.length != 3 || !start[2].startsWith("HTTP/1.")) {
            throw new BadRequest(400, "Bad Request", "malformed request line");
        }
        boolean keepAlive = start[2].equals("HTTP/1.1");
        long length = 0;
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new BadRequest(400, "Bad Request", "malformed header line");
            }
            String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> {
                    try {
                        length = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        length = -1;
                    }
                    if (length < 0 || length > MAX_BODY) {
                        throw new BadRequest(400, "Bad Request", "bad or too large Content-Length");
                    }
                }
                case "transfer-encoding" -> throw new BadRequest(501, "Not Implemented",
                        "this backend reads Content-Length bodies only");
                case "connection" -> {
                    String v = value.toLowerCase(Locale.ROOT);
                    if (v.contains("close")) {
                        keepAlive = false;
                    } else if (v.contains("keep-alive")) {
                        keepAlive = true;
                    }
                }
                default -> {
                    // ignored
                }
            }
        }
        for (long left = length; left > 0; ) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new EOFException("the request body ended early");
                }
                skipped = 1;
            }
            left -= skipped;
        }
        return new Request(keepAlive);
    }

    private static byte[] response(int status, String reason, byte[] body, boolean close) {
        String head = "HTTP/1.1 " + status + " " + reason + "\r\n"
                + "Content-Type: text/plain\r\n"
                + "Content-Length: " + body.length + "\r\n"
                + (close ? "Connection: close\r\n" : "")
                + "\r\n";
        byte[] h = head.getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
    }

    private void end(Conn c, Ending ending) {
        synchronized (connections) {
            if (c.ending == null) {
                c.ending = ending;
            }
        }
    }

    private void failed(Throwable t) {
        synchronized (connections) {
            if (failures.size() < 20) {
                failures.add(t);
            }
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing more to do
        }
    }

    private record Request(boolean keepAlive) {
    }

    private static final class BadRequest extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;
        final String reason;

        BadRequest(int status, String reason, String message) {
            super(message);
            this.status = status;
            this.reason = reason;
        }
    }

    /** Accepts {@link ObservedSocket}s. */
    private static final class ObservingServerSocket extends ServerSocket {
        ObservingServerSocket() throws IOException {
            super();
        }

        @Override
        public Socket accept() throws IOException {
            ObservedSocket s = new ObservedSocket();
            implAccept(s);
            return s;
        }
    }

    /** A TCP socket that notes when its reader (the TLS layer) got end of stream: the client's FIN. */
    private static final class ObservedSocket extends Socket {
        volatile boolean endOfStreamRead;
        private InputStream in;

        @Override
        public synchronized InputStream getInputStream() throws IOException {
            if (in == null) {
                in = new FilterInputStream(super.getInputStream()) {
                    @Override
                    public int read() throws IOException {
                        int b = super.read();
                        if (b < 0) {
                            endOfStreamRead = true;
                        }
                        return b;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        int n = super.read(b, off, len);
                        if (n < 0) {
                            endOfStreamRead = true;
                        }
                        return n;
                    }
                };
            }
            return in;
        }
    }

    private static final class Conn implements Http2Serving.Counts {
        final int id;
        final ObservedSocket raw;
        final AtomicInteger requests = new AtomicInteger();
        volatile String sni;
        volatile String protocol;
        volatile String alpn;
        /** Written by the connection's thread only. */
        volatile int refusedStreams;
        volatile boolean goAwayReceived;
        volatile String protocolError;
        /** Guarded by the connections list. */
        Ending ending;

        Conn(int id, ObservedSocket raw) {
            this.id = id;
            this.raw = raw;
        }

        @Override
        public void answered() {
            requests.incrementAndGet();
        }

        @Override
        public void refused() {
            refusedStreams++;
        }

        @Override
        public void goAway() {
            goAwayReceived = true;
        }

        ConnectionRecord record() {
            return new ConnectionRecord(id, requests.get(), sni, protocol, alpn, refusedStreams, goAwayReceived,
                    protocolError, ending);
        }
    }

    /**
     * One connection as the server saw it.
     *
     * @param id the server's own number for it, from 1
     * @param requests requests it answered on it (over HTTP/2: streams)
     * @param sni the SNI host name the client sent, or {@code null} for none
     * @param protocol the TLS protocol, or {@code null} if the handshake did not complete
     * @param alpn the protocol chosen through ALPN ({@code h2} or {@code http/1.1}), or {@code null} if
     *     the client offered none the server speaks, or none at all (then HTTP/1.1)
     * @param refusedStreams over HTTP/2, streams refused beyond {@link Http2Serving#MAX_CONCURRENT_STREAMS}
     * @param goAwayReceived over HTTP/2, whether the client sent GOAWAY
     * @param protocolError over HTTP/2, how the client broke the protocol (the server sent GOAWAY and
     *     closed), or {@code null}
     * @param ending how it ended, or {@code null} while open
     */
    record ConnectionRecord(int id, int requests, String sni, String protocol, String alpn, int refusedStreams,
            boolean goAwayReceived, String protocolError, Ending ending) {
        /** @return whether it spoke HTTP/2 */
        boolean h2() {
            return "h2".equals(alpn);
        }
    }

    /**
     * What the server saw.
     *
     * @param connections one row per accepted connection, in accept order
     * @param failures failures of the server itself (not of clients)
     */
    record Snapshot(List<ConnectionRecord> connections, List<Throwable> failures) {
        int requests() {
            return sum(ConnectionRecord::requests);
        }

        int withSni() {
            return sum(r -> r.sni() != null ? 1 : 0);
        }

        private int sum(ToIntFunction<ConnectionRecord> f) {
            int n = 0;
            for (ConnectionRecord r : connections) {
                n += f.applyAsInt(r);
            }
            return n;
        }

        /** @return how many connections chose each protocol through ALPN ({@code none} for none), h2 first */
        Map<String, Integer> protocols() {
            Map<String, Integer> m = new TreeMap<>(Comparator.comparing((String p) -> !p.equals("h2"))
                    .thenComparing(Comparator.naturalOrder()));
            for (ConnectionRecord r : connections) {
                if (r.protocol() != null) { // handshaken
                    m.merge(r.alpn() == null ? "none" : r.alpn(), 1, Integer::sum);
                }
            }
            return m;
        }

        /** @return the requests answered on HTTP/2 connections: their streams */
        int h2Requests() {
            return sum(r -> r.h2() ? r.requests() : 0);
        }

        /** @return streams refused, over all connections */
        int refusedStreams() {
            return sum(ConnectionRecord::refusedStreams);
        }

        /** @return HTTP/2 connections on which the client sent GOAWAY */
        int goAways() {
            return sum(r -> r.goAwayReceived() ? 1 : 0);
        }

        /** @return the HTTP/2 protocol errors of clients, one per connection that had one */
        List<String> protocolErrors() {
            List<String> errors = new ArrayList<>();
            for (ConnectionRecord r : connections) {
                if (r.protocolError() != null) {
                    errors.add("connection " + r.id() + ": " + r.protocolError());
                }
            }
            return errors;
        }

        /** @return how many connections ended each way, in the enum's order, only ways seen */
        Map<Ending, Integer> endings() {
            Map<Ending, Integer> m = new EnumMap<>(Ending.class);
            for (ConnectionRecord r : connections) {
                m.merge(r.ending() == null ? Ending.STILL_OPEN : r.ending(), 1, Integer::sum);
            }
            return m;
        }
    }
}
