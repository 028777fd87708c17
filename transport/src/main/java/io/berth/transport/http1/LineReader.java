package io.berth.transport.http1;

import io.berth.HttpProtocolException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Splits a section of CRLF-terminated lines (a response head, a trailer section) out of buffers that
 * may end anywhere, enforcing a limit on the section's total size.
 *
 * <p>When a whole line lies in the input buffer and nothing of it was carried over, the line is handed
 * out in place (zero copy: {@link #line} is the input's backing array). Otherwise the pieces are
 * gathered in an internal array that grows on demand up to the section limit, and no further: at most
 * {@code limit} bytes are ever buffered.
 *
 * <p>A line must end with CRLF: an LF without a CR before it is rejected here. A CR inside a line is
 * left to the caller's character checks, which reject it as a bare CR.
 *
 * <p>Not thread-safe: one per connection, reused across responses via {@link #reset()}.
 */
final class LineReader {
    private static final byte[] NONE = new byte[0];
    private static final int INITIAL_CAPACITY = 256;
    /** A carry-over array grown beyond this is dropped at {@link #reset()}, so it is not kept forever. */
    private static final int KEEP_CAPACITY = 8 * 1024;

    private final int limit;
    private final String sectionName;
    private final String firstLineName;
    private final String lineName;

    private byte[] carry = NONE;
    private int carried;
    private int consumed;
    private int lineNumber;

    /** The array holding the last line read; valid until the next call of {@link #next}. */
    byte[] line;
    /** Index in {@link #line} of the line's first byte. */
    int start;
    /** Index in {@link #line} just after the line's last byte, CRLF excluded. */
    int end;

    /**
     * @param limit the most bytes the whole section may have, CRLFs included
     * @param sectionName the section as named in errors, e.g. {@code response head}
     * @param firstLineName the first line as named in errors (e.g. {@code response status line}), or
     *     {@code null} to name it like the others
     * @param lineName the other lines as named in errors, followed by their number (counting the first
     *     line as 1), e.g. {@code response header line}
     */
    LineReader(int limit, String sectionName, String firstLineName, String lineName) {
        if (limit < 2) {
            throw new IllegalArgumentException("limit must be >= 2 but was " + limit);
        }
        this.limit = limit;
        this.sectionName = sectionName;
        this.firstLineName = firstLineName;
        this.lineName = lineName;
    }

    /**
     * Reads the next line.
     *
     * @param in the input; on return its position is after the line's LF, or at its limit if no
     *     complete line was found (the partial line is then carried over)
     * @return whether a line was read into {@link #line}, {@link #start} and {@link #end}
     * @throws HttpProtocolException if the line does not end with CRLF, or the section would exceed its
     *     limit
     */
    boolean next(ByteBuffer in) throws HttpProtocolException {
        int pos = in.position();
        int lim = in.limit();
        int room = limit - consumed - carried; // bytes this line may still have, LF included
        int scanEnd = lim - pos <= room ? lim : pos + room;
        int lf;
        if (in.hasArray()) {
            byte[] a = in.array();
            int off = in.arrayOffset();
            int i = off + pos;
            int stop = off + scanEnd;
            while (i < stop && a[i] != HttpChars.LF) {
                i++;
            }
            if (i == stop) {
                if (scanEnd < lim) {
                    throw tooLarge();
                }
                append(a, off + pos, stop);
                in.position(lim);
                return false;
            }
            in.position(i - off + 1);
            if (carried == 0) {
                line = a;
                start = off + pos;
                end = i;
            } else {
                append(a, off + pos, i);
                line = carry;
                start = 0;
                end = carried;
            }
            lf = i;
        } else {
            lf = -1;
            for (int i = pos; i < scanEnd; i++) {
                byte b = in.get(i);
                if (b == HttpChars.LF) {
                    lf = i;
                    break;
                }
                appendByte(b);
            }
            if (lf < 0) {
                in.position(scanEnd);
                if (scanEnd < lim) {
                    throw tooLarge();
                }
                return false;
            }
            in.position(lf + 1);
            line = carry;
            start = 0;
            end = carried;
        }
        lineNumber++;
        consumed += end - start + 1;
        carried = 0;
        if (end == start || line[end - 1] != HttpChars.CR) {
            throw error("bare LF; lines must end with CRLF");
        }
        end--;
        return true;
    }

    /** @return the current line as named in error messages, e.g. {@code response header line 3} */
    String lineLabel() {
        int n = Math.max(1, lineNumber);
        // lineNumber counts complete lines; after next() returned true the current line is the last one.
        return n == 1 && firstLineName != null ? firstLineName : lineName + " " + n;
    }

    /** @return an exception about the current line: "{@code <line label>: <what>}" */
    HttpProtocolException error(String what) {
        return new HttpProtocolException(lineLabel() + ": " + what);
    }

    /** @return the bytes of the complete lines read since the last reset, CRLFs included */
    int consumed() {
        return consumed;
    }

    /** @return bytes taken so far: complete lines plus the partial line carried over */
    int taken() {
        return consumed + carried;
    }

    /** @return the capacity of the carry-over array (for tests of the memory bound) */
    int carryCapacity() {
        return carry.length;
    }

    /** @return the section limit */
    int limit() {
        return limit;
    }

    /** Forgets all state, to read a new section. */
    void reset() {
        carried = 0;
        consumed = 0;
        lineNumber = 0;
        line = null;
        if (carry.length > KEEP_CAPACITY) {
            carry = NONE;
        }
    }

    private HttpProtocolException tooLarge() {
        return new HttpProtocolException(sectionName + " exceeds the limit of " + limit + " bytes (in line "
                + (lineNumber + 1) + ")");
    }

    private void append(byte[] src, int from, int to) {
        int n = to - from;
        ensure(carried + n);
        System.arraycopy(src, from, carry, carried, n);
        carried += n;
    }

    private void appendByte(byte b) {
        ensure(carried + 1);
        carry[carried++] = b;
    }

    private void ensure(int needed) {
        if (needed > carry.length) {
            // Callers never pass more than the limit, so the array never outgrows it.
            int cap = Math.max(INITIAL_CAPACITY, carry.length * 2);
            cap = Math.min(Math.max(cap, needed), limit);
            carry = Arrays.copyOf(carry, cap);
        }
    }
}
