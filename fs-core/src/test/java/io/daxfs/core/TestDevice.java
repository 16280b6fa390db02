package io.daxfs.core;

import io.daxfs.core.base.FormatOptions;
import io.daxfs.core.base.MountSettings;
import io.daxfs.devdax.DeviceException;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.devdax.PmemRegion;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/**
 * A real mapped image file holding a daxfs, for tests: creates a sparse image (on /dev/shm when
 * it is writable, else in java.io.tmpdir), formats it and mounts it. {@link #remount()} closes
 * the file system and the mapping and reopens the same file; {@link #crashRemount()} abandons
 * the mounted instance without calling it again (no {@code close()}), unmaps and remounts -
 * what a process death looks like to the image, since the mapping is shared.
 *
 * <p>The fixture owns a private temporary directory and deletes it on {@link #close()}.
 * Reusable by other modules through the fs-core test-jar.
 */
public final class TestDevice implements AutoCloseable {
    public static final long MIB = 1L << 20;

    private final Path dir;
    private final boolean ownsDir;
    private final Path image;
    private OpenedDevice device;
    private DaxFileSystem fs;

    private TestDevice(Path dir, boolean ownsDir, Path image) {
        this.dir = dir;
        this.ownsDir = ownsDir;
        this.image = image;
    }

    /** A formatted and mounted file system of {@code size} bytes with default options. */
    public static TestDevice create(long size) {
        return create(size, FormatOptions.defaults());
    }

    /** A formatted and mounted file system of {@code size} bytes. */
    public static TestDevice create(long size, FormatOptions options) {
        return init(newTempDir(), true, size, options);
    }

    /** Same, with the image in {@code dir} (e.g. a JUnit {@code @TempDir}), which is not deleted. */
    public static TestDevice createIn(Path dir, long size, FormatOptions options) {
        return init(dir, false, size, options);
    }

    private static TestDevice init(Path dir, boolean ownsDir, long size, FormatOptions options) {
        TestDevice d = new TestDevice(dir, ownsDir, dir.resolve("daxfs-" + System.nanoTime() + ".img"));
        try {
            d.device = open(d.image, size);
            DaxFileSystem.format(d.device.region(), options);
            d.fs = DaxFileSystem.mount(d.device.region());
            return d;
        } catch (RuntimeException | Error e) {
            d.close();
            throw e;
        }
    }

