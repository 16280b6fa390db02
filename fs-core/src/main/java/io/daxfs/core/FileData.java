package io.daxfs.core;

import io.daxfs.core.alloc.Extent;
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
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.journal.Transaction;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * File data: read, write, truncate, hole punch, zero range, fallocate, fsync and leases,
 * concurrent within one file. See docs/concurrency.md for the invariants; in short:
 *
 * <ul>
 * <li>Reads take the range shared only to look up their blocks and take a busy-list
 *     reference on them, then copy with no lock held. A truncate never waits for a copy; the
 *     reference keeps the freed blocks from reuse until the copy is done.</li>
 * <li>Reads first try the mapping cache, lock-free, validated by the invalidation sequence
 *     before the copy is trusted.</li>
 * <li>Writes hold the range shared while they copy, so no truncate or punch can free blocks
 *     under them. Holes are allocated under the entry locks of their blocks: concurrent
 *     writers of one hole allocate it once. New blocks are written before they are mapped, so
 *     a concurrent reader sees a hole or the new data, never old bytes.</li>
 * <li>Truncate, punch, zero range and fallocate take their range exclusively and bump the
 *     invalidation sequence around block-map changes; freed extents go to the busy list.</li>
 * </ul>
 */
final class FileData {
    private static final int BS = Geometry.BLOCK_SIZE;
    private static final int SHIFT = Geometry.BLOCK_SHIFT;

    private final PmemRegion region;
    private final MemorySegment media;
    private final InodeTable table;
    private final Journal journal;
    private final Space space;
    private final Safeguards safeguards;
    private final PausePoints pauses;
    /** False where flushing is free (an image on tmpfs): then fsync has nothing to find. */
    private final boolean trackDirty;

    FileData(PmemRegion region, InodeTable table, Journal journal, Space space, Safeguards safeguards,
             PausePoints pauses) {
        this.region = region;
        this.media = region.readView();
        this.table = table;
        this.journal = journal;
        this.space = space;
        this.safeguards = safeguards;
        this.pauses = pauses;
        this.trackDirty = region.persistenceMode() != io.daxfs.devdax.PersistenceMode.VOLATILE;
    }

