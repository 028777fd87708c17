package io.berth.transport.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A real server (nghttpd, nginx, HAProxy) run as a child process of the test JVM in the foreground,
 * its output in a log file: started, awaited until every port it should listen on accepts
 * connections, and stopped with SIGTERM (SIGKILL after 5 s). What {@link Nghttpd}, {@link Nginx} and
 * {@link Haproxy} share. Thread-safe.
 */
final class ServerProcess implements AutoCloseable {
    private static final long START_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final String name;
    private final Process process;
    private final Path log;

    private ServerProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code command} and waits until each of {@code ports} on 127.0.0.1 accepts a connection.
     *
     * @param name for messages, e.g. {@code nginx}
     * @param log where its standard output and error go
     * @throws IOException if it exits or a port stays closed for 10 s (the message holds its log)
     */
    static ServerProcess start(String name, List<String> command, Path log, int... ports)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ServerProcess server = new ServerProcess(name, p, log);
        long deadline = System.nanoTime() + START_TIMEOUT_NANOS;
        for (int port : ports) {
            while (true) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                    break;
                } catch (IOException e) {
                    if (!p.isAlive() || System.nanoTime() - deadline > 0) {
                        server.close();
                        throw new IOException(name + " did not start on port " + port + " (" + command + "): "
                                + server.log(), e);
                    }
                    Thread.sleep(20);
                }
            }
        }
        return server;
    }

    /** Free ports on 127.0.0.1 handed out by name, the same port for the same name. Not thread-safe. */
    static final class Ports {
        private final Map<String, Integer> byName = new LinkedHashMap<>();

        int port(String name) {
            Integer p = byName.get(name);
            if (p == null) {
                try {
                    p = freePort();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                byName.put(name, p);
            }
            return p;
        }

        /** @return the port of a name handed out before */
        int existing(String name) {
            Integer p = byName.get(name);
            if (p == null) {
                throw new IllegalArgumentException("no port named " + name + " in " + byName.keySet());
            }
            return p;
        }

        /** @return every port handed out, in order */
        int[] all() {
            return byName.values().stream().mapToInt(Integer::intValue).toArray();
        }

        @Override
        public String toString() {
            return byName.toString();
        }
    }

    /**
     * Ports {@link #freePort} handed out in this JVM. The kernel picks a port for {@code bind(0)} at
     * random from a few thousand (with {@code SO_REUSEADDR}, as a Java server socket has on Linux, half
     * the ephemeral range, odd ports only: about 7,000 here), and a port handed out is free again until
     * its server binds it, so two picks could coincide: in one nginx configuration, a plain listener
     * would then share a TLS listener's port and be merged into it (nginx's status port answered "400
     * The plain HTTP request was sent to HTTPS port" once in CI).
     */
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();
    private static final int FREE_PORT_ATTEMPTS = 1000;

    /**
     * @return a TCP port on 127.0.0.1 free when this returns (a server may take it an instant later),
     *     never one this JVM was handed before
     * @throws IOException if no such port turned up in {@value #FREE_PORT_ATTEMPTS} tries
     */
    static int freePort() throws IOException {
        for (int i = 0; i < FREE_PORT_ATTEMPTS; i++) {
            int port;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            if (HANDED_OUT.add(port)) {
                return port;
            }
        }
        throw new IOException("no port on 127.0.0.1 that this JVM was not handed before, in " + FREE_PORT_ATTEMPTS
                + " tries (" + HANDED_OUT.size() + " handed out)");
    }

    /** Writes {@link TestPki#SERVER}'s key (PKCS#8) and its certificate followed by the CA's, as PEM files. */
    static void writeServerPki(Path key, Path chain) throws IOException {
        Files.writeString(key, TestPki.SERVER.privateKeyPkcs8Pem(), StandardCharsets.US_ASCII);
        Files.writeString(chain, TestPki.SERVER.certificatePem() + TestPki.CA.certificatePem(),
                StandardCharsets.US_ASCII);
    }

    /** @return what it printed so far */
    String log() {
        try {
            return Files.readString(log, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Sends SIGTERM without waiting. */
    void terminate() {
        process.destroy();
    }

    boolean isAlive() {
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

    @Override
    public String toString() {
        return name + "{pid " + process.pid() + ", log " + log + "}";
    }
}
