package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.fuse.options.PermissionPolicy;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.daxfs.fuse.kernel.FuseAbi.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * What {@code daxfs stat}'s recording costs the kernel front end's request path
 * (docs/stats.md): {@link KernelFileSystem#handle} serving READ and WRITE of 4 KiB and GETATTR,
 * requests built once in each thread's buffer as a worker gets them from /dev/fuse, replies
 * handed to a destination that drops them (no write(2) to the kernel: the daemon's own cost
 * only, so the recording's share is the largest it can be). {@code stats=on} is the daemon as
 * it runs; {@code stats=off} a front end whose {@link RequestStats} records nothing (what
 * {@code -Ddaxfs.stats=off} gives). Each JVM is C1-only ({@code -XX:TieredStopAtLevel=1}), as the daemon is.
 *
 * <p>On a loaded machine the two forks' figures differ by more than the recording costs;
 * {@link RequestRecordingAB} alternates the two in one JVM for a sharper comparison.
 *
 * <p>The file (16 MiB, one extent) lives on a sparse image in /dev/shm; READs and WRITEs walk it
 * 4 KiB at a time, each thread its own half with 2 threads.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
    "--sun-misc-unsafe-memory-access=allow", "-XX:TieredStopAtLevel=1"})
@State(Scope.Benchmark)
public class RequestRecordingBench {
    private static final int SIZE = 4096;
    private static final long FILE = 16L << 20;

    @Param({"on", "off"})
    public String stats;

    private Path dir;
    private OpenedDevice device;
    private DaxFileSystem fs;
    private KernelFileSystem kfs;
    private FuseChannel channel;
    private long ino;
    private final AtomicInteger threads = new AtomicInteger();

    @Setup(Level.Trial)
    public void setUp() throws Throwable {
        dir = Files.createTempDirectory(Path.of("/dev/shm"), "daxfs-bench-");
        device = DeviceOpener.open(dir.resolve("image"), DeviceOptions.builder().createSize(256L << 20).build());
        DaxFileSystem.format(device.region(), FormatOptions.defaults());
        fs = DaxFileSystem.mount(device.region());
        kfs = new KernelFileSystem(fs, KernelOptions.defaults(PermissionPolicy.DAEMON_ACL), null,
                new RequestStats(stats.equals("on")));
        ino = fs.create(DaxFileSystem.ROOT, "data", 0644, 0, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment block = a.allocate(1 << 20);
            for (long off = 0; off < FILE; off += 1 << 20) {
                fs.write(ino, off, block, 0, 1 << 20);
            }
            MethodHandle open = Linker.nativeLinker().downcallHandle(
                    Linker.nativeLinker().defaultLookup().find("open").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), Linker.Option.firstVariadicArg(2));
            channel = new FuseChannel((int) open.invokeExact(a.allocateFrom("/dev/null"), 02)); // notifications only
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        fs.close();
        device.close();
        Files.deleteIfExists(dir.resolve("image"));
        Files.deleteIfExists(dir);
    }

    /** One worker: its request and reply buffers, and where in the file it is. */
    @State(Scope.Thread)
    public static class Worker {
        private final Arena arena = Arena.ofShared();
        private MemorySegment in;
        private Request request;
        private Reply reply;
        private long unique = 1;
        private long base;
        private long offset;

        @Setup(Level.Trial)
        public void setUp(RequestRecordingBench b) {
            in = arena.allocate(IN_HEADER_SIZE + WRITE_IN_SIZE + SIZE + 4096L);
            request = new Request(in);
            reply = new Reply(b.channel, arena.allocate(OUT_HEADER_SIZE + SIZE + 4096L), FuseChannel.newCallState(arena),
                    arena.allocate(Reply.NOTICE_SIZE), (buffer, length) -> { });
            base = (b.threads.getAndIncrement() & 1) * (FILE / 2);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }

        void serve(KernelFileSystem kfs, int opcode, long nodeid, int length) {
            in.set(JAVA_INT_UNALIGNED, IN_LEN, length);
            in.set(JAVA_INT_UNALIGNED, IN_OPCODE, opcode);
            in.set(JAVA_LONG_UNALIGNED, IN_UNIQUE, unique++);
            in.set(JAVA_LONG_UNALIGNED, IN_NODEID, nodeid);
            request.reset(length);
            kfs.handle(request, reply);
        }

        void io(KernelFileSystem kfs, int opcode, long ino) {
            in.set(JAVA_LONG_UNALIGNED, IN_HEADER_SIZE + IO_IN_OFFSET, base + offset);
            in.set(JAVA_INT_UNALIGNED, IN_HEADER_SIZE + IO_IN_SIZE, SIZE);
            offset = (offset + SIZE) % (FILE / 2);
            serve(kfs, opcode, ino, IN_HEADER_SIZE + WRITE_IN_SIZE + (opcode == WRITE ? SIZE : 0));
        }
    }

    @Benchmark
    public void read4k(Worker w) {
        w.io(kfs, READ, ino);
    }

    @Benchmark
    @Threads(2)
    public void read4k_2T(Worker w) {
        w.io(kfs, READ, ino);
    }

    @Benchmark
    public void write4k(Worker w) {
        w.io(kfs, WRITE, ino);
    }

    @Benchmark
    @Threads(2)
    public void write4k_2T(Worker w) {
        w.io(kfs, WRITE, ino);
    }

    @Benchmark
    public void getattr(Worker w) {
        w.in.set(JAVA_LONG_UNALIGNED, IN_HEADER_SIZE, 0L); // getattr_flags, dummy, fh
        w.in.set(JAVA_LONG_UNALIGNED, IN_HEADER_SIZE + 8, 0L);
        w.serve(kfs, GETATTR, ino, IN_HEADER_SIZE + 16);
    }
}
