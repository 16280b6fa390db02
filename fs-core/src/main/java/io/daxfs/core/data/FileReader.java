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
 * invalidation sequence did not move (docs/concurrency.md). A read into a {@link ReadSink}
 * keeps its references until the sink is done instead (the sink points at the blocks, it has
 * not copied them). Allocates nothing.
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
    private final ThreadLocal<Held> held = ThreadLocal.withInitial(Held::new);

    FileReader(PmemRegion region, InodeTable table, BusyExtents busy, Safeguards safeguards, PausePoints pauses) {
        this.region = region;
        this.media = region.readView();
        this.table = table;
        this.busy = busy;
        this.safeguards = safeguards;
        this.pauses = pauses;
    }

    int read(Inode in, long offset, MemorySegment dst, long dstOffset, int length) {
        int n = bytesToRead(in, offset, length);
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

    /** How many of {@code length} bytes at {@code offset} a read returns (0 at or past the end); EISDIR for a directory. */
    private int bytesToRead(Inode in, long offset, int length) {
        long ino = in.ino();
        if (FileMode.isDirectory(table.mode(ino))) {
            throw new FsException(Errno.EISDIR, "read of a directory");
        }
        long size = table.size(ino);
        if (offset >= size || length <= 0) {
            return 0;
        }
        return (int) Math.min(length, size - offset);
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
        Held h = held.get();
        int mark = h.count;
        long k = lookUpLocked(in, pos, end, h);
        if (h.count == mark) {
            Zeros.fill(dst, dstOff, k);
            return k;
        }
        try {
            pauses.reach("read.mapped", in.ino());
            region.read(h.device, dst, dstOff, k);
        } finally {
            h.releaseFrom(mark);
        }
        return k;
    }

    /**
     * Looks up the piece at {@code pos} (up to {@code end}) under the shared range and returns
     * its length. If it is data, a busy-list reference on its blocks is added to {@code h} and
     * its device offset is {@code h.device}; if a hole, {@code h} is unchanged.
     */
    private long lookUpLocked(Inode in, long pos, long end, Held h) {
        ExtentMap map = in.extents(media);
        long lblk = pos >>> SHIFT;
        long sample = in.sequence().sample();
        try (RangeLock.Range r = in.ranges().lockShared(pos, end)) {
            FileExtent e = map.find(lblk);
            if (e != null) {
                long k = Math.min(end - pos, (e.logicalEnd() << SHIFT) - pos);
                long dev = (e.physicalOf(lblk) << SHIFT) + (pos & (BS - 1));
                h.add(busy.readReference(dev >>> SHIFT, blocksSpanned(dev, k)), dev);
                // Cache the part of the extent in the window of the block being read (the
                // cache holds one window per slot): a long extent is cached where it is used.
                long windowStart = Math.max(e.logical(), lblk & ~(MappingCache.WINDOW_BLOCKS - 1));
                in.cache().put(windowStart, e.logicalEnd() - windowStart, e.physicalOf(windowStart), sample);
                return k;
            }
            FileExtent next = map.nextAfter(lblk);
            long holeEndBlk = next == null ? Long.MAX_VALUE >>> SHIFT : next.logical();
            cacheHole(in, map, lblk, Math.min(holeEndBlk, lblk + 256));
            return Math.min(end - pos, (holeEndBlk << SHIFT) - pos);
        }
    }

    // ------------------------------------------------------------------ reads into a sink

    /**
     * Reads up to {@code length} bytes at {@code offset} into {@code sink} by reference
     * ({@link ReadSink}): every block handed over stays referenced until the sink's
     * {@code end} returns. Returns the bytes read; 0 at or past the end of the file (the sink
     * was not called); -1 if the sink refused or the read has more pieces than a sink read
     * may hold references for ({@link Held#CAPACITY}): then the caller undoes the sink and
     * copies. Allocates nothing.
     */
    int read(Inode in, long offset, int length, ReadSink sink) {
        int n = bytesToRead(in, offset, length);
        if (n == 0) {
            return 0;
        }
        if (!sink.begin(n)) {
            return -1;
        }
        Held h = held.get();
        int mark = h.count;
        try {
            long done = 0;
            while (done < n) {
                long pos = offset + done;
                long k = giveCached(in, pos, n - done, sink, h);
                if (k == 0) {
                    k = giveLocked(in, pos, offset + n, sink, h);
                }
                if (k < 0) {
                    return -1;
                }
                done += k;
            }
            sink.end(n);
            return n;
        } finally {
            h.releaseFrom(mark);
        }
    }

    /** {@link #readCached} into a sink: 0 = miss, -1 = refused; a data piece's reference stays in {@code h}. */
    private long giveCached(Inode in, long pos, long max, ReadSink sink, Held h) {
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
            // Validated before the zeros are given (a sink cannot take them back): the range was
            // a hole at this point, which is when the read takes effect for these bytes.
            if (checkSeq && !seq.validate(sample)) {
                return retried();
            }
            return sink.zeros(k) ? k : -1;
        }
        if (h.full()) {
            return -1;
        }
        long dev = (MappingCache.physical(hit) << SHIFT) + (pos & (BS - 1));
        int mark = h.count;
        h.add(busy.readReference(dev >>> SHIFT, blocksSpanned(dev, k)), dev);
        // As in readCached: validated after the reference is taken.
        if (checkSeq && !seq.validate(sample)) {
            h.releaseFrom(mark);
            return retried();
        }
        return sink.data(region, dev, k) ? k : -1;
    }

    /** {@link #readLocked} into a sink: -1 = refused; a data piece's reference stays in {@code h}. */
    private long giveLocked(Inode in, long pos, long end, ReadSink sink, Held h) {
        if (h.full()) {
            return -1;
        }
        int mark = h.count;
        long k = lookUpLocked(in, pos, end, h);
        if (h.count == mark) {
            return sink.zeros(k) ? k : -1;
        }
        pauses.reach("read.mapped", in.ino());
        return sink.data(region, h.device, k) ? k : -1;
    }

    /**
     * The busy-list references a thread's read holds: one at a time for a copying read, up to
     * {@link #CAPACITY} for a read into a sink, which keeps them until the sink is done. One
     * per thread, reused: nothing is allocated per read.
     */
    private static final class Held {
        /** A sink read of more pieces than this is refused (a fragmented file is copied instead). */
        static final int CAPACITY = 16;
        final BusyExtents.Reference[] refs = new BusyExtents.Reference[CAPACITY];
        int count;
        /** Device offset of the piece looked up last. */
        long device;

        boolean full() {
            return count == CAPACITY;
        }

        void add(BusyExtents.Reference ref, long dev) {
            refs[count++] = ref;
            device = dev;
        }

        /** Closes the references from index {@code mark} on, newest first. */
        void releaseFrom(int mark) {
            while (count > mark) {
                BusyExtents.Reference r = refs[--count];
                refs[count] = null;
                r.close();
            }
        }
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
