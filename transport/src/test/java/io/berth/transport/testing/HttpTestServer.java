package io.berth.transport.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

/**
 * A small HTTP/1.1 server for tests, over TLS or plain TCP on 127.0.0.1, that can misbehave on
 * purpose and records what it saw: every request (with its connection and exchange index) and how
 * every connection ended (close_notify then FIN, FIN alone, reset, or closed by the server).
 * MockWebServer cannot send a reset or tell how a client closed; this can.
 *
 * <p>Each connection runs on its own thread. Thread-safe.
 */
public final class HttpTestServer implements AutoCloseable {
    /** How a connection ended. */
    public enum End {
        /** The client closed it with a TLS close_notify (then FIN), or with FIN on plain TCP. */
        CLIENT_CLOSED_GRACEFULLY,
        /** The client sent FIN without a TLS close_notify. */
        CLIENT_CLOSED_WITHOUT_CLOSE_NOTIFY,
        /** The client reset it. */
        CLIENT_RESET,
        /** The server closed it (a reply's action, or its idle timeout). */
        SERVER_CLOSED
    }

    /** What to do after (or instead of) answering. */
    public enum After {
        /** Keep the connection for the next request. */
        KEEP,
        /** Close gracefully after the response. */
        CLOSE,
        /** Reset after the response. */
        RESET,
        /** Close gracefully without answering. */
        CLOSE_INSTEAD,
        /** Reset without answering. */
        RESET_INSTEAD,
        /** After the response, send FIN (no close_notify) but keep reading until the client closes. */
        HALF_CLOSE
    }

