package io.berth.transport.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * nghttpd (Debian's {@code nghttp2-server}), a real HTTP/2 server, started on 127.0.0.1 on a free
 * port with {@link TestPki#SERVER}'s certificate (or without TLS), serving files from a directory;
 * {@link #close()} stops it (SIGTERM, then SIGKILL after 5 s). Skips or fails the calling test when
 * the binary is absent ({@link ServerBinaries}).
 */
public final class Nghttpd implements AutoCloseable {
    /** Where Debian installs it. */
    public static final Path BINARY = Path.of("/usr/sbin/nghttpd");

    private final Process process;
    private final int port;
    private final Path log;

    private Nghttpd(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /**
     * Starts nghttpd and waits until it accepts connections.
     *
     * @param workDir a directory for its key, certificate and log
     * @param docroot the files it serves
     * @param tls whether to speak TLS (ALPN h2) or cleartext HTTP/2 (prior knowledge)
     * @param options more command-line options, e.g. {@code -m 100}, {@code --echo-upload}
     */
    public static Nghttpd start(Path workDir, Path docroot, boolean tls, String... options)
            throws IOException, InterruptedException {
        ServerBinaries.require(BINARY, "nghttp2-server");
        int port = freePort();
        List<String> command = new ArrayList<>(List.of(BINARY.toString(), "-a", "127.0.0.1", "-d", docroot.toString()));
        command.addAll(List.of(options));
        if (!tls) {
            command.add("--no-tls");
        }
        command.add(String.valueOf(port));
        if (tls) {
            Path key = workDir.resolve("nghttpd-key.pem");
            Path cert = workDir.resolve("nghttpd-cert.pem");
            Files.writeString(key, TestPki.SERVER.privateKeyPkcs8Pem(), StandardCharsets.US_ASCII);
            Files.writeString(cert, TestPki.SERVER.certificatePem() + TestPki.CA.certificatePem(),
                    StandardCharsets.US_ASCII);
            command.add(key.toString());
            command.add(cert.toString());
        }
        Path log = workDir.resolve("nghttpd-" + port + ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Nghttpd n = new Nghttpd(p, port, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                return n;
            } catch (IOException e) {
                if (!p.isAlive() || System.nanoTime() - deadline > 0) {
                    n.close();
                    throw new IOException("nghttpd did not start on port " + port + ": " + n.log(), e);
                }
                Thread.sleep(20);
            }
        }
    }

    /** @return its port on 127.0.0.1 */
    public int port() {
        return port;
    }

    /** @return what it printed so far */
    public String log() {
        try {
            return Files.readString(log, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Sends SIGTERM (as at a shutdown) without waiting. */
    public void terminate() {
        process.destroy();
    }

    /** @return whether it still runs */
    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
