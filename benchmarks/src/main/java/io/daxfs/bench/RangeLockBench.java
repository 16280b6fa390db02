package io.daxfs.bench;

import io.daxfs.core.concurrent.RangeLock;
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
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link RangeLock}: one acquire + release per operation (average time, so a 2-thread figure
 * is the time each thread takes per acquire + release while the other does the same).
 *
 * <ul>
 * <li>{@code uncontended*}: one thread, its own lock, nothing else queued - the cost every
 *     read and write pays. Target: under 100 ns.</li>
 * <li>{@code disjointExclusive2T}: two threads, one lock, exclusive requests on disjoint
 *     ranges (two writers of different parts of one file): never wait for each other, but
 *     share the lock's internal mutex and queue.</li>
 * <li>{@code sharedOverlapping2T}: two threads, one lock, shared requests on the same
 *     range (two readers).</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.NATIVE_ACCESS, JvmFlags.EXPORTS, JvmFlags.UNSAFE})
@State(Scope.Benchmark)
public class RangeLockBench {
    private static final long RANGE = 128 << 10;

    /** One lock shared by all threads of the benchmark. */
    final RangeLock shared = new RangeLock();
    final AtomicInteger threadIndex = new AtomicInteger();

    /** A lock of the thread's own. */
    @State(Scope.Thread)
    public static class Own {
        final RangeLock lock = new RangeLock();
    }

    /** The thread's own range of the shared lock: [index * 1 MiB, + 128 KiB). */
    @State(Scope.Thread)
    public static class Slot {
        long start;

        @Setup
        public void setup(RangeLockBench b) {
            start = b.threadIndex.getAndIncrement() * (1L << 20);
        }
    }

    @Benchmark
    @Threads(1)
    public RangeLock.Range uncontendedExclusive(Own own) {
        RangeLock.Range r = own.lock.lockExclusive(0, RANGE);
        r.close();
        return r;
    }

    @Benchmark
    @Threads(1)
    public RangeLock.Range uncontendedShared(Own own) {
        RangeLock.Range r = own.lock.lockShared(0, RANGE);
        r.close();
        return r;
    }

    @Benchmark
    @Threads(2)
    public RangeLock.Range disjointExclusive2T(Slot slot) {
        RangeLock.Range r = shared.lockExclusive(slot.start, slot.start + RANGE);
        r.close();
        return r;
    }

    @Benchmark
    @Threads(2)
    public RangeLock.Range sharedOverlapping2T() {
        RangeLock.Range r = shared.lockShared(0, RANGE);
        r.close();
        return r;
    }
}
