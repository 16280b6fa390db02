package io.daxfs.bench;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.devdax.DeviceException;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.devdax.PersistenceMode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/**
 * A formatted and mounted file system on a sparse image file in a private directory under
 * /dev/shm (java.io.tmpdir if /dev/shm is not writable), as fs-core's TestDevice does; kept
 * here so that building the benchmarks does not need fs-core's test classes.
 */
final class FsFixture implements AutoCloseable {
    static final long MIB = 1L << 20;
    static final int FILE_MODE = 0644;

    private final Path dir;
    private final OpenedDevice device;
    private final DaxFileSystem fs;

    private FsFixture(Path dir, OpenedDevice device, DaxFileSystem fs) {
        this.dir = dir;
        this.device = device;
        this.fs = fs;
    }

    /** Creates, formats and mounts an image of {@code bytes} with {@code inodes} inodes. */
    static FsFixture mount(long bytes, long inodes) {
        Path dir = null;
        OpenedDevice device = null;
        try {
            Path shm = Path.of("/dev/shm");
            dir = Files.isDirectory(shm) && Files.isWritable(shm)
                    ? Files.createTempDirectory(shm, "daxfs-bench-")
                    : Files.createTempDirectory("daxfs-bench-");
            device = DeviceOpener.open(dir.resolve("image"), DeviceOptions.builder().createSize(bytes).build());
            DaxFileSystem.format(device.region(), new FormatOptions(inodes, "bench", 0, 0));
            return new FsFixture(dir, device, DaxFileSystem.mount(device.region()));
        } catch (DeviceException e) {
            cleanUp(dir, device);
            throw new IllegalStateException("cannot open the benchmark image: " + e.getMessage(), e);
        } catch (IOException e) {
            cleanUp(dir, device);
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            cleanUp(dir, device);
            throw e;
        }
    }

    DaxFileSystem fs() {
        return fs;
    }

    /** How the image's stores are made durable (VOLATILE on tmpfs: flushes are free). */
    PersistenceMode persistenceMode() {
        return device.persistenceMode();
    }

    /** Closes the file system and the mapping and deletes the image and its directory. */
    @Override
    public void close() {
        try {
            fs.close();
        } finally {
            cleanUp(dir, device);
        }
    }

    private static void cleanUp(Path dir, OpenedDevice device) {
        if (device != null) {
            device.close();
        }
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

    /** A page-aligned off-heap buffer of {@code bytes} filled with a non-zero pattern. */
    static MemorySegment buffer(Arena arena, long bytes) {
        MemorySegment s = arena.allocate(bytes, 4096);
        for (long i = 0; i + 8 <= bytes; i += 8) {
            s.set(ValueLayout.JAVA_LONG_UNALIGNED, i, 0x9E3779B97F4A7C15L * (i + 1));
        }
        return s;
    }

    /** Writes {@code length} bytes of the pattern at [0, length) with 1 MiB writes. */
    static void fill(DaxFileSystem fs, long ino, long length) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = buffer(arena, MIB);
            for (long off = 0; off < length; off += MIB) {
                int n = (int) Math.min(MIB, length - off);
                if (fs.write(ino, off, buf, 0, n) != n) {
                    throw new IllegalStateException("short write");
                }
            }
        }
    }
}