    // ------------------------------------------------------------------ read

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
            return !checkSeq || seq.validate(sample) ? k : 0;
        }
        long dev = (MappingCache.physical(hit) << SHIFT) + (pos & (BS - 1));
        try (BusyExtents.Reference ref = space.busy().readReference(dev >>> SHIFT, blocksSpanned(dev, k))) {
            // Validated after the reference is taken: if no invalidation ran until now, the
            // blocks were not freed before the reference, so they cannot be reused during the copy.
            if (checkSeq && !seq.validate(sample)) {
                return 0;
            }
            region.read(dev, dst, dstOff, k);
        }
        return k;
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
                ref = space.busy().readReference(dev >>> SHIFT, blocksSpanned(dev, k));
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

    // ------------------------------------------------------------------ write

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
                zeroMapped(map, size, offset); // we hold [size, end) exclusively here
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
            List<long[]> holes = holes(map, firstBlk, endBlk);
            if (holes.isEmpty()) {
                return List.of(); // another writer allocated them while we waited
            }
            pauses.reach("write.allocating", in.ino());
            Transaction tx = journal.begin();
            List<long[]> pieces = new ArrayList<>(); // lblk, pblk, len
            ExtentMap.Reservation slots = allocatePieces(tx, map, holes, end > (2L << 20), pieces);
            long allocated = blocksOf(pieces);
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
            // The new size travels with the new blocks: after a crash both or neither are there.
            tx.maxLong(table.offset(in.ino()) + InodeLayout.SIZE, end);
            journal.commit(tx);
            return pieces;
        } finally {
            if (entries != null) {
                entries.close();
            }
        }
    }

    /**
     * Allocates blocks for every hole (lblk start, lblk end) in {@code tx}, extending the extent
     * before each hole when it can (or 2 MiB-congruent for {@code large} files), appends the
     * pieces (lblk, pblk, length) and reserves the extent slots they need. All or nothing:
     * on failure (ENOSPC) the transaction is abandoned and nothing stays allocated.
     */
    private ExtentMap.Reservation allocatePieces(Transaction tx, ExtentMap map, List<long[]> holes, boolean large,
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

    private static long blocksOf(List<long[]> pieces) {
        long n = 0;
        for (long[] p : pieces) {
            n += p[2];
        }
        return n;
    }

    /** Writes the part of [offset, end) falling in a new piece, zeroes the rest, flushes. */
    private void fillNewBlocks(long[] p, long offset, long end, MemorySegment src, long srcOffset) {
        long pieceStart = p[0] << SHIFT;
        long pieceEnd = (p[0] + p[2]) << SHIFT;
        long dev = p[1] << SHIFT;
        long dataStart = Math.max(offset, pieceStart);
        long dataEnd = Math.min(end, pieceEnd);
        if (dataStart > pieceStart) {
            region.fill(dev, dataStart - pieceStart, (byte) 0);
        }
        if (dataEnd > dataStart) {
            region.write(dev + (dataStart - pieceStart), src, srcOffset + (dataStart - offset), dataEnd - dataStart);
        }
        if (pieceEnd > Math.max(dataEnd, dataStart)) {
            long z = Math.max(dataEnd, dataStart);
            region.fill(dev + (z - pieceStart), pieceEnd - z, (byte) 0);
        }
        region.flush(dev, pieceEnd - pieceStart);
    }

    /** The unmapped runs [start, end) of blocks in [firstBlk, endBlk). */
    private static List<long[]> holes(ExtentMap map, long firstBlk, long endBlk) {
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

    /** Zeroes every mapped byte of [from, to): bytes past the old end of file must read as zeros. */
    private void zeroMapped(ExtentMap map, long from, long to) {
        if (to <= from) {
            return;
        }
        long lblk = from >>> SHIFT;
        long lastBlk = (to - 1) >>> SHIFT;
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

    // ------------------------------------------------------------------ truncate and friends

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
                    zeroMapped(map, size, newSize);
                    Transaction tx = journal.begin();
                    table.setSize(tx, ino, newSize);
                    table.setMtime(tx, ino, now);
                    table.setCtime(tx, ino, now);
                    journal.commit(tx);
                    return;
                }
                long keepBlocks = Geometry.divUp(newSize, BS);
                freeBlocksFrom(in, map, keepBlocks, Long.MAX_VALUE, tx -> {
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
            zeroMapped(map, offset, Math.min(end, firstWhole << SHIFT));
            if (endWhole >= firstWhole) {
                zeroMapped(map, Math.max(offset, endWhole << SHIFT), end);
            }
            Timestamp now = Timestamp.now();
            if (endWhole > firstWhole) {
                freeBlocksFrom(in, map, firstWhole, endWhole, tx -> {
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
            zeroMapped(map, Math.min(offset, size), end);
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
                zeroMapped(map, size, end);
            }
            long firstBlk = offset >>> SHIFT;
            long endBlk = ((end - 1) >>> SHIFT) + 1;
            // Allocate in bounded chunks so one transaction never outgrows the journal slot.
            for (long chunk = firstBlk; chunk < endBlk; chunk += 1L << 18) {
                allocateZeroed(in, map, chunk, Math.min(endBlk, chunk + (1L << 18)), end > (2L << 20));
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

    private void allocateZeroed(Inode in, ExtentMap map, long firstBlk, long endBlk, boolean large) {
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

    private void requireRegular(Inode in) {
        int mode = table.mode(in.ino());
        if (FileMode.isDirectory(mode)) {
            throw new FsException(Errno.EISDIR, "not a regular file");
        }
        if (!FileMode.isRegular(mode)) {
            throw new FsException(Errno.ENODEV, "not a regular file");
        }
    }

    /**
     * Unmaps and frees every block of logical [from, to), in as many transactions as the
     * journal slot needs, last blocks first. {@code first} adds changes to the first
     * transaction. Caller holds the range exclusively. Blocks past the end of file that a
     * crash leaves mapped are harmless: growth zeroes them ({@link #zeroMapped}).
     */
    void freeBlocksFrom(Inode in, ExtentMap map, long from, long to, Consumer<Transaction> first) {
        int budget = journal.capacity() / 2;
        long maxBlocksPerTx = Math.max(8, (long) budget * 4);
        int maxExtentsPerTx = Math.max(1, budget / 96);
        boolean isFirst = true;
        do {
            Transaction tx = journal.begin();
            if (isFirst && first != null) {
                first.accept(tx);
            }
            isFirst = false;
            long blocks = 0;
            int extents = 0;
            FileExtent last;
            in.sequence().begin();
            ExtentMap.Reservation slots = null;
            try {
                FileExtent straddling = lastBefore(map, to);
                if (to != Long.MAX_VALUE && straddling != null && straddling.logicalEnd() > to
                        && straddling.logical() < from) {
                    // Punching the middle of one extent splits it in two: one more slot.
                    slots = map.reserveSlots(tx, 1, space, straddling.physical());
                }
                while ((last = lastBefore(map, to)) != null && last.logicalEnd() > from
                        && extents < maxExtentsPerTx && blocks < maxBlocksPerTx) {
                    long cutEnd = Math.min(to, last.logicalEnd());
                    long cutFrom = Math.max(from, Math.max(last.logical(), cutEnd - (maxBlocksPerTx - blocks)));
                    for (Extent e : map.unmap(tx, cutFrom, cutEnd, slots)) {
                        space.freeData(tx, e);
                        blocks += e.length();
                    }
                    extents++;
                }
                int released = map.extentCount() == 0 ? map.releaseOverflowIfEmpty(tx, space) : 0;
                tx.addLong(table.offset(in.ino()) + InodeLayout.BLOCKS,
                        tx.metaBlocksAllocated() - (blocks + released));
                pauses.reach("free.detached", in.ino());
                journal.commit(tx);
            } finally {
                if (slots != null) {
                    slots.close();
                }
                in.sequence().end();
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

    // ------------------------------------------------------------------ durability, leases

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

    /**
     * References the blocks currently backing [offset, offset+length) - what a direct mapping
     * or a lease holds. Truncate and punch proceed regardless; the blocks they free stay busy
     * (not reusable) until the lease is closed.
     */
    Lease lease(Inode in, long offset, long length) {
        ExtentMap map = in.extents(media);
        List<BusyExtents.Reference> refs = new ArrayList<>();
        List<Extent> extents = new ArrayList<>();
        long end = offset + length;
        try (RangeLock.Range r = in.ranges().lockShared(offset, end)) {
            long lblk = offset >>> SHIFT;
            long endBlk = ((end - 1) >>> SHIFT) + 1;
            while (lblk < endBlk) {
                FileExtent e = map.find(lblk);
                if (e == null) {
                    FileExtent next = map.nextAfter(lblk);
                    if (next == null) {
                        break;
                    }
                    lblk = next.logical();
                    continue;
                }
                long stop = Math.min(endBlk, e.logicalEnd());
                Extent phys = new Extent(e.physicalOf(lblk), stop - lblk);
                extents.add(phys);
                refs.add(space.busy().reference(phys.start(), phys.length(), "lease"));
                lblk = stop;
            }
        }
        return new Lease(extents, refs);
    }
}
