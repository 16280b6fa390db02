package io.daxfs.core.alloc;

import io.daxfs.core.format.Geometry;
import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.MemorySegment;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Free space of the data area, kept in memory in two indexes as XFS keeps its two free-space
 * B-trees: by start block (to find neighbours and merge on free, and to extend a file in
 * place) and by length (best fit). The durable record of free space is the block bitmap,
 * updated by the journal transactions of the operations that allocate and free; this class
 * is rebuilt from the bitmap at mount.
 *
 * <p>Invariants: free extents never overlap and never touch (touching ones are merged); a
 * block is in exactly one of: the free indexes, a file's extent map, a transaction in flight
 * that will put it in one of those. Every method is synchronized: the allocator is a leaf lock
 * (nothing is called while holding it).
 */
public final class BlockAllocator {
    private final TreeMap<Long, Long> byStart = new TreeMap<>();
    private final TreeSet<long[]> byLength = new TreeSet<>(
            Comparator.<long[]>comparingLong(e -> e[1]).thenComparingLong(e -> e[0]));
    private final long firstDataBlock;
    private final long totalBlocks;
    private long freeBlocks;

    public BlockAllocator(long firstDataBlock, long totalBlocks) {
        this.firstDataBlock = firstDataBlock;
        this.totalBlocks = totalBlocks;
    }

    /** Rebuilds free space from the on-media block bitmap (bit set = in use). */
    public static BlockAllocator load(MemorySegment media, Geometry g) {
        BlockAllocator a = new BlockAllocator(g.dataStart(), g.totalBlocks());
        long base = g.blockBitmapOffset();
        long runStart = -1;
        long total = g.totalBlocks();
        for (long word = 0; word * 64 < total; word++) {
            long bits = media.get(MediaOrder.LONG, base + word * 8);
            long first = word * 64;
            if (bits == 0 && runStart >= 0) {
                continue;
            }
            if (bits == -1L && runStart < 0) {
                continue;
            }
            for (int i = 0; i < 64 && first + i < total; i++) {
                boolean used = (bits & (1L << i)) != 0;
                if (!used && runStart < 0) {
                    runStart = first + i;
                } else if (used && runStart >= 0) {
                    a.insertFree(runStart, first + i - runStart);
                    runStart = -1;
                }
            }
        }
        if (runStart >= 0) {
            a.insertFree(runStart, total - runStart);
        }
        return a;
    }

    /**
     * Allocates up to {@code wanted} blocks, preferring to start exactly at {@code goal}
     * (to extend a file contiguously), then the smallest free extent that holds all of them,
     * then the largest there is. Returns null only when no block is free.
     */
    public synchronized Extent allocate(long goal, long wanted) {
        if (wanted <= 0) {
            throw new IllegalArgumentException("wanted " + wanted);
        }
        if (byStart.isEmpty()) {
            return null;
        }
        if (goal >= firstDataBlock) {
            Map.Entry<Long, Long> e = byStart.floorEntry(goal);
            if (e != null && e.getKey() + e.getValue() > goal) {
                long len = Math.min(wanted, e.getKey() + e.getValue() - goal);
                take(e.getKey(), e.getValue(), goal, len);
                return new Extent(goal, len);
            }
        }
        long[] fit = byLength.ceiling(new long[] {Long.MIN_VALUE, wanted});
        if (fit == null) {
            fit = byLength.last();
        }
        long len = Math.min(wanted, fit[1]);
        take(fit[0], fit[1], fit[0], len);
        return new Extent(fit[0], len);
    }

    /**
     * Allocates {@code wanted} blocks starting at a block congruent to {@code residue} modulo
     * {@code align} (so logical and physical 2 MiB boundaries coincide and a direct mapping can
     * use huge pages). Best fit among free extents long enough; null if none is, in which case
     * the caller falls back to {@link #allocate}.
     */
    public synchronized Extent allocateAligned(long wanted, long align, long residue) {
        // Any extent of wanted+align-1 blocks fits; shorter ones fit only if well placed, so
        // look at a bounded number of those first (best fit), then take the sure one.
        int looked = 0;
        for (long[] fit : byLength.tailSet(new long[] {Long.MIN_VALUE, wanted}, true)) {
            if (fit[1] >= wanted + align - 1 || looked++ == 64) {
                break;
            }
            if (tryAligned(fit, wanted, align, residue)) {
                return new Extent(fit[0] + Math.floorMod(residue - fit[0], align), wanted);
            }
        }
        long[] sure = byLength.ceiling(new long[] {Long.MIN_VALUE, wanted + align - 1});
        if (sure == null) {
            return null;
        }
        long at = sure[0] + Math.floorMod(residue - sure[0], align);
        take(sure[0], sure[1], at, wanted);
        return new Extent(at, wanted);
    }

