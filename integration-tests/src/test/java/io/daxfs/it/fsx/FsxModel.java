package io.daxfs.it.fsx;

import java.util.Arrays;

/**
 * What one file must hold after each operation: its bytes and its size, with the semantics
 * Linux gives each operation on a regular file. Invariant: every byte of {@code data} at or
 * past {@code size} is zero, so growing the file (by any means) exposes zeros.
 */
final class FsxModel {
    private byte[] data = new byte[0];
    private int size;

    long size() {
        return size;
    }

    /** The whole content. */
    byte[] content() {
        return Arrays.copyOf(data, size);
    }

    private void ensureCapacity(long n) {
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("model file too large: " + n);
        }
        if (n > data.length) {
            data = Arrays.copyOf(data, (int) Math.max(n, Math.min((long) data.length * 2, Integer.MAX_VALUE - 8)));
        }
    }

    private void grow(long newSize) {
        if (newSize > size) {
            ensureCapacity(newSize);
            size = (int) newSize; // the bytes in between are zero by the invariant
        }
    }

    /** pwrite: extends the file; a gap between the old end and {@code off} reads zero. */
    void write(long off, byte[] b) {
        grow(off + b.length);
        System.arraycopy(b, 0, data, (int) off, b.length);
    }

    /** pread: the bytes of [off, off+len) that lie before the end of file (none at or past it). */
    byte[] read(long off, int len) {
        if (off >= size) {
            return new byte[0];
        }
        int n = (int) Math.min(len, size - off);
        return Arrays.copyOfRange(data, (int) off, (int) off + n);
    }

    /** ftruncate: shrinking forgets the tail, growing exposes zeros. */
    void truncate(long newSize) {
        if (newSize < size) {
            Arrays.fill(data, (int) newSize, size, (byte) 0);
            size = (int) newSize;
        } else {
            grow(newSize);
        }
    }

    /** fallocate mode 0 or KEEP_SIZE: content unchanged (holes read zero either way). */
    void fallocate(long off, long len, boolean keepSize) {
        if (!keepSize) {
            grow(off + len);
        }
    }

    /** fallocate PUNCH_HOLE|KEEP_SIZE: zeros in the range, within the size; the size stays. */
    void punchHole(long off, long len) {
        zeroWithinSize(off, len);
    }

    /** fallocate ZERO_RANGE[|KEEP_SIZE]: zeros in the range; extends the size unless KEEP_SIZE. */
    void zeroRange(long off, long len, boolean keepSize) {
        if (!keepSize) {
            grow(off + len);
        }
        zeroWithinSize(off, len);
    }

    private void zeroWithinSize(long off, long len) {
        long end = Math.min(off + len, size);
        if (off < end) {
            Arrays.fill(data, (int) off, (int) end, (byte) 0);
        }
    }

    /**
     * A store through a MAP_SHARED mapping of [off, off+len), which must lie within the size
     * (a mapping cannot extend a file; touching a page past the end is SIGBUS). The mapping is
     * page granular, but only these bytes change.
     */
    void mmapWrite(long off, byte[] b) {
        if (off < 0 || off + b.length > size) {
            throw new IllegalArgumentException("mmap write [" + off + ", " + (off + b.length) + ") past the size " + size);
        }
        System.arraycopy(b, 0, data, (int) off, b.length);
    }

    /** A load through a mapping of [off, off+len) within the size. */
    byte[] mmapRead(long off, int len) {
        if (off < 0 || off + len > size) {
            throw new IllegalArgumentException("mmap read [" + off + ", " + (off + len) + ") past the size " + size);
        }
        return Arrays.copyOfRange(data, (int) off, (int) off + len);
    }
}
