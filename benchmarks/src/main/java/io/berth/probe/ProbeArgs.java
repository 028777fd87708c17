package io.berth.probe;

import io.berth.Backend;
import io.berth.HttpProtocol;
import io.berth.ReusePolicy;
import io.berth.TlsConfig;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The probe's command line, parsed and checked. Every problem is a {@link UsageException} whose
 * message is one line naming the argument and what was wrong with it.
 *
 * <p>Flags take their value as the next argument or after {@code =} ({@code --gap 10ms},
 * {@code --gap=10ms}); each flag may be given once.
 */
final class ProbeArgs {
    static final String USAGE = String.join(System.lineSeparator(),
            "usage: java -jar berth-probe.jar [URL] [options]",
            "  URL                https://host[:port][/path] (or http://...) to probe; the path, if any, is",
            "                     requested. Without a URL the probe starts an embedded TLS backend on",
            "                     127.0.0.1 and trusts exactly the CA it generates for it.",
            "  --requests N       requests to send, each by a new caller (thread and client) (default 40)",
            "  --gap DURATION     pause between a caller's requests: 300ms, 1500ms, 2s or 0 (default 300ms)",
            "  --reuse POLICY     never, safe, aggressive or always (default safe)",
            "  --method METHOD    GET or POST (default GET); a POST is not replayable",
            "  --concurrency C    callers at once, each sending its share in turn (default 1)",
            "  --http2            offer h2, then http/1.1, through ALPN (https only): the server picks per",
            "                     connection, and the report shows each one's protocol and streams",
            "  --ca-file PEM      trust exactly the CA certificates in PEM (default: the JDK trust store)",
            "  --no-sni           send no SNI; the certificate is still checked against the host name",
            "  --json             print one JSON object on stdout instead of the report",
            "  -h, --help         print this help",
            "");

    static final int DEFAULT_REQUESTS = 40;
    static final Duration DEFAULT_GAP = Duration.ofMillis(300);
    static final int MAX_REQUESTS = 1_000_000;
    static final int MAX_CONCURRENCY = 1024;
    static final Duration MAX_GAP = Duration.ofHours(1);
    private static final Pattern DURATION = Pattern.compile("(\\d{1,10})(ms|s)");

    /** The URL as given, or {@code null} for the embedded backend. */
    final String url;
    /** The backend of {@link #url} with its TLS settings, or {@code null} for the embedded backend. */
    final Backend backend;
    /** The request target: the URL's path and query, or {@code /}. */
    final String target;
    final int requests;
    final Duration gap;
    final String reuseName;
    final ReusePolicy reuse;
    final String method;
    final Path caFile;
    final boolean sni;
    final int concurrency;
    /** Whether h2 is offered (before http/1.1). */
    final boolean http2;
    final boolean json;
    final boolean help;

    private ProbeArgs(Parser p) {
        this.url = p.url;
        this.backend = p.backend;
        this.target = p.target;
        this.requests = p.requests;
        this.gap = p.gap;
        this.reuseName = p.reuseName;
        this.reuse = p.reuse;
        this.method = p.method;
        this.caFile = p.caFile;
        this.sni = p.sni;
        this.concurrency = p.concurrency;
        this.http2 = p.http2;
        this.json = p.json;
        this.help = p.help;
    }

    /**
     * @param args the command line
     * @return the parsed arguments
     * @throws UsageException naming the first problem found
     */
    static ProbeArgs parse(String... args) throws UsageException {
        Parser p = new Parser();
        p.parse(args);
        return new ProbeArgs(p);
    }

