package io.daxfs.core.data;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.concurrent.BusyExtents;
import io.daxfs.core.concurrent.InvalidationSequence;
import io.daxfs.core.concurrent.MappingCache;
import io.daxfs.core.concurrent.PausePoints;
import io.daxfs.core.concurrent.RangeLock;
import io.daxfs.core.concurrent.Safeguards;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.FileExtent;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.core.stats.Contention;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;

/**
 * Reads and SEEK_DATA/SEEK_HOLE of a file. A read takes the range shared only to look up its
 * blocks and take a busy-list reference on them, then copies with no lock held: a truncate
 * never waits for a copy, and the reference keeps the freed blocks from reuse until the copy
 * is done. Reads first try the mapping cache, lock-free, and trust it only if the
 * invalidation sequence did not move (docs/concurrency.md). Allocates nothing.
 */
final class FileReader {
    private static final int BS = Geometry.BLOCK_SIZE;
    private static final int SHIFT = Geometry.BLOCK_SHIFT;

    private final PmemRegion region;
    private final MemorySegment media;
    private final InodeTable table;
    private final BusyExtents busy;
    private final Safeguards safeguards;
    private final PausePoints pauses;

    FileReader(PmemRegion region, InodeTable table, BusyExtents busy, Safeguards safeguards, PausePoints pauses) {
        this.region = region;
        this.media = region.readView();
        this.table = table;
        this.busy = busy;
        this.safeguards = safeguards;
        this.pauses = pauses;
    }

    int read(Inode in, long offset, MemorySegment dst, long dstOffset, int length) {
        long ino = in.ino();
        if (FileMode.isDirectory(table.mode(ino))) {
            throw new FsException(Errno.EISDIR, "read of a directory");
        }
        long size = table.size(ino);
        if (offset >= size || length <= 0) {
            return 0;
        }
        int n = (int) Math.min(length, size - offset);
        long done = 0;
        while (done < n) {
            long pos = offset + done;
            long k = readCached(in, pos, dst, dstOffset + done, n - done);
            if (k == 0) {
                k = readLocked(in, pos, offset + n, dst, dstOffset + done);
            }
            done += k;
        }
        return n;
    }

    /**
     * lseek(2) SEEK_DATA ({@code data}) or SEEK_HOLE: the first offset at or after
     * {@code offset} that is in an allocated block (fallocated blocks count: they read as
     * zeros but are allocated, as unwritten extents are on ext4 without page cache), or in a
     * hole, where the end of the file is a hole. ENXIO at or past the end of the file. Holds the
     * range shared, so no truncate or punch moves the map meanwhile.
     */
    long seek(Inode in, long offset, boolean data) {
        if (offset < 0) {
            throw new FsException(Errno.ENXIO, "negative offset");
        }
        ExtentMap map = in.extents(media);
        try (RangeLock.Range r = in.ranges().lockShared(offset, Long.MAX_VALUE)) {
            long size = table.size(in.ino());
            if (offset >= size) {
                throw new FsException(Errno.ENXIO, "offset " + offset + " at or past the end (" + size + ")");
            }
            long lblk = offset >>> SHIFT;
            if (data) {
                if (map.find(lblk) != null) {
                    return offset;
                }
                FileExtent next = map.nextAfter(lblk);
                if (next == null || next.logical() << SHIFT >= size) {
                    throw new FsException(Errno.ENXIO, "no data after " + offset);
                }
                return next.logical() << SHIFT;
            }
            long b = lblk;
            for (FileExtent e = map.find(b); e != null; e = map.find(b)) {
                b = e.logicalEnd();
            }
            return Math.max(offset, Math.min(size, b << SHIFT));
        }
    }

