package io.daxfs.core.xattr;

import io.daxfs.core.alloc.Extent;
import io.daxfs.core.journal.Transaction;

import java.util.List;

/**
 * Block allocation for attribute storage, inside a transaction: the file system's data-area
 * allocator, whose frees go through the busy-extent list.
 */
public interface XattrBlocks {
    /**
     * Allocates exactly {@code blocks} blocks as few extents as possible, set in use when
     * {@code tx} commits, given back if it is aborted.
     *
     * @throws io.daxfs.core.base.FsException ENOSPC
     */
    List<Extent> allocate(Transaction tx, long goal, long blocks);

    /** Frees an extent when {@code tx} commits (through the busy-extent list). */
    void free(Transaction tx, Extent extent);
}
