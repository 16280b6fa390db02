package io.daxfs.fuse.kernel;

import io.daxfs.fuse.mount.FuseMountException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Whether this kernel serves FUSE over io_uring, and the one place daxfs changes the kernel's
 * global switch for it ({@code /sys/module/fuse/parameters/enable_uring}): only when the mount
 * says so ({@code -o enable_uring}), never otherwise. docs/uring-frontend.md, "Enabling".
 *
 * <p>The kernel offers FUSE_OVER_IO_URING at INIT only while the parameter is Y (Linux 6.14+
 * built with CONFIG_FUSE_IO_URING; the parameter exists only then). A connection that agreed to
 * it keeps it if the parameter is switched off later.
 */
final class UringSupport {
    private static final Logger LOG = LoggerFactory.getLogger(UringSupport.class);
    static final Path PARAMETER = Path.of("/sys/module/fuse/parameters/enable_uring");
    static final Path POSSIBLE_CPUS = Path.of("/sys/devices/system/cpu/possible");

    private UringSupport() {
    }

    /**
     * Checks that FUSE over io_uring can be used, turning the kernel parameter on first if
     * {@code enable} (as root). Throws with one line saying what is missing and what to do.
     */
    static void require(boolean enable) {
        require(PARAMETER, enable);
    }

    static void require(Path parameter, boolean enable) {
        if (!LinuxCalls.supportedArchitecture()) {
            throw new FuseMountException("frontend=uring: not supported on " + System.getProperty("os.arch")
                    + " (x86_64 and aarch64 only); mount with frontend=kernel");
        }
        String value;
        try {
            value = Files.readString(parameter).strip();
        } catch (NoSuchFileException e) {
            throw new FuseMountException("frontend=uring: this kernel (" + System.getProperty("os.version")
                    + ") has no FUSE over io_uring (it needs Linux 6.14 or later built with CONFIG_FUSE_IO_URING: "
                    + parameter + " is missing); mount with frontend=kernel");
        } catch (IOException e) {
            throw new FuseMountException("frontend=uring: cannot read " + parameter + ": " + e.getMessage());
        }
        if (value.equals("Y")) {
            return;
        }
        if (!enable) {
            throw new FuseMountException("frontend=uring: FUSE over io_uring is off in this kernel (" + parameter
                    + " is " + value + "); add -o enable_uring to switch it on (as root; it is global and stays on until"
                    + " reboot), or mount with frontend=kernel");
        }
        try {
            Files.writeString(parameter, "Y");
        } catch (IOException e) {
            throw new FuseMountException("frontend=uring: -o enable_uring could not switch FUSE over io_uring on ("
                    + parameter + ": " + (e instanceof java.nio.file.AccessDeniedException ? "permission denied, needs root"
                    : e.getMessage()) + ")");
        }
        LOG.warn("{} was {}; set to Y as -o enable_uring asks (global to the kernel's fuse module: it stays Y until"
                + " reboot or until written back)", parameter, value);
    }

    /**
     * The kernel's number of ring queues: one per possible CPU (num_possible_cpus()), qid i
     * taking the requests of tasks running on CPU i. Read from sysfs ("0-3", "0-3,6"...).
     */
    static int queues() {
        try {
            return countCpus(Files.readString(POSSIBLE_CPUS).strip());
        } catch (IOException | RuntimeException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    /** The number of CPUs in a sysfs CPU list such as "0-3,6,8-9". */
    static int countCpus(String list) {
        int n = 0;
        for (String part : list.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            int dash = part.indexOf('-');
            n += dash < 0 ? 1 : Integer.parseInt(part.substring(dash + 1)) - Integer.parseInt(part.substring(0, dash)) + 1;
        }
        if (n < 1) {
            throw new IllegalArgumentException("no CPUs in '" + list + "'");
        }
        return n;
    }
}
