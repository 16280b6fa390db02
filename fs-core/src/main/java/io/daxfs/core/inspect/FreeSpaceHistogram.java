package io.daxfs.core.inspect;

import io.daxfs.core.format.Geometry;

import java.util.ArrayList;
import java.util.List;

/**
 * The free extents of a device by size, in power-of-two bins as xfs_db's {@code freesp} prints
 * them (1, 2-3, 4-7, ...), and how much of the free space lies in whole, 2 MiB-aligned chunks:
 * what a huge-page (PMD) mapping of a file can be given. Feed it every free extent, in any
 * order.
 */
public final class FreeSpaceHistogram {
    /** Blocks in 2 MiB. */
    public static final long HUGE_PAGE_BLOCKS = (2L << 20) / Geometry.BLOCK_SIZE;

    /** One bin: extents of {@code from}..{@code to} blocks. */
    public record Bin(long from, long to, long extents, long blocks) {
    }

    private final long[] extents = new long[64];
    private final long[] blocks = new long[64];
    private long totalExtents;
    private long totalBlocks;
    private long largest;
    private long alignedChunks;

    /** Counts one free extent of {@code length} blocks starting at block {@code start}. */
    public void add(long start, long length) {
        if (length <= 0) {
            return;
        }
        int bin = 63 - Long.numberOfLeadingZeros(length);
        extents[bin]++;
        blocks[bin] += length;
        totalExtents++;
        totalBlocks += length;
        largest = Math.max(largest, length);
        long firstChunk = Geometry.divUp(start, HUGE_PAGE_BLOCKS);
        long endChunk = (start + length) / HUGE_PAGE_BLOCKS;
        if (endChunk > firstChunk) {
            alignedChunks += endChunk - firstChunk;
        }
    }

    /** The non-empty bins, smallest first. */
    public List<Bin> bins() {
        List<Bin> out = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            if (extents[i] > 0) {
                out.add(new Bin(1L << i, (1L << i) * 2 - 1, extents[i], blocks[i]));
            }
        }
        return out;
    }

    public long totalExtents() {
        return totalExtents;
    }

    public long totalBlocks() {
        return totalBlocks;
    }

    public long largestExtent() {
        return largest;
    }

    /** Whole free 2 MiB chunks that start on a 2 MiB boundary of the device. */
    public long alignedChunks() {
        return alignedChunks;
    }

    /** Free blocks inside those chunks. */
    public long alignedBlocks() {
        return alignedChunks * HUGE_PAGE_BLOCKS;
    }

    /** Percentage of all free blocks that {@code blocks} is (0 when nothing is free). */
    public double percent(long blocks) {
        return totalBlocks == 0 ? 0 : blocks * 100.0 / totalBlocks;
    }
}
