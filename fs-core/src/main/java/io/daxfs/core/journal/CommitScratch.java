package io.daxfs.core.journal;

import io.daxfs.devdax.MediaOrder;

import java.nio.ByteBuffer;

/**
 * What one committing thread works in: its {@link Sealer} and the buffer it encodes its slot
 * image in. One per thread ({@link Journal} keeps them in a ThreadLocal), never shared.
 *
 * <p>Why the slot buffer is the thread's own and not the journal's: commits from two threads
 * alternate, and a buffer shared by them moves between their cores' caches on every commit -
 * seven or so 64-byte lines for a create - while the commit lock is held. Where cores are far
 * apart (different L3 caches: a cache-line transfer 5x slower, see docs/jmh-results.md "Two
 * threads and the distance between cores") that was a quarter of the time the lock was held
 * for encoding. The device's slot lines still move; this buffer's no longer do.
 */
final class CommitScratch {
    final Sealer sealer;
    private byte[] slot = new byte[4096];

    CommitScratch(Sealer sealer) {
        this.sealer = sealer;
    }

    /**
     * A buffer of at least {@code total} bytes for the slot image, grown (at most to
     * {@code capacity}) to the largest slot so far: a fresh one per commit was most of what a
     * create or unlink allocated.
     */
    ByteBuffer slot(int total, int capacity) {
        if (slot.length < total) {
            slot = new byte[Math.max(total, Math.min(capacity, 2 * slot.length))];
        }
        return MediaOrder.wrap(slot);
    }
}
