package io.berth.transport.http1;

import io.berth.HttpProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Parses field lines ({@code name ":" OWS value OWS}) of a response head or a trailer section and
 * collects them into {@link HeaderFields}.
 *
 * <p>Rules (RFC 9112 §5, RFC 9110 §5.5): the name is a non-empty token directly followed by the
 * colon; a line starting with whitespace (obsolete line folding) is rejected; the value may hold HTAB,
 * SP, visible ASCII and obs-text (0x80-0xFF) but no other control character, NUL or bare CR. Leading
 * and trailing spaces and tabs are not part of the value. Names and values are decoded as ISO-8859-1,
 * and frequent ones are shared constants instead of new strings ({@link CanonicalStrings}).
 *
 * <p>Not thread-safe: one per parser, reused via {@link #reset()}.
 */
final class FieldSection {
    private final int maxFields;
    private String[] namesAndValues = new String[32];
    private int count;

    /** @param maxFields the most field lines the section may have */
    FieldSection(int maxFields) {
        if (maxFields < 1) {
            throw new IllegalArgumentException("maxFields must be >= 1 but was " + maxFields);
        }
        this.maxFields = maxFields;
    }

    /**
     * Parses one field line, {@code a[s, e)} without its CRLF, and adds it.
     *
     * @param lines the reader that produced the line, to name it in errors
     * @throws HttpProtocolException if the line breaks a rule above, or is one too many
     */
    void parseLine(byte[] a, int s, int e, LineReader lines) throws HttpProtocolException {
        if (HttpChars.isWhitespace(a[s])) {
            throw lines.error("obsolete line folding (a line starting with whitespace) is not allowed");
        }
        int i = s;
        int hash = 0;
        while (i < e && HttpChars.isTchar(a[i])) {
            hash = CanonicalStrings.hashStep(hash, a[i]);
            i++;
        }
        if (i == e) {
            throw lines.error("no colon after the field name");
        }
        byte c = a[i];
        if (c != ':') {
            if (HttpChars.isWhitespace(c)) {
                int j = i;
                while (j < e && HttpChars.isWhitespace(a[j])) {
                    j++;
                }
                if (j < e && a[j] == ':') {
                    throw lines.error("whitespace between field name and colon");
                }
            }
            if (c == HttpChars.CR) {
                throw lines.error("bare CR in the field name");
            }
            throw lines.error("invalid character " + HttpChars.describe(c) + " in the field name");
        }
        if (i == s) {
            throw lines.error("empty field name");
        }
        if (count == maxFields) {
            throw lines.error("more than " + maxFields + " field lines");
        }
        String name = CanonicalStrings.FIELD_NAMES.find(a, s, i, CanonicalStrings.finishHash(hash));
        if (name == null) {
            name = new String(a, s, i - s, StandardCharsets.ISO_8859_1);
        }
        int vs = i + 1;
        while (vs < e && HttpChars.isWhitespace(a[vs])) {
            vs++;
        }
        int ve = e;
        while (ve > vs && HttpChars.isWhitespace(a[ve - 1])) {
            ve--;
        }
        for (int k = vs; k < ve; k++) {
            byte b = a[k];
            if (!HttpChars.isFieldValueByte(b)) {
                throw lines.error((b == HttpChars.CR ? "bare CR" : "invalid character " + HttpChars.describe(b))
                        + " in the value of " + name);
            }
        }
        int at = count << 1;
        if (at == namesAndValues.length) {
            namesAndValues = Arrays.copyOf(namesAndValues, namesAndValues.length * 2);
        }
        String value = sameAsBefore(at, name, a, vs, ve);
        if (value == null) {
            value = CanonicalStrings.FIELD_VALUES.toString(a, vs, ve);
        }
        namesAndValues[at] = name;
        namesAndValues[at + 1] = value;
        count++;
    }

    /** @return how many fields were added since the last reset */
    int count() {
        return count;
    }

    /** @return the fields added since the last reset, in order */
    HeaderFields build() {
        return count == 0 ? HeaderFields.EMPTY : new HeaderFields(Arrays.copyOf(namesAndValues, count << 1));
    }

    /**
     * The value the previous section had in the same place under the same name, if its characters are
     * {@code a[vs, ve)}: a server repeats most of its fields from one response to the next
     * ({@code Server}, {@code Date} within a second, often {@code Content-Length}), so a connection
     * hands out the same string instead of a new one.
     *
     * @return that string, or null
     */
    private String sameAsBefore(int at, String name, byte[] a, int vs, int ve) {
        String prevName = namesAndValues[at];
        String prev = namesAndValues[at + 1];
        if (prev == null || prev.length() != ve - vs || (prevName != name && !prevName.equals(name))) {
            return null;
        }
        for (int k = 0; k < prev.length(); k++) {
            if (prev.charAt(k) != (a[vs + k] & 0xFF)) {
                return null;
            }
        }
        return prev;
    }

    /**
     * Forgets the fields, to parse a new section. The previous section's strings stay in place, to be
     * handed out again where the new section repeats them ({@link #sameAsBefore}).
     */
    void reset() {
        count = 0;
    }
}
