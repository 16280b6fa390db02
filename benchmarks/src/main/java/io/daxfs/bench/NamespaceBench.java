package io.daxfs.bench;

import io.daxfs.core.DaxFileSystem;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The namespace in-process, without FUSE: how far directory operations in different
 * directories run in parallel.
 *
 * <ul>
 * <li>{@code createUnlink_1T} / {@code _2T}: each thread creates a file and unlinks it again,
 *     in a directory of its own (thread index from a counter), so the two threads never touch
 *     the same directory. One operation is the pair. The directory keeps one other entry, so
 *     it keeps its block (an emptied directory gives its block back, and the next create
 *     allocates it again: that would measure the allocator and the image file's hole punch,
 *     not the namespace). Goal: 2 threads at least 1.6x one.</li>
 * <li>{@code lookupAlone}: one thread looks up names of a directory of 1,000 files, nothing
 *     else running. {@code lookupWhileCreating}: the same lookups by one thread while a second
 *     thread creates and unlinks files in another directory ({@code lookup} is the figure to
 *     compare; {@code creator} is the load). Goal: lookups at least 0.8x their speed alone.</li>
 * </ul>
 * The image is on tmpfs (devdax VOLATILE: flushes are free, fences order), so a journal commit
 * costs its encoding, CRC and stores, not cache-line write-backs.
 *
 * <p>The two-thread benchmarks print the machine's core-to-core round trip after each
 * iteration ({@link Placement}): their figures follow it (docs/jmh-results.md, "Two threads and
 * the distance between cores").
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.NATIVE_ACCESS, JvmFlags.EXPORTS, JvmFlags.UNSAFE})
@State(Scope.Benchmark)
public class NamespaceBench {
    static final int LOOKUP_NAMES = 1_000;

    FsFixture device;
    DaxFileSystem fs;
    long lookupDir;
    String[] names;
    final AtomicInteger threadIndex = new AtomicInteger();

    @Setup(Level.Trial)
    public void setup() {
        device = FsFixture.mount(256 * FsFixture.MIB, 16_384);
        fs = device.fs();
        lookupDir = fs.mkdir(DaxFileSystem.ROOT, "looked-up", 040755, 0, 0);
        names = new String[LOOKUP_NAMES];
        for (int i = 0; i < LOOKUP_NAMES; i++) {
            names[i] = "file-" + i;
            fs.create(lookupDir, names[i], FsFixture.FILE_MODE, 0, 0);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        device.close();
    }

    /** A directory of the thread's own and a name to create and unlink in it. */
    @State(Scope.Thread)
    public static class OwnDirectory {
        long dir;
        final String name = "f";

        @Setup(Level.Trial)
        public void setup(NamespaceBench b) {
            dir = b.fs.mkdir(DaxFileSystem.ROOT, "thread-" + b.threadIndex.getAndIncrement(), 040755, 0, 0);
            b.fs.create(dir, "anchor", FsFixture.FILE_MODE, 0, 0);
        }
    }

    /**
     * Prints, after each iteration of a two-thread benchmark, the core-to-core round trip
     * measured then (200 ms of ping-pong by one of the two threads, outside the measured time).
     */
    @State(Scope.Thread)
    public static class Placement {
        private static final AtomicInteger TEARDOWNS = new AtomicInteger();

        @TearDown(Level.Iteration)
        public void measure() {
            if (TEARDOWNS.getAndIncrement() % 2 == 0) {
                System.out.printf("%n[core-to-core round trip after this iteration: %d ns]%n",
                        CoreToCore.roundTripNanos(200_000_000L));
            }
        }
    }

    /** The next name to look up, per thread. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;
    }

    private void createUnlink(OwnDirectory own) {
        fs.create(own.dir, own.name, FsFixture.FILE_MODE, 0, 0);
        fs.unlink(own.dir, own.name);
    }

    private long lookupNext(Cursor c) {
        int i = c.next;
        c.next = i + 1 == LOOKUP_NAMES ? 0 : i + 1;
        return fs.lookup(lookupDir, names[i]);
    }

    @Benchmark
    @Threads(1)
    public void createUnlink_1T(OwnDirectory own) {
        createUnlink(own);
    }

    @Benchmark
    @Threads(2)
    public void createUnlink_2T(OwnDirectory own, Placement placement) {
        createUnlink(own);
    }

    @Benchmark
    @Threads(1)
    public long lookupAlone(Cursor c) {
        return lookupNext(c);
    }

    @Benchmark
    @Group("lookupWhileCreating")
    @GroupThreads(1)
    public long lookup(Cursor c, Placement placement) {
        return lookupNext(c);
    }

    @Benchmark
    @Group("lookupWhileCreating")
    @GroupThreads(1)
    public void creator(OwnDirectory own, Placement placement) {
        createUnlink(own);
    }
}
