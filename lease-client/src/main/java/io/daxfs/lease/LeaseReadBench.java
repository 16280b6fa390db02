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
 * <li>{@code mmap}: a shared read-only mapping of the file itself (of the mount, or of tmpfs);</li>
 * <li>{@code read}: pread(2) of the file into a private buffer.</li>
 * </ul>
 * {@code seq} copies the whole file once, 1 MiB at a time, into a private buffer; {@code rand}
 * copies 4 KiB blocks from random 4 KiB-aligned offsets for {@code seconds} (or 1 GiB of reads).
 * Both start from a fresh mapping or descriptor (the caller drops the file's page cache first),
 * so first-touch costs count (page faults, and FUSE READs for the mount). Taking the lease, or
 * opening and mapping the file, comes first and is reported apart ({@code setup_ms}); then the
 * loops are warmed up on private memory - which also lets the JIT finish what the setup gave
 * it, on a machine with few CPUs - and only then the clock starts. The page cache each adds
 * is the change of "Cached" in /proc/meminfo around the timed part (system-wide: other
 * activity shows up in it too).
 *
 * <pre>java -cp daxfs.jar io.daxfs.lease.LeaseReadBench lease|mmap|read seq|rand FILE [SECONDS]</pre>
 */
public final class LeaseReadBench {
    private static final int CHUNK = 1 << 20;
    private static final int BLOCK = 4096;

    private LeaseReadBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: LeaseReadBench lease|mmap|read seq|rand FILE [SECONDS]");
            System.exit(2);
        }
        String way = args[0];
        boolean seq = args[1].equals("seq");
        Path file = Path.of(args[2]);
        double seconds = args.length > 3 ? Double.parseDouble(args[3]) : 5;
        long size = Files.size(file);
        long cachedBefore = 0;
        long setup0 = System.nanoTime();
        long setup = 0;
        long t0;
        long bytes;
        long sink;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(CHUNK, 4096);
            switch (way) {
                case "lease" -> {
                    try (DaxLease lease = DaxLease.take(file, DaxLease.Mode.READ, 0, 0)) {
                        MemorySegment s = lease.segment();
                        setup = System.nanoTime() - setup0;
                        warmUp();
                        cachedBefore = cachedKib();
                        t0 = System.nanoTime();
                        bytes = seq ? sequential(s, buffer) : random(s, buffer, seconds, t0);
                        sink = buffer.get(ValueLayout.JAVA_LONG, 0);
                    }
                }
                case "mmap" -> {
                    try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ); Arena map = Arena.ofShared()) {
                        MemorySegment s = c.map(FileChannel.MapMode.READ_ONLY, 0, size, map);
                        setup = System.nanoTime() - setup0;
                        warmUp();
                        cachedBefore = cachedKib();
                        t0 = System.nanoTime();
                        bytes = seq ? sequential(s, buffer) : random(s, buffer, seconds, t0);
                        sink = buffer.get(ValueLayout.JAVA_LONG, 0);
                    }
                }
                case "read" -> {
                    try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
                        setup = System.nanoTime() - setup0;
                        warmUp();
                        cachedBefore = cachedKib();
                        t0 = System.nanoTime();
                        bytes = seq ? sequentialRead(c, buffer, size) : randomRead(c, buffer, size, seconds, t0);
                        sink = buffer.get(ValueLayout.JAVA_LONG, 0);
                    }
                }
                default -> throw new IllegalArgumentException("way " + way);
            }
        }
        long end = System.nanoTime();
        long nanos = end - t0;
        long cachedAfter = cachedKib();
        double mibs = bytes / 1048576.0 / (nanos / 1e9);
        System.out.printf(Locale.ROOT,
                "{\"way\": \"%s\", \"mode\": \"%s\", \"bytes\": %d, \"seconds\": %.3f, \"mib_s\": %.1f, \"iops\": %.0f, "
                        + "\"setup_ms\": %.1f, \"cached_added_mib\": %.1f, \"sink\": %d}%n",
                way, seq ? "seq" : "rand", bytes, nanos / 1e9, mibs, seq ? 0 : bytes / BLOCK / (nanos / 1e9),
                setup / 1e6, (cachedAfter - cachedBefore) / 1024.0, sink & 1);
    }

    /** Copies the whole segment through the buffer, 1 MiB at a time. */
    static long sequential(MemorySegment s, MemorySegment buffer) {
        long size = s.byteSize();
        for (long at = 0; at < size; at += CHUNK) {
            MemorySegment.copy(s, at, buffer, 0, Math.min(CHUNK, size - at));
        }
        return size;
    }

    /** 4 KiB copies from random aligned offsets until {@code seconds} pass or 1 GiB is read. */
    static long random(MemorySegment s, MemorySegment buffer, double seconds, long t0) {
        long blocks = s.byteSize() / BLOCK;
        long deadline = t0 + (long) (seconds * 1e9);
        long x = 0x9E3779B97F4A7C15L;
        long done = 0;
        for (long n = 0; n < (1L << 30) / BLOCK; n++) {
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
        for (long n = 0; n < (1L << 30) / BLOCK; n++) {
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
