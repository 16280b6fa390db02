package io.daxfs.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.daxfs.core.stats.Contention;
import io.daxfs.core.stats.LatencyHistogram;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The request path of reads and of writes over allocated blocks allocates nothing on the Java
 * heap (issue 4: "no allocation per request on the read/write path"). The FUSE daemon runs
 * C1-compiled code, which does no escape analysis, so every {@code new} on these paths is a
 * real allocation there; this test counts the bytes the calling thread allocates
 * (com.sun.management.ThreadMXBean) while the code runs in the interpreter and C1, where
 * nothing is optimized away either.
 *
 * <p>What {@code daxfs stat} records on these paths (latency histograms, contention counters)
 * allocates nothing either.
 *
 * <p>The file is larger than the mapping cache covers, and fragmented, so the reads take both
 * the cached and the locked path; holes are read too.
 */
class DataPathAllocationTest {
    private static final int B = 4096;
    private static final long FILE = 40 * MIB;
    private TestDevice dev;
    private DaxFileSystem fs;
    private long ino;
    private Arena arena;
    private MemorySegment buf;

    @BeforeEach
    void setUp() {
        dev = TestDevice.create(128 * MIB);
        fs = dev.fs();
        ino = fs.create(ROOT, "data", 0644, 0, 0);
        arena = Arena.ofConfined();
        buf = arena.allocate(MIB, B);
        for (long off = 0; off < FILE; off += MIB) {
            buf.fill((byte) (off >>> 20));
            fs.write(ino, off, buf, 0, (int) MIB);
        }
        // Holes every 5 MiB: reads cross holes, the block map has several extents.
        for (long off = 3 * MIB; off < FILE; off += 5 * MIB) {
            fs.punchHole(ino, off, 64 * 1024);
        }
    }

    @AfterEach
    void tearDown() {
        arena.close();
        dev.close();
    }

    @Test
    void counterCountsAnAllocation() {
        // The instrument itself: a run that allocates must show up.
        long n = Allocations.leastAllocatedBy(() -> blackhole = new byte[1000]);
        assertTrue(n >= 1000, "allocation counter works: " + n);
    }

    private static Object blackhole;

    @Test
    void randomReadsAllocateNothing() {
        long n = Allocations.leastAllocatedBy(() -> {
            SplittableRandom rnd = new SplittableRandom(42);
            for (int i = 0; i < 2000; i++) {
                long off = rnd.nextLong(FILE / B) * B;
                int got = fs.read(ino, off, buf, 0, B);
                assertEquals(B, got);
            }
        });
        assertEquals(0, n - randomBytes(), "bytes allocated by 2,000 random 4 KiB reads");
    }

    @Test
    void largeSequentialReadsAcrossHolesAllocateNothing() {
        long n = Allocations.leastAllocatedBy(() -> {
            for (long off = 0; off < FILE; off += MIB) {
                fs.read(ino, off, buf, 0, (int) MIB);
            }
        });
        assertEquals(0, n, "bytes allocated by 1 MiB reads of a 40 MiB file with holes");
    }

    @Test
    void overwritesAllocateNothing() {
        long n = Allocations.leastAllocatedBy(() -> {
            SplittableRandom rnd = new SplittableRandom(7);
            for (int i = 0; i < 2000; i++) {
                long off = rnd.nextLong(3 * MIB / B) * B; // the first 3 MiB: no holes
                fs.write(ino, off, buf, 0, B);
            }
            for (long off = 0; off < 3 * MIB; off += MIB) {
                fs.write(ino, off, buf, 0, (int) MIB);
            }
        });
        assertEquals(0, n - randomBytes(), "bytes allocated by 2,000 random 4 KiB and 3 sequential 1 MiB overwrites");
    }

    @Test
    void recordingStatisticsAllocatesNothing() {
        LatencyHistogram h = new LatencyHistogram();
        long n = Allocations.leastAllocatedBy(() -> {
            for (long v = 0; v < 100_000; v += 7) {
                h.record(v * 1013);
            }
            h.record(-1);
            h.record(Long.MAX_VALUE); // above the range: counted as the highest, no resize
            Contention.invalidationRetried();
            Contention.rangeLockWaited(12);
        });
        assertEquals(0, n, "bytes allocated by recording latencies and contention (daxfs stat)");
        assertEquals(LatencyHistogram.HIGHEST, h.snapshot().getMaxValue(), 0.01 * LatencyHistogram.HIGHEST);
    }

    /** What the measured lambdas allocate themselves (one SplittableRandom). */
    private long randomBytes() {
        return Allocations.leastAllocatedBy(() -> blackhole = new SplittableRandom(1));
    }
}
