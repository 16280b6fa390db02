package io.daxfs.fuse.cli;

import io.daxfs.core.Formatter;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.format.Superblock;
import io.daxfs.devdax.DeviceException;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.ImageFiles;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.fuse.tools.Progress;
import io.daxfs.fuse.tools.Target;
import io.daxfs.fuse.tools.ToolException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "mkfs", mixinStandardHelpOptions = true,
        description = "Make a daxfs on TARGET (a /dev/dax device or an image file; a missing image file is created sparse with --size).")
final class MkfsCommand implements Callable<Integer> {
    /** Devices at least this large get a progress bar (on a terminal): their bitmaps take a moment. */
    static final long PROGRESS_FROM_BYTES = 64L << 30;

    @Parameters(index = "0", paramLabel = "TARGET")
    Path target;

    @Option(names = "--size", paramLabel = "SIZE", description = "Create TARGET as a sparse image of SIZE (e.g. 1G, "
            + "512M) if it does not exist; an existing image file of another size is resized to SIZE (a daxfs on it "
            + "needs --force). A device keeps its size: SIZE must match it.")
    String size;

    @Option(names = "--force", description = "Overwrite an existing daxfs.")
    boolean force;

    @Option(names = "--inodes", paramLabel = "N", description = "Number of inodes, i.e. the most files, directories "
            + "and symlinks the file system can hold (rounded up to a multiple of 16; 256 bytes of the device each; "
            + "at most " + Geometry.MAX_INODES + "). Default: one per 16 KiB of device, at least 1024.")
    Long inodes;

    @Option(names = "--label", paramLabel = "LABEL", description = "Volume label (up to 64 bytes).")
    String label = "";

