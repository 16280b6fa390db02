package io.daxfs.bench;

import io.daxfs.core.DaxFileSystem;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A create and an unlink in-process, hot and as a FUSE daemon runs them: one at a time, each
 * after the thread slept while other work used the CPU. Served over /dev/fuse, a CREATE takes
 * the daemon several times what the same handler takes in a loop (docs/performance.md); this
 * measures how much of that the same fs-core code loses to running cold alone.
 *
 * <ul>
 * <li>{@code hot}: create and unlink back to back, as NamespaceBench's one thread.</li>
 * <li>{@code afterSleep}: before each pair (not timed) the thread parks for 30 µs - about the
 *     time between two requests of one caller - so its CPU idles or runs something else.</li>
 * <li>{@code afterSleepAndOtherWork}: as {@code afterSleep}, and then (not timed) it writes
 *     1 MiB of other memory, 64 bytes apart: what the caller and the kernel do to the core's
 *     L1 and L2 caches between two requests, roughly.</li>
 * </ul>
 * Sample time: the median is the figure. The image is on /dev/shm, as in NamespaceBench.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.NATIVE_ACCESS, JvmFlags.EXPORTS, JvmFlags.UNSAFE})
@State(Scope.Thread)
public class ColdCreateBench {
    /** What {@code afterSleepAndOtherWork} writes between two pairs: more than a core's L2. */
    static final int OTHER_WORK_BYTES = 1 << 20;

    FsFixture device;
    DaxFileSystem fs;
    long dir;
    final byte[] otherWork = new byte[OTHER_WORK_BYTES];
    int round;

    @Setup(Level.Trial)
    public void setup() {
        device = FsFixture.mount(256 * FsFixture.MIB, 16_384);
        fs = device.fs();
        dir = fs.mkdir(DaxFileSystem.ROOT, "d", 040755, 0, 0);
        fs.create(dir, "anchor", FsFixture.FILE_MODE, 0, 0); // the directory keeps its block
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        device.close();
    }

    /** The pause before each pair of the "after" benchmarks. */
    @State(Scope.Thread)
    public static class Sleep {
        @Setup(Level.Invocation)
        public void sleep() {
            LockSupport.parkNanos(30_000);
        }
    }

    /** The pause and the other memory written before each pair. */
    @State(Scope.Thread)
    public static class SleepAndOtherWork {
        @Setup(Level.Invocation)
        public void sleepAndWork(ColdCreateBench b) {
            LockSupport.parkNanos(30_000);
            byte v = (byte) ++b.round;
            for (int i = 0; i < b.otherWork.length; i += 64) {
                b.otherWork[i] = v;
            }
        }
    }

    private void createUnlink() {
        fs.create(dir, "f", FsFixture.FILE_MODE, 0, 0);
        fs.unlink(dir, "f");
    }

    @Benchmark
    public void hot() {
        createUnlink();
    }

    @Benchmark
    public void afterSleep(Sleep s) {
        createUnlink();
    }

    @Benchmark
    public void afterSleepAndOtherWork(SleepAndOtherWork s) {
        createUnlink();
    }
}
