package io.daxfs.fuse.kernel;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.devdax.DeviceKind;
import io.daxfs.devdax.OpenedDevice;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The device or image a mount lives on, as lease clients are told of it (docs/leases.md, DEVICE):
 * the path the daemon opened, what it is, how mmap offsets must be aligned, and its identity
 * taken when the mount started, so that a client - and the daemon before each grant - can tell
 * the path still names the same file.
 *
 * @param mapAlign the offset granularity mmap of the device accepts: a page for an image file,
 *                 the device's alignment for device-DAX
 */
public record LeaseDevice(Path path, boolean devdax, long mapAlign, long size, long devMajor, long devMinor, long ino,
                          long rdevMajor, long rdevMinor) {
    static final long PAGE = 4096;

    /** Describes the device the daemon opened. */
    public static LeaseDevice of(OpenedDevice device) {
        Path path = device.path().toAbsolutePath().normalize();
        boolean devdax = device.kind() != DeviceKind.REGULAR_FILE;
        Map<String, Object> a = attributes(path);
        long dev = (Long) a.get("dev");
        long rdev = (Long) a.get("rdev");
        return new LeaseDevice(path, devdax, devdax ? Math.max(PAGE, device.alignment()) : PAGE, device.size(),
                major(dev), minor(dev), (Long) a.get("ino"), major(rdev), minor(rdev));
    }

    /**
     * Whether a caller with {@code uid}, {@code gid} and supplementary {@code groups} may open the
     * device for reading, or reading and writing, by its current mode bits and owner (root may).
     *
     * @throws FsException ESTALE if the path no longer names the device the daemon mapped
     */
    boolean mayOpen(int uid, int gid, int[] groups, boolean write) {
        Map<String, Object> a = attributes(path);
        long dev = (Long) a.get("dev");
        long rdev = (Long) a.get("rdev");
        boolean same = devdax ? major(rdev) == rdevMajor && minor(rdev) == rdevMinor
                : major(dev) == devMajor && minor(dev) == devMinor && (Long) a.get("ino") == ino;
        if (!same) {
            throw new FsException(Errno.ESTALE, path + " no longer names the device this daemon mapped");
        }
        if (uid == 0) {
            return true;
        }
        int mode = (Integer) a.get("mode");
        int owner = (Integer) a.get("uid");
        int group = (Integer) a.get("gid");
        int bits;
        if (uid == owner) {
            bits = mode >> 6;
        } else if (gid == group || contains(groups, group)) {
            bits = mode >> 3;
        } else {
            bits = mode;
        }
        int need = write ? 6 : 4;
        return (bits & need) == need;
    }

    private static boolean contains(int[] groups, int g) {
        for (int x : groups) {
            if (x == g) {
                return true;
            }
        }
        return false;
    }

    private static Map<String, Object> attributes(Path path) {
        try {
            return Files.readAttributes(path, "unix:dev,ino,rdev,mode,uid,gid");
        } catch (IOException | UnsupportedOperationException e) {
            throw new FsException(Errno.ESTALE, "cannot stat " + path + ": " + e.getMessage());
        }
    }

    /** glibc's gnu_dev_major of a dev_t. */
    static long major(long dev) {
        return ((dev >>> 8) & 0xfff) | ((dev >>> 32) & 0xfffff000L);
    }

    /** glibc's gnu_dev_minor of a dev_t. */
    static long minor(long dev) {
        return (dev & 0xff) | ((dev >>> 12) & 0xffffff00L);
    }
}
