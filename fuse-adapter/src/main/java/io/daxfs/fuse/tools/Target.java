package io.daxfs.fuse.tools;

import io.daxfs.fuse.mount.MountTable;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * What a tool's TARGET|MOUNT argument names: a device or image (as given), or the mount point
 * of a daxfs, which stands for the device mounted there. Knows where the device is mounted and
 * which daemon serves it.
 *
 * @param device     the device or image file
 * @param mountPoint where it is mounted (a fuse.daxfs mount whose source is the device), or null
 * @param daemonPid  the process that serves that mount (it has the device and /dev/fuse open)
 */
public record Target(Path device, Path mountPoint, OptionalLong daemonPid) {
    public static final String FS_TYPE = "fuse.daxfs";

    public boolean mounted() {
        return mountPoint != null;
    }

    /**
     * Resolves a TARGET or MOUNT argument.
     *
     * @throws ToolException if it does not exist, or is a directory that is no daxfs mount point
     */
    public static Target resolve(Path arg) throws ToolException {
        if (!Files.exists(arg)) {
            throw new ToolException(arg + " does not exist");
        }
        Path real = canonical(arg);
        if (Files.isDirectory(arg)) {
            MountTable.Entry mount = MountTable.find(real).orElse(null);
            if (mount == null || !mount.fsType().equals(FS_TYPE)) {
                throw new ToolException(arg + " is a directory, not a device, an image file or the mount point of a daxfs"
                        + (mount == null ? "" : " (" + mount.fsType() + " is mounted there)"));
            }
            Path device = Path.of(mount.source());
            return new Target(device, real, daemonOf(device));
        }
        for (MountTable.Entry e : MountTable.entries()) {
            if (e.fsType().equals(FS_TYPE) && canonical(Path.of(e.source())).equals(real)) {
                return new Target(arg, Path.of(e.mountPoint()), daemonOf(arg));
            }
        }
        return new Target(arg, null, OptionalLong.empty());
    }

    /**
     * The daemon serving {@code device}: a process, other than this one, that has both the
     * device and /dev/fuse open. (Its lock is an open-file-description lock, which /proc/locks
     * does not attribute to a process.)
     */
    static OptionalLong daemonOf(Path device) {
        Path real = canonical(device);
        List<Long> found = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString()
                .chars().allMatch(Character::isDigit))) {
            for (Path proc : procs) {
                long pid = Long.parseLong(proc.getFileName().toString());
                if (pid != self && holds(proc, real)) {
                    found.add(pid);
                }
            }
        } catch (IOException e) {
            return OptionalLong.empty();
        }
        return found.size() == 1 ? OptionalLong.of(found.getFirst()) : OptionalLong.empty();
    }

    private static boolean holds(Path proc, Path device) {
        boolean hasDevice = false;
        boolean hasFuse = false;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
            for (Path fd : fds) {
                Path link;
                try {
                    link = Files.readSymbolicLink(fd);
                } catch (IOException e) {
                    continue; // closed meanwhile
                }
                hasDevice |= link.equals(device);
                hasFuse |= link.toString().equals("/dev/fuse");
                if (hasDevice && hasFuse) {
                    return true;
                }
            }
        } catch (IOException | SecurityException e) {
            return false; // gone, or not ours to look at
        }
        return false;
    }

    /** The absolute, symlink-free path, or the absolute normalized one if it cannot be resolved. */
    static Path canonical(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }
}