    private boolean tryAligned(long[] fit, long wanted, long align, long residue) {
        long at = fit[0] + Math.floorMod(residue - fit[0], align);
        if (at + wanted > fit[0] + fit[1]) {
            return false;
        }
        take(fit[0], fit[1], at, wanted);
        return true;
    }

    /** Whether [start, start+length) is a non-empty range inside the data area. */
    public boolean inDataArea(long start, long length) {
        return length > 0 && start >= firstDataBlock && start <= totalBlocks - length;
    }

    /** Whether any block of [start, start+length) is free (a free of it would be a double free). */
    public synchronized boolean overlapsFree(long start, long length) {
        Map.Entry<Long, Long> before = byStart.floorEntry(start);
        if (before != null && before.getKey() + before.getValue() > start) {
            return true;
        }
        Map.Entry<Long, Long> after = byStart.ceilingEntry(start);
        return after != null && after.getKey() < start + length;
    }

    /** Returns an extent to free space, merging with its neighbours. */
    public synchronized void free(long start, long length) {
        if (!inDataArea(start, length)) {
            throw new IllegalStateException("freeing blocks outside the data area: " + start + "+" + length);
        }
        Map.Entry<Long, Long> before = byStart.floorEntry(start);
        if (before != null && before.getKey() + before.getValue() > start) {
            throw new IllegalStateException("double free of block " + start + " (free extent "
                    + before.getKey() + "+" + before.getValue() + ")");
        }
        Map.Entry<Long, Long> after = byStart.ceilingEntry(start);
        if (after != null && after.getKey() < start + length) {
            throw new IllegalStateException("double free of block " + after.getKey());
        }
        long s = start;
        long l = length;
        if (before != null && before.getKey() + before.getValue() == start) {
            removeFree(before.getKey(), before.getValue());
            s = before.getKey();
            l += before.getValue();
        }
        if (after != null && after.getKey() == start + length) {
            removeFree(after.getKey(), after.getValue());
            l += after.getValue();
        }
        insertFree(s, l);
    }

    public synchronized long freeBlocks() {
        return freeBlocks;
    }

    /** How many free extents there are: the fragmentation of free space (daxfs stat). */
    public synchronized long freeExtentCount() {
        return byStart.size();
    }

    /** The length in blocks of the largest free extent, 0 when nothing is free (daxfs stat). */
    public synchronized long largestFreeExtent() {
        return byLength.isEmpty() ? 0 : byLength.last()[1];
    }

    /** True if every block of the range is free (fsck and tests). */
    public synchronized boolean isFree(long start, long length) {
        Map.Entry<Long, Long> e = byStart.floorEntry(start);
        return e != null && e.getKey() + e.getValue() >= start + length;
    }

    /**
     * Takes out of free space every free part of [start, start+length) and returns them in
     * block order (a batch release: nobody can allocate them while their memory is released;
     * the caller frees them again).
     */
    public synchronized java.util.List<Extent> takeFree(long start, long length) {
        java.util.List<Extent> out = new java.util.ArrayList<>(2);
        long end = start + length;
        Map.Entry<Long, Long> e = byStart.floorEntry(start);
        if (e == null || e.getKey() + e.getValue() <= start) {
            e = byStart.higherEntry(start);
        }
        while (e != null && e.getKey() < end) {
            long s = Math.max(start, e.getKey());
            long t = Math.min(end, e.getKey() + e.getValue());
            long next = e.getKey() + e.getValue();
            take(e.getKey(), e.getValue(), s, t - s);
            out.add(new Extent(s, t - s));
            e = byStart.ceilingEntry(next);
        }
        return out;
    }

    /** Copy of the free extents in block order (fsck and tests). */
    public synchronized java.util.List<Extent> freeExtents() {
        java.util.List<Extent> out = new java.util.ArrayList<>(byStart.size());
        byStart.forEach((s, l) -> out.add(new Extent(s, l)));
        return out;
    }

    /** Removes [at, at+len) from the free extent [start, start+length). */
    private void take(long start, long length, long at, long len) {
        removeFree(start, length);
        if (at > start) {
            insertFree(start, at - start);
        }
        long tailStart = at + len;
        long end = start + length;
        if (end > tailStart) {
            insertFree(tailStart, end - tailStart);
        }
    }

    private void insertFree(long start, long length) {
        byStart.put(start, length);
        byLength.add(new long[] {start, length});
        freeBlocks += length;
    }

    private void removeFree(long start, long length) {
        byStart.remove(start);
        byLength.remove(new long[] {start, length});
        freeBlocks -= length;
    }
}
