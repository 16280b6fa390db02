package io.daxfs.core.concurrent;

/**
 * Switches for the concurrency mechanisms (and for verification on read). All on in
 * production; the race catalog and the namespace race tests turn one off to prove that the
 * hazard it guards against then really happens.
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
    /** Lookups and listings hold their directory's lock shared (changes hold it exclusively). */
    public volatile boolean directoryLocks = true;
    /** Renames across directories hold the file-system-wide rename lock. */
    public volatile boolean renameLock = true;
    /** An operation that waited for a directory's lock fails if the directory was removed meanwhile. */
    public volatile boolean deadDirectoryCheck = true;
    /**
     * Inodes and block maps are verified (checksums, ranges) when first read. Tests turn it
     * off to show that the checks behind it (the freeing path's) hold on their own.
     */
    public volatile boolean verifyOnRead = true;
}
