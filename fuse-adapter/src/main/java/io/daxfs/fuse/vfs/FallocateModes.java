package io.daxfs.fuse.vfs;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;

/**
 * fallocate(2)'s mode bits, as both front ends receive them, onto fs-core: default and
 * KEEP_SIZE allocate, PUNCH_HOLE (which Linux accepts only with KEEP_SIZE) frees, ZERO_RANGE
 * zeroes; COLLAPSE_RANGE, INSERT_RANGE and UNSHARE are EOPNOTSUPP.
 */
public final class FallocateModes {
    public static final int KEEP_SIZE = 0x01;
    public static final int PUNCH_HOLE = 0x02;
    public static final int ZERO_RANGE = 0x10;

    private FallocateModes() {
    }

    /** Applies fallocate {@code mode} to {@code [offset, offset + length)} of {@code ino}. */
    public static void apply(DaxFileSystem fs, long ino, int mode, long offset, long length) {
        boolean keepSize = (mode & KEEP_SIZE) != 0;
        int rest = mode & ~KEEP_SIZE;
        if (rest == PUNCH_HOLE) {
            if (!keepSize) {
                throw new FsException(Errno.EOPNOTSUPP, "PUNCH_HOLE needs KEEP_SIZE"); // as Linux
            }
            fs.punchHole(ino, offset, length);
        } else if (rest == ZERO_RANGE) {
            fs.zeroRange(ino, offset, length, keepSize);
        } else if (rest == 0) {
            fs.fallocate(ino, offset, length, keepSize);
        } else {
            throw new FsException(Errno.EOPNOTSUPP, "fallocate mode " + mode); // collapse/insert range, unshare
        }
    }
}
