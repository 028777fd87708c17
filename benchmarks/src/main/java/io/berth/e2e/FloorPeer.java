package io.berth.e2e;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * The floor: what one keep-alive exchange costs with no client library at all. Each caller owns a
 * blocking {@link SSLSocket} (TLS 1.3, the CA-trusting context, endpoint identification
 * {@code HTTPS}, TCP_NODELAY), writes a fixed minimal request and reads the known-length response
 * into a reused buffer. The response's length is learned once, from the first response, by parsing
 * its head; after that the only "parsing" is checking that the status is 200 and that the head ends
 * where a body of the expected length must start. No pool, no timeouts, no header handling: a
 * client library cannot do less work per request, so its ratio to the floor is the cost of
 * everything it adds.
 *
 * <p>{@code floor-nio} is the same client over the JDK's other TLS path, the one Berth's transport
 * takes: an {@link javax.net.ssl.SSLEngine} over a blocking {@link java.nio.channels.SocketChannel}
 * ({@link EngineStreams}), with the same context and parameters. Its ratio to the floor is what that
 * path costs against the socket's; Berth's ratio to it, what Berth's own layers cost.
 *
 * <p>Cold path: a fresh floor client is one socket from a new context. Seed scenario: one socket
 * handed from each fresh caller to the next (what an ideal pool would do), to show the latency of
 * a request on a warm connection.
 */
final class FloorPeer extends Peer {
    /** Shared by the closed loop's callers of this peer: one context, as a pooled client would have. */
    private final AtomicReference<SSLContext> pooledContext = new AtomicReference<>();
    private final boolean nio;

    /**
     * @param name {@code floor}, {@code floor-twin} (the same client measured apart) or {@code floor-nio}
     *     (see {@link Peer#VARIANTS})
     * @param nio whether the client goes through an {@code SSLEngine} over a {@code SocketChannel}
     *     rather than an {@code SSLSocket}
     */
    FloorPeer(String name, boolean nio) {
        super(name);
        this.nio = nio;
    }

    @Override
    boolean clientPerCaller() {
        return true;
    }

    @Override
    Client pooled(Target t, int connections) throws IOException {
        FloorClient c = new FloorClient(once(pooledContext, () -> Tls.trusting(t.caPem()).context()), t, nio);
        c.get(); // connect, and learn the response's length
        return c;
    }

    @Override
    Client fresh(Target t) {
        return new FloorClient(Tls.trusting(t.caPem()).context(), t, nio);
    }

    @Override
    Shared shared(Target t) {
        return handedOn(new FloorClient(Tls.trusting(t.caPem()).context(), t, nio),
                nio ? "one SSLEngine over a SocketChannel" : "one SSLSocket");
    }

    /** One socket, one caller at a time. Not thread-safe. */
    static final class FloorClient implements Client {
        private static final byte[] HEAD_END = {'\r', '\n', '\r', '\n'};

        private final SSLContext context;
        private final Target target;
        private final boolean nio;
        private final byte[] hotRequest;
        private final byte[] coldRequest;
        private final byte[] holdRequest;
        /** A response head and the whole body fit. */
        private final byte[] buf;
        /** The connection, an {@code SSLSocket} or {@link EngineStreams}; null before the first request. */
        private Closeable socket;
        private InputStream in;
        private OutputStream out;
        /** The hot response's length, head and body; -1 until the first response was parsed. */
        private int hotLength = -1;

        FloorClient(SSLContext context, Target target, boolean nio) {
            this.context = context;
            this.target = target;
            this.nio = nio;
            this.hotRequest = target.minimalRequest(Target.HOT_PATH);
            this.coldRequest = target.minimalRequest(Target.COLD_PATH);
            this.holdRequest = target.minimalRequest(Target.HOLD_PATH);
            this.buf = new byte[16 * 1024 + target.bodyLength()];
        }

