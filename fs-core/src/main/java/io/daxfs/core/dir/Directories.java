package io.daxfs.core.dir;

import io.daxfs.core.inode.Inode;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The loaded index ({@link Directory}) of each directory, by inode number: read from the
 * directory's blocks on first use and kept until the directory is freed. Kept here rather
 * than on the inode's handle so that inodes know nothing of directories.
 *
 * <p>A directory's index is read and changed under that directory's lock (shared to read,
 * exclusive to change); {@link #of} may run under either mode, so loading is atomic per
 * number. {@link #forget} runs when the directory is freed, before its number can be reused.
 */
public final class Directories {
    private final MemorySegment media;
    private final ConcurrentHashMap<Long, Directory> byIno = new ConcurrentHashMap<>();

    public Directories(MemorySegment media) {
        this.media = media;
    }

    /** The index of directory {@code dir}; caller holds its lock (either mode). */
    public Directory of(Inode dir) {
        Directory d = byIno.get(dir.ino());
        return d != null ? d : byIno.computeIfAbsent(dir.ino(), i -> Directory.load(media, dir.extents(media)));
    }

    /** Drops the index of a freed directory. */
    public void forget(long ino) {
        byIno.remove(ino);
    }
}
