package io.daxfs.core.data;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.concurrent.InvalidationSequence;
import io.daxfs.core.concurrent.PausePoints;
import io.daxfs.core.concurrent.RangeLock;
import io.daxfs.core.concurrent.Safeguards;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.FileExtent;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.journal.Transaction;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes and fsync of a file. A write holds its range shared while it copies, so no truncate
 * or punch can free blocks under it. Holes are allocated under the entry locks of their
 * blocks, so concurrent writers of one hole allocate it once, and new blocks are written
 * before they are mapped, so a concurrent reader sees a hole or the new data, never old
 * bytes (docs/concurrency.md). A write over mapped blocks allocates nothing.
 */
final class FileWriter {
    private static final int BS = Geometry.BLOCK_SIZE;
    private static final int SHIFT = Geometry.BLOCK_SHIFT;

    private final PmemRegion region;
    private final MemorySegment media;
    private final InodeTable table;
    private final Journal journal;
    private final FileBlocks blocks;
    private final Safeguards safeguards;
    private final PausePoints pauses;
    /** False where flushing is free (an image on tmpfs): then fsync has nothing to find. */
    private final boolean trackDirty;

    FileWriter(PmemRegion region, InodeTable table, Journal journal, FileBlocks blocks, Safeguards safeguards,
               PausePoints pauses) {
        this.region = region;
        this.media = region.readView();
        this.table = table;
        this.journal = journal;
        this.blocks = blocks;
        this.safeguards = safeguards;
        this.pauses = pauses;
        this.trackDirty = region.persistenceMode() != io.daxfs.devdax.PersistenceMode.VOLATILE;
    }

    int write(Inode in, long offset, MemorySegment src, long srcOffset, int length) {
        long ino = in.ino();
        if (FileMode.isDirectory(table.mode(ino))) {
            throw new FsException(Errno.EISDIR, "write to a directory");
        }
        long end = offset + length;
        ExtentMap map = in.extents(media);
        RangeLock.Range r = lockForWrite(in, offset, end);
        try {
            long size = table.size(ino);
            if (offset > size) {
                blocks.zeroMapped(in, map, size, offset); // we hold [size, end) exclusively here
            }
            long firstBlk = offset >>> SHIFT;
            long endBlk = ((end - 1) >>> SHIFT) + 1;
            List<long[]> filled = List.of();
            if (hasHole(map, firstBlk, endBlk)) {
                filled = allocateAndWrite(in, map, offset, end, src, srcOffset);
            }
            copyMapped(in, map, offset, length, src, srcOffset, filled);
        } finally {
            if (r != null) {
                r.close();
            }
        }
        if (end > table.size(ino)) {
            flushDirty(in);
            journal.storeMax(table.offset(ino) + InodeLayout.SIZE, end);
        }
        long ms = System.currentTimeMillis();
        table.touchDirect(ino, Math.floorDiv(ms, 1000), (int) Math.floorMod(ms, 1000) * 1_000_000);
        return length;
    }

    /**
     * Shared over [offset, end) - or exclusive over [size, end) when the write starts past the
     * end of file, because the gap must be zeroed with no other writer in it.
     */
    private RangeLock.Range lockForWrite(Inode in, long offset, long end) {
        if (!safeguards.rangeLocks) {
            return null;
        }
        while (true) {
            long size = table.size(in.ino());
            if (offset <= size) {
                RangeLock.Range r = in.ranges().lockShared(offset, end);
                if (offset <= table.size(in.ino())) {
                    return r;
                }
                r.close(); // truncated under us: the write now leaves a gap
                continue;
            }
            RangeLock.Range r = in.ranges().lockExclusive(size, end);
            long now = table.size(in.ino());
            if (now >= size) {
                return r; // the gap only shrank: [now, offset) lies inside what we hold
            }
            r.close();
        }
    }

    private static boolean hasHole(ExtentMap map, long firstBlk, long endBlk) {
        long lblk = firstBlk;
        while (lblk < endBlk) {
            FileExtent e = map.find(lblk);
            if (e == null) {
                return true;
            }
            lblk = e.logicalEnd();
        }
        return false;
    }

    /**
     * Allocates the holes of the write under their entry locks, writes the new blocks (data
     * plus zeroed edges) before mapping them, then maps them in one transaction.
     */
    private List<long[]> allocateAndWrite(Inode in, ExtentMap map, long offset, long end, MemorySegment src,
                                          long srcOffset) {
        long firstBlk = offset >>> SHIFT;
        long endBlk = ((end - 1) >>> SHIFT) + 1;
        RangeLock.Range entries = safeguards.entryLocks ? in.entries().lockExclusive(firstBlk, endBlk) : null;
        try {
            List<long[]> holes = FileBlocks.holes(map, firstBlk, endBlk);
            if (holes.isEmpty()) {
                return List.of(); // another writer allocated them while we waited
            }
            pauses.reach("write.allocating", in.ino());
            // Bytes of the write past the end of file that fall in already mapped blocks (the
            // rest of the last block, after a truncate into it): see the commit below. A gap
            // before the write was zeroed and flushed already (zeroMapped).
            boolean sizeWithBlocks = !mappedBetween(map, Math.max(offset, table.size(in.ino())), end);
            Transaction tx = journal.begin();
            List<long[]> pieces = new ArrayList<>(); // lblk, pblk, len
            ExtentMap.Reservation slots = blocks.allocatePieces(tx, map, holes, end > (2L << 20), pieces);
            long allocated = FileBlocks.blocksOf(pieces);
            for (long[] p : pieces) {
                region.prepareForWrite(p[1] << SHIFT, p[2] << SHIFT);
                fillNewBlocks(p, offset, end, src, srcOffset);
            }
            region.fence();
            InvalidationSequence seq = in.sequence();
            seq.begin();
            try (slots) {
                for (long[] p : pieces) {
                    map.map(slots, tx, p[0], p[2], p[1]);
                }
            } finally {
                seq.end();
            }
            tx.addLong(table.offset(in.ino()) + InodeLayout.BLOCKS, allocated + tx.metaBlocksAllocated());
            // The new size travels with the new blocks (after a crash both or neither are
            // there) - unless part of the write lands in blocks that were already mapped past
            // the end of file: copyMapped writes those only after this commit, and until then
            // they hold whatever a truncate left there. Then write() raises the size after
            // copying and flushing them (storeMax), as for a write that allocates nothing.
            if (sizeWithBlocks) {
                tx.maxLong(table.offset(in.ino()) + InodeLayout.SIZE, end);
            }
            journal.commit(tx);
            return pieces;
        } finally {
            if (entries != null) {
                entries.close();
            }
        }
    }

