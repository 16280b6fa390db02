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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The data path of {@link DaxFileSystem} without FUSE: reads and writes into a mounted file
 * system on a 1 GiB sparse image file in /dev/shm (mapped shared, as a pmem device would be).
 * Buffers are off-heap ({@code Arena.ofShared()}), as FUSE request buffers are.
 *
 * <ul>
 * <li>{@code read4k}, {@code read128k}, {@code read4k_2T}: sequential reads, wrapping, of a
 *     16 MiB file written once in setup (one contiguous extent). 16 MiB is what the mapping
 *     cache could cover (16 slots of 1 MiB windows). As fs-core stands (FileData.readLocked
 *     caches an extent clipped to the window of the extent's FIRST block), only the first
 *     1 MiB of a contiguous file is ever cached: the other reads take the locked path (range
 *     lock shared, extent map lookup, busy-extent reference).</li>
 * <li>{@code read4kFirstMiB}: 4 KiB reads of the first 1 MiB only: the lock-free cached path
 *     (sample, cache lookup, busy-extent reference, validate, copy).</li>
 * <li>{@code overwrite4k/128k_1T/_2T}: sequential overwrites, wrapping, of a 64 MiB file
 *     preallocated with fallocate (every block mapped: no allocation, no journal commit;
 *     data is not flushed, there is no fsync). With 2 threads each writes its own half of the
 *     ONE file (thread index from a counter), so they never conflict in the range lock; they
 *     share the file's locks' internals, its dirty-range set and its inode.</li>
 * <li>{@code punch4k}: hole punches of one block in a 64 MiB file (below).</li>
 * <li>{@code append4k}: 4 KiB writes at end of file - every one allocates a block and commits
 *     a journal transaction (mapping + size). Every 32 MiB the file is truncated to 0 (freeing
 *     8,192 blocks), amortised in the figure, so the image does not fill up.</li>
 * </ul>
 * Throughput is operations per second of all threads together; bytes per second = ops/s
 * times the size.
 *
 * <p>The image is on tmpfs, where devdax runs in {@code PersistenceMode.VOLATILE}: flushes
 * are free (no msync; fences still order). On a real pmem device new blocks, fsync and journal
 * commits would also pay cache-line write-backs.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.NATIVE_ACCESS, JvmFlags.EXPORTS, JvmFlags.UNSAFE})
@State(Scope.Benchmark)
public class DataPathBench {
    static final long IMAGE = 1024 * FsFixture.MIB;
    static final long READ_FILE = 16 * FsFixture.MIB;
    static final long WRITE_FILE = 64 * FsFixture.MIB;
    static final long HOT = FsFixture.MIB;
    static final long APPEND_LIMIT = 32 * FsFixture.MIB;
    static final long PUNCH_FILE = 64 * FsFixture.MIB;
    static final int K4 = 4 << 10;
    static final int K128 = 128 << 10;

    FsFixture device;
    DaxFileSystem fs;
    long readIno;
    long writeIno;
    long appendIno;
    long punchIno;
    final AtomicInteger threadIndex = new AtomicInteger();

    @Setup(Level.Trial)
    public void setup() {
        device = FsFixture.mount(IMAGE, 4096);
        fs = device.fs();
        readIno = fs.create(DaxFileSystem.ROOT, "read", FsFixture.FILE_MODE, 0, 0);
        FsFixture.fill(fs, readIno, READ_FILE);
        writeIno = fs.create(DaxFileSystem.ROOT, "overwrite", FsFixture.FILE_MODE, 0, 0);
        fs.fallocate(writeIno, 0, WRITE_FILE, false);
        appendIno = fs.create(DaxFileSystem.ROOT, "append", FsFixture.FILE_MODE, 0, 0);
        punchIno = fs.create(DaxFileSystem.ROOT, "punch", FsFixture.FILE_MODE, 0, 0);
        fs.fallocate(punchIno, 0, PUNCH_FILE, false);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        device.close(); // unmounts, unmaps, deletes the image and its directory
    }

