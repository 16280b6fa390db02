package io.daxfs.core;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.journal.ErrorState;
import io.daxfs.core.space.Space;

/**
 * What an administrator does to a mounted file system as a whole rather than to a file
 * ({@link DaxFileSystem#control()}): shut it down (FS_IOC_SHUTDOWN) and trim its free space
 * (FITRIM). Root-only at the front end; fs-core checks no caller here.
 */
public final class FileSystemControl {
    private final ErrorState errors;
    private final Space space;
    private final Geometry geometry;

    FileSystemControl(ErrorState errors, Space space, Geometry geometry) {
        this.errors = errors;
        this.space = space;
        this.geometry = geometry;
    }

    /**
     * FS_IOC_SHUTDOWN: every later change fails with EIO and nothing more is written; the
     * device keeps every completed operation, as after a power cut at this instant, and the
     * next mount recovers it ({@link ErrorState#shutDown}; docs/reliability.md, "Shutdown").
     */
    public void shutDown(String reason) {
        errors.shutDown(reason);
    }

    /** Whether {@link #shutDown} was called on this mount. */
    public boolean isShutDown() {
        return errors.isShutDown();
    }

    /**
     * FITRIM over the device's bytes [start, start + length): releases the memory of every free
     * extent there of at least {@code minLength} bytes ({@link Space#trim}) and returns the
     * bytes released. As ext4's: EINVAL if {@code start} is at or past the end of the device,
     * {@code length} is less than a block or {@code minLength} more than the device; a range
     * reaching past the end is cut at the end. EROFS on a read-only mount.
     */
    public long trim(long start, long length, long minLength) {
        long deviceBytes = geometry.totalBlocks() << Geometry.BLOCK_SHIFT;
        if (Long.compareUnsigned(start, deviceBytes) >= 0 || Long.compareUnsigned(length, Geometry.BLOCK_SIZE) < 0
                || Long.compareUnsigned(minLength, deviceBytes) > 0) {
            throw new FsException(Errno.EINVAL, "FITRIM start " + Long.toUnsignedString(start) + " length "
                    + Long.toUnsignedString(length) + " minimum " + Long.toUnsignedString(minLength) + " on a device of "
                    + deviceBytes + " bytes");
        }
        long blocks = Long.compareUnsigned(length, deviceBytes) > 0 ? geometry.totalBlocks() : length >>> Geometry.BLOCK_SHIFT;
        long minBlocks = (minLength + Geometry.BLOCK_SIZE - 1) >>> Geometry.BLOCK_SHIFT;
        return space.trim(start >>> Geometry.BLOCK_SHIFT, blocks, minBlocks) << Geometry.BLOCK_SHIFT;
    }
}
