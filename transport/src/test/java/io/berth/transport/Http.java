package io.berth.transport;

import io.berth.spi.Connection;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Just enough HTTP/1.1 for transport tests (the codec is not this package's): writes a fixed GET and
 * reads one response framed by Content-Length.
 */
final class Http {
    static final long TIMEOUT = TimeUnit.SECONDS.toNanos(5);

    private Http() {
    }

    static String request(String host) {
        return "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    }

    /** Sends a GET and returns the body of the response. */
    static String get(Connection c, String host) throws IOException {
        c.write(ByteBuffer.wrap(request(host).getBytes(StandardCharsets.US_ASCII)), TIMEOUT);
        return readResponse(c, TIMEOUT);
    }

    /**
     * Reads one response through {@link Connection#read} in 64-byte reads, so that TLS records do not
     * fit the caller's buffer and go through the connection's own.
     *
     * @return its body
     * @throws EOFException if the connection reported end of stream before the response was complete
     */
    static String readResponse(Connection c, long timeoutNanos) throws IOException {
        return readResponse(c, timeoutNanos, 64);
    }

    /** As {@link #readResponse(Connection, long)}, reading into a buffer of {@code bufferSize} bytes. */
    static String readResponse(Connection c, long timeoutNanos, int bufferSize) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(bufferSize);
        int headEnd = -1;
        int length = -1;
        while (headEnd < 0 || got.size() < headEnd + length) {
            buf.clear();
            int n = c.read(buf, timeoutNanos);
            if (n < 0) {
                throw new EOFException("end of stream after " + got.size() + " bytes of a response");
            }
            got.write(buf.array(), 0, n);
            if (headEnd < 0) {
                String s = got.toString(StandardCharsets.US_ASCII);
                int i = s.indexOf("\r\n\r\n");
                if (i >= 0) {
                    headEnd = i + 4;
                    length = contentLength(s.substring(0, i));
                }
            }
        }
        String all = got.toString(StandardCharsets.US_ASCII);
        if (all.length() != headEnd + length) {
            throw new IOException("more bytes than the response: " + all);
        }
        return all.substring(headEnd);
    }

    private static int contentLength(String head) throws IOException {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("Content-Length")) {
                return Integer.parseInt(line.substring(colon + 1).trim());
            }
        }
        throw new IOException("no Content-Length in " + head);
    }
}
