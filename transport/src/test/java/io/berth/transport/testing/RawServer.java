package io.berth.transport.testing;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A small blocking test server on {@code 127.0.0.1}, port 0, for what MockWebServer cannot do:
 * resets, garbage, truncation, silence, stalled handshakes. Each accepted connection runs the handler
 * on its own daemon thread; {@link #close()} closes the listening socket and every accepted socket
 * and waits for the threads.
 *
 * <p>Handlers get the raw socket; {@link #tls} layers a server-mode {@link SSLSocket} on it, so that
 * a handler can still reset ({@code raw.setSoLinger(true, 0)}) or close the raw socket without a
 * TLS close_notify. Thread-safe.
 */
public final class RawServer implements AutoCloseable {
    /** Serves one accepted connection. */
    @FunctionalInterface
    public interface Handler {
        /**
         * @param raw the accepted socket, TCP_NODELAY on
         * @throws Exception anything; recorded in {@link #failures()} unless the server is closing
         */
        void handle(Socket raw) throws Exception;
    }

    /**
     * Keeps every TLS layer reachable until its server closes. On JDK 17 an {@link SSLSocket} has a
     * finalizer that closes the raw socket under it, so a handler that drops the layer and waits (a
     * silent peer) would, at the next GC, reset the connection and turn a timeout into "Broken pipe".
     */
    private static final Map<Socket, SSLSocket> LAYERS = new ConcurrentHashMap<>();

    private final ServerSocket listener;
    private final Handler handler;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile boolean closing;

    private RawServer(Handler handler, int backlog) throws IOException {
        this(handler, backlog, 0);
    }

    private RawServer(Handler handler, int backlog, int port) throws IOException {
        this.listener = new ServerSocket();
        this.listener.setReuseAddress(true);
        this.listener.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), backlog);
        this.handler = handler;
    }

    /** @return a started server running {@code handler} for each connection */
    public static RawServer start(Handler handler) throws IOException {
        RawServer s = new RawServer(handler, 50);
        s.spawn("raw-server-accept-" + s.port(), s::acceptLoop);
        return s;
    }

    /** @return a started server on a given port of 127.0.0.1 (e.g. to bring a stopped server back) */
    public static RawServer start(int port, Handler handler) throws IOException {
        RawServer s = new RawServer(handler, 50, port);
        s.spawn("raw-server-accept-" + s.port(), s::acceptLoop);
        return s;
    }

    /** @return a listening server that never accepts, with the smallest backlog the kernel allows */
    public static RawServer neverAccepting() throws IOException {
        return new RawServer(raw -> { }, 1);
    }

    /** @return the port on 127.0.0.1 */
    public int port() {
        return listener.getLocalPort();
    }

    /** @return how many connections were accepted */
    public int accepted() {
        return accepted.get();
    }

    /** @return what handlers threw while the server was not closing */
    public List<Throwable> failures() {
        return failures;
    }

    private void acceptLoop() {
        while (!closing) {
            try {
                Socket s = listener.accept();
                s.setTcpNoDelay(true);
                sockets.add(s);
                if (closing) {
                    // accepted as close() ran: it may have looked at the sockets before this one was
                    // added, and a handler started now would serve on after the server "closed"
                    s.close();
                    return;
                }
                accepted.incrementAndGet();
                spawn("raw-server-conn-" + s.getPort(), () -> {
                    try {
                        handler.handle(s);
                    } catch (Throwable t) {
                        if (!closing) {
                            failures.add(t);
                        }
                    }
                });
            } catch (IOException e) {
                if (!closing) {
                    failures.add(e);
                }
                return;
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
            s.close();
        }
        for (Thread t : threads) {
            t.interrupt();
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while stopping " + t.getName());
            }
        }
        for (Socket s : sockets) {
            LAYERS.remove(s);
        }
    }

    // ---- helpers for handlers

    /**
     * Layers a server-mode TLS socket over {@code raw} and completes the handshake.
     *
     * @return the TLS socket; closing it sends close_notify and closes {@code raw}
     */
    public static SSLSocket tls(Socket raw, SSLContext context) throws IOException {
        SSLSocket ssl = (SSLSocket) context.getSocketFactory().createSocket(raw, null, true);
        ssl.setUseClientMode(false);
        LAYERS.put(raw, ssl);
        ssl.startHandshake();
        return ssl;
    }

    /** Reads an HTTP request head (up to and including the empty line). */
    public static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("end of stream after " + head.size() + " bytes of a request head");
            }
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    /** @return the bytes of an HTTP/1.1 200 response with this body and a Content-Length */
    public static byte[] response(String body) {
        return ("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                .getBytes(StandardCharsets.US_ASCII);
    }
}
