package io.berth.transport.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * nginx (Debian's {@code nginx-light}, 1.22), a real HTTP/1.1 and HTTP/2 server, run by a test on
 * 127.0.0.1 with a configuration of its own in a directory of its own: one process in the
 * foreground ({@code master_process off}, so no worker outlives it and nothing changes user), the
 * {@link TestPki#SERVER} certificate, temp paths and logs in that directory. The test writes the
 * {@code server} blocks; this class adds a plain status listener ({@code stub_status}, read with
 * {@link #status()}) and the {@value #LOG_FORMAT} log format, parsed by {@link #accessLog(String)}.
 * {@link #close()} stops it (SIGTERM, then SIGKILL after 5 s). Skips or fails the calling test when
 * the binary is absent ({@link ServerBinaries}).
 *
 * <pre>{@code
 * Nginx nginx = Nginx.start(dir, s -> "server { listen 127.0.0.1:" + s.port("h2") + " ssl http2; "
 *         + s.tls() + s.accessLog("h2") + " location / { return 200 ok; } }");
 * }</pre>
 *
 * <p>Thread-safe once started.
 */
public final class Nginx implements AutoCloseable {
    /** Where Debian installs it. */
    public static final Path BINARY = Path.of("/usr/sbin/nginx");
    /**
     * The access log format this class defines and parses: per request the connection's serial number
     * and its request count, the local port, the protocol ({@code HTTP/2.0}), method, URI, status, the
     * TLS SNI name, whether the TLS session was resumed, and the request body (logged only where a
     * module read it, e.g. {@code proxy_pass}).
     */
    public static final String LOG_FORMAT = "berth";

    private static final Pattern LINE = Pattern.compile(
            "(\\d+) (\\d+) (\\d+) (\\S+) (\\S+) \"([^\"]*)\" (\\d+) \"([^\"]*)\" \"([^\"]*)\" \"([^\"]*)\"");
    /** The name of the status listener's port: a test's names are its own. */
    private static final String STATUS_PORT = "nginx stub_status";
    private static final Pattern STATUS = Pattern.compile(
            "Active connections: (\\d+)\\s+server accepts handled requests\\s+(\\d+) (\\d+) (\\d+)");

    private final ServerProcess process;
    private final Setup setup;
    private final int statusPort;

    private Nginx(ServerProcess process, Setup setup, int statusPort) {
        this.process = process;
        this.setup = setup;
        this.statusPort = statusPort;
    }

    /**
     * Writes the configuration and starts nginx, then waits until every port the test's blocks asked
     * for (and the status port) accepts connections.
     *
     * @param workDir a directory; nginx gets a directory of its own in it
     * @param servers writes the contents of the {@code http} block (its {@code server} blocks) from
     *     the ports, certificate and log paths the {@link Setup} hands out
     * @return the running server
     * @throws IOException if it does not start (the message holds its error log)
     */
    public static Nginx start(Path workDir, Function<Setup, String> servers) throws IOException, InterruptedException {
        ServerBinaries.require(BINARY, "nginx-light");
        Path dir = Files.createTempDirectory(Files.createDirectories(workDir), "nginx-");
        Setup setup = new Setup(dir);
        int statusPort = setup.port(STATUS_PORT);
        String http = servers.apply(setup);
        ServerProcess.writeServerPki(dir.resolve("server.key"), dir.resolve("server.pem"));
        Files.createDirectories(dir.resolve("temp"));
        Path conf = dir.resolve("nginx.conf");
        Files.writeString(conf, String.join("\n",
                "daemon off;",
                "master_process off;",
                "pid " + dir.resolve("nginx.pid") + ";",
                "error_log " + dir.resolve("error.log") + " info;",
                "events { worker_connections 1024; }",
                "http {",
                "    client_body_temp_path " + dir.resolve("temp/client_body") + ";",
                "    proxy_temp_path " + dir.resolve("temp/proxy") + ";",
                "    fastcgi_temp_path " + dir.resolve("temp/fastcgi") + ";",
                "    uwsgi_temp_path " + dir.resolve("temp/uwsgi") + ";",
                "    scgi_temp_path " + dir.resolve("temp/scgi") + ";",
                "    access_log off;",
                "    log_format " + LOG_FORMAT + " '$connection $connection_requests $server_port $server_protocol"
                        + " $request_method \"$request_uri\" $status \"$ssl_server_name\" \"$ssl_session_reused\""
                        + " \"$request_body\"';",
                http,
                "    server {",
                "        listen 127.0.0.1:" + statusPort + ";",
                "        location = /status { stub_status; }",
                "    }",
                "}",
                ""), StandardCharsets.US_ASCII);
        List<String> command = List.of(BINARY.toString(), "-p", dir + "/", "-c", conf.toString(),
                "-e", dir.resolve("error.log").toString());
        ServerProcess process = ServerProcess.start("nginx", command, dir.resolve("nginx.out"), setup.ports.all());
        return new Nginx(process, setup, statusPort);
    }

    /**
     * What a test's configuration may use: ports by name, the certificate, access logs by name.
     * Used only while {@link #start} runs.
     */
    public static final class Setup extends ServerSetup {
        private Setup(Path dir) {
            super(dir);
        }

        /** @return {@code ssl_certificate} and {@code ssl_certificate_key} directives for {@link TestPki#SERVER} */
        public String tls() {
            return "ssl_certificate " + dir().resolve("server.pem") + "; ssl_certificate_key " + dir().resolve("server.key")
                    + "; ";
        }

        /**
         * @param name a log name of the test's choosing
         * @return an {@code access_log} directive writing that log in the {@value Nginx#LOG_FORMAT} format
         */
        public String accessLog(String name) {
            return "access_log " + dir().resolve(name + ".access.log") + " " + LOG_FORMAT + "; ";
        }
    }

    /**
     * One line of a {@value #LOG_FORMAT} access log.
     *
     * @param connection nginx's serial number of the connection ({@code $connection})
     * @param connectionRequest which request of its connection this was, from 1
     * @param port the local port it came in on
     * @param protocol {@code HTTP/2.0}, {@code HTTP/1.1}...
     * @param method the method
     * @param uri the request URI
     * @param status the status sent
     * @param sni the TLS SNI name the client sent, empty for none
     * @param sessionResumed whether the connection's TLS session was resumed
     * @param body the request body, where a module read it; empty otherwise
     */
    public record Request(long connection, int connectionRequest, int port, String protocol, String method, String uri,
            int status, String sni, boolean sessionResumed, String body) {
    }

    /**
     * What {@code stub_status} counts since nginx started.
     *
     * @param active connections open now
     * @param accepts connections accepted
     * @param handled connections handled
     * @param requests requests
     */
    public record Status(long active, long accepts, long handled, long requests) {
    }

    /**
     * @param name a name given to {@link Setup#port}
     * @return its port
     */
    public int port(String name) {
        return setup.ports.existing(name);
    }

    /**
     * @param name a name given to {@link Setup#accessLog}
     * @return the requests logged so far (nginx logs a request when it ends), in order
     */
    public List<Request> accessLog(String name) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(setup.dir().resolve(name + ".access.log"), StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        List<Request> requests = new ArrayList<>(lines.size());
        for (String line : lines) {
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                throw new IOException("not a " + LOG_FORMAT + " log line: " + line);
            }
            requests.add(new Request(Long.parseLong(m.group(1)), Integer.parseInt(m.group(2)),
                    Integer.parseInt(m.group(3)), m.group(4), m.group(5), m.group(6), Integer.parseInt(m.group(7)),
                    dash(m.group(8)), m.group(9).equals("r"), dash(m.group(10))));
        }
        return requests;
    }

    /**
     * Reads {@code stub_status} over a plain HTTP/1.0 connection of its own, which it counts: each
     * call adds one to {@code accepts}, {@code handled} and {@code requests}.
     *
     * @return nginx's counts
     */
    public Status status() throws IOException {
        String response;
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), statusPort)) {
            s.getOutputStream().write("GET /status HTTP/1.0\r\nHost: status\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            response = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
        Matcher m = STATUS.matcher(response);
        if (!m.find()) {
            throw new IOException("not a stub_status response: " + response);
        }
        return new Status(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
                Long.parseLong(m.group(4)));
    }

    /** @return its error log so far */
    public String errorLog() {
        try {
            return Files.readString(setup.dir().resolve("error.log"), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "(no error log: " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.close();
    }

    @Override
    public String toString() {
        return "nginx{" + setup.ports + ", status " + statusPort + ", " + process + "}";
    }

    private static String dash(String v) {
        return v.equals("-") ? "" : v;
    }
}
