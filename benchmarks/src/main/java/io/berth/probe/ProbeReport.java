package io.berth.probe;

import io.berth.Backend;
import io.berth.HttpProtocol;
import io.berth.CloseReason;
import io.berth.ConnectionStats;
import io.berth.PoolStats;
import io.berth.Server;
import io.berth.StatsTable;
import io.berth.StreamStats;
import io.berth.TlsConfig;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * What one probe run found, and its two renderings: the human report and the {@code --json} object.
 * Both carry the same facts; the last line of the human report is the summary line.
 */
final class ProbeReport {
    /**
     * What was probed and how.
     *
     * @param backend the backend with its TLS settings
     * @param embedded whether it is the probe's embedded backend
     * @param target the request target
     * @param reuse the reuse policy's name
     * @param method GET or POST
     * @param requests requests asked for
     * @param gap the pause between a caller's requests
     * @param concurrency callers at once
     * @param trust where trust comes from, or {@code null} for plain http
     */
    record Setup(Backend backend, boolean embedded, String target, String reuse, String method, int requests,
            Duration gap, int concurrency, String trust) {

        Server server() {
            return backend.server();
        }

        /** @return whether h2 was offered (before http/1.1) */
        boolean http2() {
            return backend.protocols().contains(HttpProtocol.HTTP_2);
        }

        String protocolsLine() {
            return http2() ? "h2, then http/1.1, offered through ALPN: the server picks per connection"
                    : "http/1.1 (--http2 offers h2 first)";
        }

        String url() {
            return backend.scheme() + "://" + hostPort(server()) + target;
        }

        /** @return the host name the certificate must match, or {@code null} for plain http */
        String verifyName() {
            return backend.isSecure() ? backend.tls().verifyHostnameFor(server()) : null;
        }

        /** @return the SNI name sent, or {@code null} if none is */
        String sniSent() {
            return backend.isSecure() ? backend.tls().sniNameFor(server()) : null;
        }

        /** @return what the reuse policy lets this probe's requests do, in one line */
        String ruleLine() {
            boolean post = method.equals("POST");
            String line = switch (reuse) {
                case "never" -> "no connection is shared: each request opens one and closes it after";
                case "always" -> "any idle connection may carry any request";
                case "aggressive" -> post
                        ? "a POST (not replayable) may reuse only a proven idle connection (2+ exchanges), else opens one"
                        : "a GET (replayable) may reuse any idle connection";
                default -> post
                        ? "a POST (not replayable) never reuses an idle connection: each opens a new one"
                        : "a GET (replayable) may reuse any idle connection";
            };
            if (!http2() || !post || reuse.equals("never") || reuse.equals("always")) {
                return line;
            }
            return (reuse.equals("safe")
                    ? "a POST (not replayable) may share an HTTP/2 connection proven alive (a frame from the server"
                            + " within validateAfterIdle, else a PING first)"
                    : "a POST (not replayable) may share any HTTP/2 connection")
                    + "; " + line.replace("a POST (not replayable) ", "over HTTP/1.1 it ");
        }

        String tlsLine() {
            if (!backend.isSecure()) {
                return "none (plain http)";
            }
            TlsConfig tls = backend.tls();
            String sni = !tls.sni() ? "SNI off" : sniSent() == null ? "SNI on (none sent to an IP address)"
                    : "SNI on (" + sniSent() + ")";
            return sni + ", certificate verified for " + verifyName() + ", trust: " + trust;
        }

        private static String hostPort(Server s) {
            String host = s.host().indexOf(':') >= 0 ? "[" + s.host() + "]" : s.host();
            return host + ":" + s.port();
        }
    }

