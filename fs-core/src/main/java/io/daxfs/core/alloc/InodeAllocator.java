package io.daxfs.core.alloc;

import io.daxfs.core.format.Geometry;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.BitSet;

/**
 * Which inode numbers are in use, rebuilt at mount from the on-media inode bitmap (bit i is
 * inode i+1). Synchronized leaf lock. An inode number handed out here is reserved until the
 * creating transaction commits (bitmap bit set) or aborts ({@link #release}).
 */
public final class InodeAllocator {
    private final BitSet used;
    /** Free on the media but not to be handed out yet: someone still names the number (held). */
    private final BitSet held = new BitSet();
    /** {@link #unhold} came before the {@link #release} it answers (a race the caller cannot order). */
    private final BitSet unheldEarly = new BitSet();
    private final long count;
    private long cursor;
    private long inUse;

    private InodeAllocator(BitSet used, long count) {
        this.used = used;
        this.count = count;
        this.inUse = used.cardinality();
    }

    public static InodeAllocator load(MemorySegment media, Geometry g) {
        long count = g.inodeCount();
        long words = Geometry.divUp(count, 64);
        long[] bits = new long[(int) words];
        for (int i = 0; i < words; i++) {
            bits[i] = media.get(ValueLayout.JAVA_LONG_UNALIGNED, g.inodeBitmapOffset() + i * 8L);
        }
        return new InodeAllocator(BitSet.valueOf(bits), count);
    }

    /** Reserves the lowest free inode number at or after a rotating cursor; 0 if none. */
    public synchronized long allocate() {
        int i = nextAllocatable((int) cursor);
        if (i >= count) {
            i = nextAllocatable(0);
            if (i >= count) {
                return 0;
            }
        }
        used.set(i);
        cursor = i + 1;
        inUse++;
        return i + 1L;
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

    public synchronized boolean isUsed(long ino) {
        return used.get((int) (ino - 1));
    }

    public long count() {
        return count;
    }
}
