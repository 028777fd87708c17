package io.berth.transport.http1;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Writes request heads: {@code method SP request-target SP HTTP/1.1 CRLF}, the header fields, and
 * the blank line, into an internal array reused from one request to the next.
 *
 * <p>Everything is checked while it is written, so a bad request never reaches the wire: the method
 * must be a token; the target must be origin-form ({@code /path?query}), absolute-form
 * ({@code scheme:...}) or {@code *}, of visible ASCII only (no SP, CR, LF or other control
 * character); header names must be tokens and values must hold no CR, LF, NUL or other control
 * character (HTAB is allowed) and nothing beyond ISO-8859-1. A violation is an
 * {@link IllegalArgumentException} naming the method, the target or the header.
 *
 * <p>A request like the last one (the same method and target, the same {@link HeaderFields} instance,
 * the same framing) is not encoded again: the bytes of the last head are handed out again.
 *
 * <p>The encoder adds no header of its own except the body framing asked for
 * ({@code Content-Length} or {@code Transfer-Encoding: chunked}); {@code Host} is the caller's.
 *
 * <p>Not thread-safe: one per connection.
 */
final class RequestHeadEncoder {
    /** Framing argument: the request has no body, so no framing header is written. */
    static final long NO_BODY = -2;
    /** Framing argument: the body's length is unknown, so it is sent chunked. */
    static final long CHUNKED = -1;

    private static final byte[] VERSION_CRLF = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final String CONTENT_LENGTH = "Content-Length: ";
    private static final String TRANSFER_ENCODING_CHUNKED = "Transfer-Encoding: chunked\r\n";

    private byte[] buf = new byte[512];
    private ByteBuffer view = ByteBuffer.wrap(buf);
    private int len;
    /**
     * What {@link #buf} holds the encoding of, while it does: a request with the same method and
     * target, the very same (immutable) header fields and the same framing is encoded to the same
     * bytes, which are then handed out again. Null when {@code buf} holds nothing valid.
     */
    private String lastMethod;
    private String lastTarget;
    private HeaderFields lastHeaders;
    private long lastBodyLength;

    /**
     * Encodes a request head without body framing headers.
     *
     * @param method the method, a token such as {@code GET}
     * @param target the request target: {@code /path?query}, an absolute URI, or {@code *}
     * @param headers the header fields, {@code Host} included
     * @return the encoded head, a view of the internal array valid until the next call
     * @throws IllegalArgumentException if the method, the target or a header is invalid; the message
     *     names which
     * @throws NullPointerException if an argument is null
     */
    ByteBuffer encode(String method, String target, HeaderFields headers) {
        return encode(method, target, headers, NO_BODY);
    }

    /**
     * Encodes a request head, adding the body framing header.
     *
     * @param method the method, a token such as {@code GET}
     * @param target the request target: {@code /path?query}, an absolute URI, or {@code *}
     * @param headers the header fields, {@code Host} included
     * @param bodyLength the body's length, which adds {@code Content-Length}; {@link #CHUNKED}, which
     *     adds {@code Transfer-Encoding: chunked}; or {@link #NO_BODY}, which adds neither
     * @return the encoded head, a view of the internal array valid until the next call
     * @throws IllegalArgumentException if the method, the target or a header is invalid; the message
     *     names which
     * @throws NullPointerException if an argument is null
     */
    ByteBuffer encode(String method, String target, HeaderFields headers, long bodyLength) {
        if (bodyLength < NO_BODY) {
            throw new IllegalArgumentException("bodyLength must be >= 0, CHUNKED or NO_BODY but was " + bodyLength);
        }
        if (headers == lastHeaders && bodyLength == lastBodyLength && method.equals(lastMethod)
                && target.equals(lastTarget)) {
            view.clear().limit(len);
            return view;
        }
        lastHeaders = null; // until buf holds a whole valid head again
        int need = method.length() + target.length() + VERSION_CRLF.length + 1 + 2 + 48;
        for (int i = 0; i < headers.size(); i++) {
            need += headers.name(i).length() + headers.value(i).length() + 4;
        }
        if (need > buf.length) {
            buf = new byte[Math.max(need, buf.length * 2)];
            view = ByteBuffer.wrap(buf);
        }
        len = 0;
        writeMethod(method);
        buf[len++] = HttpChars.SP;
        writeTarget(target);
        System.arraycopy(VERSION_CRLF, 0, buf, len, VERSION_CRLF.length);
        len += VERSION_CRLF.length;
        for (int i = 0; i < headers.size(); i++) {
            String name = headers.name(i);
            writeName(name);
            buf[len++] = ':';
            buf[len++] = HttpChars.SP;
            writeValue(name, headers.value(i));
            buf[len++] = HttpChars.CR;
            buf[len++] = HttpChars.LF;
        }
        if (bodyLength >= 0) {
            writeAscii(CONTENT_LENGTH);
            writeDecimal(bodyLength);
            buf[len++] = HttpChars.CR;
            buf[len++] = HttpChars.LF;
        } else if (bodyLength == CHUNKED) {
            writeAscii(TRANSFER_ENCODING_CHUNKED);
        }
        buf[len++] = HttpChars.CR;
        buf[len++] = HttpChars.LF;
        lastMethod = method;
        lastTarget = target;
        lastHeaders = headers;
        lastBodyLength = bodyLength;
        view.clear().limit(len);
        return view;
    }

