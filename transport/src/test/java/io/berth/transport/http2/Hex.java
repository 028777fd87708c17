package io.berth.transport.http2;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/** Hex dumps as in the RFCs ({@code "8286 8441"}), to and from bytes. */
final class Hex {
    private Hex() {
    }

    /** @return the bytes of a hex string; spaces and newlines are ignored */
    static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex.replaceAll("\\s", ""));
    }

    /** @return the remaining bytes of {@code b} as lower-case hex, without moving it */
    static String of(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] a = new byte[d.remaining()];
        d.get(a);
        return HexFormat.of().formatHex(a);
    }

    /** @return the bytes as lower-case hex */
    static String of(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
