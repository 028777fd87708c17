package io.berth.transport.http1;

import io.berth.HttpProtocolException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An incremental parser of HTTP/1.x response heads: the status line and the header fields up to the
 * blank line. It is fed bytes as they arrive, split anywhere, and keeps the partial line between calls.
 *
 * <p>What it accepts (RFC 9112 §4 and §5, strictly; there are no lenient modes):
 * <ul>
 *   <li>status line {@code HTTP/1.0} or {@code HTTP/1.1}, SP, a three-digit status code from 100 to 599,
 *       then either the end of the line or SP and a reason phrase (HTAB, SP, visible ASCII, obs-text);</li>
 *   <li>field lines as checked by {@link FieldSection}: a token name directly followed by a colon, a
 *       value without control characters; no obsolete line folding;</li>
 *   <li>every line ends with CRLF: a bare LF, a bare CR and an empty line before the status line are
 *       errors.</li>
 * </ul>
 * Limits: the head (status line, field lines and the blank line, CRLFs included) may have at most
 * {@code maxHeadSize} bytes and at most {@code maxFields} field lines. The parser never buffers more
 * than {@code maxHeadSize} bytes.
 *
 * <p><b>A repeated head.</b> A server answers most requests on a connection with the same head, byte
 * for byte ({@code Date} changes once a second). The parser keeps the bytes of the last head it parsed
 * whole from one buffer (at most {@link #REPEAT_MAX_BYTES}) and the {@link ResponseHead} made of them:
 * a head that starts with exactly those bytes is that head again (parsing is a function of the bytes,
 * and a head ends at its first blank line), so it is returned without being parsed again. A head that
 * differs in any byte, or arrives split across reads, is parsed as usual.
 *
 * <p>Errors are {@link HttpProtocolException}s whose message names the line, counting the status line
 * as line 1, and what was wrong: {@code response header line 3: whitespace between field name and
 * colon}. After an error the parser must be {@linkplain #reset() reset} before it is used again.
 *
 * <p>Not thread-safe: one per connection, reused for each response.
 */
final class ResponseParser {
    /** The default limit of a response head: 64 KiB. */
    static final int DEFAULT_MAX_HEAD_SIZE = 64 * 1024;
    /** The default limit of the number of header fields: 256. */
    static final int DEFAULT_MAX_FIELDS = 256;

    /** The longest head kept to be recognised when repeated: a typical head is a few hundred bytes. */
    static final int REPEAT_MAX_BYTES = 1024;

    private static final int STATUS_LINE = 0;
    private static final int FIELDS = 1;
    private static final int DONE = 2;
    private static final int FAILED = 3;

    private final LineReader lines;
    private final FieldSection fields;
    private int state = STATUS_LINE;
    private ResponseHead.Version version;
    private int statusCode;
    private String reasonPhrase;
    /** The bytes of the last head parsed whole from one buffer, or null; its length is {@link #lastLength}. */
    private byte[] lastBytes;
    private int lastLength;
    /** The head made of {@link #lastBytes}. */
    private ResponseHead lastHead;

    /**
     * A parser with the default field-count limit.
     *
     * @param maxHeadSize the most bytes a head may have, at least 16
     * @throws IllegalArgumentException if {@code maxHeadSize} is below 16
     */
    ResponseParser(int maxHeadSize) {
        this(maxHeadSize, DEFAULT_MAX_FIELDS);
    }

    /**
     * @param maxHeadSize the most bytes a head may have, at least 16
     * @param maxFields the most header fields a head may have, at least 1
     * @throws IllegalArgumentException if a limit is too low
     */
    ResponseParser(int maxHeadSize, int maxFields) {
        if (maxHeadSize < 16) {
            throw new IllegalArgumentException("maxHeadSize must be >= 16 but was " + maxHeadSize);
        }
        this.lines = new LineReader(maxHeadSize, "response head", "response status line", "response header line");
        this.fields = new FieldSection(maxFields);
    }

    /**
     * Consumes bytes of a response head.
     *
     * @param in bytes received; its position is advanced past what was consumed
     * @return the head, with {@code in}'s position just after the blank line that ends it; or
     *     {@code null} if the head is not complete yet, in which case all of {@code in} was consumed
     * @throws HttpProtocolException if the bytes are not a valid head or exceed a limit
     * @throws IllegalStateException if a head was already returned or an error thrown since the last
     *     {@link #reset()}
     */
    ResponseHead parse(ByteBuffer in) throws HttpProtocolException {
        if (state >= DONE) {
            throw new IllegalStateException(state == DONE ? "head already parsed; reset() first"
                    : "parser failed; reset() first");
        }
        int from = in.position();
        boolean fresh = state == STATUS_LINE && lines.taken() == 0 && in.hasArray();
        if (fresh && lastHead != null && in.remaining() >= lastLength) {
            int at = in.arrayOffset() + from;
            if (Arrays.equals(in.array(), at, at + lastLength, lastBytes, 0, lastLength)) {
                in.position(from + lastLength);
                state = DONE;
                return lastHead;
            }
        }
        try {
            while (lines.next(in)) {
                byte[] a = lines.line;
                int s = lines.start;
                int e = lines.end;
                if (state == STATUS_LINE) {
                    parseStatusLine(a, s, e);
                    state = FIELDS;
                } else if (s == e) {
                    state = DONE;
                    ResponseHead head = ResponseHead.parsed(version, statusCode, reasonPhrase, fields.build());
                    if (fresh) {
                        remember(in, from, head); // the whole head came from this buffer, never carried over
                    }
                    return head;
                } else {
                    fields.parseLine(a, s, e, lines);
                }
            }
            return null;
        } catch (HttpProtocolException | RuntimeException ex) {
            state = FAILED;
            throw ex;
        }
    }

    /** @return whether any byte of the current head has been consumed since the last reset */
    boolean started() {
        return lines.taken() > 0;
    }

    /** @return the bytes of the current head consumed so far, including a partial line */
    int bytesConsumed() {
        return lines.taken();
    }

    /** @return the capacity of the internal carry-over buffer, never above the head limit (for tests) */
    int bufferCapacity() {
        return lines.carryCapacity();
    }

    /** Forgets the current head (complete, partial or failed), to parse the next response. */
    void reset() {
        lines.reset();
        fields.reset();
        state = STATUS_LINE;
        version = null;
        reasonPhrase = null;
        statusCode = 0;
    }

    /** Keeps the bytes {@code in[from, position)} of a head just parsed, and the head, to recognise a repeat. */
    private void remember(ByteBuffer in, int from, ResponseHead head) {
        int n = in.position() - from;
        if (n > REPEAT_MAX_BYTES) {
            lastHead = null;
            return;
        }
        if (lastBytes == null || lastBytes.length < n) {
            lastBytes = new byte[Math.max(n, 256)];
        }
        System.arraycopy(in.array(), in.arrayOffset() + from, lastBytes, 0, n);
        lastLength = n;
        lastHead = head;
    }

    private void parseStatusLine(byte[] a, int s, int e) throws HttpProtocolException {
        int n = e - s;
        if (n == 0) {
            throw lines.error("empty line before the status line");
        }
        if (n < 5 || a[s] != 'H' || a[s + 1] != 'T' || a[s + 2] != 'T' || a[s + 3] != 'P' || a[s + 4] != '/') {
            throw lines.error("not an HTTP/1.x status line: '" + HttpChars.excerpt(a, s, e, 40) + "'");
        }
        if (n < 8 || a[s + 5] != '1' || a[s + 6] != '.' || (a[s + 7] != '0' && a[s + 7] != '1')
                || (n > 8 && a[s + 8] != HttpChars.SP)) {
            int v = s;
            while (v < e && a[v] != HttpChars.SP) {
                v++;
            }
            throw lines.error("unsupported HTTP version '" + HttpChars.excerpt(a, s, v, 16)
                    + "' (only HTTP/1.0 and HTTP/1.1)");
        }
        version = a[s + 7] == '1' ? ResponseHead.Version.HTTP_1_1 : ResponseHead.Version.HTTP_1_0;
        if (n < 12 || !isDigit(a[s + 9]) || !isDigit(a[s + 10]) || !isDigit(a[s + 11])
                || (n > 12 && a[s + 12] != HttpChars.SP)) {
            throw lines.error("status code must be three digits followed by SP or the end of the line: '"
                    + HttpChars.excerpt(a, s, e, 40) + "'");
        }
        int code = (a[s + 9] - '0') * 100 + (a[s + 10] - '0') * 10 + (a[s + 11] - '0');
        if (code < 100 || code > 599) {
            throw lines.error("status code " + code + " is out of range 100..599");
        }
        statusCode = code;
        int rs = Math.min(s + 13, e);
        for (int i = rs; i < e; i++) {
            byte b = a[i];
            if (!HttpChars.isFieldValueByte(b)) {
                throw lines.error((b == HttpChars.CR ? "bare CR" : "invalid character " + HttpChars.describe(b))
                        + " in the reason phrase");
            }
        }
        reasonPhrase = CanonicalStrings.REASON_PHRASES.find(a, rs, e);
        if (reasonPhrase == null) {
            reasonPhrase = rs == e ? "" : new String(a, rs, e - rs, StandardCharsets.ISO_8859_1);
        }
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }
}
