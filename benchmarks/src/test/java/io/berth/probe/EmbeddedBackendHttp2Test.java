package io.berth.probe;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.probe.EmbeddedBackend.Ending;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The embedded backend over HTTP/2: served to an independent client (the JDK's {@link HttpClient}),
 * and frame by frame to a raw TLS client that checks flow control, PING, the stream limit and a
 * broken preface; and offered as HTTP/1.1 only when started without h2.
 */
@Timeout(60)
class EmbeddedBackendHttp2Test {
    private static final HeldCertificate CA = new HeldCertificate.Builder()
            .certificateAuthority(0).commonName("Berth probe h2 test CA").ecdsa256().build();
    private static final HeldCertificate LEAF = new HeldCertificate.Builder().signedBy(CA).ecdsa256()
            .commonName("localhost").addSubjectAlternativeName("localhost").addSubjectAlternativeName("127.0.0.1")
            .build();
    private static final byte[] BODY = "berth probe: ok\n".getBytes(StandardCharsets.US_ASCII);
    private static final int DATA = 0x0;
    private static final int HEADERS = 0x1;
    private static final int RST_STREAM = 0x3;
    private static final int SETTINGS = 0x4;
    private static final int PING = 0x6;
    private static final int GOAWAY = 0x7;
    private static final int WINDOW_UPDATE = 0x8;
    /** :method GET, :scheme https, :path /, :authority localhost (RFC 7541 static entries 2, 7, 4 and 1). */
    private static final byte[] GET = concat(new byte[] {(byte) 0x82, (byte) 0x87, (byte) 0x84, 0x41, 9},
            "localhost".getBytes(StandardCharsets.US_ASCII));
    /** :method POST instead. */
    private static final byte[] POST = concat(new byte[] {(byte) 0x83, (byte) 0x87, (byte) 0x84, 0x41, 9},
            "localhost".getBytes(StandardCharsets.US_ASCII));

    private EmbeddedBackend backend;

    @AfterEach
    void stop() {
        if (backend != null) {
            backend.close();
        }
    }

    private SSLContext trusting() {
        return new HandshakeCertificates.Builder().addTrustedCertificate(CA.certificate()).build().sslContext();
    }

    private EmbeddedBackend.ConnectionRecord onlyConnection() {
        List<EmbeddedBackend.ConnectionRecord> rows = backend.snapshot().connections();
        assertThat(rows).hasSize(1);
        return rows.get(0);
    }

    @Test
    void servesTheJdkClientOverH2ManyStreamsOnOneConnection() throws Exception {
        backend = EmbeddedBackend.start(CA, LEAF);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(trusting()).build();
        URI uri = URI.create("https://127.0.0.1:" + backend.port() + "/");
        // One request first, so that the others find the h2 connection rather than race to open their own.
        assertThat(client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).version())
                .isEqualTo(HttpClient.Version.HTTP_2);
        List<CompletableFuture<HttpResponse<byte[]>>> calls = new ArrayList<>();
        byte[] large = new byte[200_000]; // over the 65,535-byte windows: the client waits for the server's credit
        for (int i = 0; i < 30; i++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri);
            if (i % 6 == 0) {
                b.POST(HttpRequest.BodyPublishers.ofByteArray(large));
            }
            calls.add(client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofByteArray()));
        }
        for (CompletableFuture<HttpResponse<byte[]>> call : calls) {
            HttpResponse<byte[]> r = call.get();
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(r.body()).isEqualTo(BODY);
            assertThat(r.headers().firstValue("content-type")).hasValue("text/plain");
            assertThat(r.headers().firstValueAsLong("content-length")).hasValue(BODY.length);
        }

        EmbeddedBackend.ConnectionRecord row = onlyConnection();
        assertThat(row.alpn()).isEqualTo("h2");
        assertThat(row.h2()).isTrue();
        assertThat(row.requests()).isEqualTo(31);
        assertThat(row.refusedStreams()).isZero();
        assertThat(row.protocolError()).isNull();
        assertThat(backend.snapshot().protocols()).containsExactly(Map.entry("h2", 1));
        assertThat(backend.snapshot().h2Requests()).isEqualTo(31);
    }

    @Test
    void withoutH2ItOffersHttp11Alone() throws Exception {
        backend = EmbeddedBackend.start(CA, LEAF, false);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(trusting()).build();

        HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + backend.port()
                + "/")).build(), HttpResponse.BodyHandlers.ofByteArray());

        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        assertThat(r.body()).isEqualTo(BODY);
        assertThat(onlyConnection().alpn()).isEqualTo("http/1.1");
        assertThat(backend.snapshot().protocols()).containsExactly(Map.entry("http/1.1", 1));
    }

    @Test
    void sendsDataAsTheWindowsAllowAnswersPingAndSeesTheClientsGoAway() throws Exception {
        backend = EmbeddedBackend.start(CA, LEAF);
        try (Raw c = new Raw()) {
            c.preface();
            c.frame(SETTINGS, 0, 0, new byte[] {0, 0x4, 0, 0, 0, 5}); // INITIAL_WINDOW_SIZE 5
            c.frame(HEADERS, 0x5, 1, GET); // END_STREAM | END_HEADERS
            Frame settings = c.read();
            assertThat(settings.type).isEqualTo(SETTINGS);
            assertThat(settings.payload).containsExactly(0, 0x3, 0, 0, 0, 100); // MAX_CONCURRENT_STREAMS 100
            assertThat(c.read().is(SETTINGS, 0x1, 0)).isTrue(); // our SETTINGS acknowledged
            Frame head = c.read();
            assertThat(head.is(HEADERS, 0x4, 1)).isTrue(); // END_HEADERS, not END_STREAM: a body follows
            assertThat(head.payload[0]).isEqualTo((byte) 0x88); // :status 200
            Frame first = c.read();
            assertThat(first.is(DATA, 0, 1)).isTrue();
            assertThat(first.payload).isEqualTo("berth".getBytes(StandardCharsets.US_ASCII)); // the 5 bytes allowed

            // Nothing more comes while the stream's window is spent: a PING's answer arrives next.
            byte[] opaque = {1, 2, 3, 4, 5, 6, 7, 8};
            c.frame(PING, 0, 0, opaque);
            Frame pong = c.read();
            assertThat(pong.is(PING, 0x1, 0)).isTrue();
            assertThat(pong.payload).isEqualTo(opaque);

            c.frame(WINDOW_UPDATE, 0, 1, int32(100));
            Frame rest = c.read();
            assertThat(rest.is(DATA, 0x1, 1)).isTrue(); // END_STREAM
            assertThat(rest.payload).isEqualTo(" probe: ok\n".getBytes(StandardCharsets.US_ASCII));

            c.frame(GOAWAY, 0, 0, concat(int32(0), int32(0))); // last stream 0, NO_ERROR
            c.tls.close(); // close_notify ...
            c.raw.close(); // ... then FIN
        }

        assertThat(backend.awaitAllEnded(Duration.ofSeconds(5))).isTrue();
        EmbeddedBackend.ConnectionRecord row = onlyConnection();
        assertThat(row.requests()).isEqualTo(1);
        assertThat(row.goAwayReceived()).isTrue();
        assertThat(row.ending()).isEqualTo(Ending.CLOSE_NOTIFY_FIN);
    }

    @Test
    void refusesAStreamBeyondItsLimitAndCreditsRequestBodies() throws Exception {
        backend = EmbeddedBackend.start(CA, LEAF);
        try (Raw c = new Raw()) {
            c.preface();
            c.frame(SETTINGS, 0, 0, new byte[0]);
            // 101 POSTs whose bodies have not come yet: the last is one stream too many.
            for (int id = 1; id <= 201; id += 2) {
                c.frame(HEADERS, 0x4, id, POST);
            }
            List<Frame> frames = new ArrayList<>();
            Frame f;
            while (!(f = c.read()).is(RST_STREAM, 0, 201)) {
                frames.add(f);
            }
            assertThat(f.payload).isEqualTo(int32(0x7)); // REFUSED_STREAM
            assertThat(frames).noneMatch(x -> x.stream != 0); // nothing else on any stream yet

            byte[] body = "hello".getBytes(StandardCharsets.US_ASCII);
            c.frame(DATA, 0, 1, body);
            assertThat(c.read().is(WINDOW_UPDATE, 0, 0)).isTrue(); // the connection's credit ...
            Frame credit = c.read();
            assertThat(credit.is(WINDOW_UPDATE, 0, 1)).isTrue(); // ... and the stream's
            assertThat(credit.payload).isEqualTo(int32(body.length));
            c.frame(DATA, 0x1, 1, body); // END_STREAM: the request is answered
            assertThat(c.read().is(WINDOW_UPDATE, 0, 0)).isTrue();
            assertThat(c.read().is(HEADERS, 0x4, 1)).isTrue();
            Frame data = c.read();
            assertThat(data.is(DATA, 0x1, 1)).isTrue();
            assertThat(data.payload).isEqualTo(BODY);
        }

        assertThat(backend.awaitAllEnded(Duration.ofSeconds(5))).isTrue();
        EmbeddedBackend.ConnectionRecord row = onlyConnection();
        assertThat(row.refusedStreams()).isEqualTo(1);
        assertThat(row.requests()).isEqualTo(1);
        assertThat(backend.snapshot().refusedStreams()).isEqualTo(1);
    }

    @Test
    void aBrokenPrefaceGetsGoAwayAndAClose() throws Exception {
        backend = EmbeddedBackend.start(CA, LEAF);
        try (Raw c = new Raw()) {
            c.out.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            c.out.flush();
            Frame goAway = c.read();
            assertThat(goAway.is(GOAWAY, 0, 0)).isTrue();
            assertThat(ByteBuffer.wrap(goAway.payload).getInt(4)).isEqualTo(0x1); // PROTOCOL_ERROR
            assertThat(new String(goAway.payload, 8, goAway.payload.length - 8, StandardCharsets.US_ASCII))
                    .isEqualTo("the connection preface is wrong");
            assertThat(c.in.read()).isEqualTo(-1); // and the server closed
        }

        assertThat(backend.awaitAllEnded(Duration.ofSeconds(5))).isTrue();
        EmbeddedBackend.ConnectionRecord row = onlyConnection();
        assertThat(row.ending()).isEqualTo(Ending.SERVER_CLOSED);
        assertThat(row.protocolError()).isEqualTo("the connection preface is wrong");
        assertThat(backend.snapshot().protocolErrors()).containsExactly("connection 1: the connection preface is wrong");
    }

    /** A frame as read. */
    private record Frame(int type, int flags, int stream, byte[] payload) {
        boolean is(int type, int flags, int stream) {
            return this.type == type && this.flags == flags && this.stream == stream;
        }
    }

    /** A TLS client that chose h2 through ALPN, writing and reading raw frames. */
    private final class Raw implements AutoCloseable {
        final Socket raw = new Socket(InetAddress.getLoopbackAddress(), backend.port());
        final SSLSocket tls;
        final OutputStream out;
        final DataInputStream in;

        Raw() throws IOException {
            raw.setSoTimeout(5_000);
            tls = (SSLSocket) trusting().getSocketFactory().createSocket(raw, "localhost", backend.port(), false);
            SSLParameters p = tls.getSSLParameters();
            p.setApplicationProtocols(new String[] {"h2"});
            tls.setSSLParameters(p);
            tls.startHandshake();
            assertThat(tls.getApplicationProtocol()).isEqualTo("h2");
            out = tls.getOutputStream();
            in = new DataInputStream(tls.getInputStream());
        }

        void preface() throws IOException {
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        }

        void frame(int type, int flags, int stream, byte[] payload) throws IOException {
            ByteBuffer h = ByteBuffer.allocate(9 + payload.length);
            h.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8)).put((byte) payload.length)
                    .put((byte) type).put((byte) flags).putInt(stream).put(payload);
            out.write(h.array());
            out.flush();
        }

        Frame read() throws IOException {
            byte[] h = new byte[9];
            in.readFully(h);
            ByteBuffer b = ByteBuffer.wrap(h);
            int length = (b.get() & 0xff) << 16 | (b.get() & 0xff) << 8 | b.get() & 0xff;
            int type = b.get() & 0xff;
            int flags = b.get() & 0xff;
            int stream = b.getInt() & 0x7fffffff;
            byte[] payload = new byte[length];
            in.readFully(payload);
            return new Frame(type, flags, stream, payload);
        }

        @Override
        public void close() throws IOException {
            raw.close();
        }
    }

    private static byte[] int32(int v) {
        return ByteBuffer.allocate(4).putInt(v).array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = new byte[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
