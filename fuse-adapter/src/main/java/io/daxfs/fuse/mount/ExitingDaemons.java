package io.daxfs.fuse.mount;

import io.daxfs.devdax.DeviceException;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * umount(2) of a FUSE mount returns as soon as the kernel has let go of it, before the daemon
 * that served it has closed the device and released its lock; a mount of the same device
 * right after it (xfstests' cycle mounts, a script's umount-then-mount) found the device "in
 * use". {@link #open} waits for such a daemon, up to {@link #WAIT_NANOS}: a daxfs daemon of
 * the same device that no longer has a mount of it in its own mount namespace. A daemon that
 * still serves a mount is really using the device: the open fails at once.
 */
public final class ExitingDaemons {
    private static final Logger LOG = LoggerFactory.getLogger(ExitingDaemons.class);
    /** The daemon's main class, as its command line names it. */
    static final String DAEMON_MAIN = "io.daxfs.fuse.cli.DaemonMain";
    static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);

    private ExitingDaemons() {
    }

    /** {@link DeviceOpener#open}, waiting while an exiting daemon of {@code target} still holds it. */
    public static OpenedDevice open(Path target, DeviceOptions options) throws DeviceException {
        long deadline = System.nanoTime() + WAIT_NANOS;
        List<ProcessHandle> exiting = List.of();
        while (true) {
            try {
                return DeviceOpener.open(target, options);
            } catch (DeviceException e) {
                if (e.reason() != DeviceException.Reason.IN_USE || System.nanoTime() - deadline > 0) {
                    throw e;
                }
                // A daemon in the last steps of its exit has no command line left to read but
                // still holds the device until its descriptors close: once seen, wait for the
                // process itself.
                if (exiting.stream().noneMatch(ProcessHandle::isAlive)) {
                    boolean first = exiting.isEmpty();
                    exiting = exitingDaemonsOf(target);
                    if (exiting.isEmpty()) {
                        throw e;
                    }
                    if (first) {
                        LOG.info("{} is still held by a daxfs daemon that has unmounted it (pid {}); waiting for it "
                                + "to exit", target, exiting.getFirst().pid());
                    }
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /**
     * The other daxfs daemons of {@code target} (their command line: the daemon's main class,
     * then the device), if none of them has a mount of it (the mount's source is the device's
     * path) in its own mount namespace; else none (the device is really in use).
     */
    static List<ProcessHandle> exitingDaemonsOf(Path target) {
        Set<String> names = new HashSet<>();
        names.add(target.toAbsolutePath().normalize().toString());
        try {
            names.add(target.toRealPath().toString());
        } catch (IOException e) {
            // the absolute path is all there is
        }
        long self = ProcessHandle.current().pid();
        List<ProcessHandle> found = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"),
                p -> p.getFileName().toString().chars().allMatch(Character::isDigit))) {
            for (Path proc : procs) {
                long pid = Long.parseLong(proc.getFileName().toString());
                if (pid == self || !isDaemonOf(proc, names)) {
                    continue;
                }
                if (mounts(proc, names)) {
                    return List.of(); // it serves a mount of the device: in use
                }
                ProcessHandle.of(pid).ifPresent(found::add);
            }
        } catch (IOException e) {
            return List.of();
        }
        return found;
    }

    private static boolean isDaemonOf(Path proc, Set<String> names) {
        byte[] cmdline;
        try {
            cmdline = Files.readAllBytes(proc.resolve("cmdline"));
        } catch (IOException e) {
            return false; // gone, or not ours to read
        }
        String[] args = new String(cmdline, StandardCharsets.UTF_8).split("\0");
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(DAEMON_MAIN)) {
                return names.contains(args[i + 1]);
            }
        }
        return false;
    }

    private static boolean mounts(Path proc, Set<String> names) {
        try {
            return MountTable.entries(proc.resolve("mountinfo")).stream().anyMatch(e -> names.contains(e.source()));
        } catch (RuntimeException e) {
            return true; // cannot tell: treat it as serving (no wait)
        }
    }
}
