package io.berth.transport.http2;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A connection's pool of {@link Chunk}s, the pieces in which streams buffer the response bytes the
 * reader received and their callers have not read yet; so a response body costs no allocation once
 * the connection is warm. The reader takes chunks, the streams' callers give them back.
 *
 * <p>A Treiber stack linked through the chunks themselves. Only the reader pops, one at a time, so
 * the ABA problem cannot arise: a chunk popped by the reader is pushed again only after the reader
 * handed it to a stream, by which time the reader's own pop finished. {@link #clear()} detaches the
 * whole stack at once (another thread may call it) and drops it. The pool keeps at most
 * {@link #MAX_KEPT} chunks; more are dropped for the GC.
 *
 * <p>Thread-safe under that rule (one popping thread).
 */
final class Chunks {
    /** Bytes per chunk. */
    static final int SIZE = 4096;
    /** The most chunks kept: 64 KiB. */
    static final int MAX_KEPT = 16;

    private final AtomicReference<Chunk> head = new AtomicReference<>();
    private final AtomicInteger kept = new AtomicInteger();

    /** @return an empty chunk; by the reader only */
    Chunk take() {
        while (true) {
            Chunk c = head.get();
            if (c == null) {
                return new Chunk();
            }
            if (head.compareAndSet(c, c.next)) {
                kept.decrementAndGet();
                c.next = null;
                c.start = 0;
                c.end = 0;
                return c;
            }
        }
    }

    /** Gives back a chain of chunks linked by {@code next}; any thread. */
    void give(Chunk chain) {
        Chunk c = chain;
        while (c != null) {
            Chunk next = c.next;
            if (kept.incrementAndGet() > MAX_KEPT) {
                kept.decrementAndGet();
            } else {
                Chunk h;
                do {
                    h = head.get();
                    c.next = h;
                } while (!head.compareAndSet(h, c));
            }
            c = next;
        }
    }

    /** Drops every kept chunk (the connection went idle or closed); any thread. */
    void clear() {
        Chunk c = head.getAndSet(null);
        while (c != null) {
            kept.decrementAndGet();
            c = c.next;
        }
    }

    /** @return how many chunks are kept now (for tests) */
    int kept() {
        return kept.get();
    }

    /** A piece of a stream's received bytes: {@code bytes[start, end)} are unread. */
    static final class Chunk {
        final byte[] bytes = new byte[SIZE];
        int start;
        int end;
        Chunk next;
    }
}