    /** Whether any block mapped now (before this write allocates) holds bytes of [from, to). */
    private static boolean mappedBetween(ExtentMap map, long from, long to) {
        if (to <= from) {
            return false;
        }
        long lblk = from >>> SHIFT;
        long endBlk = ((to - 1) >>> SHIFT) + 1;
        FileExtent e = map.find(lblk);
        if (e == null) {
            e = map.nextAfter(lblk);
        }
        return e != null && e.logical() < endBlk;
    }

    /**
     * Writes the part of [offset, end) falling in a new piece, zeroes the rest, flushes. One
     * store of the whole piece: on an image file that is one pwritev, which allocates the
     * block's page without the page fault (and the kernel's zeroing of the page) that a store
     * through the mapping takes, and keeps the block out of the daemon's mapping (docs/devdax.md,
     * "Bulk loads and stores of image files").
     */
    private void fillNewBlocks(long[] p, long offset, long end, MemorySegment src, long srcOffset) {
        long pieceStart = p[0] << SHIFT;
        long pieceEnd = (p[0] + p[2]) << SHIFT;
        long dev = p[1] << SHIFT;
        long dataStart = Math.max(offset, pieceStart);
        long dataEnd = Math.max(dataStart, Math.min(end, pieceEnd));
        region.writeZeroPadded(dev, pieceEnd - pieceStart, dev + (dataStart - pieceStart),
                src, srcOffset + (dataStart - offset), dataEnd - dataStart);
        region.flush(dev, pieceEnd - pieceStart);
    }

    /**
     * Copies the write into its blocks, which are all mapped, skipping the {@code filled}
     * pieces (lblk, pblk, length) this write already wrote when it allocated them, and records
     * the device ranges for fsync. Looks each extent up as it goes, so it allocates nothing.
     * The pause point "write.mapped" (race tests) is reached once per write: when the first
     * run is resolved and before anything is copied (or at the end if all was filled).
     */
    private void copyMapped(Inode in, ExtentMap map, long offset, int length, MemorySegment src, long srcOffset,
                            List<long[]> filled) {
        boolean anyFilled = !filled.isEmpty();
        boolean paused = false;
        long pos = offset;
        long done = 0;
        while (done < length) {
            long lblk = pos >>> SHIFT;
            long skipTo = anyFilled ? filledEnd(filled, lblk) : 0;
            if (skipTo > 0) {
                long k = Math.min(length - done, (skipTo << SHIFT) - pos);
                pos += k;
                done += k;
                continue;
            }
            FileExtent e = map.find(lblk);
            long k = Math.min(length - done, (e.logicalEnd() << SHIFT) - pos);
            long next = anyFilled ? nextFilled(filled, lblk) : 0;
            if (next > 0) {
                k = Math.min(k, (next << SHIFT) - pos);
            }
            long dev = (e.physicalOf(lblk) << SHIFT) + (pos & (BS - 1));
            if (!paused) {
                pauses.reach("write.mapped", in.ino());
                paused = true;
            }
            region.write(dev, src, srcOffset + done, k);
            if (trackDirty) {
                in.dirty().add(dev, k);
            }
            pos += k;
            done += k;
        }
        if (!paused) {
            pauses.reach("write.mapped", in.ino());
        }
    }

    /** End block of the filled piece containing {@code lblk}, or 0. */
    private static long filledEnd(List<long[]> filled, long lblk) {
        for (long[] p : filled) {
            if (lblk >= p[0] && lblk < p[0] + p[2]) {
                return p[0] + p[2];
            }
        }
        return 0;
    }

    /** Start of the first filled piece after {@code lblk}, or 0. */
    private static long nextFilled(List<long[]> filled, long lblk) {
        long best = 0;
        for (long[] p : filled) {
            if (p[0] > lblk && (best == 0 || p[0] < best)) {
                best = p[0];
            }
        }
        return best;
    }

    void fsync(Inode in) {
        flushDirty(in);
        region.fence();
    }

    void flushDirty(Inode in) {
        List<long[]> ranges = in.dirty().drain();
        if (ranges == null) {
            for (FileExtent e : in.extents(media).extents()) {
                region.flush(e.physical() << SHIFT, e.length() << SHIFT);
            }
            return;
        }
        for (long[] r : ranges) {
            region.flush(r[0], r[1] - r[0]);
        }
    }
}
