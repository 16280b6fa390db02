package io.daxfs.core;

import io.daxfs.core.alloc.BlockAllocator;
import io.daxfs.core.alloc.Extent;
import io.daxfs.core.dir.Directory;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.MetaBlocks;
import io.daxfs.core.journal.Transaction;
import io.daxfs.devdax.PmemRegion;

import java.util.ArrayList;
import java.util.List;

/**
 * Block allocation inside transactions. Ties the in-memory allocator to the durable block
 * bitmap: an allocation takes blocks from the allocator at once and sets their bits when the
 * transaction commits (abort gives them back); a free clears the bits in the transaction and
 * hands the blocks back to the allocator only after the commit is durable, so a block is
 * never reused while the free that released it could still be lost in a crash.
 */
final class Space implements MetaBlocks {
    private final PmemRegion region;
    private final Geometry geometry;
    private final BlockAllocator allocator;

    Space(PmemRegion region, Geometry geometry, BlockAllocator allocator) {
        this.region = region;
        this.geometry = geometry;
        this.allocator = allocator;
    }

    BlockAllocator allocator() {
        return allocator;
    }

    /**
     * Allocates exactly {@code blocks} blocks as one or more extents, the first starting at
     * {@code goal} if it is free. All or nothing: on ENOSPC nothing stays allocated.
     */
    List<Extent> allocateData(Transaction tx, long goal, long blocks) {
        List<Extent> got = new ArrayList<>(2);
        long need = blocks;
        long g = goal;
        while (need > 0) {
            Extent e = allocator.allocate(g, need);
            if (e == null) {
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

    /** Frees an extent when {@code tx} is durable. */
    void freeData(Transaction tx, Extent e) {
        tx.updateBits(geometry.blockBitmapOffset(), e.start(), e.length(), false);
        tx.afterCommit(() -> allocator.free(e.start(), e.length()));
    }

    @Override
    public long allocateZeroed(Transaction tx, long goal) {
        Extent e = allocateData(tx, goal, 1).getFirst();
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
}
