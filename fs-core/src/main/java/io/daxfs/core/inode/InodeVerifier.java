package io.daxfs.core.inode;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.journal.Journal;
import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.MemorySegment;

/**
 * Verification of inodes as the mounted file system first reads them: an inode when its
 * handle is made ({@link InodeCheck}), its block map when it is loaded
 * ({@link ExtentMap#load(MemorySegment, Checksums, long)}). Damage is reported to the
 * journal's {@link io.daxfs.core.journal.ErrorState} and the call fails with EUCLEAN.
 */
public final class InodeVerifier {
    private final MemorySegment media;
    private final Checksums checksums;
    private final Journal journal;
    private final Geometry geometry;
    private final io.daxfs.core.concurrent.Safeguards safeguards;

    public InodeVerifier(MemorySegment media, Journal journal, io.daxfs.core.concurrent.Safeguards safeguards) {
        this.media = media;
        this.checksums = journal.checksums();
        this.journal = journal;
        this.geometry = checksums.geometry();
        this.safeguards = safeguards;
    }

    /**
     * Checks inode {@code ino}, whose number the allocator says is in use, before a handle of
     * it is made.
     *
     * @throws FsException ENOENT if the inode is not committed yet (a creation still in
     *     flight, or a free racing this), EUCLEAN (reported) if it is damaged
     */
    public void verify(long ino) {
        if (!safeguards.verifyOnRead || InodeCheck.problem(media, checksums, ino) == null) {
            return;
        }
        // A commit may be applying this inode right now (its CRC comes last), or it may be a
        // number reserved by a creation not committed yet: look again with every commit applied.
        CorruptFileSystemException e = journal.withCommitLock(() -> {
            if (!committed(ino)) {
                throw new FsException(Errno.ENOENT, "no inode " + ino);
            }
            return InodeCheck.problem(media, checksums, ino);
        });
        if (e != null) {
            throw journal.damaged(e);
        }
    }

    /** Whether the inode bitmap on the media says {@code ino} is in use and its mode is set. */
    private boolean committed(long ino) {
        long bit = ino - 1;
        byte b = media.get(java.lang.foreign.ValueLayout.JAVA_BYTE, geometry.inodeBitmapOffset() + (bit >>> 3));
        return (b & (1 << (bit & 7))) != 0 && media.get(MediaOrder.INT, geometry.inodeOffset(ino)) != 0;
    }

    /** The {@link Inode.Loader} of a mounted file system: loads and verifies the block map. */
    public ExtentMap extents(MemorySegment media, Inode in) {
        if (!safeguards.verifyOnRead) {
            return ExtentMap.load(media, in.offset());
        }
        try {
            return ExtentMap.load(media, checksums, in.ino());
        } catch (CorruptFileSystemException e) {
            throw journal.damaged(e);
        }
    }
}
