package io.daxfs.core.concurrent;

/**
 * Switches for the four concurrency mechanisms. All on in production; the race catalog turns
 * one off to prove that the hazard it guards against then really happens.
 */
public final class Safeguards {
    /** Writes hold their range shared while copying, so truncate/punch cannot free under them. */
    public volatile boolean rangeLocks = true;
    /** Freed extents wait on the busy list until durable and unreferenced. */
    public volatile boolean busyExtents = true;
    /** Cached mappings are used only if the invalidation sequence did not move. */
    public volatile boolean invalidationSequence = true;
    /** Allocation of a block and caching it as a hole are serialized per block. */
    public volatile boolean entryLocks = true;
}
