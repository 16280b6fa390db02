package io.daxfs.core.dir;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.FileExtent;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.core.journal.Transaction;
import io.daxfs.core.space.Space;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;

/**
 * A directory's blocks: it grows by one zeroed, formatted block when no block has room for
 * an entry, and gives all its blocks back when its last entry goes, so that deleting
 * everything leaves the whole device free. Caller holds the directory's lock exclusively.
 */
public final class DirectoryBlocks {
    private final PmemRegion region;
    private final MemorySegment media;
    private final InodeTable table;
    private final Space space;

    public DirectoryBlocks(PmemRegion region, InodeTable table, Space space) {
        this.region = region;
        this.media = region.readView();
        this.table = table;
        this.space = space;
    }

    /** Appends a zeroed, formatted block to directory {@code dir} in {@code tx}; returns its physical block. */
    public long grow(Transaction tx, Inode dir) {
        ExtentMap map = dir.extents(media);
        FileExtent last = map.floor(Long.MAX_VALUE);
        long lblk = last == null ? 0 : last.logicalEnd();
        long goal = last == null ? -1 : last.physical() + last.length();
        try (ExtentMap.Reservation slots = map.reserveSlots(tx, 1, space, goal)) {
            long blk = space.allocateZeroed(tx, goal);
            Directory.formatBlock(tx, blk, dir.ino());
            map.map(slots, tx, lblk, 1, blk);
            table.setSize(tx, dir.ino(), (lblk + 1) * Geometry.BLOCK_SIZE);
            // A delta, not an absolute count: the count also holds the directory's xattr blocks,
            // and an overflow block the reservation added was counted by its own transaction.
            tx.addLong(table.offset(dir.ino()) + InodeLayout.BLOCKS, 1);
            return blk;
        }
    }

    /**
     * Gives an emptied directory's blocks back in {@code tx}; the next entry grows it again.
     * A directory whose blocks fail the freeing path's check (a damaged map: EUCLEAN, nothing
     * changed) keeps them.
     */
    public void shrinkIfEmpty(Transaction tx, Inode dir, Directory d) {
        if (!d.isEmpty()) {
            return;
        }
        ExtentMap map = dir.extents(media);
        if (map.extentCount() == 0) {
            return;
        }
        long freed;
        try {
            freed = space.unmapAndFree(tx, dir, map, 0, Long.MAX_VALUE, null);
        } catch (FsException e) {
            if (e.errno() == Errno.EUCLEAN) {
                return;
            }
            throw e;
        }
        d.forgetBlocks();
        table.setSize(tx, dir.ino(), 0);
        // A delta, not 0: the block count also holds the directory's xattr blocks.
        tx.addLong(table.offset(dir.ino()) + InodeLayout.BLOCKS, -freed);
    }
}
