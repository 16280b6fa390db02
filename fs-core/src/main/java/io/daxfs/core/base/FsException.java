package io.daxfs.core.base;

/**
 * A file-system operation failed with a POSIX error. Thrown before anything reached the
 * media, or after a transaction was fully rolled back: an operation that throws this left
 * no trace on the device. Damaged metadata is the subclass
 * {@code io.daxfs.core.format.CorruptFileSystemException} (EUCLEAN).
 */
public class FsException extends RuntimeException {
    private final Errno errno;

    public FsException(Errno errno, String message) {
        super(errno + ": " + message, null, false, false);
        this.errno = errno;
    }

    /** For subclasses whose message is not prefixed by the errno. */
    protected FsException(Errno errno, String message, boolean prefixed) {
        super(prefixed ? errno + ": " + message : message, null, false, false);
        this.errno = errno;
    }

    public Errno errno() {
        return errno;
    }

    public static FsException of(Errno errno, String message) {
        return new FsException(errno, message);
    }
}
