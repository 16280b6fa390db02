package io.daxfs.fuse.mount;

/** Mounting failed or the session could not be set up; the message says why. */
public class FuseMountException extends RuntimeException {
    public FuseMountException(String message) {
        super(message);
    }

    public FuseMountException(String message, Throwable cause) {
        super(message, cause);
    }
}
