package io.daxfs.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Linux capabilities the test processes have (CapEff of /proc/self/status; the shells the
 * tests start inherit them). Root on a machine has them all; root in a container may lack
 * some Docker leaves out, e.g. CAP_LINUX_IMMUTABLE (chattr +i/+a) and CAP_DAC_READ_SEARCH
 * (open_by_handle_at). A test that needs one assumes it, so it is skipped with the reason
 * rather than failing for what the kernel refuses before daxfs sees a request.
 */
final class Capabilities {
    static final int CAP_DAC_READ_SEARCH = 2;
    static final int CAP_LINUX_IMMUTABLE = 9;

    private Capabilities() {
    }

    static boolean has(int capability) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    long mask = Long.parseUnsignedLong(line.substring("CapEff:".length()).strip(), 16);
                    return (mask & (1L << capability)) != 0;
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Skips the test unless the processes have {@code capability} ({@code name} for the message). */
    static void assume(int capability, String name, String why) {
        assumeTrue(has(capability), "needs " + name + " (" + why + "), which this process lacks (a container?)");
    }
}
