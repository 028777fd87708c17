package io.berth.transport.http2;

import java.util.Arrays;

/**
 * The open streams of a connection by id: open addressing with linear probing over a power-of-two
 * array, deletion by backward shift, so that neither a lookup nor an insertion allocates (no boxed
 * keys, no nodes). Client stream ids are odd and consecutive, so {@code id >>> 1} spreads them
 * perfectly.
 *
 * <p>Not thread-safe: guarded by the connection's lock.
 */
final class StreamTable {
    private int[] ids = new int[16];
    private Http2Stream[] streams = new Http2Stream[16];
    private int size;

    /** @return the stream with this id, or null */
    Http2Stream get(int id) {
        int mask = ids.length - 1;
        for (int i = (id >>> 1) & mask; ; i = (i + 1) & mask) {
            int k = ids[i];
            if (k == id) {
                return streams[i];
            }
            if (k == 0) {
                return null;
            }
        }
    }

    /** Adds a stream whose id is not in the table. */
    void put(Http2Stream s) {
        if ((size + 1) * 2 > ids.length) {
            grow();
        }
        insert(s);
        size++;
    }

    /** @return whether a stream with this id was there and is removed now */
    boolean remove(int id) {
        int mask = ids.length - 1;
        int i = (id >>> 1) & mask;
        while (ids[i] != id) {
            if (ids[i] == 0) {
                return false;
            }
            i = (i + 1) & mask;
        }
        // Backward-shift deletion: move later entries of the probe run into the hole when their home
        // slot does not lie cyclically in (hole, their slot].
        int hole = i;
        for (int j = (hole + 1) & mask; ids[j] != 0; j = (j + 1) & mask) {
            int home = (ids[j] >>> 1) & mask;
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                ids[hole] = ids[j];
                streams[hole] = streams[j];
                hole = j;
            }
        }
        ids[hole] = 0;
        streams[hole] = null;
        size--;
        return true;
    }

    int size() {
        return size;
    }

    /** @return the open streams, in no particular order, in a new array */
    Http2Stream[] snapshot() {
        Http2Stream[] out = new Http2Stream[size];
        int n = 0;
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] != 0) {
                out[n++] = streams[i];
            }
        }
        return out;
    }

    private void insert(Http2Stream s) {
        int mask = ids.length - 1;
        int i = (s.id() >>> 1) & mask;
        while (ids[i] != 0) {
            i = (i + 1) & mask;
        }
        ids[i] = s.id();
        streams[i] = s;
    }

    private void grow() {
        int[] oldIds = ids;
        Http2Stream[] old = streams;
        ids = new int[oldIds.length * 2];
        streams = new Http2Stream[oldIds.length * 2];
        for (int i = 0; i < oldIds.length; i++) {
            if (oldIds[i] != 0) {
                insert(old[i]);
            }
        }
        Arrays.fill(old, null);
    }
}
