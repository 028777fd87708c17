package io.berth.transport.http1;

/**
 * Byte classes of RFC 9110/9112 and the helpers that name a bad byte in an error message.
 *
 * <p>Each class is one bit in a 256-entry table, so a check is one array load and one mask. Not
 * instantiable; stateless and thread-safe.
 */
final class HttpChars {
    static final byte CR = '\r';
    static final byte LF = '\n';
    static final byte SP = ' ';
    static final byte HTAB = '\t';

    /** {@code tchar}: the characters of a token (field names, methods, transfer-codings). */
    private static final int TCHAR = 1;
    /** A byte allowed in a field value: HTAB, SP, VCHAR and obs-text. */
    private static final int FIELD_VALUE = 2;
    /** {@code qdtext}: a byte allowed unescaped in a quoted-string. */
    private static final int QDTEXT = 4;
    /** A hexadecimal digit. */
    private static final int HEX = 8;

    private static final byte[] CLASSES = new byte[256];

    static {
        for (int c = 'a'; c <= 'z'; c++) {
            set(c, TCHAR);
        }
        for (int c = 'A'; c <= 'Z'; c++) {
            set(c, TCHAR);
        }
        for (int c = '0'; c <= '9'; c++) {
            set(c, TCHAR | HEX);
        }
        for (int c = 'a'; c <= 'f'; c++) {
            set(c, HEX);
        }
        for (int c = 'A'; c <= 'F'; c++) {
            set(c, HEX);
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            set(c, TCHAR);
        }
        set(HTAB, FIELD_VALUE | QDTEXT);
        for (int c = 0x20; c <= 0x7E; c++) {
            set(c, FIELD_VALUE);
            if (c != '"' && c != '\\') {
                set(c, QDTEXT);
            }
        }
        for (int c = 0x80; c <= 0xFF; c++) {
            set(c, FIELD_VALUE | QDTEXT);
        }
    }

    private HttpChars() {
    }

    private static void set(int c, int cls) {
        CLASSES[c] |= (byte) cls;
    }

    static boolean isTchar(int b) {
        return (CLASSES[b & 0xFF] & TCHAR) != 0;
    }

    static boolean isFieldValueByte(int b) {
        return (CLASSES[b & 0xFF] & FIELD_VALUE) != 0;
    }

    static boolean isQdtext(int b) {
        return (CLASSES[b & 0xFF] & QDTEXT) != 0;
    }

    static boolean isHex(int b) {
        return (CLASSES[b & 0xFF] & HEX) != 0;
    }

    static boolean isWhitespace(int b) {
        return b == SP || b == HTAB;
    }

    /** @return the value of a hexadecimal digit; only for bytes where {@link #isHex} holds */
    static int hexValue(int b) {
        return b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;
    }

    /** @return a byte as it appears in error messages: {@code 0x0D (CR)}, {@code 0x41 ('A')} */
    static String describe(int b) {
        int c = b & 0xFF;
        String hex = String.format("0x%02X", c);
        switch (c) {
            case 0x00:
                return hex + " (NUL)";
            case 0x09:
                return hex + " (HTAB)";
            case 0x0A:
                return hex + " (LF)";
            case 0x0D:
                return hex + " (CR)";
            case 0x20:
                return hex + " (SP)";
            default:
                return c > 0x20 && c < 0x7F ? hex + " ('" + (char) c + "')" : hex;
        }
    }

    /**
     * Renders up to {@code max} bytes for an error message: printable ASCII as is, everything else as
     * {@code \xNN}, with {@code ...} when cut.
     */
    static String excerpt(byte[] b, int start, int end, int max) {
        StringBuilder sb = new StringBuilder(Math.min(end - start, max) + 8);
        int stop = Math.min(end, start + max);
        for (int i = start; i < stop; i++) {
            int c = b[i] & 0xFF;
            if (c >= 0x20 && c < 0x7F && c != '\\') {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02X", c));
            }
        }
        if (stop < end) {
            sb.append("...");
        }
        return sb.toString();
    }
}
