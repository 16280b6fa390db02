package io.daxfs.core.space;

import io.daxfs.core.alloc.BlockAllocator;
import io.daxfs.core.alloc.Extent;
import io.daxfs.core.alloc.MetaBlocks;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.concurrent.BusyExtents;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.FileExtent;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.journal.Transaction;
import io.daxfs.devdax.PmemRegion;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Block allocation and freeing inside transactions. Ties the in-memory allocator to the
 * durable block bitmap and the busy-extent list: an allocation takes blocks from the allocator
 * at once and sets their bits when the transaction commits (abort gives them back). A free
 * clears the bits in the transaction and puts the extent on the busy list at once; the list
 * hands it back to the allocator only once the commit is durable and no reader, copy, mapping
 * or lease references it any more. Its memory is released (an image punched) then, or for a
 * small extent in a later batch ({@link ReleaseBacklog}); a freed block is never read before
 * an allocation overwrote it whole, so it need not read as zeros.
 *
 * <p><b>One freeing path.</b> Every block that leaves a file - truncate, hole punch, unlink,
 * a directory that empties, an extent-overflow block, an xattr block - goes through
 * {@link #free(Transaction, Extent)}, most of them through {@link #unmapAndFree}. Invariant:
 * nothing destructive happens to a range that is not a used range of the data area. The
 * extents of a file come from the device, so a damaged inode can name the superblock or the
 * inode table; {@link #unmapAndFree} checks every extent (and every overflow block it would
 * release) <em>before</em> it changes anything, and fails with EUCLEAN, leaving the file, the
 * map and the device as they were. The busy list's release step checks again before it
 * punches the backing file.
 *
 * <p>ENOSPC is reported only when space is really gone: if the allocator is empty but busy
 * extents exist that will clear by themselves (a commit or a read in flight), the allocation
 * waits (bounded) for them, as XFS's busy-extent flush does, instead of failing early. Busy
 * space held by a lease is not waited for: it stays busy until its holder lets go, which may
 * be never, so an allocation that finds only that reports ENOSPC at once.
 */
public final class Space implements MetaBlocks {
    /** Longest an allocation waits for busy extents to clear before reporting ENOSPC. */
    static final long BUSY_WAIT_MILLIS = 5_000;
    /** 2 MiB in blocks: the huge-page size extents of large files are aligned to. */
    public static final long HUGE_BLOCKS = (2L << 20) >>> Geometry.BLOCK_SHIFT;
    /** Most free blocks a trim holds out of the allocator at once (1 MiB). */
    static final long TRIM_CHUNK = 256;

    private final PmemRegion region;
    private final Geometry geometry;
    private final BlockAllocator allocator;
    private final BusyExtents busy;
    private final Journal journal;
    private final ReleaseBacklog backlog;
    /**
     * Free blocks held out of the allocator while their memory is released ({@link
     * #releaseThenFree}): a punch takes milliseconds, and statfs must not see them vanish
     * meanwhile. Counted from just after they leave the busy list or the allocator until just
     * after they are back in the allocator: a reader may miss them, or count them twice, only
     * between two neighbouring steps, never for the length of the punch.
     */
    private final AtomicLong releasing = new AtomicLong();

    public Space(PmemRegion region, Geometry geometry, BlockAllocator allocator, Journal journal) {
        this.journal = journal;
        this.region = region;
        this.geometry = geometry;
        this.allocator = allocator;
        this.busy = new BusyExtents(this::reuse);
        this.backlog = new ReleaseBacklog(geometry.dataBlocks());
    }

    public BusyExtents busy() {
        return busy;
    }

    public BlockAllocator allocator() {
        return allocator;
    }

    /**
     * Blocks free for new data: free ones and busy ones (they belong to no file, as in XFS) -
     * except those a lease holds, which no allocation can have until the holder lets go.
     */
    public long availableBlocks() {
        return allocator.freeBlocks() + busy.clearableBlocks() + releasing.get();
    }

    // ------------------------------------------------------------------ allocation

    /**
     * Allocates exactly {@code blocks} blocks as one or more extents, the first starting at
     * {@code goal} if it is free. All or nothing: on ENOSPC nothing stays allocated.
     */
    public List<Extent> allocateData(Transaction tx, long goal, long blocks) {
        return allocateData(tx, goal, blocks, -1);
    }

    /**
     * As {@link #allocateData(Transaction, long, long)}; with {@code logical >= 0} and no
     * contiguous goal, places the blocks 2 MiB-congruent with that logical block.
     */
    public List<Extent> allocateData(Transaction tx, long goal, long blocks, long logical) {
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

    /**
     * Waits for a busy extent to clear; false if none is busy but those leases hold (they do not
     * clear by waiting), or the deadline passed.
     */
    private boolean waitForBusy(long deadline) {
        long left = deadline - System.currentTimeMillis();
        if (busy.clearableBlocks() == 0 || left <= 0) {
            return false;
        }
        try {
            return busy.awaitClear(busy.generation(), Math.min(left, 100)) || busy.clearableBlocks() > 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** One block for metadata (extent overflow, directory, xattrs), zeroed and flushed. */
    @Override
    public long allocateZeroed(Transaction tx, long goal) {
        Extent e = allocateData(tx, goal, 1).getFirst();
        tx.countMetaBlock();
        long off = Geometry.blockOffset(e.start());
        region.fill(off, Geometry.BLOCK_SIZE, (byte) 0);
        region.flush(off, Geometry.BLOCK_SIZE);
        return e.start();
    }

    // ------------------------------------------------------------------ freeing

    /**
     * The freeing path of a file's blocks: unmaps logical blocks [from, to) of {@code map} in
     * {@code tx} and frees every extent that comes out; when the map is left empty, its
     * overflow blocks go too. The map change runs inside the file's invalidation sequence, so
     * no cached mapping of the freed blocks is trusted afterwards. Returns the blocks freed
     * (data and overflow). {@code slots} is the reservation of a split in the middle of an
     * extent, or null.
     *
     * @throws FsException EUCLEAN, with nothing changed, if an extent to free or an overflow
     *     block to release is not a used range of the data area (a damaged inode)
     */
    public long unmapAndFree(Transaction tx, Inode in, ExtentMap map, long from, long to,
                             ExtentMap.Reservation slots) {
        requireFreeable(in.ino(), map, from, to);
        long freed = 0;
        in.sequence().begin();
        try {
            for (Extent e : map.unmap(tx, from, to, slots)) {
                free(tx, e);
                freed += e.length();
            }
            if (map.extentCount() == 0) {
                freed += map.releaseOverflowIfEmpty(tx, this);
            }
        } finally {
            in.sequence().end();
        }
        return freed;
    }

    /**
     * Checks, changing nothing, that {@link #unmapAndFree} of [from, to) frees only used
     * ranges of the data area: each mapped extent in the range (the part in the range) and,
     * when the whole map goes, each overflow block. Callers that split a free into several
     * transactions call it first, so that a damaged map fails before the first one.
     *
     * @throws FsException EUCLEAN if not
     */
    public void requireFreeable(long ino, ExtentMap map, long from, long to) {
        FileExtent e = map.find(from);
        if (e == null) {
            e = map.nextAfter(from);
        }
        while (e != null && e.logical() < to) {
            long s = Math.max(from, e.logical());
            long t = Math.min(to, e.logicalEnd());
            requireUsed(ino, e.physicalOf(s), t - s);
            e = map.nextAfter(e.logical());
        }
        FileExtent first = map.find(0) != null ? map.find(0) : map.nextAfter(0);
        FileExtent last = map.floor(Long.MAX_VALUE);
        boolean leavesEmpty = first == null || (first.logical() >= from && last.logicalEnd() <= to);
        if (leavesEmpty) {
            for (long block : map.overflowBlocks()) {
                requireUsed(ino, block, 1);
            }
        }
    }

    private void requireUsed(long ino, long start, long length) {
        if (!allocator.inDataArea(start, length)) {
            throw journal.damaged(new CorruptFileSystemException("inode " + ino + " maps blocks " + start + "+"
                    + length + " outside the data area; nothing was freed", ino, start));
        }
        if (allocator.overlapsFree(start, length) || busy.isBusy(start, length)) {
            throw journal.damaged(new CorruptFileSystemException("inode " + ino + " maps blocks " + start + "+"
                    + length + " that are already free; nothing was freed", ino, start));
        }
    }

    /**
     * Frees an extent: it goes on the busy list at once, its bitmap bits clear in {@code tx},
     * and it becomes reusable when {@code tx} is durable and nothing references it.
     */
    public void free(Transaction tx, Extent e) {
        if (!allocator.inDataArea(e.start(), e.length())) {
            throw new IllegalStateException("freeing blocks outside the data area: " + e);
        }
        busy.insert(e);
        tx.updateBits(geometry.blockBitmapOffset(), e.start(), e.length(), false);
        tx.afterCommit(() -> busy.durable(e));
    }

    /** Frees one metadata block ({@link MetaBlocks}). */
    @Override
    public void free(Transaction tx, long block) {
        free(tx, new Extent(block, 1));
    }

    /**
     * Where the busy list hands a cleared extent: the allocator takes it back, and its backing
     * memory is released (an image file punched) - at once for an extent of 1 MiB or more, in
     * a later batch for a smaller one ({@link ReleaseBacklog}: no allocation needs a block to
     * read as zeros, and a punch per small freed extent, with a page fault when the block is
     * next used, was most of an unlink's own time). The range is checked first: a punch
     * outside the data area would wipe metadata, so a bad range is refused before it.
     */
    private void reuse(long start, long length) {
        if (!allocator.inDataArea(start, length)) {
            throw new IllegalStateException("refusing to release blocks outside the data area: "
                    + start + "+" + length);
        }
        if (length >= ReleaseBacklog.AT_ONCE_BLOCKS) {
            releaseThenFree(start, length, false); // off the busy list: not counted anywhere yet
            return;
        }
        allocator.free(start, length);
        if (backlog.add(start, length)) {
            releaseBacklog(backlog.budget() / 2);
        }
    }

    /**
     * Releases the memory of the small freed extents noted in the backlog, oldest first, until
     * at most {@code keep} blocks stay noted: one release per merged run, each only over the
     * part of it that is still free (taken from the allocator meanwhile, so no allocation can
     * get a block while it is released). {@code keep = 0} releases them all (unmount, tests).
     */
    public void releaseBacklog(long keep) {
        long[] runs = backlog.takeOldest(keep);
        for (int i = 0; i < runs.length; i += 2) {
            for (Extent e : takeFree(runs[i], runs[i + 1])) {
                releaseThenFree(e.start(), e.length(), true);
            }
        }
    }

    /**
     * FITRIM: releases the memory of every free extent of at least {@code minBlocks} blocks
     * that overlaps [start, start + blocks) - on an image file a hole punched, what a discard
     * is to an SSD - and returns how many blocks it released (each free block of the range,
     * released before or not: fstrim reports what is free, as ext4 does after a mount).
     * Refused with EROFS on a read-only mount (EIO once shut down).
     *
     * <p>Each extent is taken out of the allocator {@link #TRIM_CHUNK} blocks at a time while
     * its memory is released and given back at once, as a batch release does: nobody can
     * allocate a block being released, and an allocation meanwhile finds at most one chunk
     * missing. Busy extents are not in the allocator, so a block a reader, a copy or a lease
     * still uses is never released.
     */
    public long trim(long start, long blocks, long minBlocks) {
        journal.errors().checkWritable();
        long from = Math.max(start, geometry.dataStart());
        long end = blocks > geometry.totalBlocks() - start ? geometry.totalBlocks() : start + blocks;
        long released = 0;
        for (Extent free : allocator.freeExtents()) {
            long s = Math.max(from, free.start());
            long t = Math.min(end, free.start() + free.length());
            if (free.length() < Math.max(1, minBlocks) || s >= t) {
                continue;
            }
            for (long at = s; at < t; at += TRIM_CHUNK) {
                for (Extent e : takeFree(at, Math.min(TRIM_CHUNK, t - at))) {
                    releaseThenFree(e.start(), e.length(), true);
                    released += e.length();
                }
            }
        }
        region.fence();
        return released;
    }

    /** Takes the free parts of a range out of the allocator, counted in {@link #releasing}. */
    private List<Extent> takeFree(long start, long length) {
        List<Extent> taken = allocator.takeFree(start, length);
        for (Extent e : taken) {
            releasing.addAndGet(e.length());
        }
        return taken;
    }

    /**
     * Releases the memory of free blocks nobody can allocate meanwhile (out of the allocator:
     * a busy extent being reused, or taken by {@link #takeFree}, already counted in
     * {@link #releasing}), then gives them to the allocator, also if the release failed (their
     * bytes are then stale, which no allocation reads: it overwrites what it hands out).
     */
    private void releaseThenFree(long start, long length, boolean counted) {
        if (!counted) {
            releasing.addAndGet(length);
        }
        try {
            region.release(Geometry.blockOffset(start), length << Geometry.BLOCK_SHIFT);
        } finally {
            allocator.free(start, length);
            releasing.addAndGet(-length);
        }
    }

    /** At unmount: releases the whole backlog, then orders the last stores. */
    public void close() {
        releaseBacklog(0);
        region.fence();
    }

    /** Blocks that are free but keep their memory until a batch releases it ({@link ReleaseBacklog}). */
    public long unreleasedBlocks() {
        return backlog.blocks();
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
