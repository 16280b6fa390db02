package io.daxfs.core.data;

import io.daxfs.core.alloc.Extent;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.concurrent.BusyExtents;
import io.daxfs.core.concurrent.PausePoints;
import io.daxfs.core.concurrent.RangeLock;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.FileExtent;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeTable;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A long-lived reference to the device blocks behind a file range: what a direct mapping of
 * device memory by another process, a copy offload or a layout lease holds (the "DMA / RDMA /
 * other mapper" of the thread "dax: fix dma vs truncate", 2017; docs/leases.md). Truncate, hole
 * punch, unlink and rename over never wait for it: blocks they free stay on the busy list until
 * the lease is closed, so they are never handed to another file while the holder may still
 * read or write them. Such a free <em>breaks</em> the lease: {@link #broken()} becomes true and
 * the break callback runs once.
 *
 * <p>A lease records the range's extents as they were when it was taken ({@link #pieces()});
 * parts of the range that were holes are not in it. A write lease covers allocated blocks only.
 */
public final class Lease implements AutoCloseable {
    private static final int SHIFT = Geometry.BLOCK_SHIFT;
    private static final long PAGE = 4096;

    /** What the holder may do with the mapping. */
    public enum Mode { READ, WRITE }

    /** One extent of the range: {@code length} bytes at file {@code fileOffset} live at device {@code deviceOffset}. */
    public record Piece(long fileOffset, long deviceOffset, long length) {
    }

    private final long id;
    private final long ino;
    private final Mode mode;
    private final long offset;
    private final long length;
    private final List<Piece> pieces;
    private final List<Extent> extents;
    private final boolean partial;
    private final List<BusyExtents.Reference> references = new ArrayList<>();
    private final AtomicBoolean broken = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Runnable onBreak;
    private volatile Runnable onClose;

    private Lease(long id, long ino, Mode mode, long offset, long length, List<Piece> pieces, List<Extent> extents,
                  boolean partial) {
        this.partial = partial;
        this.id = id;
        this.ino = ino;
        this.mode = mode;
        this.offset = offset;
        this.length = length;
        this.pieces = List.copyOf(pieces);
        this.extents = List.copyOf(extents);
    }

    /**
     * References the blocks backing [offset, offset+length) - cut at the end of file rounded up
     * to a page, as the file is once the range is locked - and at most {@code maxPieces} extents
     * of it: the lease then ends where the last one ends ({@link #length()} says). Holds the
     * range shared while it looks the blocks up and references them, so no truncate or punch can
     * free them in between: a free either finished before (the blocks are not in the lease) or
     * waits and then breaks the lease. {@code onBreak} (may be null) runs once when a free breaks
     * it. {@code id} is the registry's number.
     *
     * @throws FsException EINVAL if the range starts at or past the end of file, ENODATA for a
     *     write lease over a range with a hole (fallocate first)
     */
    static Lease take(BusyExtents busy, MemorySegment media, InodeTable table, PausePoints pauses, long id, Inode in,
                      long offset, long length, Mode mode, int maxPieces, Runnable onBreak) {
        ExtentMap map = in.extents(media);
        List<Piece> pieces = new ArrayList<>();
        List<Extent> extents = new ArrayList<>();
        long asked = offset + length < 0 || offset + length > Long.MAX_VALUE - PAGE ? Long.MAX_VALUE
                : (offset + length + PAGE - 1) & ~(PAGE - 1);
        try (RangeLock.Range r = in.ranges().lockShared(offset, asked)) {
            long size = table.size(in.ino());
            long end = Math.min(asked, (size + PAGE - 1) & ~(PAGE - 1));
            if (end <= offset) {
                throw new FsException(Errno.EINVAL, "lease range from " + offset + " is past the end of file ("
                        + size + " bytes)");
            }
            long lblk = offset >>> SHIFT;
            long endBlk = ((end - 1) >>> SHIFT) + 1;
            long covered = endBlk;
            while (lblk < endBlk) {
                FileExtent e = map.find(lblk);
                if (e == null) {
                    FileExtent next = map.nextAfter(lblk);
                    if (mode == Mode.WRITE) {
                        throw new FsException(Errno.ENODATA, "a write lease covers allocated blocks only: block " + lblk
                                + " of inode " + in.ino() + " is a hole (fallocate it first)");
                    }
                    if (next == null || next.logical() >= endBlk) {
                        break;
                    }
                    lblk = next.logical();
                    continue;
                }
                if (pieces.size() == maxPieces) {
                    covered = lblk;
                    break;
                }
                long stop = Math.min(endBlk, e.logicalEnd());
                Extent phys = new Extent(e.physicalOf(lblk), stop - lblk);
                extents.add(phys);
                pieces.add(new Piece(lblk << SHIFT, phys.start() << SHIFT, phys.length() << SHIFT));
                lblk = stop;
            }
            long grantedEnd = Math.min(end, covered << SHIFT);
            Lease lease = new Lease(id, in.ino(), mode, offset, grantedEnd - offset, pieces, extents, covered < endBlk);
            lease.onBreak = onBreak;
            pauses.reach("lease.found", in.ino());
            for (Extent x : extents) {
                lease.references.add(busy.leaseReference(x.start(), x.length(), lease::breakNow));
            }
            return lease;
        }
    }

    private void breakNow() {
        if (broken.compareAndSet(false, true)) {
            Runnable r = onBreak;
            if (r != null) {
                r.run();
            }
        }
    }

    /** The number its registry gave it (0 if none). */
    public long id() {
        return id;
    }

    public long ino() {
        return ino;
    }

    public Mode mode() {
        return mode;
    }

    /** Start of the leased range (bytes). */
    public long offset() {
        return offset;
    }

    /** Length of the leased range (bytes); parts of it without a piece were holes. */
    public long length() {
        return length;
    }

    /** The range's extents when the lease was taken, in file order. */
    public List<Piece> pieces() {
        return pieces;
    }

    /** True if the lease ends early, at its {@code maxPieces}th extent: the rest of the range needs another lease. */
    public boolean partial() {
        return partial;
    }

    /** The physical extents (device blocks) the range had when the lease was taken. */
    public List<Extent> extents() {
        return extents;
    }

    /** True once a truncate, punch, unlink or rename over freed blocks of the lease. */
    public boolean broken() {
        return broken.get();
    }

    public boolean closed() {
        return closed.get();
    }

    /** Runs {@code action} once when the lease is closed (the registry forgets it). */
    public void onClose(Runnable action) {
        this.onClose = action;
    }

    /** Lets go of the blocks: those freed meanwhile clear (and may be reused). Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (BusyExtents.Reference r : references) {
            r.close();
        }
        Runnable r = onClose;
        if (r != null) {
            r.run();
        }
    }

    @Override
    public String toString() {
        return mode.name().toLowerCase() + " lease of inode " + ino + " [" + offset + ", " + (offset + length) + ")"
                + (broken() ? " broken" : "");
    }
}
