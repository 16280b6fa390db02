package io.daxfs.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The kernel's global switch for FUSE over io_uring, {@code /sys/module/fuse/parameters/enable_uring},
 * for the run of the suite with the io_uring front end ({@code -Ddaxfs.it.frontend=uring}).
 * Only when that run says so ({@code -Ddaxfs.it.enableUring=true}, set by the
 * {@code uring-frontend} execution in pom.xml) is it switched on if it was off, for the
 * duration of this test JVM, and put back to its previous value at the end (a JVM shutdown
 * hook: also after a failed run). A connection that agreed to io_uring at INIT keeps it when
 * the parameter goes back to N, so mounts still alive at that moment are not disturbed.
 */
final class UringParameter {
    static final Path PARAMETER = Path.of("/sys/module/fuse/parameters/enable_uring");
    private static String before;
    private static boolean done;

    private UringParameter() {
    }

    /** The parameter's value (Y or N), or null if this kernel has none (no FUSE over io_uring). */
    static String value() {
        try {
            return Files.exists(PARAMETER) ? Files.readString(PARAMETER).strip() : null;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * For a run with the io_uring front end: switches the parameter on if the run asks for it
     * ({@code daxfs.it.enableUring}) and it is off; once per JVM.
     */
    static synchronized void setUpForRun() {
        if (done) {
            return;
        }
        done = true;
        String v = value();
        if (v == null || v.equals("Y") || !Boolean.getBoolean("daxfs.it.enableUring")) {
            return;
        }
        before = v;
        set("Y");
        System.out.println("daxfs-it: " + PARAMETER + " was " + v + "; set to Y for this run (frontend=uring),"
                + " restored at the end");
        Runtime.getRuntime().addShutdownHook(new Thread(UringParameter::restore, "daxfs-it-enable-uring"));
    }

    /** Back to the value it had before {@link #setUpForRun} changed it. */
    static synchronized void restore() {
        if (before != null) {
            set(before);
            System.out.println("daxfs-it: " + PARAMETER + " restored to " + before);
            before = null;
        }
    }

    /** Writes the parameter (root only); for tests that need it off for a moment. */
    static void set(String value) {
        try {
            Files.writeString(PARAMETER, value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + PARAMETER + ": " + e, e);
        }
    }
}
