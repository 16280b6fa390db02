package io.daxfs.fuse.session;

import ru.serce.jnrfuse.FuseException;

/** Mounting failed or the session could not be set up; the message says why. */
public class FuseMountException extends FuseException {
    public FuseMountException(String message) {
        super(message);
    }

    public FuseMountException(String message, Throwable cause) {
        super(message, cause);
    }
}
