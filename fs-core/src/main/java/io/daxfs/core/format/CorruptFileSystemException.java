package io.daxfs.core.format;

/** The device does not hold a daxfs this code can mount: foreign, corrupt, or a newer format. */
public final class CorruptFileSystemException extends RuntimeException {
    public CorruptFileSystemException(String message) {
        super(message);
    }
}