    /** @return the capacity of the internal array (for tests) */
    int capacity() {
        return buf.length;
    }

    private void writeMethod(String method) {
        if (method.isEmpty()) {
            throw new IllegalArgumentException("method must not be empty");
        }
        for (int i = 0; i < method.length(); i++) {
            char c = method.charAt(i);
            if (c > 0x7F || !HttpChars.isTchar(c)) {
                throw new IllegalArgumentException("method '" + printable(method) + "' has character "
                        + HeaderFields.describe(c) + " at index " + i + "; a method must be a token");
            }
            buf[len++] = (byte) c;
        }
    }

    private void writeTarget(String target) {
        if (target.isEmpty()) {
            throw new IllegalArgumentException("request target must not be empty");
        }
        char first = target.charAt(0);
        boolean ok = first == '/' || target.equals("*") || isAbsoluteForm(target);
        if (!ok) {
            throw new IllegalArgumentException("request target '" + printable(target) + "' must start with '/'"
                    + " (origin-form), be an absolute URI (absolute-form) or be '*'");
        }
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c <= 0x20 || c >= 0x7F) {
                throw new IllegalArgumentException("request target '" + printable(target) + "' has character "
                        + HeaderFields.describe(c) + " at index " + i
                        + "; only visible ASCII is allowed (percent-encode the rest)");
            }
            buf[len++] = (byte) c;
        }
    }

    /** {@code scheme ":" ...} with scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). */
    private static boolean isAbsoluteForm(String t) {
        char c0 = t.charAt(0);
        if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z'))) {
            return false;
        }
        for (int i = 1; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c == ':') {
                return true;
            }
            boolean schemeChar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '+' || c == '-' || c == '.';
            if (!schemeChar) {
                return false;
            }
        }
        return false;
    }

    private void writeName(String name) {
        if (name.isEmpty()) {
            throw new IllegalArgumentException("header name must not be empty");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c > 0x7F || !HttpChars.isTchar(c)) {
                HeaderFields.checkName(name); // throws, naming the header
            }
            buf[len++] = (byte) c;
        }
    }

    private void writeValue(String name, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c > 0xFF || !HttpChars.isFieldValueByte(c)) {
                HeaderFields.checkValue(name, value); // throws, naming the header
            }
            buf[len++] = (byte) c;
        }
    }

    private void writeAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            buf[len++] = (byte) s.charAt(i);
        }
    }

    private void writeDecimal(long v) {
        int digits = 1;
        for (long x = v; x >= 10; x /= 10) {
            digits++;
        }
        for (int i = len + digits - 1; i >= len; i--) {
            buf[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        len += digits;
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && i < 64; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7F ? String.valueOf(c) : String.format("\\u%04X", (int) c));
        }
        return s.length() > 64 ? sb.append("...").toString() : sb.toString();
    }
}
