package io.berth.transport.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A relay on 127.0.0.1 in front of a TLS server that reads, on the wire, whether the server resumed
 * a session on each connection: an oracle independent of the client and of the server's internals
 * (counting the server's key-manager calls is not one: on JDK 25 a server decoding a stateless
 * ticket asks its key manager again). TLS 1.3: the ServerHello (not a HelloRetryRequest) carries the
 * {@code pre_shared_key} extension exactly when the server accepted a PSK (RFC 8446 §4.2.11). TLS
 * 1.2: the server's Certificate message, sent in the clear, comes exactly in a full handshake.
 *
 * <p>Thread-safe; close it to stop.
 */
public final class ServerHelloTap implements AutoCloseable {
    private static final int HANDSHAKE = 22;
    private static final int CHANGE_CIPHER_SPEC = 20;
    private static final int SERVER_HELLO = 2;
    private static final int CERTIFICATE = 11;
    private static final int SUPPORTED_VERSIONS = 43;
    private static final int PRE_SHARED_KEY = 41;
    /** The random of a HelloRetryRequest (RFC 8446 §4.1.3). */
    private static final byte[] HRR_RANDOM = hex(
            "CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C");

    private final DelayRelay relay;
    private final List<Boolean> resumed = new CopyOnWriteArrayList<>();

    private ServerHelloTap(int targetPort) throws IOException {
        this.relay = DelayRelay.start(targetPort, Duration.ZERO, Parser::new);
    }

    /** @return a started tap relaying to {@code targetPort} on 127.0.0.1 */
    public static ServerHelloTap start(int targetPort) throws IOException {
        return new ServerHelloTap(targetPort);
    }

    /** @return the port to connect to */
    public int port() {
        return relay.port();
    }

    /** @return per connection, in the order the server decided: whether it resumed a session */
    public List<Boolean> serverResumed() {
        return List.copyOf(resumed);
    }

    @Override
    public void close() throws IOException {
        relay.close();
    }

    /** Reads the server's side of one connection until it knows. */
    private final class Parser implements Consumer<byte[]> {
        private final ByteArrayOutputStream records = new ByteArrayOutputStream();
        private final ByteArrayOutputStream handshake = new ByteArrayOutputStream();
        private int recordsRead;
        private int handshakeRead;
        private boolean tls12;
        private boolean done;

        @Override
        public void accept(byte[] bytes) {
            if (done) {
                return;
            }
            records.write(bytes, 0, bytes.length);
            byte[] r = records.toByteArray();
            while (!done && r.length - recordsRead >= 5) {
                int type = r[recordsRead] & 0xff;
                int length = ((r[recordsRead + 3] & 0xff) << 8) | (r[recordsRead + 4] & 0xff);
                if (r.length - recordsRead - 5 < length) {
                    return;
                }
                if (type == HANDSHAKE) {
                    handshake.write(r, recordsRead + 5, length);
                    messages();
                } else if (type == CHANGE_CIPHER_SPEC && tls12) {
                    decide(true); // TLS 1.2: the server switched to encryption without a Certificate
                }
                recordsRead += 5 + length;
            }
        }

        private void messages() {
            byte[] h = handshake.toByteArray();
            while (!done && h.length - handshakeRead >= 4) {
                int type = h[handshakeRead] & 0xff;
                int length = ((h[handshakeRead + 1] & 0xff) << 16) | ((h[handshakeRead + 2] & 0xff) << 8)
                        | (h[handshakeRead + 3] & 0xff);
                if (h.length - handshakeRead - 4 < length) {
                    return;
                }
                int body = handshakeRead + 4;
                if (type == SERVER_HELLO) {
                    serverHello(h, body);
                } else if (type == CERTIFICATE && tls12) {
                    decide(false);
                }
                handshakeRead = body + length;
            }
        }

        private void serverHello(byte[] h, int at) {
            int random = at + 2;
            if (Arrays.equals(h, random, random + 32, HRR_RANDOM, 0, 32)) {
                return; // a HelloRetryRequest: the real ServerHello follows
            }
            int p = random + 32;
            p += 1 + (h[p] & 0xff); // session id
            p += 3; // cipher suite, compression
            int end = p + 2 + (((h[p] & 0xff) << 8) | (h[p + 1] & 0xff));
            p += 2;
            boolean tls13 = false;
            boolean psk = false;
            while (p + 4 <= end) {
                int ext = ((h[p] & 0xff) << 8) | (h[p + 1] & 0xff);
                int len = ((h[p + 2] & 0xff) << 8) | (h[p + 3] & 0xff);
                if (ext == SUPPORTED_VERSIONS && len == 2 && h[p + 4] == 3 && h[p + 5] == 4) {
                    tls13 = true;
                } else if (ext == PRE_SHARED_KEY) {
                    psk = true;
                }
                p += 4 + len;
            }
            if (tls13) {
                decide(psk);
            } else {
                tls12 = true; // decided by what comes next
            }
        }

        private void decide(boolean wasResumed) {
            done = true;
            resumed.add(wasResumed);
        }
    }

    private static byte[] hex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }
}