    /**
     * One request.
     *
     * @param number its number, from 1
     * @param connectionId the pool's id of the connection that carried it, or -1 if it failed
     * @param reused whether that connection had carried an exchange before
     * @param status the response status, or 0 if it failed
     * @param version the HTTP version of the response ({@code HTTP/1.1} or {@code HTTP/2}), or {@code null}
     *     if it failed
     * @param nanos how long it took, response body included
     * @param failure why it failed, or {@code null}
     */
    record Result(int number, long connectionId, boolean reused, int status, String version, long nanos,
            Throwable failure) {
    }

    private final Setup setup;
    private final List<Result> results;
    private final TlsFailure tlsFailure;
    private final String stopReason;
    private final PoolStats atEnd;
    private final PoolStats afterClose;
    private final Map<Long, Integer> peakStreams;
    private final EmbeddedBackend.Snapshot server;
    private final long startMillis;
    private final long elapsedNanos;

    /**
     * @param setup what was probed
     * @param results the requests sent
     * @param tlsFailure the TLS failure that stopped the run, or {@code null}
     * @param stopReason why the run stopped before sending every request, or {@code null}
     * @param atEnd the pool's stats when the last request was done
     * @param afterClose the pool's stats after it closed
     * @param peakStreams the most exchanges each HTTP/2 connection carried at once, by id
     * @param server what the embedded backend saw, or {@code null} for a URL
     * @param startMillis wall-clock time the pool was created at
     * @param elapsedNanos how long the requests took
     */
    ProbeReport(Setup setup, List<Result> results, TlsFailure tlsFailure, String stopReason, PoolStats atEnd,
            PoolStats afterClose, Map<Long, Integer> peakStreams, EmbeddedBackend.Snapshot server, long startMillis,
            long elapsedNanos) {
        this.setup = setup;
        this.results = List.copyOf(results);
        this.tlsFailure = tlsFailure;
        this.stopReason = stopReason;
        this.atEnd = atEnd;
        this.afterClose = afterClose;
        this.peakStreams = Map.copyOf(peakStreams);
        this.server = server;
        this.startMillis = startMillis;
        this.elapsedNanos = elapsedNanos;
    }

    TlsFailure tlsFailure() {
        return tlsFailure;
    }

    int sent() {
        return results.size();
    }

    int failed() {
        int n = 0;
        for (Result r : results) {
            n += r.failure() != null ? 1 : 0;
        }
        return n;
    }

    long connections() {
        return afterClose.opened();
    }

    long reusePercent() {
        return afterClose.acquired() == 0 ? 0 : Math.round(100.0 * afterClose.reused() / afterClose.acquired());
    }

    int exitCode() {
        return failed() > 0 ? 1 : 0;
    }

    String summaryLine() {
        return "summary: requests=" + sent() + " failed=" + failed() + " connections=" + connections() + " reuse="
                + reusePercent() + "%" + (setup.http2() ? " h2=" + h2Rows() + "/" + rowCount() : "");
    }

    /** @return the connections in the table that speak HTTP/2 */
    private long h2Rows() {
        return mergedRows().stream().filter(c -> c.streams() != null).count();
    }

    private int rowCount() {
        return afterClose.connections().size();
    }

    /** @return the responses by HTTP version, in order of first appearance */
    private Map<String, Integer> versions() {
        return responsesBy(Result::version, new LinkedHashMap<>());
    }

    /** @return {@code counts}, with the responses (not the failures) counted by {@code key} */
    private <K> Map<K, Integer> responsesBy(Function<Result, K> key, Map<K, Integer> counts) {
        for (Result r : results) {
            if (r.failure() == null) {
                counts.merge(key.apply(r), 1, Integer::sum);
            }
        }
        return counts;
    }

