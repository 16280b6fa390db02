package io.daxfs.lease;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * The reader of {@code scripts/bench}'s lease section: reads a file one way and prints one JSON
 * line. The same loops for every way, so the ways compare fairly:
 * <ul>
 * <li>{@code lease}: the file's range mapped from the device through a read lease ({@link DaxLease});</li>
 * <li>{@code image}: the same device range mapped without a lease - the lease tells where the file
 *     lives ({@link DaxLease#describe}) and is released, then the device or image file itself is
 *     mapped there with {@link FileChannel#map}: the same memory as {@code lease}, with none of
 *     the lease's machinery, so the two differ only by what the lease adds;</li>
 * <li>{@code mmap}: a shared read-only mapping of the file itself (of the mount, or of tmpfs);</li>
 * <li>{@code read}: pread(2) of the file into a private buffer.</li>
 * </ul>
 * {@code seq} copies the whole file once, 1 MiB at a time, into a private buffer; {@code rand}
 * copies 4 KiB blocks from random 4 KiB-aligned offsets for {@code seconds} (or 4 GiB of reads: with 2 MiB
 * pages 1 GiB took a tenth of a second, too short a run to compare).
 * Both start from a fresh mapping or descriptor (the caller drops the file's page cache first),
 * so first-touch costs count (page faults, and FUSE READs for the mount). Taking the lease, or
 * opening and mapping the file, comes first and is reported apart ({@code setup_ms}); then the
 * loops are warmed up on private memory - which also lets the JIT finish what the setup gave
 * it, on a machine with few CPUs - and only then the clock starts; it stops when the loop ends,
 * and unmapping or releasing is reported apart too ({@code teardown_ms}). The page cache each
 * adds is the change of "Cached" in /proc/meminfo around the timed part (system-wide: other
 * activity shows up in it too). For the mapping ways, before unmapping, /proc/self/smaps tells
 * how much of the mapping was resident ({@code resident_mib}) and how much of that was mapped
 * with 2 MiB pages ({@code pmd_mapped_mib}: ShmemPmdMapped + FilePmdMapped) - whether the run
 * used huge pages.
 *
 * <pre>java -cp daxfs.jar io.daxfs.lease.LeaseReadBench lease|image|mmap|read seq|rand FILE [SECONDS]</pre>
 */
public final class LeaseReadBench {
    private static final int CHUNK = 1 << 20;
    private static final int BLOCK = 4096;
    /** Most bytes a random run reads. */
    private static final long RANDOM_LIMIT = 4L << 30;

    private LeaseReadBench() {
    }

    /** What one run measured. */
    private static final class Run {
        long setupNanos;
        long nanos;
        long bytes;
        long cachedBefore;
        long cachedAfter;
        /** When the measuring ended (after smaps): from here to the unmapping's end is teardown. */
        long measured;
        long sink;
        Smaps.Usage usage = new Smaps.Usage(-1, -1);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: LeaseReadBench lease|image|mmap|read seq|rand FILE [SECONDS]");
            System.exit(2);
        }
        String way = args[0];
        boolean seq = args[1].equals("seq");
        Path file = Path.of(args[2]);
        double seconds = args.length > 3 ? Double.parseDouble(args[3]) : 5;
        long size = Files.size(file);
        Run run = new Run();
        long setup0 = System.nanoTime();
        long closed;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(CHUNK, 4096);
            switch (way) {
                case "lease" -> {
                    try (DaxLease lease = DaxLease.take(file, DaxLease.Mode.READ, 0, 0)) {
                        time(run, setup0, lease.segment(), buffer, seq, seconds);
                    }
                }
                case "image" -> {
                    DaxLease.Piece range;
                    Path device;
                    try (DaxLease lease = DaxLease.describe(file, DaxLease.Mode.READ, 0, 0)) {
                        range = oneRange(lease);
                        device = lease.device().path();
                    } // released: what follows is a plain mapping of the device
                    if (Files.isRegularFile(device)) {
                        try (FileChannel c = FileChannel.open(device, StandardOpenOption.READ); Arena map = Arena.ofShared()) {
                            time(run, setup0, c.map(FileChannel.MapMode.READ_ONLY, range.deviceOffset(), range.length(), map),
                                    buffer, seq, seconds);
                        }
                    } else { // device-DAX, which FileChannel.map refuses: mmap(2) itself, same flags
                        int fd = Native.open(device.toString(), Native.O_RDONLY);
                        long at = Native.mmap(0, range.length(), Native.PROT_READ, Native.MAP_SHARED, fd, range.deviceOffset());
                        try {
                            time(run, setup0, MemorySegment.ofAddress(at).reinterpret(range.length()), buffer, seq, seconds);
                        } finally {
                            Native.munmap(at, range.length());
                            Native.close(fd);
                        }
                    }
                }
                case "mmap" -> {
                    try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ); Arena map = Arena.ofShared()) {
                        time(run, setup0, c.map(FileChannel.MapMode.READ_ONLY, 0, size, map), buffer, seq, seconds);
                    }
                }
                case "read" -> {
                    try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
                        run.setupNanos = System.nanoTime() - setup0;
                        warmUp();
                        run.cachedBefore = cachedKib();
                        long t0 = System.nanoTime();
                        run.bytes = seq ? sequentialRead(c, buffer, size) : randomRead(c, buffer, size, seconds, t0);
                        run.nanos = System.nanoTime() - t0;
                        run.cachedAfter = cachedKib();
                        run.sink = buffer.get(ValueLayout.JAVA_LONG, 0);
                        run.measured = System.nanoTime();
                    }
                }
                default -> throw new IllegalArgumentException("way " + way);
            }
            closed = System.nanoTime(); // the mapping is unmapped, the lease released, the file closed
        }
        long teardownNanos = closed - run.measured;
        double mibs = run.bytes / 1048576.0 / (run.nanos / 1e9);
        System.out.printf(Locale.ROOT,
                "{\"way\": \"%s\", \"mode\": \"%s\", \"bytes\": %d, \"seconds\": %.3f, \"mib_s\": %.1f, \"iops\": %.0f, "
                        + "\"setup_ms\": %.1f, \"teardown_ms\": %.1f, \"cached_added_mib\": %.1f, "
                        + "\"resident_mib\": %.1f, \"pmd_mapped_mib\": %.1f, \"sink\": %d}%n",
                way, seq ? "seq" : "rand", run.bytes, run.nanos / 1e9, mibs, seq ? 0 : run.bytes / BLOCK / (run.nanos / 1e9),
                run.setupNanos / 1e6, teardownNanos / 1e6, (run.cachedAfter - run.cachedBefore) / 1024.0,
                mib(run.usage.residentKib()), mib(run.usage.pmdMappedKib()), run.sink & 1);
    }

    /** KiB as MiB; -1 (unknown, or no mapping) stays -1. */
    private static double mib(long kib) {
        return kib < 0 ? -1 : kib / 1024.0;
    }

    /**
     * The timed part of a mapping way: {@code s} is mapped (setup ends), the loops are warmed
     * up, the clock runs over one loop, then smaps tells what backed the mapping. The caller's
     * unmapping afterwards counts as teardown (from here to the end of main).
     */
    private static void time(Run run, long setup0, MemorySegment s, MemorySegment buffer, boolean seq, double seconds)
            throws IOException {
        run.setupNanos = System.nanoTime() - setup0;
        warmUp();
        run.cachedBefore = cachedKib();
        long t0 = System.nanoTime();
        run.bytes = seq ? sequential(s, buffer) : random(s, buffer, seconds, t0);
        run.nanos = System.nanoTime() - t0;
        run.cachedAfter = cachedKib();
        run.sink = buffer.get(ValueLayout.JAVA_LONG, 0);
        run.usage = Smaps.usage(s.address(), s.byteSize());
        run.measured = System.nanoTime();
    }

    /**
     * The lease's extents as one device range: the {@code image} way maps one range, so the
     * file must live in device-contiguous extents with no holes (a file fallocated on a fresh
     * file system does).
     */
    static DaxLease.Piece oneRange(DaxLease lease) {
        DaxLease.Piece range = null;
        for (DaxLease.Piece p : lease.pieces()) {
            if (range == null && p.fileOffset() == lease.offset()) {
                range = p;
            } else if (range != null && p.fileOffset() == range.fileOffset() + range.length()
                    && p.deviceOffset() == range.deviceOffset() + range.length()) {
                range = new DaxLease.Piece(range.fileOffset(), range.deviceOffset(), range.length() + p.length());
            } else {
                throw new IllegalArgumentException("the image way needs a file in one device range without holes; "
                        + lease.file() + " has " + lease.pieces());
            }
        }
        if (range == null || range.length() != lease.length()) {
            throw new IllegalArgumentException("the image way needs a file without holes; " + lease.file() + " has "
                    + lease.pieces() + " for " + lease.length() + " bytes");
        }
        return range;
    }

    /** Copies the whole segment through the buffer, 1 MiB at a time. */
    static long sequential(MemorySegment s, MemorySegment buffer) {
        long size = s.byteSize();
        for (long at = 0; at < size; at += CHUNK) {
            MemorySegment.copy(s, at, buffer, 0, Math.min(CHUNK, size - at));
        }
        return size;
    }

    /** 4 KiB copies from random aligned offsets until {@code seconds} pass or RANDOM_LIMIT bytes are read. */
    static long random(MemorySegment s, MemorySegment buffer, double seconds, long t0) {
        long blocks = s.byteSize() / BLOCK;
        long deadline = t0 + (long) (seconds * 1e9);
        long x = 0x9E3779B97F4A7C15L;
        long done = 0;
        for (long n = 0; n < RANDOM_LIMIT / BLOCK; n++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            long at = Math.floorMod(x, blocks) * BLOCK;
            MemorySegment.copy(s, at, buffer, (n & 255) * BLOCK, BLOCK);
            done += BLOCK;
            if ((n & 1023) == 0 && System.nanoTime() > deadline) {
                break;
            }
        }
        return done;
    }

    static long sequentialRead(FileChannel c, MemorySegment buffer, long size) throws IOException {
        ByteBuffer b = buffer.asByteBuffer();
        long done = 0;
        while (done < size) {
            b.clear();
            int n = c.read(b, done);
            if (n <= 0) {
                break;
            }
            done += n;
        }
        return done;
    }

    static long randomRead(FileChannel c, MemorySegment buffer, long size, double seconds, long t0) throws IOException {
        long blocks = size / BLOCK;
        long deadline = t0 + (long) (seconds * 1e9);
        long x = 0x9E3779B97F4A7C15L;
        long done = 0;
        ByteBuffer b = buffer.asSlice(0, BLOCK).asByteBuffer();
        for (long n = 0; n < RANDOM_LIMIT / BLOCK; n++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            b.clear();
            done += c.read(b, Math.floorMod(x, blocks) * BLOCK);
            if ((n & 1023) == 0 && System.nanoTime() > deadline) {
                break;
            }
        }
        return done;
    }

    /** Runs the copy loops on private memory first, so the timed part runs compiled code. */
    private static void warmUp() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = a.allocate(64L << 20, 4096);
            MemorySegment buf = a.allocate(CHUNK, 4096);
            for (int i = 0; i < 20; i++) {
                sequential(src, buf);
                random(src, buf, 0.02, System.nanoTime());
            }
        }
    }

    private static long cachedKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("Cached:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }
}