        private void connect() throws IOException {
            if (nio) {
                EngineStreams e = EngineStreams.open(context, target);
                in = e.in;
                out = e.out;
                socket = e;
                return;
            }
            SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(target.host(), target.port());
            try {
                s.setTcpNoDelay(true);
                SSLParameters p = s.getSSLParameters();
                p.setProtocols(new String[] {Tls.PROTOCOL});
                p.setEndpointIdentificationAlgorithm("HTTPS");
                s.setSSLParameters(p);
                s.startHandshake();
                in = s.getInputStream();
                out = s.getOutputStream();
                socket = s;
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
        }

        @Override
        public void get() throws IOException {
            if (socket == null) {
                connect();
            }
            if (hotLength < 0) {
                Parsed p = exchange(hotRequest, true);
                target.check(p.status, p.bodyLength);
                hotLength = p.headLength + p.bodyLength;
                return;
            }
            try {
                out.write(hotRequest);
                int n = 0;
                while (n < hotLength) {
                    int r = in.read(buf, n, hotLength - n);
                    if (r < 0) {
                        throw new EOFException("connection closed after " + n + " of " + hotLength + " bytes");
                    }
                    n += r;
                }
                int headEnd = hotLength - target.bodyLength();
                if (buf[9] != '2' || buf[10] != '0' || buf[11] != '0' || buf[headEnd - 1] != '\n'
                        || buf[headEnd - 2] != '\r' || buf[headEnd - 3] != '\n' || buf[headEnd - 4] != '\r') {
                    throw new IOException("bad response: " + new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                }
            } catch (IOException e) {
                close(); // the next call reconnects
                throw e;
            }
        }

        @Override
        public String getTls() throws IOException {
            if (socket == null) {
                connect();
            }
            Parsed p = exchange(coldRequest, true);
            target.check(p.status, p.bodyLength);
            return p.tls;
        }

        /** Reads the response head, checks it, and leaves the body unread on the socket. */
        @Override
        public Held hold() throws IOException {
            if (socket == null) {
                connect();
            }
            Parsed p = exchange(holdRequest, false);
            Target.checkHeld(p.status, p.bodyLength);
            String tls = p.tls;
            Closeable busy = socket;
            socket = null; // the next request opens another connection
            return new Held() {
                @Override
                public String tls() {
                    return tls;
                }

                @Override
                public void close() throws IOException {
                    busy.close(); // the body unread: nothing else will use this socket
                }
            };
        }

        private record Parsed(int status, int headLength, int bodyLength, String tls) {
        }

        /**
         * Writes a request and parses its response's head: the status, Content-Length and X-TLS; then
         * reads the body, if asked to.
         */
        private Parsed exchange(byte[] request, boolean readBody) throws IOException {
            try {
                out.write(request);
                int n = 0;
                int headEnd = -1;
                while (headEnd < 0) {
                    int r = in.read(buf, n, buf.length - n);
                    if (r < 0) {
                        throw new EOFException("connection closed in the response head");
                    }
                    n += r;
                    headEnd = indexOf(buf, n, HEAD_END);
                }
                headEnd += HEAD_END.length;
                String head = new String(buf, 0, headEnd, StandardCharsets.ISO_8859_1);
                int status = Integer.parseInt(head.substring(9, 12));
                int length = Integer.parseInt(header(head, "Content-Length"));
                while (readBody && n < headEnd + length) {
                    int r = in.read(buf, n, headEnd + length - n);
                    if (r < 0) {
                        throw new EOFException("connection closed in the response body");
                    }
                    n += r;
                }
                return new Parsed(status, headEnd, length, header(head, Target.TLS_HEADER));
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
        }

        private static String header(String head, String name) {
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }

        private static int indexOf(byte[] b, int len, byte[] what) {
            for (int i = 0; i + what.length <= len; i++) {
                int j = 0;
                while (j < what.length && b[i + j] == what[j]) {
                    j++;
                }
                if (j == what.length) {
                    return i;
                }
            }
            return -1;
        }

        @Override
        public void close() throws IOException {
            Closeable s = socket;
            socket = null;
            if (s != null) {
                s.close();
            }
        }
    }
}
