package io.berth.transport.http2;

/**
 * An HPACK dynamic table (RFC 7541 §2.3.2, §4): a FIFO of (name, value) entries, the newest at index 1,
 * whose size (name + value + 32 octets per entry) never exceeds its maximum size; adding an entry
 * evicts the oldest ones until it fits, and an entry larger than the maximum empties the table.
 *
 * <p>A ring of two string arrays that grows by doubling (so, in steady state, adding allocates
 * nothing). Every entry also has a sequence number, the count of entries added before it, which
 * stays valid while the entry lives: the encoder's index refers to entries by it.
 *
 * <p>Not thread-safe.
 */
final class DynamicTable {
    private String[] names = new String[16];
    private String[] values = new String[16];
    private int mask = 15;
    private int tail; // ring position of the oldest entry
    private int count;
    private long size;
    private long maxSize;
    private long added;

    /** @param maxSize the initial maximum size, in HPACK octets */
    DynamicTable(long maxSize) {
        this.maxSize = maxSize;
    }

    /** @return the number of entries */
    int length() {
        return count;
    }

    /** @return the sum of the entries' sizes, in octets */
    long size() {
        return size;
    }

    /** @return the maximum size, in octets */
    long maxSize() {
        return maxSize;
    }

    /** @param index 1 (the newest) to {@link #length()} */
    String name(int index) {
        return names[(tail + count - index) & mask];
    }

    /** @param index 1 (the newest) to {@link #length()} */
    String value(int index) {
        return values[(tail + count - index) & mask];
    }

    /** @return the sequence number the next added entry will get */
    long nextSequence() {
        return added;
    }

    /** @return the index of the entry with sequence number {@code seq}, or 0 if it was evicted */
    int indexOf(long seq) {
        long index = added - seq;
        return index >= 1 && index <= count ? (int) index : 0;
    }

    /** @return the sequence number of the oldest entry still in the table */
    long oldestSequence() {
        return added - count;
    }

    /** Sets the maximum size and evicts entries until the size fits. */
    void setMaxSize(long max) {
        maxSize = max;
        while (size > maxSize) {
            evict();
        }
    }

    /**
     * Adds an entry at index 1, evicting as needed.
     *
     * @return whether it was added; an entry larger than the maximum size empties the table instead
     */
    boolean add(String name, String value) {
        long entrySize = entrySize(name, value);
        added++;
        if (entrySize > maxSize) {
            while (count > 0) {
                evict();
            }
            return false;
        }
        while (size + entrySize > maxSize) {
            evict();
        }
        if (count == names.length) {
            grow();
        }
        int at = (tail + count) & mask;
        names[at] = name;
        values[at] = value;
        count++;
        size += entrySize;
        return true;
    }

    /** @return the HPACK size of an entry: name + value + 32 (chars are octets, ISO-8859-1) */
    static long entrySize(String name, String value) {
        return (long) name.length() + value.length() + Http2Headers.FIELD_OVERHEAD;
    }

    private void evict() {
        size -= entrySize(names[tail], values[tail]);
        names[tail] = null;
        values[tail] = null;
        tail = (tail + 1) & mask;
        count--;
    }

    private void grow() {
        int n = names.length;
        String[] nn = new String[n * 2];
        String[] nv = new String[n * 2];
        for (int i = 0; i < count; i++) {
            nn[i] = names[(tail + i) & mask];
            nv[i] = values[(tail + i) & mask];
        }
        names = nn;
        values = nv;
        mask = n * 2 - 1;
        tail = 0;
    }

    /** @return the entries from index 1, one per line as {@code [i] (s = n) name: value}, for tests */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= count; i++) {
            sb.append('[').append(i).append("] (s = ").append(entrySize(name(i), value(i))).append(") ")
                    .append(name(i)).append(": ").append(value(i)).append('\n');
        }
        return sb.append("size ").append(size).toString();
    }

    /** For tests: the ring's capacity. */
    int capacity() {
        return names.length;
    }
}
