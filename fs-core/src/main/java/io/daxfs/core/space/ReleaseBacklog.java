package io.daxfs.core.space;

import java.util.Arrays;

/**
 * Small freed extents whose backing memory is not released yet, oldest first.
 *
 * <p>Why: releasing a freed extent punches the image file (fallocate PUNCH_HOLE, or zeroes
 * device memory). For the 1-block extents of small files that was a third of an unlink's
 * own time, and the next allocation of the block paid again, with a page fault and a page
 * zeroed by the kernel on its first store (docs/performance.md, "daxfs's own work per
 * request"). No allocation needs a block to read as zeros - every allocation writes what it
 * hands out whole before a transaction makes it reachable (data with zeroed edges, zeroed
 * metadata, zeroed preallocation) - so a small freed extent goes back to the allocator at
 * once with its memory, and its range is only noted here. Releasing is the batch
 * ({@link Space#releaseBacklog}): once more than {@link #budget} blocks are noted, the oldest
 * half is released in merged runs, each only where it is still free.
 *
 * <p>Invariant: the backlog only names ranges; it owns no blocks. A noted range may be
 * allocated, freed and noted again meanwhile; the batch takes from the allocator whatever
 * part of a range is free at that moment, releases that, and gives it back, so a release
 * never touches an allocated block. What the backlog bounds is the memory that free blocks
 * keep: at most {@code budget} blocks' worth beyond what files use.
 *
 * <p>Concurrency: a leaf monitor (LockOrder); nothing is called while holding it.
 */
final class ReleaseBacklog {
    /** Extents of this many blocks or more (1 MiB) are released at once, never noted. */
    static final long AT_ONCE_BLOCKS = 256;
    /** Most blocks noted before a batch: 64 MiB, and at most a sixteenth of the data area. */
    static final long MAX_BUDGET = 16_384;

    private final long budget;
    /** A ring of (start, length) pairs, oldest at {@link #head}. Guarded by this. */
    private long[] starts = new long[64];
    private long[] lengths = new long[64];
    private int head;
    private int count;
    private long blocks;

    ReleaseBacklog(long dataBlocks) {
        this.budget = Math.max(AT_ONCE_BLOCKS, Math.min(MAX_BUDGET, dataBlocks / 16));
    }

    long budget() {
        return budget;
    }

    /** Notes a freed range; true if the backlog is over its budget (the caller runs a batch). */
    synchronized boolean add(long start, long length) {
        if (count == starts.length) {
            starts = unroll(starts);
            lengths = unroll(lengths);
            head = 0;
        }
        int i = (head + count) % starts.length;
        starts[i] = start;
        lengths[i] = length;
        count++;
        blocks += length;
        return blocks > budget;
    }

    private long[] unroll(long[] ring) {
        long[] bigger = new long[ring.length * 2];
        for (int k = 0; k < count; k++) {
            bigger[k] = ring[(head + k) % ring.length];
        }
        return bigger;
    }

    /** Blocks noted now (the memory free blocks keep, at most). */
    synchronized long blocks() {
        return blocks;
    }

    /**
     * Takes the oldest ranges until at most {@code keep} blocks stay noted, and returns them
     * sorted by start with overlapping and adjacent ones merged, as (start, length) pairs:
     * one release per run, not per freed extent.
     */
    synchronized long[] takeOldest(long keep) {
        int n = 0;
        long[] taken = new long[16];
        while (count > 0 && blocks > keep) {
            if (n + 2 > taken.length) {
                taken = Arrays.copyOf(taken, taken.length * 2);
            }
            taken[n++] = starts[head];
            taken[n++] = lengths[head];
            blocks -= lengths[head];
            head = (head + 1) % starts.length;
            count--;
        }
        return merge(taken, n);
    }

    /** Sorts (start, length) pairs by start and merges overlapping or adjacent ones. */
    static long[] merge(long[] pairs, int n) {
        int k = n / 2;
        long[][] ranges = new long[k][];
        for (int i = 0; i < k; i++) {
            ranges[i] = new long[] {pairs[2 * i], pairs[2 * i] + pairs[2 * i + 1]};
        }
        Arrays.sort(ranges, (a, b) -> Long.compare(a[0], b[0]));
        long[] out = new long[n];
        int m = 0;
        for (long[] r : ranges) {
            if (m > 0 && r[0] <= out[m - 2] + out[m - 1]) {
                out[m - 1] = Math.max(out[m - 2] + out[m - 1], r[1]) - out[m - 2];
            } else {
                out[m++] = r[0];
                out[m++] = r[1] - r[0];
            }
        }
        return Arrays.copyOf(out, m);
    }
}
