package io.daxfs.core.alloc;

import io.daxfs.core.journal.Transaction;

/** Allocation of metadata blocks (extent-overflow and directory blocks) inside a transaction. */
public interface MetaBlocks {
    /**
     * Allocates one block near {@code goal}, fills it with zeros and makes that durable before
     * returning (the block is unreachable until {@code tx} commits, so no journaling is needed
     * for its initial content). Marks it in use in {@code tx}.
     *
     * @throws io.daxfs.core.base.FsException ENOSPC
     */
    long allocateZeroed(Transaction tx, long goal);

    /** Frees one block when {@code tx} commits. */
    void free(Transaction tx, long block);

    /** A new transaction, for a change that must be durable on its own at once. */
    Transaction begin();

    /** Commits a transaction from {@link #begin()}. */
    void commit(Transaction tx);
}