    @Override
    public Integer call() {
        if (inodes != null && inodes < 1) {
            return DaxfsCommand.fail("mkfs", "--inodes must be at least 1 (got " + inodes + ")");
        }
        long createSize = 0;
        if (size != null) {
            try {
                createSize = ImageFiles.parseSize(size);
            } catch (IllegalArgumentException e) {
                return DaxfsCommand.fail("mkfs", e.getMessage());
            }
            if (createSize < Geometry.MIN_DEVICE_BYTES) {
                return DaxfsCommand.fail("mkfs", "size " + size + " is below the minimum of 16 MiB");
            }
            try {
                Geometry.forDevice(createSize, inodes == null ? 0 : inodes); // before the image is created
            } catch (IllegalArgumentException e) {
                return DaxfsCommand.fail("mkfs", e.getMessage());
            }
        } else if (!Files.exists(target)) {
            return DaxfsCommand.fail("mkfs", target + " does not exist (give --size to create an image file)");
        }
        if (Files.exists(target)) {
            String mounted = mountedProblem(target);
            if (mounted != null) {
                return DaxfsCommand.fail("mkfs", mounted);
            }
        }
        if (size != null && Files.isRegularFile(target)) {
            Integer failed = resizeImage(createSize);
            if (failed != null) {
                return failed;
            }
        }
        DeviceOptions options = DeviceOptions.builder().createSize(createSize)
                .minimumSize(Geometry.MIN_DEVICE_BYTES).build();
        try (OpenedDevice device = DeviceOpener.open(target, options)) {
            if (!device.created() && Superblock.hasMagic(device.region().readView()) && !force) {
                return DaxfsCommand.fail("mkfs", target + " already holds a daxfs; use --force to overwrite it");
            }
            if (size != null && device.size() != createSize) {
                return DaxfsCommand.fail("mkfs", target + " is a device of " + ImageFiles.formatSize(device.size())
                        + ": --size " + size + " cannot change that; leave --size out to use the whole device");
            }
            Superblock sb;
            // the bar counts the metadata mkfs writes (bitmaps mostly), in MiB
            try (Progress bar = device.size() >= PROGRESS_FROM_BYTES ? Progress.start("mkfs", 0, "MiB", 1 << 20)
                    : Progress.none()) {
                sb = Formatter.format(device.region(), new FormatOptions(inodes == null ? 0 : inodes, label, 0, 0),
                        (done, total) -> bar.stepTo(done, total));
            } catch (IllegalArgumentException e) {
                return DaxfsCommand.fail("mkfs", e.getMessage());
            }
            Geometry g = sb.geometry();
            System.out.printf("daxfs: made a file system on %s%n  uuid %s%n  %d blocks of 4 KiB (%s), %d for data, %d inodes%n"
                            + "  journal %d KiB; persistence: %s%n",
                    target, sb.uuid(), g.totalBlocks(), ImageFiles.formatSize(device.size()), g.dataBlocks(),
                    g.inodeCount(), g.journalBytes() >> 10, device.mappingDescription());
            return 0;
        } catch (DeviceException e) {
            if (e.reason() == DeviceException.Reason.IN_USE) {
                return DaxfsCommand.fail("mkfs", target + " is in use by another process (a daxfs daemon?); nothing was written");
            }
            return DaxfsCommand.fail("mkfs", e.getMessage());
        }
    }
    /**
     * --size given for an existing image file of another size: the file becomes that size
     * (grown sparse, or shrunk), after the checks formatting it makes anyway - it is not in use
     * (the device lock), and holds no daxfs unless --force. Returns an exit status if that
     * fails, null to go on.
     */
    private Integer resizeImage(long wanted) {
        long current;
        try {
            current = Files.size(target);
        } catch (java.io.IOException e) {
            return DaxfsCommand.fail("mkfs", "cannot read the size of " + target + ": " + e.getMessage());
        }
        if (current == wanted) {
            return null;
        }
        if (wanted % ImageFiles.SIZE_GRANULE != 0) {
            return DaxfsCommand.fail("mkfs", "cannot resize " + target + " to " + ImageFiles.formatSize(wanted)
                    + ": the size must be a multiple of " + ImageFiles.formatSize(ImageFiles.SIZE_GRANULE));
        }
        try (OpenedDevice device = DeviceOpener.open(target, DeviceOptions.defaults())) {
            if (Superblock.hasMagic(device.region().readView()) && !force) {
                return DaxfsCommand.fail("mkfs", target + " already holds a daxfs (" + ImageFiles.formatSize(current)
                        + "); use --force to overwrite it with one of " + ImageFiles.formatSize(wanted));
            }
        } catch (DeviceException e) {
            // Smaller than any image could be (or unaligned): it holds no daxfs, and no daemon uses it.
            if (e.reason() != DeviceException.Reason.TOO_SMALL && e.reason() != DeviceException.Reason.MISALIGNED) {
                return DaxfsCommand.fail("mkfs", e.getMessage());
            }
        }
        try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(target.toFile(), "rw")) {
            file.setLength(wanted);
        } catch (java.io.IOException e) {
            return DaxfsCommand.fail("mkfs", "cannot resize " + target + " to " + ImageFiles.formatSize(wanted) + ": "
                    + e.getMessage());
        }
        System.out.printf("daxfs: resized %s from %s to %s%n", target, ImageFiles.formatSize(current),
                ImageFiles.formatSize(wanted));
        return null;
    }

    /** Why {@code path} must not be formatted because a daxfs is mounted from it (or at it), or null. */
    static String mountedProblem(Path path) {
        Target t;
        try {
            t = Target.resolve(path);
        } catch (ToolException e) {
            return null; // not a mount point: the opener says what is wrong with it
        }
        if (!t.mounted()) {
            return null;
        }
        String by = t.daemonPid().isPresent() ? " (daemon pid " + t.daemonPid().getAsLong() + ")" : "";
        if (java.nio.file.Files.isDirectory(path)) {
            return path + " is the mount point of " + t.device() + by + "; mkfs takes a device or image, and that one is "
                    + "mounted: unmount it first (umount " + t.mountPoint() + "); nothing was written";
        }
        return path + " is mounted on " + t.mountPoint() + by + ": unmount it first (umount " + t.mountPoint()
                + "); nothing was written";
    }
}
