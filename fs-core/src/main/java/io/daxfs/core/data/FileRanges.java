package io.daxfs.core.data;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.format.Geometry;

/** The argument checks of the data calls: offsets, sizes and ranges a file may have. */
public final class FileRanges {
    /** Largest file size: a whole number of blocks below 2^63. */
    public static final long MAX_FILE_SIZE = Long.MAX_VALUE & ~(Geometry.BLOCK_SIZE - 1L);

    private FileRanges() {
    }

    /** A read or write offset: EINVAL if negative. */
    public static void checkOffset(long offset) {
        if (offset < 0) {
            throw new FsException(Errno.EINVAL, "negative offset");
        }
    }

    /** A write of {@code length} bytes at {@code offset}; returns the length to write (0: nothing). */
    public static int checkWrite(long offset, int length) {
        checkOffset(offset);
        if (length <= 0) {
            return 0;
        }
        long end = offset + length;
        if (end > MAX_FILE_SIZE || end < 0) {
            throw new FsException(Errno.EFBIG, "file would exceed the maximum size");
        }
        return length;
    }

    /** A new file size. */
    public static void checkSize(long newSize) {
        if (newSize < 0) {
            throw new FsException(Errno.EINVAL, "negative size");
        }
        if (newSize > MAX_FILE_SIZE) {
            throw new FsException(Errno.EFBIG, "size exceeds the maximum file size");
        }
    }

    /** A range of fallocate, punch hole or zero range. */
    public static void checkRange(long offset, long length) {
        if (offset < 0 || length <= 0) {
            throw new FsException(Errno.EINVAL, "bad range " + offset + "+" + length);
        }
        if (offset + length > MAX_FILE_SIZE || offset + length < 0) {
            throw new FsException(Errno.EFBIG, "range exceeds the maximum file size");
        }
    }
}
