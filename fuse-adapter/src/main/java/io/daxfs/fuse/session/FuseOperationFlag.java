package io.daxfs.fuse.session;

/**
 * The one-bit flags of libfuse 2.9's {@code struct fuse_operations}:
 * <pre>
 *   unsigned int flag_nullpath_ok:1;
 *   unsigned int flag_nopath:1;
 *   unsigned int flag_utime_omit_ok:1;
 *   unsigned int flag_reserved:29;
 * </pre>
 * {@link #bit} is the declaration index inside that unsigned int; see
 * {@link FuseOperationsLayout#writeFlags} for how it maps to memory.
 */
public enum FuseOperationFlag {
    /**
     * The file system accepts a NULL path for read, write, flush, release, fsync, readdir,
     * releasedir, fsyncdir, ftruncate, fgetattr, lock, ioctl and poll (needed for -o hard_remove).
     */
    NULLPATH_OK(0),
    /** The path need not be computed for the operations listed under {@link #NULLPATH_OK}. */
    NOPATH(1),
    /**
     * utimens understands UTIME_NOW / UTIME_OMIT in tv_nsec. Without it libfuse silently drops a
     * setattr that changes only one of atime/mtime (e.g. {@code touch -m}).
     */
    UTIME_OMIT_OK(2);

    /** Bit index within the flags word, in declaration order. */
    public final int bit;

    FuseOperationFlag(int bit) {
        this.bit = bit;
    }
}
