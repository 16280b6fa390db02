package io.daxfs.core.dir;

import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.journal.ErrorState;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongFunction;

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
    private final LongFunction<Directory.Verify> verify;
    private final ErrorState errors;
    private final ConcurrentHashMap<Long, Directory> byIno = new ConcurrentHashMap<>();

    /**
     * @param verify what a directory is checked against when it is loaded (its number given)
     * @param errors told of a directory that fails its checks
     */
    public Directories(MemorySegment media, LongFunction<Directory.Verify> verify, ErrorState errors) {
        this.media = media;
        this.verify = verify;
        this.errors = errors;
    }

    /**
     * The index of directory {@code dir}, loaded and verified on first use; caller holds its
     * lock (either mode).
     *
     * @throws CorruptFileSystemException (EUCLEAN) if the directory's blocks are damaged
     */
    public Directory of(Inode dir) {
        Directory d = byIno.get(dir.ino());
        if (d != null) {
            return d;
        }
        try {
            return byIno.computeIfAbsent(dir.ino(),
                    i -> Directory.load(media, dir.extents(media), verify.apply(dir.ino())));
        } catch (CorruptFileSystemException e) {
            throw errors.damaged(e);
        }
    }

    /**
     * Drops the index of a freed inode, if it was a loaded directory. Called for every freed
     * inode, most of them files: the lock-free look first matters, because a remove of an
     * absent key still locks the first node of its hash bin - another directory's, which other
     * threads read on every lookup - and moves that node's cache line between cores.
     */
    public void forget(long ino) {
        if (byIno.get(ino) != null) {
            byIno.remove(ino);
        }
    }
}
