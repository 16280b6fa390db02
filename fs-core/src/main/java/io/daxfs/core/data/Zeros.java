package io.daxfs.core.data;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Zero-filling a part of a caller's buffer (a read of a hole) without slicing it: a slice is
 * an object, and the read path allocates nothing per request. Copies from a block of zeros
 * that is never written (its pages are the kernel's shared zero page until touched).
 */
final class Zeros {
    private static final long SIZE = 64 * 1024;
    private static final MemorySegment ZEROS = Arena.global().allocate(SIZE, 4096);

    private Zeros() {
    }

    /** Sets {@code dst[offset, offset+length)} to zero. */
    static void fill(MemorySegment dst, long offset, long length) {
        long done = 0;
        while (done < length) {
            long k = Math.min(SIZE, length - done);
            MemorySegment.copy(ZEROS, 0, dst, offset + done, k);
            done += k;
        }
    }
}
