package io.daxfs.core;

import io.daxfs.core.alloc.BlockAllocator;
import io.daxfs.core.alloc.Extent;
import io.daxfs.core.concurrent.BusyExtents;
import io.daxfs.core.dir.Directory;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.MetaBlocks;
import io.daxfs.core.journal.Transaction;
import io.daxfs.devdax.PmemRegion;

import java.util.ArrayList;
import java.util.List;

/**
 * Block allocation inside transactions. Ties the in-memory allocator to the durable block
 * bitmap and the busy-extent list: an allocation takes blocks from the allocator at once and
 * sets their bits when the transaction commits (abort gives them back). A free clears the
 * bits in the transaction and puts the extent on the busy list at once; the list hands it
 * back to the allocator - released, so it reads as zeros - only once the commit is durable
 * and no reader, copy, mapping or lease references it any more.
 *
 * <p>ENOSPC is reported only when space is really gone: if the allocator is empty but busy
 * extents exist, the allocation waits (bounded) for them to clear, as XFS's busy-extent flush
 * does, instead of failing early.
 */
final class Space implements MetaBlocks {
    private final PmemRegion region;
    private final Geometry geometry;
    private final BlockAllocator allocator;
    private final BusyExtents busy;
    /** Longest an allocation waits for busy extents to clear before reporting ENOSPC. */
    static final long BUSY_WAIT_MILLIS = 5_000;

    private final io.daxfs.core.journal.Journal journal;

    Space(PmemRegion region, Geometry geometry, BlockAllocator allocator, io.daxfs.core.journal.Journal journal) {
        this.journal = journal;
        this.region = region;
        this.geometry = geometry;
        this.allocator = allocator;
        this.busy = new BusyExtents((start, length) -> {
            region.release(Geometry.blockOffset(start), length << Geometry.BLOCK_SHIFT);
            allocator.free(start, length);
        });
    }

    BusyExtents busy() {
        return busy;
    }

    BlockAllocator allocator() {
        return allocator;
    }

    /**
     * Allocates exactly {@code blocks} blocks as one or more extents, the first starting at
     * {@code goal} if it is free. All or nothing: on ENOSPC nothing stays allocated.
     */
    List<Extent> allocateData(Transaction tx, long goal, long blocks) {
        return allocateData(tx, goal, blocks, -1);
    }

    /**
     * As {@link #allocateData(Transaction, long, long)}; with {@code logical >= 0} and no
     * contiguous goal, places the blocks 2 MiB-congruent with that logical block.
     */
    List<Extent> allocateData(Transaction tx, long goal, long blocks, long logical) {
        List<Extent> got = new ArrayList<>(2);
        long need = blocks;
        long g = goal;
        long deadline = 0;
        while (need > 0) {
            Extent e = null;
            if (logical >= 0 && got.isEmpty() && !allocator.isFree(Math.max(g, 0), 1)) {
                e = allocator.allocateAligned(need, HUGE_BLOCKS, logical % HUGE_BLOCKS);
            }
            if (e == null) {
                e = allocator.allocate(g, need);
            }
            if (e == null) {
                if (deadline == 0) {
                    deadline = System.currentTimeMillis() + BUSY_WAIT_MILLIS;
                }
                if (waitForBusy(deadline)) {
                    continue;
                }
                for (Extent x : got) {
                    allocator.free(x.start(), x.length());
                }
                throw new FsException(Errno.ENOSPC, "no space left on device");
            }
            got.add(e);
            need -= e.length();
            g = e.end();
        }
        for (Extent e : got) {
            tx.updateBits(geometry.blockBitmapOffset(), e.start(), e.length(), true);
            tx.onAbort(() -> allocator.free(e.start(), e.length()));
        }
        return got;
    }

    /** 2 MiB in blocks: the huge-page size extents of large files are aligned to. */
    static final long HUGE_BLOCKS = (2L << 20) >>> Geometry.BLOCK_SHIFT;

    /** Waits for a busy extent to clear; false if none is busy or the deadline passed. */
    private boolean waitForBusy(long deadline) {
        long left = deadline - System.currentTimeMillis();
        if (busy.busyBlocks() == 0 || left <= 0) {
            return false;
        }
        try {
            return busy.awaitClear(busy.generation(), Math.min(left, 100)) || busy.busyBlocks() > 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Frees an extent when {@code tx} is durable. */
    void freeData(Transaction tx, Extent e) {
        busy.insert(e);
        tx.updateBits(geometry.blockBitmapOffset(), e.start(), e.length(), false);
        tx.afterCommit(() -> busy.durable(e));
    }

    @Override
    public long allocateZeroed(Transaction tx, long goal) {
        Extent e = allocateData(tx, goal, 1).getFirst();
        tx.countMetaBlock();
        long off = Geometry.blockOffset(e.start());
        region.fill(off, Geometry.BLOCK_SIZE, (byte) 0);
        region.flush(off, Geometry.BLOCK_SIZE);
        return e.start();
    }

    /** A zeroed block formatted as an empty directory block. */
    long allocateDirectoryBlock(Transaction tx, long goal) {
        long blk = allocateZeroed(tx, goal);
        Directory.formatBlock(region, blk);
        region.flush(Geometry.blockOffset(blk), 16);
        return blk;
    }

    @Override
    public void free(Transaction tx, long block) {
        freeData(tx, new Extent(block, 1));
    }

    @Override
    public Transaction begin() {
        return journal.begin();
    }

    @Override
    public void commit(Transaction tx) {
        journal.commit(tx);
    }
}
