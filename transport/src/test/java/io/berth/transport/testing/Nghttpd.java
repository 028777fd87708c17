package io.berth.transport.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * nghttpd (Debian's {@code nghttp2-server}), a real HTTP/2 server, started on 127.0.0.1 on a free
 * port with {@link TestPki#SERVER}'s certificate (or without TLS), serving files from a directory;
 * {@link #close()} stops it (SIGTERM, then SIGKILL after 5 s). Skips or fails the calling test when
 * the binary is absent ({@link ServerBinaries}).
 */
public final class Nghttpd implements AutoCloseable {
    /** Where Debian installs it. */
    public static final Path BINARY = Path.of("/usr/sbin/nghttpd");

    private final ServerProcess process;
    private final int port;

    private Nghttpd(ServerProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * Starts nghttpd and waits until it accepts connections.
     *
     * @param workDir a directory for its key, certificate and log
     * @param docroot the files it serves
     * @param tls whether to speak TLS (ALPN h2) or cleartext HTTP/2 (prior knowledge)
     * @param options more command-line options, e.g. {@code -m 100}, {@code --echo-upload}, {@code -v}
     *     (every frame in {@link #log()}, which nghttpd writes as it goes)
     */
    public static Nghttpd start(Path workDir, Path docroot, boolean tls, String... options)
            throws IOException, InterruptedException {
        ServerBinaries.require(BINARY, "nghttp2-server");
        int port = ServerProcess.freePort();
        List<String> command = new ArrayList<>(List.of(BINARY.toString(), "-a", "127.0.0.1", "-d", docroot.toString()));
        command.addAll(List.of(options));
        if (!tls) {
            command.add("--no-tls");
        }
        command.add(String.valueOf(port));
        if (tls) {
            Path key = workDir.resolve("nghttpd-key.pem");
            Path cert = workDir.resolve("nghttpd-cert.pem");
            ServerProcess.writeServerPki(key, cert);
            command.add(key.toString());
            command.add(cert.toString());
        }
        Path log = workDir.resolve("nghttpd-" + port + ".log");
        return new Nghttpd(ServerProcess.start("nghttpd", command, log, port), port);
    }

    /** @return its port on 127.0.0.1 */
    public int port() {
        return port;
    }

    /** @return what it printed so far */
    public String log() {
        return process.log();
    }

    /** Sends SIGTERM (as at a shutdown) without waiting. */
    public void terminate() {
        process.terminate();
    }

    /** @return whether it still runs */
    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        process.close();
    }
}
