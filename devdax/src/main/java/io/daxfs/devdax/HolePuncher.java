package io.daxfs.devdax;

import java.io.UncheckedIOException;

/**
 * Gives page-aligned ranges of a pmem-backed file back to its file system with
 * fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE): the file keeps its size, the blocks
 * are freed, and every mapping of the range reads zeros afterwards (the kernel drops the pages
 * from all mappings). Remembers when the file system cannot punch holes, so callers fall back
 * to writing zeros without asking again.
 */
final class HolePuncher {
    private final int fd;
    private volatile boolean unsupported;

    HolePuncher(int fd) {
        this.fd = fd;
    }

    /**
     * Punches {@code [offset, offset + length)}, which the caller has aligned to pages.
     * Returns false (and punches nothing) when the file system does not support it.
     */
    boolean punch(long offset, long length) {
        if (unsupported) {
            return false;
        }
        try {
            Posix.fallocate(fd, Posix.FALLOC_FL_PUNCH_HOLE | Posix.FALLOC_FL_KEEP_SIZE, offset, length);
            return true;
        } catch (ErrnoException e) {
            if (e.errno() == Posix.EOPNOTSUPP) {
                unsupported = true;
                return false;
            }
            throw new UncheckedIOException("cannot release bytes " + offset + ".." + (offset + length)
                    + " of the image: " + e.getMessage(), e);
        }
    }
}