    /**
     * Parses a duration: digits followed by {@code ms} or {@code s}, or a bare {@code 0}.
     *
     * @param text e.g. {@code 300ms}, {@code 2s}, {@code 0}
     * @return the duration, or {@code null} if the text is not one
     */
    static Duration parseDuration(String text) {
        if (text.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = DURATION.matcher(text);
        if (!m.matches()) {
            return null;
        }
        long n = Long.parseLong(m.group(1));
        return m.group(2).equals("ms") ? Duration.ofMillis(n) : Duration.ofSeconds(n);
    }

    /** @return a duration as the command line writes it: {@code 300ms}, {@code 2s}, {@code 0} */
    static String formatDuration(Duration d) {
        if (d.isZero()) {
            return "0";
        }
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }

    /**
     * @param backend a TLS backend
     * @return the same backend offering h2 first, then http/1.1, through ALPN
     */
    static Backend offeringH2(Backend backend) {
        return backend.toBuilder().protocols(HttpProtocol.HTTP_2, HttpProtocol.HTTP_1_1).build();
    }

    /** A bad command line; the message is one line naming the problem. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    private static final class Parser {
        String url;
        Backend backend;
        String target = "/";
        int requests = DEFAULT_REQUESTS;
        Duration gap = DEFAULT_GAP;
        String reuseName = "safe";
        ReusePolicy reuse = ReusePolicy.SAFE;
        String method = "GET";
        Path caFile;
        boolean sni = true;
        int concurrency = 1;
        boolean http2;
        boolean json;
        boolean help;
        private final Set<String> seen = new HashSet<>();

        void parse(String[] args) throws UsageException {
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                if (arg.equals("-h") || arg.equals("--help")) {
                    help = true;
                    continue;
                }
                if (!arg.startsWith("-") || arg.equals("-")) {
                    if (url != null) {
                        throw new UsageException("unexpected argument '" + arg + "': only one URL may be given (the"
                                + " first was '" + url + "')");
                    }
                    url = arg;
                    continue;
                }
                String flag = arg;
                String inline = null;
                int eq = arg.indexOf('=');
                if (arg.startsWith("--") && eq > 2) {
                    flag = arg.substring(0, eq);
                    inline = arg.substring(eq + 1);
                }
                if (!seen.add(flag)) {
                    throw new UsageException(flag + " was given more than once");
                }
                switch (flag) {
                    case "--no-sni" -> {
                        noValue(flag, inline);
                        sni = false;
                    }
                    case "--json" -> {
                        noValue(flag, inline);
                        json = true;
                    }
                    case "--http2" -> {
                        noValue(flag, inline);
                        http2 = true;
                    }
                    case "--requests", "--gap", "--reuse", "--method", "--ca-file", "--concurrency" -> {
                        String value = inline;
                        if (value == null) {
                            if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                                throw new UsageException(flag + " needs a value (" + expected(flag) + ")"
                                        + (i + 1 < args.length ? " but was followed by '" + args[i + 1] + "'" : ""));
                            }
                            value = args[++i];
                        }
                        option(flag, value);
                    }
                    default -> throw new UsageException("unknown option '" + arg + "'");
                }
            }
            if (help) {
                return;
            }
            if (url == null) {
                if (caFile != null) {
                    throw new UsageException("--ca-file needs a URL: the embedded backend's CA is generated at start"
                            + " and trusted already");
                }
                return;
            }
            parseUrl();
        }

        private static void noValue(String flag, String inline) throws UsageException {
            if (inline != null) {
                throw new UsageException(flag + " takes no value but was given '" + inline + "'");
            }
        }

        private static String expected(String flag) {
            return switch (flag) {
                case "--requests" -> "a whole number from 1 to " + MAX_REQUESTS;
                case "--concurrency" -> "a whole number from 1 to " + MAX_CONCURRENCY;
                case "--gap" -> "a duration such as 300ms, 1500ms, 2s or 0, at most 1 hour";
                case "--reuse" -> "never, safe, aggressive or always";
                case "--method" -> "GET or POST";
                case "--ca-file" -> "a PEM file of CA certificates";
                default -> "a value";
            };
        }

        private void option(String flag, String value) throws UsageException {
            switch (flag) {
                case "--requests" -> requests = number(flag, value, MAX_REQUESTS);
                case "--concurrency" -> concurrency = number(flag, value, MAX_CONCURRENCY);
                case "--gap" -> {
                    Duration d = parseDuration(value);
                    if (d == null || d.compareTo(MAX_GAP) > 0) {
                        throw bad(flag, value);
                    }
                    gap = d;
                }
                case "--reuse" -> {
                    String name = value.toLowerCase(Locale.ROOT);
                    if (!name.equals("never") && !name.equals("safe") && !name.equals("aggressive")
                            && !name.equals("always")) {
                        throw bad(flag, value);
                    }
                    reuseName = name;
                    reuse = ReusePolicy.named(name);
                }
                case "--method" -> {
                    String m = value.toUpperCase(Locale.ROOT);
                    if (!m.equals("GET") && !m.equals("POST")) {
                        throw bad(flag, value);
                    }
                    method = m;
                }
                case "--ca-file" -> caFile = caFile(value);
                default -> throw new IllegalStateException(flag);
            }
        }

        private static UsageException bad(String flag, String value) {
            return new UsageException(flag + " must be " + expected(flag) + " but was '" + value + "'");
        }

        private static int number(String flag, String value, int max) throws UsageException {
            if (!value.matches("\\d{1,9}")) {
                throw bad(flag, value);
            }
            int n = Integer.parseInt(value);
            if (n < 1 || n > max) {
                throw bad(flag, value);
            }
            return n;
        }

        private static Path caFile(String value) throws UsageException {
            Path path;
            try {
                path = Path.of(value);
            } catch (InvalidPathException e) {
                throw new UsageException("--ca-file '" + value + "' is not a valid path: " + e.getReason());
            }
            if (!Files.exists(path)) {
                throw new UsageException("--ca-file '" + value + "' cannot be read: no such file");
            }
            if (Files.isDirectory(path)) {
                throw new UsageException("--ca-file '" + value + "' cannot be read: it is a directory");
            }
            if (!Files.isReadable(path)) {
                throw new UsageException("--ca-file '" + value + "' cannot be read: permission denied");
            }
            try {
                TlsConfig.builder().trustPemFile(path); // parses it now, to report a bad file as a usage error
            } catch (IllegalArgumentException e) {
                throw new UsageException("--ca-file '" + value + "' is not usable: " + oneLine(e.getMessage()));
            }
            return path;
        }

        private void parseUrl() throws UsageException {
            URI uri;
            try {
                uri = new URI(url.trim());
            } catch (URISyntaxException e) {
                throw new UsageException("URL '" + url + "' is malformed: " + e.getReason() + " at index "
                        + e.getIndex());
            }
            String scheme = uri.getScheme();
            if (scheme == null || !(scheme.equalsIgnoreCase("https") || scheme.equalsIgnoreCase("http"))) {
                throw new UsageException("URL '" + url + "' must start with https:// or http://");
            }
            if (uri.getHost() == null) {
                throw new UsageException("URL '" + url + "' is malformed: it names no host (or a malformed one)");
            }
            if (uri.getRawUserInfo() != null) {
                throw new UsageException("URL '" + url + "' must not carry user info");
            }
            if (uri.getRawFragment() != null) {
                throw new UsageException("URL '" + url + "' must not have a fragment");
            }
            boolean secure = scheme.equalsIgnoreCase("https");
            if (!secure && caFile != null) {
                throw new UsageException("--ca-file applies to https only, but URL '" + url + "' is plain http");
            }
            if (!secure && !sni) {
                throw new UsageException("--no-sni applies to https only, but URL '" + url + "' is plain http");
            }
            if (!secure && http2) {
                throw new UsageException("--http2 applies to https only (h2 is offered through ALPN, with HTTP/1.1"
                        + " as the fallback), but URL '" + url + "' is plain http");
            }
            String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
            target = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
            String base = scheme.toLowerCase(Locale.ROOT) + "://" + uri.getRawAuthority();
            try {
                Backend b = Backend.of(base);
                if (secure) {
                    TlsConfig.Builder tls = TlsConfig.builder().sni(sni);
                    if (caFile != null) {
                        tls.trustPemFile(caFile);
                    }
                    b = b.toBuilder().tls(tls.build()).build();
                }
                if (http2) {
                    b = offeringH2(b);
                }
                backend = b;
            } catch (IllegalArgumentException e) {
                throw new UsageException("URL '" + url + "' is not usable: " + oneLine(e.getMessage()));
            }
        }

        private static String oneLine(String s) {
            return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ");
        }
    }
}
