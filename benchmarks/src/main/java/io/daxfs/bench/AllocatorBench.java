package io.daxfs.bench;

import io.daxfs.core.alloc.BlockAllocator;
import io.daxfs.core.alloc.Extent;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * {@link BlockAllocator} on fragmented free space: the data area is cut into runs of 64
 * blocks and every other run is free (4,096 free extents, none touching), as after many
 * files were created and every other one deleted. One operation = allocate N blocks (no goal:
 * best fit, which splits a 64-block extent) + free them again (merging back), i.e. the in-memory
 * part of an allocation; the journaled bitmap update is not included. Throughput: alloc+free
 * pairs per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.NATIVE_ACCESS, JvmFlags.EXPORTS, JvmFlags.UNSAFE})
@State(Scope.Benchmark)
public class AllocatorBench {
    private static final long FIRST = 1024;
    private static final long RUN = 64;
    private static final long RUNS = 8192;

    BlockAllocator allocator;

    @Setup
    public void setup() {
        allocator = new BlockAllocator(FIRST, FIRST + RUNS * RUN);
        for (long i = 0; i < RUNS; i += 2) {
            allocator.free(FIRST + i * RUN, RUN); // every other run is free
        }
        if (allocator.freeExtents().size() != RUNS / 2) {
            throw new IllegalStateException("expected " + RUNS / 2 + " free extents");
        }
    }

    private Extent allocFree(long n) {
        Extent e = allocator.allocate(-1, n);
        allocator.free(e.start(), e.length());
        return e;
    }

    @Benchmark
    @Threads(1)
    public Extent allocFree1() {
        return allocFree(1);
    }

    @Benchmark
    @Threads(1)
    public Extent allocFree32() {
        return allocFree(32);
    }

    /** Two threads on the one allocator (its monitor is a leaf lock of every allocation). */
    @Benchmark
    @Threads(2)
    public Extent allocFree1x2T() {
        return allocFree(1);
    }
}
