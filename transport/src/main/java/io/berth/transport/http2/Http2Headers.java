package io.berth.transport.http2;

import java.util.Arrays;
import java.util.Objects;

/**
 * An HTTP/2 field section: an ordered list of (name, value) pairs, pseudo-header fields
 * ({@code :status}, {@code :method}, ...) included where they were sent.
 *
 * <p>Decoded lists (from {@link Http2FrameReader}) hold names exactly as the peer sent them,
 * <em>not</em> lower-cased or otherwise checked beyond HPACK: the connection validates them (RFC 9113
 * §8.2 and §8.3: lower-case names, pseudo-header fields first and known, no connection-specific
 * fields, no CR/LF/NUL in values) and treats a violation as a malformed message (a stream error of
 * type PROTOCOL_ERROR). {@link #isPseudo(int)} and {@link #regularStart()} help with that. Values are
 * strings of ISO-8859-1 characters, one per octet.
 *
 * <p>Lists to encode are built with {@link #builder()}, which checks each field as it is added.
 *
 * <p>Immutable and thread-safe.
 */
public final class Http2Headers {
    /** A list with no fields. */
    public static final Http2Headers EMPTY = new Http2Headers(new String[0], 0);

    /** Per-field overhead in the HPACK size of a field (RFC 7541 §4.1) and in SETTINGS_MAX_HEADER_LIST_SIZE: 32. */
    public static final int FIELD_OVERHEAD = 32;

    private final String[] namesAndValues;
    private final int size;

    /** Takes ownership of the first 2 × {@code size} strings of the array. */
    Http2Headers(String[] namesAndValues, int size) {
        this.namesAndValues = namesAndValues;
        this.size = size;
    }

