package io.berth.transport.http2;

/**
 * The checks of a response head and trailer section that RFC 9113 §8.2 and §8.3.2 require of a
 * client: a violation makes the response malformed (a stream error of type PROTOCOL_ERROR). Field
 * names must be lower-case tokens; values must hold no NUL, CR or LF and must not start or end with
 * whitespace; pseudo-header fields come first, and a response has exactly one, {@code :status}, of
 * three digits (trailers have none); connection-specific fields ({@code connection},
 * {@code keep-alive}, {@code proxy-connection}, {@code transfer-encoding}, {@code upgrade}) are not
 * allowed.
 */
final class ResponseChecks {
    /** {@link #contentLength}: the field is malformed or its values disagree. */
    static final long INVALID = -2;

    private ResponseChecks() {
    }

    /** @return why {@code h} is not a valid response head, or null */
    static String head(Http2Headers h) {
        int regular = h.regularStart();
        if (regular == 0) {
            return "it has no :status";
        }
        for (int i = 0; i < regular; i++) {
            String name = h.name(i);
            if (!name.equals(":status")) {
                return "it has the pseudo-header field " + printable(name) + " (a response has only :status)";
            }
            if (i > 0) {
                return "it has :status twice";
            }
            String v = h.value(i);
            if (v.length() != 3 || !digit(v.charAt(0)) || !digit(v.charAt(1)) || !digit(v.charAt(2))) {
                return ":status is not three digits: " + printable(v);
            }
        }
        return fields(h, regular);
    }

    /** @return why {@code h} is not a valid trailer section, or null */
    static String trailers(Http2Headers h) {
        if (h.regularStart() > 0) {
            return "its trailers hold the pseudo-header field " + printable(h.name(0));
        }
        return fields(h, 0);
    }

    /** @return the status of a head {@link #head} accepted */
    static int status(Http2Headers h) {
        String v = h.value(0);
        return (v.charAt(0) - '0') * 100 + (v.charAt(1) - '0') * 10 + (v.charAt(2) - '0');
    }

    /** @return the content-length, -1 if there is none, {@link #INVALID} if it is malformed or its values differ */
    static long contentLength(Http2Headers h) {
        long length = -1;
        for (int i = h.regularStart(); i < h.size(); i++) {
            if (h.name(i).equals("content-length")) {
                long v = parseLength(h.value(i));
                if (v < 0 || length >= 0 && v != length) {
                    return INVALID;
                }
                length = v;
            }
        }
        return length;
    }

    private static long parseLength(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return -1;
        }
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!digit(c)) {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static String fields(Http2Headers h, int from) {
        for (int i = from; i < h.size(); i++) {
            String name = h.name(i);
            if (name.isEmpty()) {
                return "a field name is empty";
            }
            for (int k = 0; k < name.length(); k++) {
                char c = name.charAt(k);
                if (!lowerTchar(c)) {
                    return "the field name " + printable(name) + " has " + (c == ':' ? "a pseudo-header field after a"
                            + " regular one" : "character " + describe(c) + " (names are lower-case tokens)");
                }
            }
            if (connectionSpecific(name)) {
                return "it has the connection-specific field " + name;
            }
            String v = h.value(i);
            for (int k = 0; k < v.length(); k++) {
                char c = v.charAt(k);
                if (c == 0 || c == '\r' || c == '\n') {
                    return "the value of " + name + " has " + describe(c);
                }
            }
            if (!v.isEmpty() && (ows(v.charAt(0)) || ows(v.charAt(v.length() - 1)))) {
                return "the value of " + name + " starts or ends with whitespace";
            }
        }
        return null;
    }

    private static boolean connectionSpecific(String name) {
        switch (name) {
            case "connection":
            case "keep-alive":
            case "proxy-connection":
            case "transfer-encoding":
            case "upgrade":
                return true;
            default:
                return false;
        }
    }

    private static boolean lowerTchar(char c) {
        return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    private static boolean digit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean ows(char c) {
        return c == ' ' || c == '\t';
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
