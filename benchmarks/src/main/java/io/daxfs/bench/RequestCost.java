package io.daxfs.bench;

import io.daxfs.core.DaxFileSystem;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * fs-core's own time per request of the small-file test (scripts/lib/smallfiles.py), without
 * FUSE: what the daemon spends between reading a request and writing its reply, beside the
 * round trip itself (docs/performance.md, "daxfs's own work per request").
 *
 * <p>Not a JMH benchmark: each request kind is timed on its own, in batches, in the order a
 * small-file run sends them to one directory (CREATE, WRITE of 1 KiB, RELEASE, GETATTR,
 * UNLINK; then MKDIR, RMDIR and RENAME), and JMH's per-invocation set-up would be most of
 * what is measured. Each round times a batch of each kind with System.nanoTime; the first
 * half of the rounds warms up, the figure is the median over the rest of the per-request
 * mean of a round. Run it as the daemon runs (C1 only, the serial collector, image on tmpfs):
 * <pre>
 * java --enable-native-access=ALL-UNNAMED --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED \
 *     -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx384m \
 *     -cp benchmarks/target/benchmarks.jar io.daxfs.bench.RequestCost [ROUNDS [ENTRIES]]
 * </pre>
 * ENTRIES (default 0) more files are made in the directory first: the small-file test's
 * directory holds up to its N files.
 */
public final class RequestCost {
    private static final int BATCH = 50;
    private static final String[] KINDS = {"create", "write1k", "release", "getattr", "unlink", "mkdir", "rmdir",
        "rename"};

    private RequestCost() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 2_000;
        int entries = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        try (FsFixture device = FsFixture.mount(1024 * FsFixture.MIB, 65_536)) {
            DaxFileSystem fs = device.fs();
            long dir = fs.mkdir(DaxFileSystem.ROOT, "d", 040755, 0, 0);
            fs.create(dir, "anchor", FsFixture.FILE_MODE, 0, 0);
            for (int i = 0; i < entries; i++) { // a directory as large as the small-file test leaves it
                fs.create(dir, String.format("o%06d", i), FsFixture.FILE_MODE, 0, 0);
            }
            String[] names = new String[BATCH];
            String[] others = new String[BATCH];
            for (int i = 0; i < BATCH; i++) {
                names[i] = String.format("f%06d", i);
                others[i] = String.format("g%06d", i);
            }
            MemorySegment data = MemorySegment.ofArray(new byte[1024]).fill((byte) 7);
            long[] inos = new long[BATCH];
            double[][] perRound = new double[KINDS.length][rounds];
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    inos[i] = fs.createOpen(dir, names[i], FsFixture.FILE_MODE, 0, 0);
                    fs.getattr(inos[i]); // the entry in CREATE's reply
                }
                long t1 = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    fs.write(inos[i], 0, data, 0, 1024);
                }
                long t2 = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    fs.release(inos[i]);
                }
                long t3 = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    fs.getattr(inos[i]);
                }
                long t4 = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    fs.unlink(dir, names[i]);
                }
                long t5 = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    fs.getattr(fs.mkdir(dir, names[i], 040755, 0, 0));
                }
                long t6 = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    fs.rmdir(dir, names[i]);
                }
                long t7 = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    fs.create(dir, names[i], FsFixture.FILE_MODE, 0, 0);
                }
                long t8 = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    fs.rename(dir, names[i], dir, others[i]);
                }
                long t9 = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    fs.unlink(dir, others[i]);
                }
                long[] t = {t0, t1, t2, t3, t4, t5, t6, t7};
                for (int k = 0; k < 7; k++) {
                    perRound[k][r] = (t[k + 1] - t[k]) / 1000.0 / BATCH;
                }
                perRound[7][r] = (t9 - t8) / 1000.0 / BATCH;
            }
            StringBuilder json = new StringBuilder("{\"unit\": \"us per request, median of round means\"");
            for (int k = 0; k < KINDS.length; k++) {
                double[] measured = Arrays.copyOfRange(perRound[k], rounds / 2, rounds);
                Arrays.sort(measured);
                json.append(String.format(", \"%s\": %.2f", KINDS[k], measured[measured.length / 2]));
            }
            System.out.println(json.append('}'));
        }
    }
}