    /**
     * @param namesAndValues name, value, name, value, ...
     * @return a checked list of those fields, in order
     * @throws IllegalArgumentException as {@link Builder#add(String, String)} does, or if the count is odd
     */
    public static Http2Headers of(String... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("names and values must come in pairs but got "
                    + namesAndValues.length + " strings");
        }
        Builder b = builder();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            b.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return b.build();
    }

    /** @return a new, empty builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the number of fields, pseudo-header fields included */
    public int size() {
        return size;
    }

    /**
     * @param index 0 to {@code size() - 1}
     * @return the name of that field
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     */
    public String name(int index) {
        Objects.checkIndex(index, size);
        return namesAndValues[index << 1];
    }

    /**
     * @param index 0 to {@code size() - 1}
     * @return the value of that field
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     */
    public String value(int index) {
        Objects.checkIndex(index, size);
        return namesAndValues[(index << 1) + 1];
    }

    /**
     * @param index 0 to {@code size() - 1}
     * @return whether that field is a pseudo-header field (its name starts with a colon)
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     */
    public boolean isPseudo(int index) {
        String n = name(index);
        return !n.isEmpty() && n.charAt(0) == ':';
    }

    /**
     * @return the index of the first field that is not a pseudo-header field ({@code size()} if there
     *     is none); a pseudo-header field at or after it makes the message malformed
     */
    public int regularStart() {
        int i = 0;
        while (i < size && isPseudo(i)) {
            i++;
        }
        return i;
    }

    /**
     * @param name a field name, compared exactly (HTTP/2 names are lower-case)
     * @return the value of the first field called {@code name}, or {@code null}
     */
    public String first(String name) {
        for (int i = 0; i < size << 1; i += 2) {
            if (namesAndValues[i].equals(name)) {
                return namesAndValues[i + 1];
            }
        }
        return null;
    }

    /** @return the list's size as SETTINGS_MAX_HEADER_LIST_SIZE counts it: name + value + 32 per field */
    public long listSize() {
        long n = 0;
        for (int i = 0; i < size << 1; i += 2) {
            n += namesAndValues[i].length() + namesAndValues[i + 1].length() + FIELD_OVERHEAD;
        }
        return n;
    }

    /** @return {@code true} if {@code o} holds the same names and values in the same order */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Http2Headers)) {
            return false;
        }
        Http2Headers h = (Http2Headers) o;
        return h.size == size && Arrays.equals(namesAndValues, 0, size << 1, h.namesAndValues, 0, size << 1);
    }

    @Override
    public int hashCode() {
        int h = 1;
        for (int i = 0; i < size << 1; i++) {
            h = 31 * h + namesAndValues[i].hashCode();
        }
        return h;
    }

    /** @return the fields one per line, {@code name: value} */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < size << 1; i += 2) {
            sb.append(namesAndValues[i]).append(": ").append(namesAndValues[i + 1]).append('\n');
        }
        return sb.toString();
    }

    /**
     * Builds a field list to encode. Each field is checked as it is added: a name is a non-empty
     * string of lower-case token characters, optionally after one leading colon (pseudo-header
     * fields); a value holds ISO-8859-1 characters other than NUL, CR and LF, and does not start or
     * end with SP or HTAB (RFC 9113 §8.2.1). The order of pseudo-header fields and which names are
     * allowed is the connection's business.
     *
     * <p>Not thread-safe.
     */
    public static final class Builder {
        private String[] namesAndValues = new String[16];
        private int size;

        private Builder() {
        }

        /**
         * Appends a field; a name may be added more than once.
         *
         * @param name e.g. {@code :path} or {@code user-agent}
         * @param value the value
         * @return this builder
         * @throws IllegalArgumentException if the name or value is not allowed; the message names the field
         * @throws NullPointerException if {@code name} or {@code value} is null
         */
        public Builder add(String name, String value) {
            checkName(name);
            checkValue(name, value);
            return addUnchecked(name, value);
        }

        Builder addUnchecked(String name, String value) {
            if ((size << 1) == namesAndValues.length) {
                namesAndValues = Arrays.copyOf(namesAndValues, namesAndValues.length * 2);
            }
            namesAndValues[size << 1] = name;
            namesAndValues[(size << 1) + 1] = value;
            size++;
            return this;
        }

        /** @return the fields added so far; the builder may be used further */
        public Http2Headers build() {
            return size == 0 ? EMPTY : new Http2Headers(Arrays.copyOf(namesAndValues, size << 1), size);
        }

        private static void checkName(String name) {
            Objects.requireNonNull(name, "header name");
            int start = name.startsWith(":") ? 1 : 0;
            if (name.length() == start) {
                throw new IllegalArgumentException("header name '" + name + "' is empty");
            }
            for (int i = start; i < name.length(); i++) {
                char c = name.charAt(i);
                if (!isLowerTchar(c)) {
                    throw new IllegalArgumentException("header name '" + printable(name) + "' has character "
                            + describe(c) + " at index " + i
                            + "; an HTTP/2 field name must be a lower-case token");
                }
            }
        }

        private static void checkValue(String name, String value) {
            Objects.requireNonNull(value, () -> "value of header " + name);
            int n = value.length();
            for (int i = 0; i < n; i++) {
                char c = value.charAt(i);
                if (c > 0xFF || c == 0 || c == '\r' || c == '\n') {
                    throw new IllegalArgumentException("value of header " + name + " has character " + describe(c)
                            + " at index " + i + "; a field value must not hold NUL, CR, LF or characters"
                            + " beyond ISO-8859-1");
                }
            }
            if (n > 0 && (isOws(value.charAt(0)) || isOws(value.charAt(n - 1)))) {
                throw new IllegalArgumentException("value of header " + name
                        + " starts or ends with whitespace");
            }
        }

        private static boolean isOws(char c) {
            return c == ' ' || c == '\t';
        }

        private static boolean isLowerTchar(char c) {
            if (c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
                return true;
            }
            return "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
        }

        private static String describe(char c) {
            return c >= 0x21 && c < 0x7F ? "'" + c + "'" : String.format("U+%04X", (int) c);
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
}
