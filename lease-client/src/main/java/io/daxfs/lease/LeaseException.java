package io.daxfs.lease;

import java.io.IOException;

/** A lease call failed; {@link #errno()} says why (EACCES, ENOTTY, ENODATA, ...). */
public final class LeaseException extends IOException {
    private final int errno;

    LeaseException(int errno, String what) {
        super(what + ": " + describe(errno));
        this.errno = errno;
    }

    LeaseException(String message) {
        super(message);
        this.errno = 0;
    }

    /** The errno of the failed call (0 if the failure was not a system call's). */
    public int errno() {
        return errno;
    }

    static String describe(int errno) {
        return switch (errno) {
            case 1 -> "EPERM";
            case 2 -> "ENOENT: no such file";
            case 5 -> "EIO";
            case 9 -> "EBADF";
            case 13 -> "EACCES: permission denied (the caller may not open the device, or the descriptor's mode does not allow this lease)";
            case 21 -> "EISDIR: a directory has no data to lease";
            case 22 -> "EINVAL: bad request (a range past the end of file?)";
            case 25 -> "ENOTTY: this mount does not serve leases (not daxfs, or frontend=libfuse)";
            case 61 -> "ENODATA: a write lease covers allocated space only (fallocate the range first)";
            case 116 -> "ESTALE: the device path no longer names the device the daemon mapped";
            default -> "errno " + errno;
        };
    }
}
