package io.berth.transport.http1;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * An ordered list of HTTP header fields, as (name, value) pairs in the order they were sent, with
 * case-insensitive lookup by name. A name may occur more than once ({@code Set-Cookie}, or a list
 * split over several lines); {@link #values(String)} returns every occurrence.
 *
 * <p>Response headers come from the parser, which has validated them; request headers are built
 * with a {@link Builder}, which validates each name and value as it is added. Names are compared
 * without regard to ASCII case. Values are strings of ISO-8859-1 characters.
 *
 * <p>Immutable and thread-safe.
 */
public final class HeaderFields {
    /** No header fields. */
    public static final HeaderFields EMPTY = new HeaderFields(new String[0]);
    private static final String[] NO_FIELDS = new String[0];

    /** name0, value0, name1, value1, ...; never modified after construction. */
    private final String[] namesAndValues;

    /** Takes ownership of an array of exactly 2 × size validated strings. */
    HeaderFields(String[] namesAndValues) {
        this.namesAndValues = namesAndValues;
    }

    /**
     * Returns header fields made of alternating names and values.
     *
     * @param namesAndValues name, value, name, value, ...
     * @return the header fields, in the given order
     * @throws IllegalArgumentException if the count is odd, a name is not a token, or a value holds
     *     a character a field value cannot have; the message names the header
     * @throws NullPointerException if any element is null
     */
    public static HeaderFields of(String... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("names and values must come in pairs but got "
                    + namesAndValues.length + " strings");
        }
        Builder b = new Builder(namesAndValues.length / 2);
        for (int i = 0; i < namesAndValues.length; i += 2) {
            b.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return b.build();
    }

    /** @return a new builder with no fields; it allocates nothing until a field is added */
    public static Builder builder() {
        return new Builder(0);
    }

    /** @return a new builder holding these fields, to derive a variant */
    public Builder toBuilder() {
        Builder b = new Builder(Math.max(8, size() + 4));
        System.arraycopy(namesAndValues, 0, b.namesAndValues, 0, namesAndValues.length);
        b.size = size();
        return b;
    }

    /** @return the number of fields, counting each occurrence of a repeated name */
    public int size() {
        return namesAndValues.length >> 1;
    }

    /**
     * @param index 0 to {@code size() - 1}
     * @return the name of the field at {@code index}, as sent (common names in their canonical
     *     spelling, e.g. {@code Content-Length})
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     */
    public String name(int index) {
        Objects.checkIndex(index, size());
        return namesAndValues[index << 1];
    }

    /**
     * @param index 0 to {@code size() - 1}
     * @return the value of the field at {@code index}, without leading or trailing whitespace
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     */
    public String value(int index) {
        Objects.checkIndex(index, size());
        return namesAndValues[(index << 1) + 1];
    }

    /**
     * @param name a field name, in any case
     * @return the value of the first field called {@code name}, or {@code null} if there is none
     */
    public String first(String name) {
        for (int i = 0; i < namesAndValues.length; i += 2) {
            if (sameName(namesAndValues[i], name)) {
                return namesAndValues[i + 1];
            }
        }
        return null;
    }

    /**
     * @param name a field name, in any case
     * @return the values of every field called {@code name}, in order; empty (never null) if none
     */
    public List<String> values(String name) {
        List<String> result = null;
        for (int i = 0; i < namesAndValues.length; i += 2) {
            if (sameName(namesAndValues[i], name)) {
                if (result == null) {
                    result = new ArrayList<>(2);
                }
                result.add(namesAndValues[i + 1]);
            }
        }
        return result == null ? List.of() : Collections.unmodifiableList(result);
    }

    /**
     * @param name a field name, in any case
     * @return whether at least one field is called {@code name}
     */
    public boolean contains(String name) {
        return indexOf(name, 0) >= 0;
    }

    /**
     * Tells whether a comma-separated list field holds a token, as {@code Connection: keep-alive,
     * Upgrade} holds {@code upgrade}. Elements are compared without regard to ASCII case, after
     * trimming spaces and tabs, across every field called {@code name}. Elements are split at every
     * comma (the fields this is meant for, such as {@code Connection}, {@code Transfer-Encoding} and
     * {@code Expect}, hold tokens, not quoted strings). Allocates nothing.
     *
     * @param name a field name, in any case
     * @param token the token to look for
     * @return whether some element of some field called {@code name} equals {@code token}; never for an
     *     empty token
     */
    public boolean containsToken(String name, String token) {
        if (token.isEmpty()) {
            return false;
        }
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            if (listContains(namesAndValues[(i << 1) + 1], token)) {
                return true;
            }
        }
        return false;
    }

    /**
     * @return the fields as an unmodifiable map from name to values, ordered by name without regard to
     *     case, and looked up without regard to case; a name is spelled as in its first field
     */
    public Map<String, List<String>> toMap() {
        TreeMap<String, List<String>> map = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (int i = 0; i < namesAndValues.length; i += 2) {
            map.computeIfAbsent(namesAndValues[i], k -> new ArrayList<>(1)).add(namesAndValues[i + 1]);
        }
        map.replaceAll((k, v) -> Collections.unmodifiableList(v));
        return Collections.unmodifiableMap(map);
    }

    /** @return the index of the first field called {@code name} at or after {@code from}, or -1 */
    int indexOf(String name, int from) {
        for (int i = from << 1; i < namesAndValues.length; i += 2) {
            if (sameName(namesAndValues[i], name)) {
                return i >> 1;
            }
        }
        return -1;
    }

    private static boolean sameName(String a, String b) {
        // Canonical names are shared constants, so the identity check usually settles it.
        return a == b || (a.length() == b.length() && a.equalsIgnoreCase(b));
    }

    static boolean listContains(String list, String token) {
        int n = list.length();
        int i = 0;
        while (i <= n) {
            int comma = list.indexOf(',', i);
            int end = comma < 0 ? n : comma;
            int s = i;
            int e = end;
            while (s < e && isOws(list.charAt(s))) {
                s++;
            }
            while (e > s && isOws(list.charAt(e - 1))) {
                e--;
            }
            if (e - s == token.length() && list.regionMatches(true, s, token, 0, token.length())) {
                return true;
            }
            if (comma < 0) {
                return false;
            }
            i = comma + 1;
        }
        return false;
    }

    private static boolean isOws(char c) {
        return c == ' ' || c == '\t';
    }

    /** @return {@code true} if {@code o} holds the same names (same case) and values in the same order */
    @Override
    public boolean equals(Object o) {
        return o instanceof HeaderFields h && Arrays.equals(h.namesAndValues, namesAndValues);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(namesAndValues);
    }

    /** @return the fields one per line, {@code name: value} */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            sb.append(namesAndValues[i]).append(": ").append(namesAndValues[i + 1]).append('\n');
        }
        return sb.toString();
    }

    /**
     * Checks a request field name: a non-empty token.
     *
     * @throws IllegalArgumentException naming the header if it is not
     */
    static void checkName(String name) {
        Objects.requireNonNull(name, "header name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("header name must not be empty");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c > 0x7F || !HttpChars.isTchar(c)) {
                throw new IllegalArgumentException("header name '" + printable(name) + "' has character "
                        + describe(c) + " at index " + i + "; a field name must be a token");
            }
        }
    }

    /**
     * Checks a request field value: HTAB, SP, visible ASCII and ISO-8859-1 characters only, so no CR,
     * LF, NUL or other control character.
     *
     * @throws IllegalArgumentException naming the header if it is not
     */
    static void checkValue(String name, String value) {
        Objects.requireNonNull(value, () -> "value of header " + name);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c > 0xFF || !HttpChars.isFieldValueByte(c)) {
                throw new IllegalArgumentException("value of header " + name + " has character " + describe(c)
                        + " at index " + i + "; a field value must not hold CR, LF, NUL or other control"
                        + " characters, or characters beyond ISO-8859-1");
            }
        }
    }

    static String describe(char c) {
        return c > 0xFF ? String.format("U+%04X", (int) c) : HttpChars.describe(c);
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length() && i < 64; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7F) {
                sb.append(c);
            } else {
                sb.append(String.format("\\u%04X", (int) c));
            }
        }
        return s.length() > 64 ? sb.append("...").toString() : sb.toString();
    }

    /**
     * Builds {@link HeaderFields} for a request. Every name and value is checked when it is added, so a
     * mistake surfaces where it is made.
     *
     * <p>Not thread-safe.
     */
    public static final class Builder {
        private String[] namesAndValues;
        private int size;

        Builder(int capacity) {
            this.namesAndValues = capacity == 0 ? NO_FIELDS : new String[capacity * 2];
        }

        /**
         * Appends a field; a name may be added more than once.
         *
         * @param name a token, e.g. {@code Accept}
         * @param value the value, without CR, LF, NUL or other control characters (HTAB is allowed)
         * @return this builder
         * @throws IllegalArgumentException if the name is not a token or the value has a forbidden
         *     character; the message names the header
         * @throws NullPointerException if {@code name} or {@code value} is null
         */
        public Builder add(String name, String value) {
            checkName(name);
            checkValue(name, value);
            if ((size << 1) == namesAndValues.length) {
                namesAndValues = Arrays.copyOf(namesAndValues, Math.max(8, namesAndValues.length * 2));
            }
            namesAndValues[size << 1] = name;
            namesAndValues[(size << 1) + 1] = value;
            size++;
            return this;
        }

        /**
         * Replaces every field called {@code name} (in any case) by one field, appended at the end.
         *
         * @param name a token
         * @param value the value
         * @return this builder
         * @throws IllegalArgumentException if the name is not a token or the value has a forbidden
         *     character; the message names the header
         * @throws NullPointerException if {@code name} or {@code value} is null
         */
        public Builder set(String name, String value) {
            checkName(name);
            checkValue(name, value);
            remove(name);
            return add(name, value);
        }

        /**
         * Removes every field called {@code name}, in any case.
         *
         * @param name a field name
         * @return this builder
         * @throws NullPointerException if {@code name} is null
         */
        public Builder remove(String name) {
            Objects.requireNonNull(name, "header name");
            int w = 0;
            for (int r = 0; r < size; r++) {
                String n = namesAndValues[r << 1];
                if (!sameName(n, name)) {
                    namesAndValues[w << 1] = n;
                    namesAndValues[(w << 1) + 1] = namesAndValues[(r << 1) + 1];
                    w++;
                }
            }
            Arrays.fill(namesAndValues, w << 1, size << 1, null);
            size = w;
            return this;
        }

        /** @return the fields added so far; the builder may be used further */
        public HeaderFields build() {
            return size == 0 ? EMPTY : new HeaderFields(Arrays.copyOf(namesAndValues, size << 1));
        }
    }
}
