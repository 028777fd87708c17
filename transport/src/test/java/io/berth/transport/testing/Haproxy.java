package io.berth.transport.testing;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * HAProxy (Debian's {@code haproxy}, 2.6), run by a test on 127.0.0.1 in the foreground
 * ({@code -db}) with a configuration of its own in a directory of its own, and the
 * {@link TestPki#SERVER} certificate; its stats socket answers {@link #frontend(String)}.
 * {@link #close()} stops it (SIGTERM, then SIGKILL after 5 s). Skips or fails the calling test when
 * the binary is absent ({@link ServerBinaries}).
 *
 * <pre>{@code
 * Haproxy haproxy = Haproxy.start(dir, List.of("tune.h2.max-concurrent-streams 10"), s ->
 *         "frontend h2\n  bind 127.0.0.1:" + s.port("h2") + " ssl crt " + s.pem() + " alpn h2,http/1.1\n"
 *         + "  http-request return status 200 content-type text/plain string ok\n");
 * }</pre>
 *
 * <p>Thread-safe once started.
 */
public final class Haproxy implements AutoCloseable {
    /** Where Debian installs it. */
    public static final Path BINARY = Path.of("/usr/sbin/haproxy");

    private final ServerProcess process;
    private final Setup setup;

    private Haproxy(ServerProcess process, Setup setup) {
        this.process = process;
        this.setup = setup;
    }

    /**
     * Writes the configuration, starts HAProxy and waits until every port the test asked for accepts
     * connections. The configuration is a {@code global} section (the stats socket, then
     * {@code global}'s lines), a {@code defaults} section ({@code mode http}, timeouts of 5 s to
     * connect and 30 s otherwise), then the test's sections.
     *
     * @param workDir a directory; HAProxy gets a directory of its own in it
     * @param global more lines of the {@code global} section, e.g. {@code tune.h2.max-concurrent-streams 10}
     * @param sections writes the frontends (and any backends) from the ports and certificate the
     *     {@link Setup} hands out
     * @return the running server
     * @throws IOException if it does not start (the message holds its output)
     */
    public static Haproxy start(Path workDir, List<String> global, Function<Setup, String> sections)
            throws IOException, InterruptedException {
        ServerBinaries.require(BINARY, "haproxy");
        Path dir = Files.createTempDirectory(Files.createDirectories(workDir), "haproxy-");
        Setup setup = new Setup(dir);
        String rest = sections.apply(setup);
        Path key = dir.resolve("server.key");
        Path chain = dir.resolve("server.crt");
        ServerProcess.writeServerPki(key, chain);
        Files.writeString(setup.pem(), Files.readString(chain) + Files.readString(key), StandardCharsets.US_ASCII);
        StringBuilder conf = new StringBuilder("global\n    stats socket " + setup.socket() + " mode 600 level user\n");
        for (String line : global) {
            conf.append("    ").append(line).append('\n');
        }
        conf.append("defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n")
                .append(rest).append('\n');
        Path cfg = dir.resolve("haproxy.cfg");
        Files.writeString(cfg, conf, StandardCharsets.US_ASCII);
        int[] ports = setup.ports.all();
        ServerProcess process = ServerProcess.start("haproxy", List.of(BINARY.toString(), "-db", "-f", cfg.toString()),
                dir.resolve("haproxy.out"), ports);
        return new Haproxy(process, setup);
    }

    /** What a test's sections may use: ports by name, the certificate. Used only while {@link #start} runs. */
    public static final class Setup extends ServerSetup {
        private Setup(Path dir) {
            super(dir);
        }

        /** @return the PEM file for {@code bind ... ssl crt}: {@link TestPki#SERVER}, the CA, the key */
        public Path pem() {
            return dir().resolve("server.pem");
        }

        Path socket() {
            return dir().resolve("stats.sock");
        }
    }

    /**
     * A frontend's counters from {@code show stat} on the stats socket.
     *
     * @param connections connections accepted since HAProxy started ({@code conn_tot})
     * @param requests HTTP requests received, one per HTTP/2 stream ({@code req_tot})
     * @param sessions sessions open now ({@code scur})
     */
    public record Frontend(long connections, long requests, long sessions) {
    }

    /**
     * @param name a name given to {@link Setup#port}
     * @return its port
     */
    public int port(String name) {
        return setup.ports.existing(name);
    }

    /**
     * @param name a frontend of the configuration
     * @return its counters now, from the stats socket
     * @throws IOException if the socket does not answer or has no such frontend
     */
    public Frontend frontend(String name) throws IOException {
        String csv = command("show stat");
        List<String> header = null;
        for (String line : csv.split("\n")) {
            if (line.startsWith("# ")) {
                header = List.of(line.substring(2).split(",", -1));
            } else if (header != null && line.startsWith(name + ",FRONTEND,")) {
                List<String> row = List.of(line.split(",", -1));
                return new Frontend(Long.parseLong(row.get(header.indexOf("conn_tot"))),
                        Long.parseLong(row.get(header.indexOf("req_tot"))),
                        Long.parseLong(row.get(header.indexOf("scur"))));
            }
        }
        throw new IOException("no frontend " + name + " in HAProxy's stats: " + csv);
    }

    /**
     * @param command a stats socket command, e.g. {@code show info}
     * @return HAProxy's answer
     */
    public String command(String command) throws IOException {
        try (SocketChannel s = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.connect(UnixDomainSocketAddress.of(setup.socket()));
            s.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII)));
            return new String(Channels.newInputStream(s).readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    /** @return what it printed so far (warnings, alerts) */
    public String log() {
        return process.log();
    }

    @Override
    public void close() throws InterruptedException {
        process.close();
    }

    @Override
    public String toString() {
        return "haproxy{" + setup.ports + ", " + process + "}";
    }
}