    /**
     * A thread's buffer and position. Thread i of n reads/writes [i * size / n, (i + 1) * size / n)
     * of the file, so two threads work on disjoint halves.
     */
    @State(Scope.Thread)
    public static class Cursor {
        Arena arena;
        MemorySegment buf;
        long readBase;
        long readSpan;
        long writeBase;
        long writeSpan;
        long readPos;
        long hotPos;
        long writePos;
        long appendPos;
        long punchPos;

        @Setup(Level.Trial)
        public void setup(DataPathBench b, BenchmarkParams params) {
            int n = params.getThreads();
            int i = b.threadIndex.getAndIncrement() % n;
            readSpan = READ_FILE / n;
            readBase = i * readSpan;
            writeSpan = WRITE_FILE / n;
            writeBase = i * writeSpan;
            arena = Arena.ofShared();
            buf = FsFixture.buffer(arena, K128);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }

        long nextRead(int size) {
            long off = readBase + readPos;
            readPos += size;
            if (readPos + size > readSpan) {
                readPos = 0;
            }
            return off;
        }

        long nextHot(int size) {
            long off = hotPos;
            hotPos = off + size >= HOT ? 0 : off + size;
            return off;
        }

        long nextWrite(int size) {
            long off = writeBase + writePos;
            writePos += size;
            if (writePos + size > writeSpan) {
                writePos = 0;
            }
            return off;
        }
    }

    private int read(Cursor c, int size) {
        return fs.read(readIno, c.nextRead(size), c.buf, 0, size);
    }

    private int overwrite(Cursor c, int size) {
        return fs.write(writeIno, c.nextWrite(size), c.buf, 0, size);
    }

    @Benchmark
    @Threads(1)
    public int read4k(Cursor c) {
        return read(c, K4);
    }

    @Benchmark
    @Threads(1)
    public int read128k(Cursor c) {
        return read(c, K128);
    }

    @Benchmark
    @Threads(1)
    public int read4kFirstMiB(Cursor c) {
        return fs.read(readIno, c.nextHot(K4), c.buf, 0, K4);
    }

    @Benchmark
    @Threads(2)
    public int read4k_2T(Cursor c) {
        return read(c, K4);
    }

    @Benchmark
    @Threads(1)
    public int overwrite4k_1T(Cursor c) {
        return overwrite(c, K4);
    }

    @Benchmark
    @Threads(2)
    public int overwrite4k_2T(Cursor c) {
        return overwrite(c, K4);
    }

    @Benchmark
    @Threads(1)
    public int overwrite128k_1T(Cursor c) {
        return overwrite(c, K128);
    }

    @Benchmark
    @Threads(2)
    public int overwrite128k_2T(Cursor c) {
        return overwrite(c, K128);
    }

    @Benchmark
    @Threads(1)
    public int append4k(Cursor c) {
        if (c.appendPos + K4 > APPEND_LIMIT) {
            fs.truncate(appendIno, 0);
            c.appendPos = 0;
        }
        int n = fs.write(appendIno, c.appendPos, c.buf, 0, K4);
        c.appendPos += K4;
        return n;
    }

    /**
     * Punching one 4 KiB block of a large file: every other block of a 64 MiB file,
     * preallocated in setup; when the file has been punched through, fallocate fills its
     * holes again (8,192 block allocations, amortised in the figure). Each punch splits an
     * extent and commits a transaction (xfstests generic/610 punches a 100 MiB file so).
     */
    @Benchmark
    @Threads(1)
    public long punch4k(Cursor c) {
        if (c.punchPos >= PUNCH_FILE) {
            fs.fallocate(punchIno, 0, PUNCH_FILE, false);
            c.punchPos = 0;
        }
        fs.punchHole(punchIno, c.punchPos, K4);
        c.punchPos += 2 * K4;
        return c.punchPos;
    }
}
