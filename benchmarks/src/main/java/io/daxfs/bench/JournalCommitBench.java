package io.daxfs.bench;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.Timestamp;

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

import java.util.concurrent.TimeUnit;

/**
 * The smallest metadata operations, each exactly one journal transaction committed (written
 * to the journal, flushed, fenced, applied): chmod and utimens (setTimes) of one file.
 * The image is on tmpfs ({@code PersistenceMode.VOLATILE}): the flushes cost nothing here, so
 * this is the CPU cost of a commit; on pmem add the cache-line write-backs, on an msync-backed
 * image the msync system calls.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.NATIVE_ACCESS, JvmFlags.EXPORTS, JvmFlags.UNSAFE})
@State(Scope.Benchmark)
public class JournalCommitBench {
    FsFixture device;
    DaxFileSystem fs;
    long ino;
    int flip;
    long seconds = 1_700_000_000L;

    @Setup(Level.Trial)
    public void setup() {
        device = FsFixture.mount(64 * FsFixture.MIB, 1024);
        fs = device.fs();
        ino = fs.create(DaxFileSystem.ROOT, "f", FsFixture.FILE_MODE, 0, 0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        device.close();
    }

    @Benchmark
    @Threads(1)
    public void chmod() {
        flip ^= 1;
        fs.chmod(ino, flip == 0 ? 0644 : 0600);
    }

    @Benchmark
    @Threads(1)
    public void setTimes() {
        Timestamp t = new Timestamp(seconds++, 0);
        fs.setTimes(ino, t, t, false);
    }
}
