package io.berth.pool.okhttp;

/** Placeholder so the package exists; removed when the package gets its first class. */
final class Placeholder {
    private Placeholder() {
    }
}
