package io.daxfs.core.inode;

import io.daxfs.core.concurrent.InvalidationSequence;
import io.daxfs.core.concurrent.MappingCache;
import io.daxfs.core.concurrent.RangeLock;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The in-memory handle of one inode: its locks and the block map built from its on-media
 * form. Attributes are not cached here: the device is memory, so they are read from it
 * directly. The order the locks are taken in is {@link io.daxfs.core.concurrent.LockOrder}.
 *
 * <ul>
 * <li>{@link #lock()} - the inode lock. For a directory: its entries (shared for lookups and
 *     listings, exclusive for changes). For any inode: attributes, extended attributes, link
 *     count, opening and freeing.</li>
 * <li>{@link #ranges()} - byte ranges of the file: shared by reads and writes (I/O that does
 *     not free blocks), exclusive for truncate, hole punch, zero range, fallocate and freeing
 *     the inode. Reads hold it only while they look up and reference their blocks.</li>
 * <li>{@link #entries()} - block indexes: exclusive while a hole is allocated, shared while a
 *     read caches a hole, so a block is allocated once and no stale hole is cached.</li>
 * </ul>
 * {@link #sequence()} is bumped around every block-map change and guards {@link #cache()}.
 */
public final class Inode {
    private final long ino;
    private final long offset;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock(true);
    private volatile ExtentMap extents;
    /** Set when this handle leaves the handle table: lookups by number must not return it. */
    private volatile boolean retired;
    private final DirtyRanges dirty = new DirtyRanges();
    private final RangeLock ranges = new RangeLock();
    private final RangeLock entries = new RangeLock();
    private final InvalidationSequence sequence = new InvalidationSequence();
    private final MappingCache cache = new MappingCache();
    private final Loader loader;

    /** Reads an inode's block map from the media (verifying it, in a mounted file system). */
    @FunctionalInterface
    public interface Loader {
        ExtentMap load(java.lang.foreign.MemorySegment media, Inode in);
    }

    /** A handle whose block map is read without checks (tests). */
    public Inode(long ino, long offset) {
        this(ino, offset, (media, in) -> ExtentMap.load(media, in.offset()));
    }

    public Inode(long ino, long offset, Loader loader) {
        this.ino = ino;
        this.offset = offset;
        this.loader = loader;
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

    /** The block map, loaded from the media on first use. */
    public ExtentMap extents(java.lang.foreign.MemorySegment media) {
        ExtentMap m = extents;
        return m != null ? m : loadExtents(media);
    }

    private synchronized ExtentMap loadExtents(java.lang.foreign.MemorySegment media) {
        if (extents == null) {
            extents = loader.load(media, this);
        }
        return extents;
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

    /**
     * Whether this handle no longer stands for its inode number: the inode was freed (its
     * number may already name another inode, with another handle). A thread that waited for
     * one of this handle's locks checks it once it holds the lock.
     */
    public boolean isRetired() {
        return retired;
    }

    /** Forgets the loaded block map (the inode was freed). */
    public synchronized void forget() {
        extents = null;
    }
}
