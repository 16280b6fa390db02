package io.daxfs.devdax;

import java.io.IOException;

/**
 * A failed system call made through {@link Posix}: the call's name and the {@code errno} it
 * left. Internal: {@link DeviceOpener} turns these into {@link DeviceException}s whose
 * message names the user's path rather than the system call.
 */
final class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    ErrnoException(String call, int errno) {
        super(call + ": " + Posix.strerror(errno) + " (errno " + errno + ")");
        this.call = call;
        this.errno = errno;
    }

    String call() {
        return call;
    }

    int errno() {
        return errno;
    }

    /** The system's text for the error, e.g. "Operation not supported". */
    String reasonText() {
        return Posix.strerror(errno);
    }
}
