package io.daxfs.devdax;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a device-DAX character device's size and mapping alignment from sysfs, because the
 * device itself reports neither (fstat gives size 0 and the file cannot be read).
 *
 * <p>Looked up, in order, under the sysfs root (normally {@code /sys}; tests pass a fake tree):
 * <ol>
 *   <li>{@code dev/char/MAJOR:MINOR/} - the canonical link from the device number, present on
 *       every kernel with device-DAX;</li>
 *   <li>{@code bus/dax/devices/NAME/} and {@code class/dax/NAME/} - by device name
 *       (e.g. {@code dax0.0}), for trees where the first is missing.</li>
 * </ol>
 * The first of these directories that has a {@code size} file is used, and its {@code align}
 * file gives the alignment; kernels before 5.10 have no {@code align} and always use 2 MiB.
 */
public final class SysfsProbe {
    /** Device-DAX alignment when sysfs does not say (the kernel's default). */
    public static final long DEFAULT_ALIGNMENT = 2L << 20;

    /**
     * What sysfs says about one device.
     *
     * @param size      bytes the device can map
     * @param alignment mappings must be a multiple of this and start on it (power of two)
     * @param source    the sysfs directory the numbers came from, for messages
     */
    public record Geometry(long size, long alignment, Path source) {
    }

    private final Path root;

    /** @param root the sysfs mount point, {@code /sys} on a real system */
    public SysfsProbe(Path root) {
        this.root = root;
    }

    public static SysfsProbe system() {
        return new SysfsProbe(Path.of("/sys"));
    }

    public Path root() {
        return root;
    }

    /** Probes a character device, finding its device number with {@code unix:rdev}. */
    public Geometry probe(Path device) throws DeviceException {
        long rdev;
        try {
            rdev = ((Number) Files.getAttribute(device, "unix:rdev")).longValue();
        } catch (IOException | UnsupportedOperationException e) {
            throw new DeviceException(DeviceException.Reason.IO,
                    "cannot read the device number of " + device + ": " + e.getMessage(), e);
        }
        return probe(device, major(rdev), minor(rdev));
    }

    /** Probes the device {@code major:minor}, whose path is {@code device} (for its name and messages). */
    public Geometry probe(Path device, int major, int minor) throws DeviceException {
        List<Path> candidates = new ArrayList<>();
        candidates.add(root.resolve("dev/char/" + major + ":" + minor));
        Path name = deviceName(device);
        if (name != null) {
            candidates.add(root.resolve("bus/dax/devices").resolve(name.toString()));
            candidates.add(root.resolve("class/dax").resolve(name.toString()));
        }
        for (Path dir : candidates) {
            Path sizeFile = dir.resolve("size");
            String sizeText = readIfPresent(device, sizeFile);
            if (sizeText == null) {
                continue;
            }
            long size = parseNumber(device, sizeFile, sizeText, "size");
            Path alignFile = dir.resolve("align");
            String alignText = readIfPresent(device, alignFile);
            long alignment = alignText == null ? DEFAULT_ALIGNMENT
                    : parseNumber(device, alignFile, alignText, "alignment");
            if (alignment < 4096 || Long.bitCount(alignment) != 1) {
                throw new DeviceException(DeviceException.Reason.IO, "cannot use " + device + ": " + alignFile
                        + " gives alignment " + alignment + ", which is not a power of two of at least 4096");
            }
            return new Geometry(size, alignment, dir);
        }
        StringBuilder tried = new StringBuilder();
        for (Path dir : candidates) {
            tried.append(tried.isEmpty() ? "" : ", ").append(dir.resolve("size"));
        }
        throw new DeviceException(DeviceException.Reason.NOT_A_DEVICE, device + " is a character device ("
                + major + ":" + minor + ") but not a device-DAX device: sysfs has no size for it (looked for "
                + tried + ")");
    }

    /** The kernel device name (dax0.0), seen through a symbolic link such as /dev/pmem-fast. */
    private static Path deviceName(Path device) {
        try {
            return device.toRealPath().getFileName();
        } catch (IOException e) {
            return device.getFileName();
        }
    }

    private static String readIfPresent(Path device, Path file) throws DeviceException {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            return null;
        } catch (AccessDeniedException e) {
            throw new DeviceException(DeviceException.Reason.PERMISSION_DENIED,
                    "cannot read " + file + " to find the geometry of " + device + ": permission denied", e);
        } catch (IOException e) {
            if (Files.isDirectory(file)) {
                return null;
            }
            throw new DeviceException(DeviceException.Reason.IO,
                    "cannot read " + file + " to find the geometry of " + device + ": " + e.getMessage(), e);
        }
    }

    private static long parseNumber(Path device, Path file, String text, String what) throws DeviceException {
        String trimmed = text.strip();
        try {
            if (!trimmed.isEmpty() && trimmed.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return Long.parseLong(trimmed);
            }
        } catch (NumberFormatException e) {
            // too many digits: reported below like any other garbage
        }
        String shown = trimmed.length() > 40 ? trimmed.substring(0, 40) + "..." : trimmed;
        throw new DeviceException(DeviceException.Reason.IO, "cannot determine the " + what + " of " + device
                + ": " + file + " contains '" + shown + "', expected a decimal number of bytes");
    }

    /** The major number of a Linux dev_t (glibc's gnu_dev_major). */
    static int major(long rdev) {
        return (int) (((rdev >>> 8) & 0xfffL) | ((rdev >>> 32) & ~0xfffL));
    }

    /** The minor number of a Linux dev_t (glibc's gnu_dev_minor). */
    static int minor(long rdev) {
        return (int) ((rdev & 0xffL) | ((rdev >>> 12) & ~0xffL));
    }
}