    /** A fresh private temporary directory, on /dev/shm when possible. Caller deletes it. */
    public static Path newTempDir() {
        try {
            Path shm = Path.of("/dev/shm");
            if (Files.isDirectory(shm) && Files.isWritable(shm)) {
                return Files.createTempDirectory(shm, "daxfs-core-test-");
            }
            return Files.createTempDirectory("daxfs-core-test-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Opens (creating sparse when missing) an image file of {@code size} bytes. */
    public static OpenedDevice open(Path image, long size) {
        try {
            return DeviceOpener.open(image, DeviceOptions.builder().createSize(size).build());
        } catch (DeviceException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Opens an existing image file. */
    public static OpenedDevice openExisting(Path image) {
        try {
            return DeviceOpener.open(image, DeviceOptions.defaults());
        } catch (DeviceException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ accessors

    /** The mounted file system; throws if unmounted. */
    public DaxFileSystem fs() {
        if (fs == null) {
            throw new IllegalStateException("not mounted");
        }
        return fs;
    }

    public PmemRegion region() {
        return device.region();
    }

    public OpenedDevice device() {
        return device;
    }

    /** The image file. */
    public Path image() {
        return image;
    }

    /** The private temporary directory the image lives in. */
    public Path directory() {
        return dir;
    }

    // ------------------------------------------------------------------ mount cycle

    /** Clean unmount: closes the file system and the mapping. */
    public void unmount() {
        if (fs != null) {
            fs.close();
            fs = null;
        }
        closeDevice();
    }

    /** Opens the image again and mounts it. */
    public DaxFileSystem mount() {
        return mount(MountSettings.defaults());
    }

    /**
     * Opens the image again and mounts it with {@code settings}; a read-only mount opens the
     * image read-only, with a private copy-on-write mapping (nothing reaches the file).
     */
    public DaxFileSystem mount(MountSettings settings) {
        if (device != null) {
            throw new IllegalStateException("already mounted");
        }
        try {
            device = settings.readOnly()
                    ? DeviceOpener.open(image, DeviceOptions.builder().readOnly(true).privateMapping(true).build())
                    : openExisting(image);
        } catch (DeviceException e) {
            throw new UncheckedIOException(e);
        }
        try {
            fs = DaxFileSystem.mount(device.region(), settings);
        } catch (RuntimeException e) {
            closeDevice();
            throw e;
        }
        return fs;
    }

    /** Clean unmount, then mount the same file again. */
    public DaxFileSystem remount() {
        unmount();
        return mount();
    }

    /** Clean unmount, then mount the same file again with {@code settings}. */
    public DaxFileSystem remount(MountSettings settings) {
        unmount();
        return mount(settings);
    }

    /**
     * Drops the mounted instance without calling it again (not even {@code close()}), unmaps
     * the image and mounts it afresh: recovery runs on exactly the bytes the instance left.
     */
    public DaxFileSystem crashRemount() {
        fs = null;
        closeDevice();
        return mount();
    }

    private void closeDevice() {
        if (device != null) {
            device.close();
            device = null;
        }
    }

    /** The whole image as it is now (through the mapping when mounted, else from the file). */
    public byte[] imageBytes() {
        if (device != null) {
            return device.region().readView().toArray(ValueLayout.JAVA_BYTE);
        }
        try {
            return Files.readAllBytes(image);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            unmount();
        } finally {
            if (ownsDir) {
                deleteTree(dir);
            } else if (image != null) {
                try {
                    Files.deleteIfExists(image);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    // ------------------------------------------------------------------ data helpers

    /**
     * The seed of a randomized test: {@code -Ddaxfs.seed=N} replays a run, otherwise a fresh
     * random one. Printed either way, so a failure can be reproduced.
     */
    public static long seed(String test) {
        String fixed = System.getProperty("daxfs.seed");
        long seed = fixed != null && !fixed.isBlank() ? Long.parseLong(fixed.strip()) : new java.util.Random().nextLong();
        System.out.println(test + " seed=" + seed + " (replay with -Ddaxfs.seed=" + seed + ")");
        return seed;
    }

    /** Writes all of {@code data} at {@code offset}; asserts the whole length was taken. */
    public static void write(DaxFileSystem fs, long ino, long offset, byte[] data) {
        int n = fs.write(ino, offset, MemorySegment.ofArray(data), 0, data.length);
        if (n != data.length) {
            throw new AssertionError("short write: " + n + " of " + data.length);
        }
    }

    /** Reads up to {@code length} bytes at {@code offset}; the array has the length read. */
    public static byte[] read(DaxFileSystem fs, long ino, long offset, int length) {
        byte[] buf = new byte[length];
        int n = fs.read(ino, offset, MemorySegment.ofArray(buf), 0, length);
        return n == length ? buf : java.util.Arrays.copyOf(buf, n);
    }

    /** The whole content of a file. */
    public static byte[] readAll(DaxFileSystem fs, long ino) {
        long size = fs.getattr(ino).size();
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("file too large to read whole: " + size);
        }
        return read(fs, ino, 0, (int) size);
    }

    /** Deterministic, position-dependent bytes: {@code pattern(seed, off)} is the byte at {@code off}. */
    public static byte pattern(long seed, long offset) {
        long x = (offset + 1) * 0x9E3779B97F4A7C15L ^ seed * 0xC2B2AE3D27D4EB4FL;
        x ^= x >>> 29;
        x *= 0xBF58476D1CE4E5B9L;
        x ^= x >>> 32;
        return (byte) x;
    }

    public static byte[] pattern(long seed, long offset, int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = pattern(seed, offset + i);
        }
        return b;
    }
}