    /** Lock-free path: a cached mapping, trusted only if the sequence did not move. 0 = miss. */
    private long readCached(Inode in, long pos, MemorySegment dst, long dstOff, long max) {
        InvalidationSequence seq = in.sequence();
        boolean checkSeq = safeguards.invalidationSequence;
        long sample = seq.sample();
        long lblk = pos >>> SHIFT;
        long hit = in.cache().lookup(lblk, sample, !checkSeq);
        if (hit == MappingCache.MISS) {
            return 0;
        }
        long k = Math.min(max, ((lblk + MappingCache.blocksLeft(hit)) << SHIFT) - pos);
        pauses.reach("read.cached", in.ino());
        if (MappingCache.isHole(hit)) {
            Zeros.fill(dst, dstOff, k);
            return !checkSeq || seq.validate(sample) ? k : retried();
        }
        long dev = (MappingCache.physical(hit) << SHIFT) + (pos & (BS - 1));
        try (BusyExtents.Reference ref = busy.readReference(dev >>> SHIFT, blocksSpanned(dev, k))) {
            // Validated after the reference is taken: if no invalidation ran until now, the
            // blocks were not freed before the reference, so they cannot be reused during the copy.
            if (checkSeq && !seq.validate(sample)) {
                return retried();
            }
            region.read(dev, dst, dstOff, k);
        }
        return k;
    }

    /** The sequence moved under a cached read: counted, and 0 sends the read the locked way. */
    private static long retried() {
        Contention.invalidationRetried();
        return 0;
    }

    /** Locked path: look up under the shared range, reference, unlock, copy. */
    private long readLocked(Inode in, long pos, long end, MemorySegment dst, long dstOff) {
        ExtentMap map = in.extents(media);
        long lblk = pos >>> SHIFT;
        long sample = in.sequence().sample();
        FileExtent e;
        BusyExtents.Reference ref = null;
        long k;
        long dev = -1;
        try (RangeLock.Range r = in.ranges().lockShared(pos, end)) {
            e = map.find(lblk);
            if (e != null) {
                k = Math.min(end - pos, (e.logicalEnd() << SHIFT) - pos);
                dev = (e.physicalOf(lblk) << SHIFT) + (pos & (BS - 1));
                ref = busy.readReference(dev >>> SHIFT, blocksSpanned(dev, k));
                // Cache the part of the extent in the window of the block being read (the
                // cache holds one window per slot): a long extent is cached where it is used.
                long windowStart = Math.max(e.logical(), lblk & ~(MappingCache.WINDOW_BLOCKS - 1));
                in.cache().put(windowStart, e.logicalEnd() - windowStart, e.physicalOf(windowStart), sample);
            } else {
                FileExtent next = map.nextAfter(lblk);
                long holeEndBlk = next == null ? Long.MAX_VALUE >>> SHIFT : next.logical();
                k = Math.min(end - pos, (holeEndBlk << SHIFT) - pos);
                cacheHole(in, map, lblk, Math.min(holeEndBlk, lblk + 256));
            }
        }
        if (ref == null) {
            Zeros.fill(dst, dstOff, k);
            return k;
        }
        try {
            pauses.reach("read.mapped", in.ino());
            region.read(dev, dst, dstOff, k);
        } finally {
            ref.close();
        }
        return k;
    }

    /**
     * Caches "hole" for [lblk, endBlk). Under the entry locks no allocation of these blocks can
     * run, so the hole is stamped with the current sequence; any later allocation moves it.
     */
    private void cacheHole(Inode in, ExtentMap map, long lblk, long endBlk) {
        RangeLock.Range entries = safeguards.entryLocks ? in.entries().lockShared(lblk, endBlk) : null;
        try {
            if (map.find(lblk) != null) {
                return;
            }
            FileExtent next = map.nextAfter(lblk);
            long holeEnd = next == null ? endBlk : Math.min(endBlk, next.logical());
            pauses.reach("read.hole-looked-up", in.ino());
            in.cache().put(lblk, holeEnd - lblk, MappingCache.HOLE, in.sequence().sample());
        } finally {
            if (entries != null) {
                entries.close();
            }
        }
    }

    private static long blocksSpanned(long dev, long bytes) {
        return ((dev + bytes - 1) >>> SHIFT) - (dev >>> SHIFT) + 1;
    }
}
