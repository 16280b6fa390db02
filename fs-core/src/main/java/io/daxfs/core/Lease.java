package io.daxfs.core;

import io.daxfs.core.alloc.Extent;
import io.daxfs.core.concurrent.BusyExtents;

import java.util.List;

/**
 * A long-lived reference to the device blocks behind a file range: what a direct mapping of
 * device memory, a copy offload or a layout lease holds (the "DMA / RDMA / other mapper" of
 * seed 003). Truncate and hole punch never wait for it: blocks they free stay on the busy
 * list until the lease is closed, so they are never handed to another file while the holder
 * may still read or write them.
 */
public final class Lease implements AutoCloseable {
    private final List<Extent> extents;
    private final List<BusyExtents.Reference> references;

    Lease(List<Extent> extents, List<BusyExtents.Reference> references) {
        this.extents = List.copyOf(extents);
        this.references = references;
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
