package io.daxfs.fuse.libfuse;

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
     * The file system accepts a NULL path where libfuse 2.9 (lib/fuse.c, {@code get_path_nullok})
     * cannot build one - the node of a file unlinked under -o hard_remove, a removed directory -
     * in exactly these callbacks: read, write (write_buf), flush, release, fsync, readdir,
     * releasedir, fsyncdir, lock, flock, ioctl, poll, fallocate, fgetattr (a getattr that carries
     * a file handle) and ftruncate (a setattr of the size alone that carries a file handle). Every
     * other callback always gets a path; when libfuse has none it answers ENOENT itself. Without
     * this flag release gets the string "-" and the others fail with ENOENT.
     */
    NULLPATH_OK(0),
    /**
     * libfuse does not build the path at all for the callbacks listed under {@link #NULLPATH_OK}:
     * they always get NULL (jnr-fuse hands it to Java as a null String), so they must work from
     * the file handle alone. Saves a path walk under libfuse's tree lock and a String decode per
     * read and write.
     */
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