    /** A request as received. */
    public record Request(int connection, int exchange, String method, String target,
            Map<String, List<String>> headers, byte[] body) {
        /** @return the first value of a header, or null */
        public String header(String name) {
            List<String> v = headers.get(name);
            return v == null || v.isEmpty() ? null : v.get(0);
        }

        /** @return the body as UTF-8 text */
        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** Decides the reply to a request. */
    @FunctionalInterface
    public interface Handler {
        /** @return the reply */
        Reply handle(Request request) throws Exception;
    }

    /** A reply: status, headers and body as bytes, sent as given, and what to do after. */
    public static final class Reply {
        private int status = 200;
        private String reason = "OK";
        private String version = "HTTP/1.1";
        private final List<String[]> headers = new ArrayList<>();
        private byte[] body = new byte[0];
        private boolean contentLength = true;
        private boolean chunked;
        private int sendOnly = -1;
        private Duration delay = Duration.ZERO;
        private After after = After.KEEP;
        private byte[] raw;
        private int pauseAfter = -1;
        private Duration pause = Duration.ZERO;
        private byte[] trailing;
        private Duration trailingDelay = Duration.ZERO;

        /** @return a 200 reply with this body and its Content-Length */
        public static Reply ok(String body) {
            return new Reply().body(body);
        }

        /** @return a reply with this status and an empty body */
        public static Reply status(int status, String reason) {
            Reply r = new Reply();
            r.status = status;
            r.reason = reason;
            return r;
        }

        public Reply body(String text) {
            return body(text.getBytes(StandardCharsets.UTF_8));
        }

        public Reply body(byte[] bytes) {
            this.body = bytes;
            return this;
        }

        public Reply header(String name, String value) {
            headers.add(new String[] {name, value});
            return this;
        }

        public Reply version(String v) {
            this.version = v;
            return this;
        }

        /** Sends the body chunked (one chunk) instead of with Content-Length. */
        public Reply chunked() {
            this.chunked = true;
            return this;
        }

        /** Sends no Content-Length: the body ends when the server closes. */
        public Reply untilClose() {
            this.contentLength = false;
            this.after = After.CLOSE;
            return this;
        }

        /** Sends only the first {@code n} bytes of the framed response, then closes (truncation). */
        public Reply sendOnly(int n) {
            this.sendOnly = n;
            return this;
        }

        public Reply delay(Duration d) {
            this.delay = d;
            return this;
        }

        /** Sends exactly these bytes instead of an encoded response (garbage, hand-made heads). */
        public static Reply raw(byte[] bytes) {
            Reply r = new Reply();
            r.raw = bytes;
            return r;
        }

        /** Sends the first {@code n} bytes, pauses, then the rest (slow headers or body). */
        public Reply pauseAfter(int n, Duration d) {
            this.pauseAfter = n;
            this.pause = d;
            return this;
        }

        /**
         * Sends all but the last {@code n} bytes, pauses, then those: a body still on its way when the
         * head arrives (a client cannot take it whole with the head).
         */
        public Reply pauseBeforeLast(int n, Duration d) {
            return pauseAfter(-1 - n, d);
        }

        /** After the response, waits {@code d} and sends bytes nobody asked for. */
        public Reply trailing(byte[] bytes, Duration d) {
            this.trailing = bytes;
            this.trailingDelay = d;
            return this;
        }

        public Reply then(After a) {
            this.after = a;
            return this;
        }

        byte[] encode() {
            if (raw != null) {
                return raw;
            }
            StringBuilder h = new StringBuilder(version).append(' ').append(status).append(' ').append(reason)
                    .append("\r\n");
            for (String[] kv : headers) {
                h.append(kv[0]).append(": ").append(kv[1]).append("\r\n");
            }
            byte[] framed;
            if (chunked) {
                h.append("Transfer-Encoding: chunked\r\n\r\n");
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                b.writeBytes(h.toString().getBytes(StandardCharsets.ISO_8859_1));
                if (body.length > 0) {
                    b.writeBytes((Integer.toHexString(body.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    b.writeBytes(body);
                    b.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                b.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                framed = b.toByteArray();
            } else {
                if (contentLength) {
                    h.append("Content-Length: ").append(body.length).append("\r\n");
                }
                h.append("\r\n");
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                b.writeBytes(h.toString().getBytes(StandardCharsets.ISO_8859_1));
                b.writeBytes(body);
                framed = b.toByteArray();
            }
            if (sendOnly >= 0 && sendOnly < framed.length) {
                return java.util.Arrays.copyOf(framed, sendOnly);
            }
            return framed;
        }
    }

    private final RawServer raw;
    private final SSLContext tls;
    private final Handler handler;
    private final java.util.function.IntFunction<Duration> idleTimeout;
    private final AtomicInteger connections = new AtomicInteger();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Map<Integer, End> ends = new ConcurrentHashMap<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();

    private HttpTestServer(SSLContext tls, Handler handler, java.util.function.IntFunction<Duration> idleTimeout)
            throws IOException {
        this(0, tls, handler, idleTimeout);
    }

    private HttpTestServer(int port, SSLContext tls, Handler handler,
            java.util.function.IntFunction<Duration> idleTimeout) throws IOException {
        this.tls = tls;
        this.handler = handler;
        this.idleTimeout = idleTimeout;
        this.raw = port == 0 ? RawServer.start(this::serve) : RawServer.start(port, this::serve);
    }

    /** Like {@link #start(SSLContext, Handler)} on a given port (e.g. to bring a stopped server back). */
    public static HttpTestServer startOn(int port, SSLContext tls, Handler handler) throws IOException {
        return new HttpTestServer(port, tls, handler, null);
    }

    /**
     * @param tls the server's TLS context, or null for plain TCP
     * @param handler decides each reply
     * @return a started server
     */
    public static HttpTestServer start(SSLContext tls, Handler handler) throws IOException {
        return new HttpTestServer(tls, handler, null);
    }

    /**
     * Like {@link #start(SSLContext, Handler)}, but the server closes (gracefully) any connection that
     * stays idle for {@code idleTimeout} between requests.
     */
    public static HttpTestServer start(SSLContext tls, Handler handler, Duration idleTimeout) throws IOException {
        return new HttpTestServer(tls, handler, connection -> idleTimeout);
    }

    /**
     * Like {@link #start(SSLContext, Handler, Duration)}, with an idle timeout chosen per connection
     * (by connection index from 0).
     */
    public static HttpTestServer start(SSLContext tls, Handler handler,
            java.util.function.IntFunction<Duration> idleTimeoutOfConnection) throws IOException {
        return new HttpTestServer(tls, handler, idleTimeoutOfConnection);
    }

    /** @return the port on 127.0.0.1 */
    public int port() {
        return raw.port();
    }

    /** @return how many connections were accepted */
    public int connections() {
        return connections.get();
    }

    /** @return the requests received, in arrival order */
    public List<Request> requests() {
        return Collections.unmodifiableList(requests);
    }

    /** @return how each connection that ended did, by connection index from 0 */
    public Map<Integer, End> ends() {
        return new TreeMap<>(ends);
    }

    /** @return failures of the server itself (not of clients) */
    public List<Throwable> failures() {
        List<Throwable> all = new ArrayList<>(failures);
        all.addAll(raw.failures());
        return all;
    }

    private void serve(Socket socket) throws Exception {
        int index = connections.getAndIncrement();
        Socket s = socket;
        if (tls != null) {
            try {
                s = RawServer.tls(socket, tls);
            } catch (IOException e) {
                ends.put(index, End.CLIENT_RESET);
                socket.close();
                return;
            }
        }
        InputStream in = new BufferedInputStream(s.getInputStream());
        OutputStream out = s.getOutputStream();
        Duration idle = idleTimeout == null ? null : idleTimeout.apply(index);
        for (int exchange = 0; ; exchange++) {
            socket.setSoTimeout(idle == null ? 0 : (int) Math.max(1, idle.toMillis()));
            String head;
            try {
                head = readHeadOrEnd(in);
            } catch (SocketTimeoutException e) {
                ends.put(index, End.SERVER_CLOSED);
                s.close();
                return;
            } catch (SSLException e) {
                ends.put(index, End.CLIENT_CLOSED_WITHOUT_CLOSE_NOTIFY);
                socket.close();
                return;
            } catch (SocketException e) {
                ends.put(index, End.CLIENT_RESET);
                socket.close();
                return;
            }
            if (head == null) {
                ends.put(index, End.CLIENT_CLOSED_GRACEFULLY);
                s.close();
                return;
            }
            socket.setSoTimeout(10_000);
            Request request = parse(index, exchange, head, in, out);
            requests.add(request);
            Reply reply;
            try {
                reply = handler.handle(request);
            } catch (Throwable t) {
                failures.add(t);
                reply = Reply.status(500, "Handler Failed").then(After.CLOSE);
            }
            if (!reply.delay.isZero()) {
                Thread.sleep(reply.delay.toMillis());
            }
            if (reply.after == After.RESET_INSTEAD) {
                ends.put(index, End.SERVER_CLOSED);
                reset(socket);
                return;
            }
            if (reply.after == After.CLOSE_INSTEAD) {
                ends.put(index, End.SERVER_CLOSED);
                s.close();
                return;
            }
            try {
                byte[] bytes = reply.encode();
                // pauseAfter below -1 counts from the end: pauseBeforeLast(n) is -1 - n
                int pauseAt = reply.pauseAfter < -1 ? bytes.length + 1 + reply.pauseAfter : reply.pauseAfter;
                if (pauseAt >= 0 && pauseAt < bytes.length) {
                    out.write(bytes, 0, pauseAt);
                    out.flush();
                    Thread.sleep(reply.pause.toMillis());
                    out.write(bytes, pauseAt, bytes.length - pauseAt);
                } else {
                    out.write(bytes);
                }
                out.flush();
                if (reply.trailing != null) {
                    Thread.sleep(reply.trailingDelay.toMillis());
                    out.write(reply.trailing);
                    out.flush();
                }
            } catch (IOException e) {
                ends.put(index, End.CLIENT_RESET);
                socket.close();
                return;
            }
            if (reply.after == After.HALF_CLOSE) {
                socket.shutdownOutput();
                ends.put(index, End.SERVER_CLOSED);
                try {
                    while (in.read() >= 0) {
                        // wait for the client to close
                    }
                } catch (IOException e) {
                    // reset or TLS error on the way out: fine
                }
                socket.close();
                return;
            }
            if (reply.sendOnly >= 0 || reply.after == After.CLOSE) {
                ends.put(index, End.SERVER_CLOSED);
                s.close();
                return;
            }
            if (reply.after == After.RESET) {
                ends.put(index, End.SERVER_CLOSED);
                reset(socket);
                return;
            }
        }
    }

    private static void reset(Socket socket) throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    /** @return the head, or null if the stream ended cleanly before any byte of one */
    private static String readHeadOrEnd(InputStream in) throws IOException {
        in.mark(1);
        int first = in.read();
        if (first < 0) {
            return null;
        }
        in.reset();
        return RawServer.readHead(in);
    }

    private static Request parse(int connection, int exchange, String head, InputStream in, OutputStream out)
            throws IOException {
        String[] lines = head.split("\r\n");
        String[] start = lines[0].split(" ");
        Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.computeIfAbsent(lines[i].substring(0, colon).trim(), k -> new ArrayList<>())
                        .add(lines[i].substring(colon + 1).trim());
            }
        }
        List<String> expect = headers.get("Expect");
        if (expect != null && expect.get(0).equalsIgnoreCase("100-continue")) {
            out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }
        byte[] body = new byte[0];
        List<String> cl = headers.get("Content-Length");
        List<String> te = headers.get("Transfer-Encoding");
        if (cl != null) {
            body = in.readNBytes(Integer.parseInt(cl.get(0)));
        } else if (te != null && te.get(0).toLowerCase(Locale.ROOT).contains("chunked")) {
            body = readChunked(in);
        }
        return new Request(connection, exchange, start[0], start.length > 1 ? start[1] : "", headers, body);
    }

    private static byte[] readChunked(InputStream in) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (;;) {
            String line = readLine(in);
            int semi = line.indexOf(';');
            int size = Integer.parseInt((semi >= 0 ? line.substring(0, semi) : line).trim(), 16);
            if (size == 0) {
                while (!readLine(in).isEmpty()) {
                    // trailers
                }
                return body.toByteArray();
            }
            body.write(in.readNBytes(size));
            readLine(in);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (;;) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("end of stream in a chunked request body");
            }
            if (b == '\n') {
                int n = sb.length();
                return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
            }
            sb.append((char) b);
        }
    }

    @Override
    public void close() throws IOException {
        raw.close();
    }
}
