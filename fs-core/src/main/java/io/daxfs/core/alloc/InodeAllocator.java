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
        int i = used.nextClearBit((int) cursor);
        if (i >= count) {
            i = used.nextClearBit(0);
            if (i >= count) {
                return 0;
            }
        }
        used.set(i);
        cursor = i + 1;
        inUse++;
        return i + 1L;
    }

    /** Gives an inode number back (its freeing transaction committed, or its creation aborted). */
    public synchronized void release(long ino) {
        int i = (int) (ino - 1);
        if (!used.get(i)) {
            throw new IllegalStateException("inode " + ino + " released twice");
        }
        used.clear(i);
        inUse--;
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
