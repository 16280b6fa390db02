package io.daxfs.core.data;

import io.daxfs.devdax.PmemRegion;

/**
 * Where a read's bytes go when they are handed over by reference to device memory instead of
 * copied into a buffer: a FUSE reply spliced from the image file (fuse-adapter's
 * {@code SplicedRead}). The read calls {@link #begin}, then {@link #data} and {@link #zeros}
 * for its pieces in file order, then {@link #end} - and keeps every block it handed over
 * referenced on the busy-extent list until {@code end} returns, so no truncate, punch or
 * reuse can change those bytes while the sink still points at them.
 *
 * <p>Any method may refuse (false): the read then stops, releases its references and returns
 * -1, and the caller undoes what the sink took and reads the copying way. A read that fails
 * with an exception also leaves the sink to be undone by its caller.
 */
public interface ReadSink {
    /** The read returns {@code length} bytes (more than 0), given next; false refuses. */
    boolean begin(int length);

    /**
     * The next {@code length} bytes are the device's at {@code deviceOffset} of {@code region};
     * they stay referenced until {@link #end} returns. False refuses.
     */
    boolean data(PmemRegion region, long deviceOffset, long length);

    /** The next {@code length} bytes are zeros (a hole). False refuses. */
    boolean zeros(long length);

    /** Every byte has been given; the blocks are still referenced while this runs. */
    void end(int length);
}
