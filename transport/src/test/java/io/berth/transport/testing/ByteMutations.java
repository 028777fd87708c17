package io.berth.transport.testing;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Seeded random edits of a valid input, for the codecs' mutation tests: bit flips, overwrites with
 * bytes the format cares about, insertions, deletions, duplicated ranges and truncation. The same
 * random generator state gives the same edits.
 */
public final class ByteMutations {
    private ByteMutations() {
    }

    /**
     * @param base the valid input, not modified
     * @param rnd the source of randomness
     * @param interesting bytes the format cares about, used for overwrites and half of the insertions
     * @param maxEdits the most edits, at least 1 (1 to {@code maxEdits} are made)
     * @return a mutated copy
     */
    public static byte[] mutate(byte[] base, SplittableRandom rnd, byte[] interesting, int maxEdits) {
        byte[] b = base.clone();
        int edits = 1 + rnd.nextInt(maxEdits);
        for (int e = 0; e < edits; e++) {
            int len = b.length;
            int at = len == 0 ? 0 : rnd.nextInt(len);
            switch (rnd.nextInt(6)) {
                case 0: // flip a bit
                    if (len > 0) {
                        b[at] ^= (byte) (1 << rnd.nextInt(8));
                    }
                    break;
                case 1: // overwrite with a byte the format cares about
                    if (len > 0) {
                        b[at] = interesting[rnd.nextInt(interesting.length)];
                    }
                    break;
                case 2: { // insert a byte
                    byte[] n = new byte[len + 1];
                    System.arraycopy(b, 0, n, 0, at);
                    n[at] = rnd.nextBoolean() ? interesting[rnd.nextInt(interesting.length)] : (byte) rnd.nextInt(256);
                    System.arraycopy(b, at, n, at + 1, len - at);
                    b = n;
                    break;
                }
                case 3: { // delete a range
                    int n = Math.min(len - at, 1 + rnd.nextInt(4));
                    byte[] r = new byte[len - n];
                    System.arraycopy(b, 0, r, 0, at);
                    System.arraycopy(b, at + n, r, at, len - at - n);
                    b = r;
                    break;
                }
                case 4: { // duplicate a range
                    int n = Math.min(len - at, 1 + rnd.nextInt(40));
                    byte[] r = new byte[len + n];
                    System.arraycopy(b, 0, r, 0, at + n);
                    System.arraycopy(b, at, r, at + n, len - at);
                    b = r;
                    break;
                }
                default: // truncate
                    b = Arrays.copyOf(b, at);
                    break;
            }
        }
        return b;
    }
}
