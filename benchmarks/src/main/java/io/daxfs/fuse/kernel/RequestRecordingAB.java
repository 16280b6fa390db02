package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.fuse.options.PermissionPolicy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;

import static io.daxfs.fuse.kernel.FuseAbi.*;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The cost of {@code daxfs stat}'s recording, measured so that a busy machine does not drown it:
 * two kernel front ends over one file system, one recording ({@link RequestStats} on) and one
 * not, take turns in short windows (the order of each pair random) and the throughput of each
 * pair is compared; the median over many pairs is the figure. Slow changes in the machine's load
 * hit both halves of a pair alike. Same requests as {@link RequestRecordingBench}: READ and
 * WRITE of 4 KiB walking a 16 MiB file, and GETATTR, replies dropped (the daemon's own cost).
 *
 * <pre>
 * java -XX:TieredStopAtLevel=1 --enable-native-access=ALL-UNNAMED \
 *      -cp benchmarks/target/benchmarks.jar io.daxfs.fuse.kernel.RequestRecordingAB [THREADS [PAIRS [WINDOW]]]
 * </pre>
 * Defaults: 1 thread, 10,000 pairs of windows of 500 requests (short windows: a preemption
 * spoils a few pairs, not the comparison). With THREADS &gt; 1 all threads serve the same front
 * end in a window (a barrier between windows), each over its own part of the file. Prints, per
 * request kind, the median and the quartiles of (throughput recording / throughput not
 * recording) - 1, and the time per request of the fastest window of each (the least disturbed).
 */
public final class RequestRecordingAB {
    private static final int SIZE = 4096;
    private static final long FILE = 16L << 20;
    private static int window = 500;

    private RequestRecordingAB() {
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        int pairs = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        window = args.length > 2 ? Integer.parseInt(args[2]) : 500;
        Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "daxfs-ab-");
        try (OpenedDevice device = DeviceOpener.open(dir.resolve("image"), DeviceOptions.builder().createSize(256L << 20).build())) {
            DaxFileSystem.format(device.region(), FormatOptions.defaults());
            try (DaxFileSystem fs = DaxFileSystem.mount(device.region())) {
                long ino = fs.create(DaxFileSystem.ROOT, "data", 0644, 0, 0);
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment block = a.allocate(1 << 20);
                    for (long off = 0; off < FILE; off += 1 << 20) {
                        fs.write(ino, off, block, 0, 1 << 20);
                    }
                }
                KernelOptions options = KernelOptions.defaults(PermissionPolicy.DAEMON_ACL);
                KernelFileSystem[] fronts = {new KernelFileSystem(fs, options, null, new RequestStats(true)),
                    new KernelFileSystem(fs, options, null, new RequestStats(false))};
                System.out.printf(Locale.ROOT, "%d thread(s), %d pairs of windows of %,d requests per thread%n", threads,
                        pairs, window);
                for (int opcode : new int[] {READ, WRITE, GETATTR}) {
                    run(fronts, ino, opcode, threads, pairs / 5); // warm-up
                    long[][] nanos = run(fronts, ino, opcode, threads, pairs);
                    double[] d = new double[pairs];
                    for (int p = 0; p < pairs; p++) {
                        d[p] = (double) nanos[1][p] / nanos[0][p] - 1; // time without / time with - 1 = throughput ratio - 1
                    }
                    Arrays.sort(d);
                    long minOn = Arrays.stream(nanos[0]).min().orElseThrow();
                    long minOff = Arrays.stream(nanos[1]).min().orElseThrow();
                    System.out.printf(Locale.ROOT, "%-8s recording changes throughput by %+.2f%% (median of pairs; quartiles "
                            + "%+.2f%%, %+.2f%%); fastest windows: %.0f ns/request recording, %.0f not (%+.2f%%)%n",
                            opcode == READ ? "READ" : opcode == WRITE ? "WRITE" : "GETATTR",
                            100 * d[d.length / 2], 100 * d[d.length / 4], 100 * d[3 * d.length / 4],
                            (double) minOn / window / threads, (double) minOff / window / threads,
                            100 * ((double) minOff / minOn - 1));
                }
            }
        } finally {
            Files.deleteIfExists(dir.resolve("image"));
            Files.deleteIfExists(dir);
        }
    }

    /** {@code pairs} pairs of windows; returns the nanoseconds of each window: [0] recording, [1] not. */
    private static long[][] run(KernelFileSystem[] fronts, long ino, int opcode, int threads, int pairs) throws Exception {
        long[][] nanos = new long[2][pairs];
        int[] order = new int[2 * pairs];
        SplittableRandom rnd = new SplittableRandom(pairs);
        for (int p = 0; p < pairs; p++) {
            int first = rnd.nextInt(2);
            order[2 * p] = first;
            order[2 * p + 1] = 1 - first;
        }
        CyclicBarrier barrier = new CyclicBarrier(threads);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int index = t;
            workers.add(Thread.ofPlatform().start(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment in = arena.allocate(IN_HEADER_SIZE + WRITE_IN_SIZE + SIZE + 4096L);
                    Request request = new Request(in);
                    Reply[] replies = new Reply[2]; // one per front end: a reply's counters belong to one
                    for (int k = 0; k < 2; k++) {
                        replies[k] = new Reply(null, arena.allocate(OUT_HEADER_SIZE + SIZE + 4096L),
                                FuseChannel.newCallState(arena), arena.allocate(Reply.NOTICE_SIZE), (b, l) -> { });
                    }
                    long span = FILE / threads;
                    long offset = 0;
                    int length = IN_HEADER_SIZE + (opcode == GETATTR ? 16 : WRITE_IN_SIZE + (opcode == WRITE ? SIZE : 0));
                    in.set(JAVA_INT_UNALIGNED, IN_LEN, length);
                    in.set(JAVA_INT_UNALIGNED, IN_OPCODE, opcode);
                    in.set(JAVA_LONG_UNALIGNED, IN_NODEID, ino);
                    in.set(JAVA_INT_UNALIGNED, IN_HEADER_SIZE + IO_IN_SIZE, opcode == GETATTR ? 0 : SIZE);
                    long unique = 1;
                    for (int w = 0; w < order.length; w++) {
                        KernelFileSystem kfs = fronts[order[w]];
                        Reply reply = replies[order[w]];
                        barrier.await();
                        long t0 = System.nanoTime();
                        for (int i = 0; i < window; i++) {
                            if (opcode != GETATTR) {
                                in.set(JAVA_LONG_UNALIGNED, IN_HEADER_SIZE + IO_IN_OFFSET, index * span + offset);
                                offset = (offset + SIZE) % span;
                            }
                            in.set(JAVA_LONG_UNALIGNED, IN_UNIQUE, unique++);
                            request.reset(length);
                            kfs.handle(request, reply);
                        }
                        long took = System.nanoTime() - t0;
                        synchronized (nanos) {
                            nanos[order[w]][w / 2] += took; // summed over threads: each thread's time
                        }
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (Thread t : workers) {
            t.join();
        }
        return nanos;
    }
}