    /** @return which protocol the connections in the table speak, and whether h2 offered fell back */
    private String protocolsText() {
        long h2 = h2Rows();
        long h1 = rowCount() - h2;
        List<String> parts = new ArrayList<>();
        if (h2 > 0) {
            parts.add("h2 on " + count(h2, "connection"));
        }
        if (h1 > 0) {
            parts.add("http/1.1 on " + count(h1, "connection"));
        }
        String text = parts.isEmpty() ? "-" : String.join(", ", parts);
        if (setup.http2() && h1 > 0) {
            text += h2 == 0 ? ": h2 was offered, but the server did not choose it, so the pool fell back to HTTP/1.1"
                    : ": h2 was offered, but the server did not choose it on the http/1.1 ones, so those fell back"
                            + " to HTTP/1.1";
        }
        return text;
    }

    private static String count(long n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    // ------------------------------------------------------------------ derived facts

    private Map<Integer, Integer> statuses() {
        return responsesBy(Result::status, new TreeMap<>());
    }

    /** @return failures grouped by type and message, most frequent first, then in order of first appearance */
    private List<Map.Entry<String[], Integer>> failureGroups() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        Map<String, String[]> keys = new HashMap<>();
        for (Result r : results) {
            if (r.failure() != null) {
                String type = r.failure().getClass().getName();
                String message = TlsFailure.oneLine(r.failure().getMessage());
                String key = type + "\n" + message;
                counts.merge(key, 1, Integer::sum);
                keys.putIfAbsent(key, new String[] {type, message});
            }
        }
        List<Map.Entry<String[], Integer>> groups = new ArrayList<>();
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            groups.add(Map.entry(keys.get(e.getKey()), e.getValue()));
        }
        groups.sort(Comparator.comparing(e -> -e.getValue()));
        return groups;
    }

    private Map<CloseReason, Long> closedReasons() {
        Map<CloseReason, Long> m = new LinkedHashMap<>();
        for (CloseReason r : CloseReason.values()) {
            long n = afterClose.closed(r);
            if (n > 0) {
                m.put(r, n);
            }
        }
        return m;
    }

    /** One row of the connection table: the state from the end of the run, the close reason from after close. */
    private record Row(long id, String server, int uses, String state, String closeReason, boolean tlsResumed,
            Long createdMillis, Long lastUsedMillis, StreamStats streams) {
    }

    private List<Row> rows() {
        List<ConnectionStats> merged = mergedRows();
        merged.sort(Comparator.comparingLong(ConnectionStats::id));
        List<Row> rows = new ArrayList<>();
        for (ConnectionStats c : merged) {
            rows.add(new Row(c.id(), c.server(), c.uses(), c.state().name(),
                    c.closeReason() == null ? null : c.closeReason().name(), c.tlsSessionResumed(),
                    offset(c.created()), offset(c.lastUsed()), c.streams()));
        }
        return rows;
    }

    /** A row after close, with the connection's state (and streams in flight) at the end of the run. */
    private record AtEnd(long id, String server, io.berth.ConnectionState state, Instant created, Instant lastUsed,
            int uses, boolean proven, boolean tlsSessionResumed, io.berth.CloseReason closeReason, int inFlight,
            StreamStats streams) implements ConnectionStats {
    }

    /**
     * An HTTP/2 row's figures: streams in flight and capacity at the end of the run, and what the
     * connection's whole life counts (streams carried, resets, the last GOAWAY) from after the close.
     */
    private record MergedStreams(StreamStats atEnd, StreamStats closed) implements StreamStats {
        @Override
        public int streamsInFlight() {
            return atEnd.streamsInFlight();
        }

        @Override
        public long serverMaxConcurrentStreams() {
            return atEnd.serverMaxConcurrentStreams();
        }

        @Override
        public int capacity() {
            return atEnd.capacity();
        }

        @Override
        public long sendWindow() {
            return atEnd.sendWindow();
        }

        @Override
        public long receiveWindow() {
            return atEnd.receiveWindow();
        }

        @Override
        public long streamsCarried() {
            return closed.streamsCarried();
        }

        @Override
        public long resetsSent() {
            return closed.resetsSent();
        }

        @Override
        public long resetsReceived() {
            return closed.resetsReceived();
        }

        @Override
        public String goAway() {
            return closed.goAway();
        }

        @Override
        public Duration lastPingRtt() {
            return closed.lastPingRtt() != null ? closed.lastPingRtt() : atEnd.lastPingRtt();
        }
    }

    /** @return the rows after close, each with its state at the end of the run: what the table shows */
    private List<ConnectionStats> mergedRows() {
        Map<Long, ConnectionStats> before = new HashMap<>();
        for (ConnectionStats c : atEnd.connections()) {
            before.put(c.id(), c);
        }
        List<ConnectionStats> merged = new ArrayList<>();
        for (ConnectionStats c : afterClose.connections()) {
            ConnectionStats b = before.get(c.id());
            StreamStats streams = b == null || b.streams() == null || c.streams() == null ? c.streams()
                    : new MergedStreams(b.streams(), c.streams());
            merged.add(b == null ? c : new AtEnd(c.id(), c.server(), b.state(), c.created(), c.lastUsed(),
                    c.uses(), c.proven(), c.tlsSessionResumed(), c.closeReason(), b.inFlight(), streams));
        }
        return merged;
    }

    private Long offset(Instant t) {
        return t == null ? null : Math.max(0, t.toEpochMilli() - startMillis);
    }

    /** @return a mismatch between the pool's view and the server's, or {@code null} if they agree */
    private String crossCheckProblem() {
        int accepted = server.connections().size();
        int answered = server.requests();
        int responses = sent() - failed();
        List<String> problems = new ArrayList<>();
        if (accepted != afterClose.opened()) {
            problems.add("server accepted " + accepted + " connections but the pool opened " + afterClose.opened());
        }
        if (answered != responses) {
            problems.add("server answered " + answered + " requests but the pool's callers got " + responses
                    + " responses");
        }
        if (server.refusedStreams() > 0) {
            problems.add("server refused " + server.refusedStreams() + " streams beyond its limit of "
                    + Http2Serving.MAX_CONCURRENT_STREAMS + " at once");
        }
        problems.addAll(server.protocolErrors());
        return problems.isEmpty() ? null : String.join("; ", problems);
    }

    // ------------------------------------------------------------------ human report

    void print(PrintStream out) {
        Setup s = setup;
        out.println("Berth reuse probe");
        kv(out, "target", s.url() + (s.embedded() ? "  (embedded backend)" : ""));
        kv(out, "reuse policy", s.reuse() + ": " + s.ruleLine());
        kv(out, "method", s.method() + " " + s.target());
        kv(out, "requests", s.requests() + ", each by a new caller (new thread, new BerthClient over the shared pool)");
        kv(out, "gap", ProbeArgs.formatDuration(s.gap()) + (s.concurrency() == 1 ? " between requests, one at a time"
                : " between the requests of each of " + s.concurrency() + " concurrent lanes"));
        kv(out, "TLS", s.tlsLine());
        kv(out, "protocols", s.protocolsLine());
        out.println();

        List<Row> rows = rows();
        out.println("connection -> uses (pool's table: state at the end of the run, close reason once the pool closed)");
        if (!rows.isEmpty()) {
            out.print(StatsTable.format(mergedRows(), Instant.ofEpochMilli(startMillis)));
        }
        long notShown = afterClose.opened() - rows.size();
        if (notShown > 0) {
            out.println("  (" + notShown + " earlier closed connections are no longer kept in the pool's table)");
        }
        if (rows.isEmpty()) {
            out.println("  (no connection was opened)");
        }
        out.println();
        if (s.http2() || h2Rows() > 0) {
            printStreams(out);
            out.println();
        }

        PoolStats p = afterClose;
        out.println("pool");
        kv(out, "requests", sent() + " sent, " + failed() + " failed"
                + (sent() < s.requests() ? ", " + (s.requests() - sent()) + " not sent (" + stopReason + ")" : "")
                + statusesText());
        kv(out, "protocols", protocolsText());
        StringBuilder versions = new StringBuilder();
        versions().forEach((v, n) -> versions.append(versions.length() == 0 ? "" : ", ").append(v).append(" x").append(n));
        kv(out, "responses", versions.length() == 0 ? "-" : versions.toString());
        kv(out, "acquired", Long.toString(p.acquired()));
        kv(out, "opened", Long.toString(p.opened()));
        kv(out, "reused", p.reused() + " of " + p.acquired() + " acquisitions (" + reusePercent() + "%)");
        StringBuilder closed = new StringBuilder(Long.toString(p.closedTotal()));
        Map<CloseReason, Long> reasons = closedReasons();
        if (!reasons.isEmpty()) {
            closed.append(':');
            reasons.forEach((r, n) -> closed.append(' ').append(r.name()).append(' ').append(n));
        }
        kv(out, "closed", closed.toString());
        kv(out, "aborted (RST)", Long.toString(p.aborted()));
        kv(out, "TLS resumptions", Long.toString(p.tlsResumed()));
        kv(out, "peak in use", Integer.toString(p.peakInUse()));
        kv(out, "waits/timeouts", p.acquireWaits() + " acquire waits, " + p.acquireTimeouts() + " acquire timeouts, "
                + p.connectFailures() + " connect failures");
        List<Map.Entry<String[], Integer>> groups = failureGroups();
        if (!groups.isEmpty()) {
            out.println();
            out.println("failures");
            int shown = 0;
            for (Map.Entry<String[], Integer> g : groups) {
                if (shown++ == 10) {
                    out.println("  ... " + (groups.size() - 10) + " more kinds");
                    break;
                }
                out.println("  " + g.getValue() + " x " + g.getKey()[0] + ": " + g.getKey()[1]);
            }
            if (tlsFailure != null) {
                out.println("  TLS: " + tlsFailure.describe());
            }
        }
        if (server != null) {
            out.println();
            out.println("embedded backend (the server's own count)");
            int withSni = server.withSni();
            kv(out, "connections", server.connections().size() + " accepted, "
                    + (withSni == 0 ? "no SNI seen" : "SNI seen on " + withSni));
            kv(out, "requests", server.requests() + " answered");
            StringBuilder protocols = new StringBuilder();
            server.protocols().forEach((pr, n) -> protocols.append(protocols.length() == 0 ? "" : ", ").append(pr)
                    .append(" on ").append(n));
            kv(out, "protocols", protocols.length() == 0 ? "-" : protocols.toString());
            if (server.protocols().containsKey("h2")) {
                int h2 = server.protocols().get("h2");
                kv(out, "streams", server.h2Requests() + " on h2 (its limit: " + Http2Serving.MAX_CONCURRENT_STREAMS
                        + " at once), " + server.refusedStreams() + " refused; GOAWAY from the client on "
                        + server.goAways() + " of " + count(h2, "h2 connection"));
            }
            StringBuilder ended = new StringBuilder();
            server.endings().forEach((e, n) -> ended.append(ended.length() == 0 ? "" : ", ").append(e.label)
                    .append(' ').append(n));
            kv(out, "how they ended", ended.length() == 0 ? "-" : ended.toString());
            String problem = crossCheckProblem();
            kv(out, "cross-check", problem == null
                    ? "ok: server accepted " + server.connections().size() + " = pool opened " + afterClose.opened()
                            + ", server answered " + server.requests() + " = responses " + (sent() - failed())
                    : "MISMATCH: " + problem);
        }
        out.println();
        out.println(String.format(Locale.ROOT, "run took %.1fs", elapsedNanos / 1e9));
        out.println(summaryLine());
    }

    /**
     * The streams of each connection: for HTTP/2 rows the streams carried over its life, the most at
     * once (the pool's count, from the listener), the server's limit, resets both ways and the last
     * GOAWAY; HTTP/1.1 rows only name their protocol.
     */
    private void printStreams(PrintStream out) {
        out.println("streams per connection (HTTP/2: streams carried, most at once as the pool counted them, the"
                + " server's limit, resets sent/received, last GOAWAY)");
        List<ConnectionStats> merged = mergedRows();
        merged.sort(Comparator.comparingLong(ConnectionStats::id));
        List<String[]> table = new ArrayList<>();
        table.add(new String[] {"conn", "protocol", "streams", "peak at once", "server limit", "resets sent/received",
            "last GOAWAY"});
        for (ConnectionStats c : merged) {
            StreamStats st = c.streams();
            table.add(st == null ? new String[] {Long.toString(c.id()), "http/1.1", "-", "-", "-", "-", "-"}
                    : new String[] {Long.toString(c.id()), "h2", Long.toString(st.streamsCarried()),
                        peakStreams.containsKey(c.id()) ? Integer.toString(peakStreams.get(c.id())) : "0",
                        st.serverMaxConcurrentStreams() < 0 ? "none" : Long.toString(st.serverMaxConcurrentStreams()),
                        st.resetsSent() + "/" + st.resetsReceived(), st.goAway() == null ? "-" : st.goAway()});
        }
        if (table.size() == 1) {
            out.println("  (no connection was opened)");
            return;
        }
        out.print(columns(table, new boolean[] {true, false, true, true, true, true, false}));
        if (h2Rows() == 0) {
            out.println("  (no connection speaks HTTP/2: the server did not choose h2, so every one fell back to"
                    + " HTTP/1.1)");
        }
    }

    /** @return the rows as text columns, two spaces in, lines ending with {@code \n} */
    private static String columns(List<String[]> table, boolean[] right) {
        int[] widths = new int[right.length];
        for (String[] row : table) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] row : table) {
            StringBuilder line = new StringBuilder(" ");
            for (int i = 0; i < row.length; i++) {
                String pad = " ".repeat(widths[i] - row[i].length());
                line.append(' ').append(right[i] ? pad + row[i] : row[i] + pad).append(i < row.length - 1 ? " " : "");
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }

    private String statusesText() {
        Map<Integer, Integer> st = statuses();
        if (st.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder("; statuses");
        st.forEach((code, n) -> sb.append(' ').append(code).append(" x").append(n));
        return sb.toString();
    }

    private static void kv(PrintStream out, String key, String value) {
        out.println(String.format(Locale.ROOT, "  %-16s %s", key, value));
    }

    // ------------------------------------------------------------------ JSON

    String json() {
        Setup s = setup;
        Json j = new Json().beginObject();
        j.member("target", s.url()).member("embedded", s.embedded()).member("reusePolicy", s.reuse())
                .member("method", s.method()).member("path", s.target()).member("requests", s.requests())
                .member("gap", ProbeArgs.formatDuration(s.gap())).member("gapMillis", s.gap().toMillis())
                .member("concurrency", s.concurrency()).member("http2", s.http2());
        j.name("tls");
        if (s.backend().isSecure()) {
            j.beginObject().member("sni", s.backend().tls().sni()).member("sniSent", s.sniSent())
                    .member("verifyHostname", s.verifyName()).member("trust", s.trust()).endObject();
        } else {
            j.nullValue();
        }

        j.name("connections").beginArray();
        List<Row> rows = rows();
        for (Row r : rows) {
            j.beginObject().member("id", r.id()).member("server", r.server()).member("uses", r.uses())
                    .member("state", r.state()).member("closeReason", r.closeReason())
                    .member("tlsResumed", r.tlsResumed());
            j.name("createdMillis");
            nullableLong(j, r.createdMillis());
            j.name("lastUsedMillis");
            nullableLong(j, r.lastUsedMillis());
            j.member("protocol", r.streams() == null ? "http/1.1" : "h2");
            j.name("streams");
            StreamStats st = r.streams();
            if (st == null) {
                j.nullValue();
            } else {
                j.beginObject().member("carried", st.streamsCarried())
                        .member("peak", peakStreams.getOrDefault(r.id(), 0).longValue())
                        .member("inFlight", st.streamsInFlight()).member("capacity", st.capacity())
                        .member("serverMaxConcurrentStreams", st.serverMaxConcurrentStreams())
                        .member("resetsSent", st.resetsSent()).member("resetsReceived", st.resetsReceived())
                        .member("goAway", st.goAway()).endObject();
            }
            j.endObject();
        }
        j.endArray();
        j.member("connectionsNotShown", Math.max(0, afterClose.opened() - rows.size()));

        PoolStats p = afterClose;
        j.name("pool").beginObject().member("sent", sent()).member("failed", failed())
                .member("notSent", s.requests() - sent()).member("stopReason", stopReason)
                .member("acquired", p.acquired())
                .member("opened", p.opened()).member("reused", p.reused()).member("reusePercent", reusePercent());
        j.name("closed").beginObject();
        closedReasons().forEach((r, n) -> j.member(r.name(), n));
        j.endObject();
        j.member("closedTotal", p.closedTotal()).member("aborted", p.aborted()).member("tlsResumed", p.tlsResumed())
                .member("peakInUse", p.peakInUse()).member("acquireWaits", p.acquireWaits())
                .member("acquireTimeouts", p.acquireTimeouts()).member("connectFailures", p.connectFailures());
        long h2 = h2Rows();
        j.name("protocols").beginObject();
        if (h2 > 0) {
            j.member("h2", h2);
        }
        if (rowCount() > h2) {
            j.member("http/1.1", rowCount() - h2);
        }
        j.endObject();
        j.member("fellBackToHttp11", s.http2() && rowCount() > h2);
        j.name("responses").beginObject();
        versions().forEach((v, n) -> j.member(v, n));
        j.endObject();
        j.endObject();

        j.name("statuses").beginObject();
        statuses().forEach((code, n) -> j.member(Integer.toString(code), n));
        j.endObject();
        j.name("failures").beginArray();
        for (Map.Entry<String[], Integer> g : failureGroups()) {
            j.beginObject().member("type", g.getKey()[0]).member("message", g.getKey()[1])
                    .member("count", g.getValue()).endObject();
        }
        j.endArray();
        j.name("tlsFailure");
        if (tlsFailure == null) {
            j.nullValue();
        } else {
            j.beginObject().member("kind", tlsFailure.kind()).member("explanation", tlsFailure.explanation())
                    .member("detail", tlsFailure.detail()).endObject();
        }

        j.name("server");
        if (server == null) {
            j.nullValue();
        } else {
            j.beginObject().member("connections", server.connections().size())
                    .member("requests", server.requests()).member("withSni", server.withSni());
            j.name("protocols").beginObject();
            server.protocols().forEach((pr, n) -> j.member(pr, n));
            j.endObject();
            j.member("h2Requests", server.h2Requests()).member("refusedStreams", server.refusedStreams())
                    .member("goAways", server.goAways());
            j.name("endings").beginObject();
            server.endings().forEach((e, n) -> j.member(e.name(), n));
            j.endObject();
            String problem = crossCheckProblem();
            j.member("crossCheck", problem == null ? "ok" : "MISMATCH: " + problem);
            j.endObject();
        }
        j.member("elapsedMillis", elapsedNanos / 1_000_000);
        j.name("summary").beginObject().member("requests", sent()).member("failed", failed())
                .member("connections", connections()).member("reusePercent", reusePercent());
        if (s.http2()) {
            j.member("h2Connections", h2);
        }
        j.endObject();
        j.member("exitCode", exitCode());
        return j.endObject().toString();
    }

    private static void nullableLong(Json j, Long v) {
        if (v == null) {
            j.nullValue();
        } else {
            j.value(v.longValue());
        }
    }
}
