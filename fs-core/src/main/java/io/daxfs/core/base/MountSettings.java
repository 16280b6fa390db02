package io.daxfs.core.base;

import java.util.Objects;

/**
 * How a file system is mounted (docs/reliability.md): read-only or not, what damage found
 * while mounted does ({@link Errors}), how much is checked before the mount is allowed
 * ({@link Check}), and the atime policy.
 *
 * @param readOnly nothing is ever written to the device; changes fail with EROFS
 */
public record MountSettings(boolean readOnly, Errors errors, Check check, AtimePolicy atime) {

    /** What happens after damaged metadata is found while mounted ({@code -o errors=}). */
    public enum Errors {
        /** Every later change fails with EROFS and nothing more is written (the default). */
        REMOUNT_RO,
        /** Only the calls that meet damage fail (EUCLEAN); other changes go on. */
        CONTINUE
    }

    /** What is checked before the mount is allowed ({@code -o check=}). */
    public enum Check {
        /** {@link #FULL} for file systems of up to {@code AUTO_FULL_INODES} inodes in use, else {@link #QUICK}. */
        AUTO,
        /**
         * Superblock, journal, bitmaps and their checksums, root inode, orphan list; everything
         * else is verified when it is first read.
         */
        QUICK,
        /** {@link #QUICK}, and the whole of fsck's check: a mount of an image fsck calls damaged is refused. */
        FULL
    }

    /** {@link Check#AUTO} runs the full check up to this many inodes in use (docs/reliability.md). */
    public static final long AUTO_FULL_INODES = 20_000;

    public MountSettings {
        Objects.requireNonNull(errors, "errors");
        Objects.requireNonNull(check, "check");
        Objects.requireNonNull(atime, "atime");
    }

    /** Read-write, errors=remount-ro, check=auto, atime never updated (tools and tests). */
    public static MountSettings defaults() {
        return new MountSettings(false, Errors.REMOUNT_RO, Check.AUTO, AtimePolicy.NEVER);
    }

    public MountSettings withReadOnly(boolean ro) {
        return new MountSettings(ro, errors, check, atime);
    }

    public MountSettings withErrors(Errors e) {
        return new MountSettings(readOnly, e, check, atime);
    }

    public MountSettings withCheck(Check c) {
        return new MountSettings(readOnly, errors, c, atime);
    }

    public MountSettings withAtime(AtimePolicy a) {
        return new MountSettings(readOnly, errors, check, a);
    }
}
