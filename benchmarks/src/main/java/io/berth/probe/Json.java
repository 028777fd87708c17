package io.berth.probe;

import java.util.Locale;

/**
 * A tiny streaming JSON writer for the probe's {@code --json} output: objects, arrays, strings,
 * numbers, booleans and null, written compactly on one line. It checks nothing a caller could get
 * wrong except what would corrupt the text (string escaping, commas); the probe writes a fixed shape.
 *
 * <p>Not thread-safe.
 */
final class Json {
    private final StringBuilder sb = new StringBuilder(1024);
    /** Per nesting level: whether the next member or element needs a comma before it. */
    private boolean[] needsComma = new boolean[16];
    private int depth;
    private boolean afterName;

    Json beginObject() {
        value();
        sb.append('{');
        push();
        return this;
    }

    Json endObject() {
        depth--;
        sb.append('}');
        return this;
    }

    Json beginArray() {
        value();
        sb.append('[');
        push();
        return this;
    }

    Json endArray() {
        depth--;
        sb.append(']');
        return this;
    }

    /** Writes a member name; the next call writes its value. */
    Json name(String name) {
        if (needsComma[depth]) {
            sb.append(',');
        }
        needsComma[depth] = true;
        string(name);
        sb.append(':');
        afterName = true;
        return this;
    }

    Json value(String s) {
        value();
        if (s == null) {
            sb.append("null");
        } else {
            string(s);
        }
        return this;
    }

    Json value(long n) {
        value();
        sb.append(n);
        return this;
    }

    Json value(boolean b) {
        value();
        sb.append(b);
        return this;
    }

    Json nullValue() {
        value();
        sb.append("null");
        return this;
    }

    Json member(String name, String value) {
        return name(name).value(value);
    }

    Json member(String name, long value) {
        return name(name).value(value);
    }

    Json member(String name, boolean value) {
        return name(name).value(value);
    }

    /** Before any value: a comma between array elements; nothing after a member name. */
    private void value() {
        if (afterName) {
            afterName = false;
            return;
        }
        if (depth > 0) {
            if (needsComma[depth]) {
                sb.append(',');
            }
            needsComma[depth] = true;
        }
    }

    private void push() {
        depth++;
        if (depth == needsComma.length) {
            needsComma = java.util.Arrays.copyOf(needsComma, depth * 2);
        }
        needsComma[depth] = false;
    }

    private void string(String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    @Override
    public String toString() {
        return sb.toString();
    }
}
