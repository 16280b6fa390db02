package io.daxfs.core.lease;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.Timestamp;
import io.daxfs.core.concurrent.BusyExtents;
import io.daxfs.core.concurrent.RangeLock;
import io.daxfs.core.data.FileData;
import io.daxfs.core.data.Lease;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.devdax.PmemRegion;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * The leases granted on a mounted file system (docs/leases.md): each a {@link Lease} - a
 * reference on the device blocks of a file range that another process maps directly - with a
 * number, its holder and its age. The front end takes them for its callers, releases them
 * when the caller asks or its open file goes, and lists them ({@code daxfs stat}).
 *
 * <p>Breaking is not done here: any free of a leased block (truncate, punch, unlink, rename
 * over) breaks the lease through the busy list ({@link BusyExtents#leaseReference}), never
 * waiting for the holder; the freed blocks stay busy, held by the lease, until it is closed.
 *
 * <p>Thread-safe: a concurrent map; a lease's own state is atomic.
 */
public final class Leases {
    private static final int SHIFT = Geometry.BLOCK_SHIFT;
    private static final long PAGE = 4096;

    /** One lease as {@code daxfs stat} shows it. */
    public record Info(long id, long ino, Lease.Mode mode, long offset, long length, long ageNanos, boolean broken,
                       long busyBytes, int holderPid, String holder) {
    }

    private record Granted(Lease lease, long takenNanos, int holderPid, String holder) {
    }

    private final FileData data;
    private final InodeTable table;
    private final BusyExtents busy;
    private final PmemRegion region;
    private final LongFunction<Inode> handles;
    private final ConcurrentSkipListMap<Long, Granted> granted = new ConcurrentSkipListMap<>();
    private final AtomicLong ids = new AtomicLong();

    /** {@code handles} gives the handle of an inode in use, or throws ENOENT. */
    public Leases(FileData data, InodeTable table, BusyExtents busy, PmemRegion region, LongFunction<Inode> handles) {
        this.data = data;
        this.table = table;
        this.busy = busy;
        this.region = region;
        this.handles = handles;
    }

    /**
     * Leases the blocks of regular file {@code ino} behind [offset, offset+length) ({@code length}
     * 0: to the end of file), page-aligned outward and cut at the end of file rounded up to a
     * page; at most {@code maxPieces} extents (the lease then ends where the last one ends).
     * {@code onBreak} (or null) runs once when a free breaks the lease; it must not block.
     *
     * @throws FsException EINVAL for a range at or past the end of file or a negative one,
     *     EISDIR / EINVAL for a directory / special file, ENODATA for a write lease over a hole
     */
    public Lease take(long ino, long offset, long length, Lease.Mode mode, int maxPieces, int holderPid,
                      String holder, Runnable onBreak) {
        Inode in = handles.apply(ino);
        int fileMode = table.mode(ino);
        if (FileMode.isDirectory(fileMode)) {
            throw new FsException(Errno.EISDIR, "a directory has no data to lease");
        }
        if (!FileMode.isRegular(fileMode)) {
            throw new FsException(Errno.EINVAL, "only regular files are leased");
        }
        if (offset < 0 || length < 0 || maxPieces < 1) {
            throw new FsException(Errno.EINVAL, "bad lease range " + offset + "+" + length);
        }
        long start = offset & ~(PAGE - 1);
        long end = length == 0 || offset + length < 0 ? Long.MAX_VALUE : offset + length;
        long id = ids.incrementAndGet();
        Lease lease = data.lease(id, in, start, end == Long.MAX_VALUE ? Long.MAX_VALUE - start : end - start, mode,
                maxPieces, onBreak);
        granted.put(id, new Granted(lease, System.nanoTime(), holderPid, holder));
        lease.onClose(() -> granted.remove(id));
        return lease;
    }

    /** The lease numbered {@code id}, or null if there is none (never granted, or closed). */
    public Lease get(long id) {
        Granted g = granted.get(id);
        return g == null ? null : g.lease;
    }

    /**
     * Makes what the holder of {@code lease} stored through its mapping durable (the leased
     * device ranges are written back - msync of an image file, cache-line write-back on a
     * device) and, for a write lease that is not broken, moves the file's mtime and ctime as a
     * write would. The range is held shared meanwhile, so the file cannot be freed under the
     * time update: a lease that is not broken under the lock names a live file.
     */
    public void flush(Lease lease) {
        for (Lease.Piece p : lease.pieces()) {
            region.flush(p.deviceOffset(), p.length());
        }
        region.fence();
        if (lease.mode() != Lease.Mode.WRITE || lease.broken()) {
            return;
        }
        Inode in;
        try {
            in = handles.apply(lease.ino());
        } catch (FsException e) {
            return; // freed: the lease is broken (or about to be told so)
        }
        try (RangeLock.Range r = in.ranges().lockShared(lease.offset(), lease.offset() + lease.length())) {
            if (!lease.broken()) {
                table.touchDirect(lease.ino(), Timestamp.now());
            }
        }
    }

    /** Every lease granted and not closed, by number. */
    public List<Info> list() {
        List<Info> out = new ArrayList<>(granted.size());
        long now = System.nanoTime();
        for (var e : granted.entrySet()) {
            Granted g = e.getValue();
            Lease l = g.lease;
            long busyBlocks = 0;
            for (var x : l.extents()) {
                busyBlocks += busy.busyBlocksIn(x.start(), x.end());
            }
            out.add(new Info(e.getKey(), l.ino(), l.mode(), l.offset(), l.length(), now - g.takenNanos, l.broken(),
                    busyBlocks << SHIFT, g.holderPid, g.holder));
        }
        return out;
    }

    /** Leases granted and not closed. */
    public int count() {
        return granted.size();
    }

    /** Bytes of freed blocks that leases keep busy (not counted free by statfs). */
    public long heldBusyBytes() {
        return busy.leaseHeldBlocks() << SHIFT;
    }
}
