package io.berth.pool.jdk;

/** Placeholder so the package exists; removed when the package gets its first class. */
final class Placeholder {
    private Placeholder() {
    }
}
