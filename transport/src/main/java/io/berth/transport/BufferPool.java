package io.berth.transport;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A bounded, lock-free pool of {@link ByteBuffer}s of one size, {@link #BUFFER_SIZE}: big enough for
 * a whole TLS record; heap buffers, or in the pool of {@link #sharedDirect()} direct ones.
 * Connections take buffers while they carry an exchange and give them back when idle, so that an
 * idle connection holds no large buffer.
 *
 * <p>Buffers sit in the slots of an array; {@link #take()} clears a full slot and {@link #give}
 * fills an empty one, each with one CAS, probing from a per-thread start index so that threads
 * rarely contend. An empty pool allocates; a full pool drops the buffer for the GC.
 *
 * <p>Thread-safe.
 */
public final class BufferPool {
    /** The size of every pooled buffer: 17 KiB, more than a TLS record with its overhead (16709 bytes). */
    public static final int BUFFER_SIZE = 17 * 1024;

    private static final BufferPool SHARED = new BufferPool(256);
    private static final BufferPool SHARED_DIRECT = new BufferPool(256, true);

    private final AtomicReferenceArray<ByteBuffer> slots;
    private final int mask;
    /** Whether this pool's buffers are direct. */
    private final boolean direct;

    /**
     * @param capacity how many buffers the pool keeps at most; rounded up to a power of two
     */
    public BufferPool(int capacity) {
        this(capacity, false);
    }

    /**
     * @param capacity how many buffers the pool keeps at most; rounded up to a power of two
     * @param direct whether its buffers are direct
     */
    BufferPool(int capacity, boolean direct) {
        this.direct = direct;
        int n = Integer.highestOneBit(Math.max(1, capacity - 1)) << 1;
        this.slots = new AtomicReferenceArray<>(n);
        this.mask = n - 1;
    }

    /** @return the pool shared by all connections of this JVM, keeping at most 256 buffers (4.25 MiB) */
    public static BufferPool shared() {
        return SHARED;
    }

    /**
     * @return the pool of direct buffers shared by all connections of this JVM, the stages of their
     *     channel reads and writes, keeping at most 256 buffers (4.25 MiB of direct memory)
     */
    static BufferPool sharedDirect() {
        return SHARED_DIRECT;
    }

    /** @return a cleared buffer of {@link #BUFFER_SIZE} bytes, from the pool or newly allocated */
    public ByteBuffer take() {
        int start = probe();
        for (int i = 0; i <= mask; i++) {
            int idx = (start + i) & mask;
            ByteBuffer b = slots.getPlain(idx);
            if (b != null && slots.compareAndSet(idx, b, null)) {
                return b.clear();
            }
        }
        return direct ? ByteBuffer.allocateDirect(BUFFER_SIZE) : ByteBuffer.allocate(BUFFER_SIZE);
    }

    /**
     * Gives a buffer back. Its contents are discarded.
     *
     * @param buffer a buffer from {@link #take()}; others (of another size, direct in a heap pool or
     *     the reverse, read-only) are ignored
     */
    public void give(ByteBuffer buffer) {
        if (buffer == null || buffer.capacity() != BUFFER_SIZE || buffer.isDirect() != direct || buffer.isReadOnly()) {
            return;
        }
        int start = probe();
        for (int i = 0; i <= mask; i++) {
            int idx = (start + i) & mask;
            if (slots.getPlain(idx) == null && slots.compareAndSet(idx, null, buffer)) {
                return;
            }
        }
    }

    /** @return how many buffers the pool holds now (for tests and stats) */
    public int size() {
        int n = 0;
        for (int i = 0; i <= mask; i++) {
            if (slots.get(i) != null) {
                n++;
            }
        }
        return n;
    }

    private int probe() {
        // Spread threads over the slots; Fibonacci hashing of the thread id.
        long id = Thread.currentThread().getId();
        return (int) ((id * 0x9E3779B97F4A7C15L) >>> 40);
    }
}
