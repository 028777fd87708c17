package io.berth.e2e;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The nginx under test, as {@code benchmarks/e2e/run.sh} set it up: TLS 1.3 on
 * {@code https://host:port} with a certificate signed by the CA in {@link #caPem()}, the same on
 * {@code https://host:h2Port} offering h2 (then http/1.1) through ALPN, and {@code stub_status} on
 * plain HTTP at {@code http://host:statusPort/status}. One nginx, one worker, the same locations on
 * both listeners; {@link #onH2()} is the target seen through the h2 listener.
 *
 * <ul>
 *   <li>{@link #HOT_PATH} answers {@code 200} with a fixed body of {@link #bodyLength()} bytes: the
 *       closed loop's request.</li>
 *   <li>{@link #COLD_PATH} answers the same, plus a header
 *       {@code X-TLS: <protocol> <cipher> <HTTP version> <r|.>} (nginx's
 *       {@code $ssl_protocol $ssl_cipher $server_protocol $ssl_session_reused}), so the benchmarks
 *       can tell a resumed handshake from a full one, and HTTP/2 from HTTP/1.1, without trusting any
 *       client's own view.</li>
 *   <li>{@link #HOLD_PATH} answers a static file of {@link #HOLD_BODY_LENGTH} bytes with the same
 *       header: a body too large for any client to buffer whole on its own, so a response left
 *       unread keeps its connection busy in every client (the JDK client releases a connection once
 *       a small body has arrived, even if the application has not read it).</li>
 * </ul>
 *
 * @param host the server's address (an IP literal: no client sends SNI, all verify the IP SAN)
 * @param port the TLS port of the HTTP/1.1 listener (or, for {@link #onH2()}'s target, of the h2 one)
 * @param h2Port the TLS port of the listener that offers h2 through ALPN
 * @param statusPort the plain-HTTP port of {@code stub_status}
 * @param caPem the PEM file of the CA that signed the server's certificate; every client trusts
 *     exactly this CA
 * @param bodyLength the length of the fixed body
 */
record Target(String host, int port, int h2Port, int statusPort, Path caPem, int bodyLength) {
    static final String HOT_PATH = "/";
    static final String COLD_PATH = "/cold";
    static final String HOLD_PATH = "/hold";
    /** The length of {@link #HOLD_PATH}'s body: 1 MiB ({@code run.sh} makes the file). */
    static final int HOLD_BODY_LENGTH = 1 << 20;
    static final String TLS_HEADER = "X-TLS";

    /** The HTTP version in {@link #TLS_HEADER} of an exchange over HTTP/2 (nginx's {@code $server_protocol}). */
    static final String HTTP_2 = "HTTP/2.0";
    /** The same for HTTP/1.1. */
    static final String HTTP_1_1 = "HTTP/1.1";

    static Target fromArgs(Args args) {
        return new Target(args.string("host", "127.0.0.1"), args.integer("port", 18443),
                args.integer("h2-port", 18444), args.integer("status-port", 18080), Path.of(args.required("ca")),
                args.integer("body-length", 100));
    }

    /** @return this target through the listener that offers h2: the same server, locations and body */
    Target onH2() {
        return new Target(host, h2Port, h2Port, statusPort, caPem, bodyLength);
    }

    /**
     * @param tlsHeader the {@link #TLS_HEADER} of a cold-path response
     * @return the HTTP version nginx served it over ({@link #HTTP_2} or {@link #HTTP_1_1}), or
     *     {@code null} if the header does not say
     */
    static String httpVersion(String tlsHeader) {
        if (tlsHeader == null) {
            return null;
        }
        String[] parts = tlsHeader.split(" ");
        return parts.length == 4 ? parts[2] : null;
    }

    /** @return {@code https://host:port} */
    String origin() {
        return "https://" + host + ":" + port;
    }

    URI uri(String path) {
        return URI.create(origin() + path);
    }

    /** @return the closed loop's URL */
    URI hotUri() {
        return uri(HOT_PATH);
    }

    /** @return the cold path's URL, whose response names the TLS session's state */
    URI coldUri() {
        return uri(COLD_PATH);
    }

    /** @return the URL of a response that keeps its connection busy until read */
    URI holdUri() {
        return uri(HOLD_PATH);
    }

    /**
     * Checks one response: every client calls this for every response it counts.
     *
     * @throws IOException if the status is not 200 or the body's length is not the expected one
     */
    void check(int status, int bodyBytes) throws IOException {
        if (status != 200 || bodyBytes != bodyLength) {
            throw new IOException("bad response: status " + status + " with a body of " + bodyBytes
                    + " bytes, expected 200 with " + bodyLength);
        }
    }

    /**
     * Checks a response of {@link #HOLD_PATH}.
     *
     * @throws IOException if the status is not 200 or the body's length is not {@link #HOLD_BODY_LENGTH}
     */
    static void checkHeld(int status, int bodyBytes) throws IOException {
        if (status != 200 || bodyBytes != HOLD_BODY_LENGTH) {
            throw new IOException("bad response: status " + status + " with a body of " + bodyBytes
                    + " bytes, expected 200 with " + HOLD_BODY_LENGTH);
        }
    }

    /**
     * @param tlsHeader the {@code X-TLS} header of a cold-path response
     * @return whether nginx resumed the TLS session of that response's connection
     * @throws IOException if the header is missing or malformed
     */
    static boolean resumed(String tlsHeader) throws IOException {
        if (tlsHeader == null || tlsHeader.length() < 3) {
            throw new IOException("missing " + TLS_HEADER + " header: " + tlsHeader);
        }
        char last = tlsHeader.charAt(tlsHeader.length() - 1);
        if (last != 'r' && last != '.') {
            throw new IOException("malformed " + TLS_HEADER + " header: " + tlsHeader);
        }
        return last == 'r';
    }

    /** @return the request the floor writes: the least a keep-alive HTTP/1.1 GET can be */
    byte[] minimalRequest(String path) {
        return ("GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }
}
