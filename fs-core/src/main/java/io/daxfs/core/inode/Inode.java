package io.daxfs.core.inode;

import io.daxfs.core.dir.Directory;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The in-memory handle of one inode: its lock and the indexes built from its on-media form.
 * Attributes are not cached here: the device is memory, so they are read from it directly.
 *
 * <p>Lock: {@link #lock} is held shared to read data or the block map and exclusively to
 * change them (fair, so a stream of readers cannot starve a truncate). Lock order, everywhere
 * in fs-core: namespace lock, then inode locks in ascending inode number, then the journal's
 * commit lock, then the allocators (leaves).
 */
public final class Inode {
    private final long ino;
    private final long offset;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock(true);
    private ExtentMap extents;
    private Directory directory;
    private final DirtyRanges dirty = new DirtyRanges();

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
    public synchronized ExtentMap extents(java.lang.foreign.MemorySegment media) {
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

    /** Device byte ranges written since the last fsync. */
    public DirtyRanges dirty() {
        return dirty;
    }

    /** Forgets the loaded indexes (the inode was freed). */
    public synchronized void forget() {
        extents = null;
        directory = null;
    }
}
