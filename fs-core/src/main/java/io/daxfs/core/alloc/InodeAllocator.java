package io.daxfs.core.alloc;

import io.daxfs.core.format.Geometry;
import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.MemorySegment;
import java.util.BitSet;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Which inode numbers are in use, rebuilt at mount from the on-media inode bitmap (bit i is
 * inode i+1). Synchronized leaf lock. An inode number handed out here is reserved until the
 * creating transaction commits (bitmap bit set) or aborts ({@link #release}).
 *
 * <p>{@link #isUsed} runs on every request (the number check of each inode operation), so it
 * takes no lock: the in-use bits are mirrored, under the monitor, into an
 * {@link AtomicLongArray} that it reads alone. It sees every change made before it was called.
 *
 * <p>Each thread allocates from a cursor of its own, and a thread's first allocation starts it
 * in a region of its own ({@link #REGION} numbers; the first thread at number 1). Threads
 * creating files in parallel then take numbers far apart, so they do not write the same words
 * of the in-use bits, the same 64-byte line of the on-media inode bitmap, or neighbouring bins
 * of the hash maps keyed by inode number: each of those would move a cache line between their
 * cores on every create and every unlink (docs/jmh-results.md, "Two threads and the distance
 * between cores"). One thread alone allocates exactly as a single rotating cursor would.
 */
public final class InodeAllocator {
    private final BitSet used;
    /** {@link #used}, word for word, for lock-free {@link #isUsed}. */
    private final AtomicLongArray usedWords;
    /** Free on the media but not to be handed out yet: someone still names the number (held). */
    private final BitSet held = new BitSet();
    /** {@link #unhold} came before the {@link #release} it answers (a race the caller cannot order). */
    private final BitSet unheldEarly = new BitSet();
    private final long count;
    /** Each thread's next number to try (bit index); see the class comment. */
    private final ThreadLocal<int[]> cursors = ThreadLocal.withInitial(this::firstCursor);
    /** Threads that have allocated here so far; guarded by this. */
    private int threads;
    private long inUse;

    /** Numbers per region: one 64-byte line of the bitmap (512 bits). */
    static final int REGION = 512;

    private InodeAllocator(BitSet used, long count) {
        this.used = used;
        this.count = count;
        this.inUse = used.cardinality();
        this.usedWords = new AtomicLongArray(java.util.Arrays.copyOf(used.toLongArray(), (int) Geometry.divUp(count, 64)));
    }

    public static InodeAllocator load(MemorySegment media, Geometry g) {
        long count = g.inodeCount();
        long words = Geometry.divUp(count, 64);
        long[] bits = new long[(int) words];
        for (int i = 0; i < words; i++) {
            bits[i] = media.get(MediaOrder.LONG, g.inodeBitmapOffset() + i * 8L);
        }
        return new InodeAllocator(BitSet.valueOf(bits), count);
    }

    /**
     * Reserves the lowest free inode number at or after the calling thread's rotating cursor;
     * 0 if none.
     */
    public long allocate() {
        int[] cursor = cursors.get();
        synchronized (this) {
            int i = nextAllocatable(cursor[0]);
            if (i >= count) {
                i = nextAllocatable(0);
                if (i >= count) {
                    return 0;
                }
            }
            used.set(i);
            setWord(i, true);
            cursor[0] = i + 1;
            inUse++;
            return i + 1L;
        }
    }

    /**
     * Where a thread's first allocation starts: the k-th thread to allocate at region
     * {@code k * 0.618...} of the regions, wrapped (golden-ratio spacing: each new thread
     * lands in the largest gap the earlier ones left, so consecutive threads start far apart
     * and the starts stay spread however many threads come), the first at 0. A table of fewer
     * than two regions has one.
     */
    private synchronized int[] firstCursor() {
        int k = threads++;
        long regions = count / REGION;
        if (regions < 2) {
            return new int[] {0};
        }
        long region = (long) (k * 0.6180339887498949 * regions) % regions;
        return new int[] {(int) (region * REGION)};
    }

    private int nextAllocatable(int from) {
        int i = used.nextClearBit(from);
        while (i < count && held.get(i)) {
            i = used.nextClearBit(i + 1);
        }
        return i;
    }

    /** Gives an inode number back (its freeing transaction committed, or its creation aborted). */
    public synchronized void release(long ino) {
        release(ino, false);
    }

    /**
     * Gives an inode number back; with {@code hold} it is free (not in use, counted free) but not
     * handed out again until {@link #unhold}: a FUSE kernel may still send requests for it, and
     * a new file under the same number would receive them.
     */
    public synchronized void release(long ino, boolean hold) {
        int i = (int) (ino - 1);
        if (!used.get(i)) {
            throw new IllegalStateException("inode " + ino + " released twice");
        }
        used.clear(i);
        setWord(i, false);
        inUse--;
        if (hold && !unheldEarly.get(i)) {
            held.set(i);
        }
        unheldEarly.clear(i);
    }

    /**
     * The number may be handed out again (see {@link #release(long, boolean)}). If the inode is
     * still in use, the hold its coming release asks for is void.
     */
    public synchronized void unhold(long ino) {
        int i = (int) (ino - 1);
        if (used.get(i)) {
            unheldEarly.set(i);
        } else {
            held.clear(i);
        }
    }

    /** Numbers held (tests, diagnostics). */
    public synchronized int held() {
        return held.cardinality();
    }

    public synchronized long freeInodes() {
        return count - inUse;
    }

    public boolean isUsed(long ino) {
        long i = ino - 1;
        if (i < 0 || i >= count) {
            return false;
        }
        return (usedWords.get((int) (i >>> 6)) & (1L << i)) != 0;
    }

    private void setWord(int i, boolean on) {
        long bit = 1L << i;
        int w = i >>> 6;
        usedWords.set(w, on ? usedWords.get(w) | bit : usedWords.get(w) & ~bit); // writers hold the monitor
    }

    public long count() {
        return count;
    }
}
