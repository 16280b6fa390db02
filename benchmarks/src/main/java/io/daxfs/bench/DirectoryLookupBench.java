package io.daxfs.bench;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.FsException;

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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * {@link DaxFileSystem#lookup} in one directory of 100,000 entries (created in setup, one
 * journaled create each), names looked up in a random order: hits, and misses (names not in
 * the directory; lookup throws ENOENT, as the FUSE layer sees it).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.NATIVE_ACCESS, JvmFlags.EXPORTS, JvmFlags.UNSAFE})
@State(Scope.Benchmark)
public class DirectoryLookupBench {
    static final int ENTRIES = 100_000;

    FsFixture device;
    DaxFileSystem fs;
    long dir;
    String[] names;
    String[] missing;

    @Setup(Level.Trial)
    public void setup() {
        device = FsFixture.mount(512 * FsFixture.MIB, ENTRIES + 1024);
        fs = device.fs();
        dir = fs.mkdir(DaxFileSystem.ROOT, "big", 040755, 0, 0);
        names = new String[ENTRIES];
        missing = new String[ENTRIES];
        for (int i = 0; i < ENTRIES; i++) {
            names[i] = "file-" + i + ".dat";
            missing[i] = "absent-" + i + ".dat";
            fs.create(dir, names[i], FsFixture.FILE_MODE, 0, 0);
        }
        // Random order, so that lookups do not walk the index in creation order.
        SplittableRandom rnd = new SplittableRandom(42);
        for (int i = ENTRIES - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            String t = names[i];
            names[i] = names[j];
            names[j] = t;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        device.close();
    }

    @State(Scope.Thread)
    public static class Cursor {
        int next;
    }

    @Benchmark
    @Threads(1)
    public long lookupHit(Cursor c) {
        int i = c.next;
        c.next = i + 1 == ENTRIES ? 0 : i + 1;
        return fs.lookup(dir, names[i]);
    }

    @Benchmark
    @Threads(1)
    public long lookupMiss(Cursor c) {
        int i = c.next;
        c.next = i + 1 == ENTRIES ? 0 : i + 1;
        try {
            return fs.lookup(dir, missing[i]);
        } catch (FsException e) {
            return -1;
        }
    }
}
