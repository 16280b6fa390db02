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

    /** The file system's data-area allocator and its freeing path. */
    static XattrBlocks of(io.daxfs.core.space.Space space) {
        return new XattrBlocks() {
            @Override
            public List<Extent> allocate(Transaction tx, long goal, long blocks) {
                return space.allocateData(tx, goal, blocks);
            }

            @Override
            public void free(Transaction tx, Extent extent) {
                space.free(tx, extent);
            }
        };
    }
}
