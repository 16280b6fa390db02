package io.daxfs.core.inode;

import io.daxfs.core.concurrent.InvalidationSequence;
import io.daxfs.core.concurrent.MappingCache;
import io.daxfs.core.concurrent.RangeLock;
import io.daxfs.core.dir.Directory;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The in-memory handle of one inode: its locks and the indexes built from its on-media form.
 * Attributes are not cached here: the device is memory, so they are read from it directly.
 *
 * <p>Locks of one inode (see docs/concurrency.md for the whole order):
 * <ul>
 * <li>{@link #ranges()} - byte ranges of the file: shared by reads and writes (I/O that does
 *     not free blocks), exclusive for truncate, hole punch, zero range, fallocate and freeing
 *     the inode. Reads hold it only while they look up and reference their blocks.</li>
 * <li>{@link #entries()} - block indexes: exclusive while a hole is allocated, shared while a
 *     read caches a hole, so a block is allocated once and no stale hole is cached.</li>
 * <li>{@link #lock()} - attribute changes (chmod, chown, utimens) and inode freeing.</li>
 * </ul>
 * {@link #sequence()} is bumped around every block-map change and guards {@link #cache()}.
 */
public final class Inode {
    private final long ino;
    private final long offset;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock(true);
    private volatile ExtentMap extents;
    private volatile Directory directory;
    /** Set when this handle leaves the handle table: lookups by number must not return it. */
    private volatile boolean retired;
    private final DirtyRanges dirty = new DirtyRanges();
    private final RangeLock ranges = new RangeLock();
    private final RangeLock entries = new RangeLock();
    private final InvalidationSequence sequence = new InvalidationSequence();
    private final MappingCache cache = new MappingCache();

    public Inode(long ino, long offset) {
        this.ino = ino;
        this.offset = offset;
    }

    public long ino() {
        return ino;
    }

    /** Byte offset of the on-media inode. */
    public long offset() {
        return offset;
    }

    public ReentrantReadWriteLock lock() {
        return lock;
    }

    /** The block map; loaded on first use. Caller holds {@link #lock} (either mode). */
    public ExtentMap extents(java.lang.foreign.MemorySegment media) {
        ExtentMap m = extents;
        return m != null ? m : loadExtents(media);
    }

    private synchronized ExtentMap loadExtents(java.lang.foreign.MemorySegment media) {
        if (extents == null) {
            extents = ExtentMap.load(media, offset);
        }
        return extents;
    }

    /** The directory index; loaded on first use. Caller holds the namespace lock. */
    public synchronized Directory directory(java.lang.foreign.MemorySegment media) {
        if (directory == null) {
            directory = Directory.load(media, extents(media));
        }
        return directory;
    }

    public RangeLock ranges() {
        return ranges;
    }

    public RangeLock entries() {
        return entries;
    }

    public InvalidationSequence sequence() {
        return sequence;
    }

    public MappingCache cache() {
        return cache;
    }

    /** Device byte ranges written since the last fsync. */
    public DirtyRanges dirty() {
        return dirty;
    }

    /** This handle no longer stands for its inode number ({@link InodeHandles#remove}). */
    void retire() {
        retired = true;
    }

    boolean retired() {
        return retired;
    }

    /** Forgets the loaded indexes (the inode was freed). */
    public synchronized void forget() {
        extents = null;
        directory = null;
    }
}
