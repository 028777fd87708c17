package io.berth.transport;

import io.berth.Backend;
import io.berth.TlsConfig;
import io.berth.spi.Connection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One TLS 1.3 keep-alive exchange on loopback: a fixed 37-byte request, a fixed 100-byte response,
 * from an in-process {@link SSLServerSocket} server (TCP_NODELAY, a thread per connection).
 *
 * <ul>
 *   <li>{@code berth}: through {@link NioConnector} and its {@code TlsConnection} (a blocking
 *       channel, SSLEngine, each read and write armed with the watchdog), with a read timeout as a
 *       pool would use.</li>
 *   <li>{@code sslSocket}: a blocking {@link SSLSocket} doing the same bytes, no read timeout: the
 *       floor (one blocking {@code read} syscall per wait).</li>
 *   <li>{@code sslSocketTimed}: the same with {@code SO_TIMEOUT}, which is how a blocking design gets a
 *       read timeout; on JDK 17 that is a non-blocking fd plus {@code poll}, the same mechanism as timed
 *       reads through a blocking {@code SocketChannel}'s socket adaptor.</li>
 * </ul>
 *
 * <p>Run (B/op from {@code -prof gc}):
 * <pre>
 * mvn -B -q -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/benchmarks.jar TlsExchangeBenchmark -f 1 -wi 3 -i 5 -prof gc
 * </pre>
 * The server's certificate is made per trial with the JDK's {@code keytool} (EC P-256, SAN
 * {@code IP:127.0.0.1}). Results: {@code benchmarks/results/tls.md}.
 *
 * <p>On a small shared machine the wall time of a loopback exchange is mostly scheduling; the
 * client thread's CPU time per exchange shows the cost of the I/O path itself. {@link #main} measures
 * both, the three variants interleaved in rounds:
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.berth.transport.TlsExchangeBenchmark [rounds] [exchanges]
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TlsExchangeBenchmark {
    static final byte[] REQUEST = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    static final byte[] RESPONSE = response(100);
    private static final long TIMEOUT = TimeUnit.SECONDS.toNanos(30);

    private Path dir;
    private SSLServerSocket listener;
    private final List<Socket> accepted = new ArrayList<>();

    private Connection berth;
    private final ByteBuffer request = ByteBuffer.wrap(REQUEST);
    private final ByteBuffer response = ByteBuffer.allocate(512);

    private SSLSocket plain;
    private SSLSocket timed;
    private final byte[] responseBytes = new byte[512];

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("berth-bench-tls");
        Path store = dir.resolve("server.p12");
        keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=127.0.0.1", "-ext", "SAN=IP:127.0.0.1", "-validity", "2",
                "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", "changeit");
        Path pem = dir.resolve("server.pem");
        keytool("-exportcert", "-rfc", "-alias", "server", "-keystore", store.toString(),
                "-storepass", "changeit", "-file", pem.toString());

        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "changeit".toCharArray());
        SSLContext serverContext = SSLContext.getInstance("TLS");
        serverContext.init(kmf.getKeyManagers(), null, null);
        listener = (SSLServerSocket) serverContext.getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        listener.setEnabledProtocols(new String[] {"TLSv1.3"});
        Thread acceptor = new Thread(this::acceptLoop, "bench-tls-accept");
        acceptor.setDaemon(true);
        acceptor.start();

        TlsConfig tls = TlsConfig.builder().trustPemFile(pem).protocols(List.of("TLSv1.3")).build();
        Backend backend = Backend.builder().server("127.0.0.1", listener.getLocalPort()).tls(tls).build();
        berth = new NioConnector(backend).connect(backend.server(), TIMEOUT);

        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server", ks.getCertificate("server"));
        tmf.init(trust);
        SSLContext clientContext = SSLContext.getInstance("TLS");
        clientContext.init(null, tmf.getTrustManagers(), null);
        plain = clientSocket(clientContext, 0);
        timed = clientSocket(clientContext, 30_000);
    }

    private SSLSocket clientSocket(SSLContext context, int soTimeoutMillis) throws IOException {
        Socket tcp = new Socket();
        tcp.setTcpNoDelay(true);
        tcp.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()));
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(tcp, "127.0.0.1", tcp.getPort(), true);
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        p.setProtocols(new String[] {"TLSv1.3"});
        s.setSSLParameters(p);
        s.setSoTimeout(soTimeoutMillis);
        s.startHandshake();
        return s;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        berth.close();
        plain.close();
        timed.close();
        listener.close();
        synchronized (accepted) {
            for (Socket s : accepted) {
                s.close();
            }
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Benchmark
    public int berth() throws IOException {
        request.clear();
        berth.write(request, TIMEOUT);
        response.clear();
        while (response.position() < RESPONSE.length) {
            if (berth.read(response, TIMEOUT) < 0) {
                throw new IOException("end of stream");
            }
        }
        return response.get(RESPONSE.length - 1);
    }

    @Benchmark
    public int sslSocket() throws IOException {
        return exchange(plain);
    }

    @Benchmark
    public int sslSocketTimed() throws IOException {
        return exchange(timed);
    }

    private int exchange(SSLSocket s) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(REQUEST);
        out.flush();
        InputStream in = s.getInputStream();
        int got = 0;
        while (got < RESPONSE.length) {
            int n = in.read(responseBytes, got, responseBytes.length - got);
            if (n < 0) {
                throw new IOException("end of stream");
            }
            got += n;
        }
        return responseBytes[RESPONSE.length - 1];
    }

    // ---- the server: a thread per connection, reading fixed requests and writing fixed responses

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                SSLSocket s = (SSLSocket) listener.accept();
                s.setTcpNoDelay(true);
                synchronized (accepted) {
                    accepted.add(s);
                }
                Thread t = new Thread(() -> serve(s), "bench-tls-conn-" + s.getPort());
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private static void serve(SSLSocket s) {
        byte[] buf = new byte[REQUEST.length];
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            while (true) {
                int got = 0;
                while (got < REQUEST.length) {
                    int n = in.read(buf, got, REQUEST.length - got);
                    if (n < 0) {
                        return;
                    }
                    got += n;
                }
                out.write(RESPONSE);
                out.flush();
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    /**
     * Prints the client thread's CPU time and the wall time per exchange for each variant: the median
     * and range over rounds (default 5) of interleaved runs (default 20,000 exchanges each).
     *
     * @param args optional: rounds, exchanges per round
     * @throws Exception if the setup or an exchange fails
     */
    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        TlsExchangeBenchmark b = new TlsExchangeBenchmark();
        b.setUp();
        try {
            String[] names = {"berth", "sslSocket", "sslSocketTimed"};
            for (int i = 0; i < 3 * n; i++) {
                b.exchange(i % 3);
            }
            long[][] cpu = new long[3][rounds];
            long[][] wall = new long[3][rounds];
            for (int r = 0; r < rounds; r++) {
                for (int v = 0; v < 3; v++) {
                    long c0 = threads.getCurrentThreadCpuTime();
                    long w0 = System.nanoTime();
                    for (int i = 0; i < n; i++) {
                        b.exchange(v);
                    }
                    wall[v][r] = (System.nanoTime() - w0) / n;
                    cpu[v][r] = (threads.getCurrentThreadCpuTime() - c0) / n;
                }
            }
            for (int v = 0; v < 3; v++) {
                java.util.Arrays.sort(cpu[v]);
                java.util.Arrays.sort(wall[v]);
                System.out.printf("%-15s client CPU %6d ns/op (%d..%d)   wall %6d ns/op (%d..%d)%n", names[v],
                        cpu[v][rounds / 2], cpu[v][0], cpu[v][rounds - 1],
                        wall[v][rounds / 2], wall[v][0], wall[v][rounds - 1]);
            }
        } finally {
            b.tearDown();
        }
    }

    private int exchange(int variant) throws IOException {
        return variant == 0 ? berth() : variant == 1 ? sslSocket() : sslSocketTimed();
    }

    private static byte[] response(int total) {
        String head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ";
        int bodyLength = total - head.length() - 2 - 4;
        String r = head + bodyLength + "\r\n\r\n" + "x".repeat(bodyLength);
        if (r.length() != total) {
            throw new IllegalStateException("response is " + r.length() + " bytes, not " + total);
        }
        return r.getBytes(StandardCharsets.US_ASCII);
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("keytool failed: " + cmd + "\n" + out);
        }
    }
}
