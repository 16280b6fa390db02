package io.daxfs.core.data;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.format.Geometry;

/**
 * The argument checks of the data calls, before any lock is taken: offsets and lengths that
 * are negative give EINVAL, ranges past the largest file size give EFBIG (as Linux's
 * {@code s_maxbytes}).
 */
public final class FileRanges {
    /** The largest file size: the largest block-aligned signed 64-bit offset. */
    public static final long MAX_FILE_SIZE = Long.MAX_VALUE & ~(Geometry.BLOCK_SIZE - 1L);

    private FileRanges() {
    }

    /** write(2) of {@code length} bytes at {@code offset}; false if there is nothing to write. */
    static boolean checkWrite(long offset, int length) {
        if (offset < 0) {
            throw new FsException(Errno.EINVAL, "negative offset");
        }
        long end = offset + length;
        if (length > 0 && (end > MAX_FILE_SIZE || end < 0)) {
            throw new FsException(Errno.EFBIG, "file would exceed the maximum size");
        }
        return length > 0;
    }

    /** truncate(2) to {@code newSize}. */
    static void checkSize(long newSize) {
        if (newSize < 0) {
            throw new FsException(Errno.EINVAL, "negative size");
        }
        if (newSize > MAX_FILE_SIZE) {
            throw new FsException(Errno.EFBIG, "size exceeds the maximum file size");
        }
    }

    /** fallocate(2)'s range: punch hole, zero range, allocate. */
    static void checkRange(long offset, long length) {
        if (offset < 0 || length <= 0) {
            throw new FsException(Errno.EINVAL, "bad range " + offset + "+" + length);
        }
        if (offset + length > MAX_FILE_SIZE || offset + length < 0) {
            throw new FsException(Errno.EFBIG, "range exceeds the maximum file size");
        }
    }
}
