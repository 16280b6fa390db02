package io.daxfs.fuse.tools;

/** A tool cannot do its job; the message is one line for the user, naming the path. */
public final class ToolException extends Exception {
    private static final long serialVersionUID = 1L;

    public ToolException(String message) {
        super(message);
    }
}
