package io.daxfs.core.data;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.Timestamp;
import io.daxfs.core.concurrent.RangeLock;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.journal.Transaction;
import io.daxfs.core.space.Space;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;

/**
 * Changes of a file's size and allocation: truncate, hole punch, zero range, fallocate. Each
 * takes its range exclusively (from the end of file when it grows the file), so no read or
 * write is inside it, and changes the block map inside the invalidation sequence
 * ({@link Space#unmapAndFree}); freed extents go to the busy list.
 */
final class FileResizer {
    private static final int BS = Geometry.BLOCK_SIZE;
    private static final int SHIFT = Geometry.BLOCK_SHIFT;

    private final MemorySegment media;
    private final InodeTable table;
    private final Journal journal;
    private final FileBlocks blocks;

    FileResizer(PmemRegion region, InodeTable table, Journal journal, FileBlocks blocks) {
        this.media = region.readView();
        this.table = table;
        this.journal = journal;
        this.blocks = blocks;
    }

    void truncate(Inode in, long newSize) {
        long ino = in.ino();
        int mode = table.mode(ino);
        if (FileMode.isDirectory(mode)) {
            throw new FsException(Errno.EISDIR, "truncate of a directory");
        }
        if (!FileMode.isRegular(mode)) {
            throw new FsException(Errno.EINVAL, "truncate of a special file");
        }
        ExtentMap map = in.extents(media);
        while (true) {
            long size = table.size(ino);
            try (RangeLock.Range r = in.ranges().lockExclusive(Math.min(size, newSize), Long.MAX_VALUE)) {
                if (table.size(ino) < Math.min(size, newSize)) {
                    continue; // shrank under us below our range: take a wider one
                }
                size = table.size(ino);
                Timestamp now = Timestamp.now();
                if (newSize >= size) {
                    blocks.zeroMapped(in, map, size, newSize);
                    Transaction tx = journal.begin();
                    table.setSize(tx, ino, newSize);
                    table.setMtime(tx, ino, now);
                    table.setCtime(tx, ino, now);
                    journal.commit(tx);
                    return;
                }
                long keepBlocks = Geometry.divUp(newSize, BS);
                blocks.freeRange(in, map, keepBlocks, Long.MAX_VALUE, tx -> {
                    table.setSize(tx, ino, newSize);
                    table.setMtime(tx, ino, now);
                    table.setCtime(tx, ino, now);
                });
                return;
            }
        }
    }

    /**
     * Deallocates [offset, offset+length): whole blocks are unmapped (to the busy list),
     * partial blocks at the edges are zeroed. The size never changes (FALLOC_FL_KEEP_SIZE).
     */
    void punchHole(Inode in, long offset, long length) {
        requireRegular(in);
        long end = offset + length;
        ExtentMap map = in.extents(media);
        try (RangeLock.Range r = in.ranges().lockExclusive(offset, end)) {
            long firstWhole = Geometry.divUp(offset, BS);
            long endWhole = end >>> SHIFT;
            blocks.zeroMapped(in, map, offset, Math.min(end, firstWhole << SHIFT));
            if (endWhole >= firstWhole) {
                blocks.zeroMapped(in, map, Math.max(offset, endWhole << SHIFT), end);
            }
            Timestamp now = Timestamp.now();
            if (endWhole > firstWhole) {
                blocks.freeRange(in, map, firstWhole, endWhole, tx -> {
                    table.setMtime(tx, in.ino(), now);
                    table.setCtime(tx, in.ino(), now);
                });
            } else {
                table.touchDirect(in.ino(), now);
            }
        }
    }

    /** Makes [offset, offset+length) read as zeros, keeping its allocation; may extend the size. */
    void zeroRange(Inode in, long offset, long length, boolean keepSize) {
        requireRegular(in);
        long end = offset + length;
        ExtentMap map = in.extents(media);
        try (RangeLock.Range r = in.ranges().lockExclusive(Math.min(offset, table.size(in.ino())), end)) {
            long size = table.size(in.ino());
            blocks.zeroMapped(in, map, Math.min(offset, size), end);
            if (!keepSize && end > size) {
                journal.storeMax(table.offset(in.ino()) + InodeLayout.SIZE, end);
            }
            table.touchDirect(in.ino(), Timestamp.now());
        }
    }

    /**
     * Allocates (zeroed) every hole of [offset, offset+length); extends the size unless keepSize.
     * Times as ext4: ctime always; mtime only when the size grows (the contents read the same).
     */
    void fallocate(Inode in, long offset, long length, boolean keepSize) {
        requireRegular(in);
        long end = offset + length;
        ExtentMap map = in.extents(media);
        try (RangeLock.Range r = in.ranges().lockExclusive(Math.min(offset, table.size(in.ino())), end)) {
            long size = table.size(in.ino());
            if (!keepSize && end > size) {
                // Everything between the old and the new end of file must read as zeros,
                // including blocks mapped past the old end (which may hold old bytes).
                blocks.zeroMapped(in, map, size, end);
            }
            long firstBlk = offset >>> SHIFT;
            long endBlk = ((end - 1) >>> SHIFT) + 1;
            // Allocate in bounded chunks so one transaction never outgrows the journal slot.
            for (long chunk = firstBlk; chunk < endBlk; chunk += 1L << 18) {
                blocks.allocateZeroed(in, map, chunk, Math.min(endBlk, chunk + (1L << 18)), end > (2L << 20));
            }
            boolean grows = !keepSize && end > size;
            if (grows) {
                journal.storeMax(table.offset(in.ino()) + InodeLayout.SIZE, end);
                table.touchDirect(in.ino(), Timestamp.now());
            } else {
                table.touchCtimeDirect(in.ino(), Timestamp.now());
            }
        }
    }

    private void requireRegular(Inode in) {
        int mode = table.mode(in.ino());
        if (FileMode.isDirectory(mode)) {
            throw new FsException(Errno.EISDIR, "not a regular file");
        }
        if (!FileMode.isRegular(mode)) {
            throw new FsException(Errno.ENODEV, "not a regular file");
        }
    }
}
