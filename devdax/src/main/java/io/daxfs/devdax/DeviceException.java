package io.daxfs.devdax;

import java.io.IOException;
import java.util.Objects;

/**
 * Why a device or image could not be opened. The message is written for the person who typed
 * the mount command: it names the path and, where a number decides, states it (the minimum
 * size, the required alignment). {@link #reason()} is for code that reacts differently, e.g.
 * an exit status.
 */
public class DeviceException extends IOException {
    private static final long serialVersionUID = 1L;

    public enum Reason {
        /** The path does not exist (and was not to be created). */
        NOT_FOUND,
        /** The operating system refused access to the path or its directory. */
        PERMISSION_DENIED,
        /** Smaller than the minimum size asked for; the message states the minimum. */
        TOO_SMALL,
        /** The size is not a multiple of the required alignment; the message states it. */
        MISALIGNED,
        /** Another process (or another open in this JVM) holds a conflicting lock. */
        IN_USE,
        /** A directory, FIFO, block device or a character device that is not device-DAX. */
        NOT_A_DEVICE,
        /** The platform cannot do this at all (not Linux, no mmap support...). */
        UNSUPPORTED,
        /** Any other input/output failure; the cause says more. */
        IO
    }

    private final Reason reason;

    public DeviceException(Reason reason, String message) {
        this(reason, message, null);
    }

    public DeviceException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
