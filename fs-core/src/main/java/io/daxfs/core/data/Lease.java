package io.daxfs.core.data;

import io.daxfs.core.alloc.Extent;
import io.daxfs.core.concurrent.BusyExtents;
import io.daxfs.core.concurrent.RangeLock;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.FileExtent;
import io.daxfs.core.inode.Inode;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A long-lived reference to the device blocks behind a file range: what a direct mapping of
 * device memory, a copy offload or a layout lease holds (the "DMA / RDMA / other mapper" of
 * the thread "dax: fix dma vs truncate", 2017). Truncate and hole punch never wait for it: blocks they free stay on the busy
 * list until the lease is closed, so they are never handed to another file while the holder
 * may still read or write them.
 */
public final class Lease implements AutoCloseable {
    private static final int SHIFT = Geometry.BLOCK_SHIFT;

    private final List<Extent> extents;
    private final List<BusyExtents.Reference> references;

    Lease(List<Extent> extents, List<BusyExtents.Reference> references) {
        this.extents = List.copyOf(extents);
        this.references = references;
    }

    /**
     * References the blocks currently backing [offset, offset+length) - what a direct mapping
     * or a lease holds. Truncate and punch proceed regardless; the blocks they free stay busy
     * (not reusable) until the lease is closed.
     */
    static Lease take(BusyExtents busy, MemorySegment media, Inode in, long offset, long length) {
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
                refs.add(busy.reference(phys.start(), phys.length(), "lease"));
                lblk = stop;
            }
        }
        return new Lease(extents, refs);
    }

    /** The physical extents (device blocks) the range had when the lease was taken. */
    public List<Extent> extents() {
        return extents;
    }

    @Override
    public void close() {
        for (BusyExtents.Reference r : references) {
            r.close();
        }
    }
}
