package io.daxfs.core.data;

import io.daxfs.core.alloc.Extent;
import io.daxfs.core.concurrent.PausePoints;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.FileExtent;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.journal.Transaction;
import io.daxfs.core.space.Space;
import io.daxfs.devdax.PmemRegion;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A file's blocks in transactions: allocating its holes (all or nothing, extending the
 * extent before each hole, 2 MiB-congruent for large files), zeroing mapped ranges, and
 * freeing ranges in as many bounded transactions as the journal slot needs. Writes,
 * truncate/punch/fallocate and the freeing of whole inodes share it; every block it frees
 * goes through {@link Space#unmapAndFree}.
 */
public final class FileBlocks {
    private static final int BS = Geometry.BLOCK_SIZE;
    private static final int SHIFT = Geometry.BLOCK_SHIFT;

    private final PmemRegion region;
    private final InodeTable table;
    private final Journal journal;
    private final Space space;
    private final PausePoints pauses;

    FileBlocks(PmemRegion region, InodeTable table, Journal journal, Space space, PausePoints pauses) {
        this.region = region;
        this.table = table;
        this.journal = journal;
        this.space = space;
        this.pauses = pauses;
    }

    /**
     * Allocates blocks for every hole (lblk start, lblk end) in {@code tx}, extending the extent
     * before each hole when it can (or 2 MiB-congruent for {@code large} files), appends the
     * pieces (lblk, pblk, length) and reserves the extent slots they need. All or nothing:
     * on failure (ENOSPC) the transaction is abandoned and nothing stays allocated.
     */
    ExtentMap.Reservation allocatePieces(Transaction tx, ExtentMap map, List<long[]> holes, boolean large,
                                                 List<long[]> pieces) {
        try {
            for (long[] h : holes) {
                FileExtent prev = map.floor(h[0] - 1);
                long goal = prev != null && prev.logicalEnd() == h[0] ? prev.physical() + prev.length() : -1;
                long at = h[0];
                for (Extent x : space.allocateData(tx, goal, h[1] - h[0], large ? h[0] : -1)) {
                    pieces.add(new long[] {at, x.start(), x.length()});
                    at += x.length();
                }
            }
            return map.reserveSlots(tx, pieces.size(), space, pieces.getFirst()[1]);
        } catch (RuntimeException ex) {
            journal.abort(tx);
            throw ex;
        }
    }

    static long blocksOf(List<long[]> pieces) {
        long n = 0;
        for (long[] p : pieces) {
            n += p[2];
        }
        return n;
    }

    /** The unmapped runs [start, end) of blocks in [firstBlk, endBlk). */
    static List<long[]> holes(ExtentMap map, long firstBlk, long endBlk) {
        List<long[]> out = new ArrayList<>(1);
        long lblk = firstBlk;
        while (lblk < endBlk) {
            FileExtent e = map.find(lblk);
            if (e != null) {
                lblk = e.logicalEnd();
                continue;
            }
            FileExtent next = map.nextAfter(lblk);
            long holeEnd = next == null ? endBlk : Math.min(endBlk, next.logical());
            out.add(new long[] {lblk, holeEnd});
            lblk = holeEnd;
        }
        return out;
    }

    void allocateZeroed(Inode in, ExtentMap map, long firstBlk, long endBlk, boolean large) {
        List<long[]> holes = holes(map, firstBlk, endBlk);
        if (holes.isEmpty()) {
            return;
        }
        Transaction tx = journal.begin();
        List<long[]> pieces = new ArrayList<>(); // lblk, pblk, len
        ExtentMap.Reservation slots = allocatePieces(tx, map, holes, large, pieces);
        long allocated = blocksOf(pieces);
        for (long[] p : pieces) {
            region.fill(p[1] << SHIFT, p[2] << SHIFT, (byte) 0);
            region.flush(p[1] << SHIFT, p[2] << SHIFT);
        }
        in.sequence().begin();
        try (slots) {
            for (long[] p : pieces) {
                map.map(slots, tx, p[0], p[2], p[1]);
            }
        } finally {
            in.sequence().end();
        }
        tx.addLong(table.offset(in.ino()) + InodeLayout.BLOCKS, allocated + tx.metaBlocksAllocated());
        journal.commit(tx);
    }

    /**
     * Zeroes every mapped byte of [from, to): bytes past the old end of file must read as
     * zeros. The blocks are checked first, as for freeing: a damaged map never gets a store.
     */
    void zeroMapped(Inode in, ExtentMap map, long from, long to) {
        if (to <= from) {
            return;
        }
        long lblk = from >>> SHIFT;
        long lastBlk = (to - 1) >>> SHIFT;
        space.requireFreeable(in.ino(), map, lblk, lastBlk + 1);
        FileExtent e = map.find(lblk);
        if (e == null) {
            e = map.nextAfter(lblk);
        }
        while (e != null && e.logical() <= lastBlk) {
            long s = Math.max(from, e.logical() << SHIFT);
            long t = Math.min(to, e.logicalEnd() << SHIFT);
            if (t > s) {
                long dev = (e.physicalOf(s >>> SHIFT) << SHIFT) + (s & (BS - 1));
                region.fill(dev, t - s, (byte) 0);
                region.flush(dev, t - s);
            }
            e = map.nextAfter(e.logical());
        }
    }

    /**
     * Unmaps and frees every block of logical [from, to), in as many transactions as the
     * journal slot needs, last blocks first. {@code first} adds changes to the first
     * transaction. Caller holds the range exclusively. Blocks past the end of file that a
     * crash leaves mapped are harmless: growth zeroes them ({@link #zeroMapped}).
     *
     * @throws io.daxfs.core.base.FsException EUCLEAN if the map names blocks that are not a
     *     used range of the data area; the transactions committed before that stay
     */
    public void freeRange(Inode in, ExtentMap map, long from, long to, Consumer<Transaction> first) {
        int budget = journal.capacity() / 2;
        long maxBlocksPerTx = Math.max(8, (long) budget * 4);
        int maxExtentsPerTx = Math.max(1, budget / 96);
        space.requireFreeable(in.ino(), map, from, to); // before the first change
        boolean isFirst = true;
        do {
            Transaction tx = journal.begin();
            if (isFirst && first != null) {
                first.accept(tx);
            }
            isFirst = false;
            // This transaction takes the last extents of the range, up to the limits: [cut, to).
            long cut = to;
            long blocks = 0;
            int extents = 0;
            // cut > from: once the range is covered, stop (a punch inside one extent would
            // otherwise meet that extent again at every step, up to maxExtentsPerTx times)
            for (FileExtent last = lastBefore(map, to); last != null && last.logicalEnd() > from && cut > from
                    && extents < maxExtentsPerTx && blocks < maxBlocksPerTx; last = lastBefore(map, cut)) {
                long cutEnd = Math.min(cut, last.logicalEnd());
                cut = Math.max(from, Math.max(last.logical(), cutEnd - (maxBlocksPerTx - blocks)));
                blocks += cutEnd - cut;
                extents++;
            }
            FileExtent straddling = lastBefore(map, to);
            try (ExtentMap.Reservation slots = to != Long.MAX_VALUE && straddling != null
                    && straddling.logicalEnd() > to && straddling.logical() < cut
                    // Punching the middle of one extent splits it in two: one more slot.
                    ? map.reserveSlots(tx, 1, space, straddling.physical()) : null) {
                long freed = space.unmapAndFree(tx, in, map, cut, to, slots);
                tx.addLong(table.offset(in.ino()) + InodeLayout.BLOCKS, tx.metaBlocksAllocated() - freed);
                pauses.reach("free.detached", in.ino());
                journal.commit(tx);
            } catch (RuntimeException e) {
                journal.abort(tx);
                throw e;
            }
        } while (hasBlocksIn(map, from, to));
    }

    /** The last extent starting before logical block {@code to}. */
    private static FileExtent lastBefore(ExtentMap map, long to) {
        return to == Long.MAX_VALUE ? map.floor(Long.MAX_VALUE) : map.floor(to - 1);
    }

    private static boolean hasBlocksIn(ExtentMap map, long from, long to) {
        FileExtent last = lastBefore(map, to);
        return last != null && last.logicalEnd() > from;
    }
}
