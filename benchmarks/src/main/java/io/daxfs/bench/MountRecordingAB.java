package io.daxfs.bench;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.*;
import java.util.*;

/**
 * The cost of daxfs stat's recording through real mounts (docs/stats.md): two daxfs mounts, one
 * whose daemon records (the default) and one started with {@code DAXFS_JAVA_OPTS=-Ddaxfs.stats=off},
 * take turns in short windows of 4 KiB pwrite(2) calls over the first 1 MiB of a file on each
 * (without writeback_cache every call is one WRITE request, a round trip through the kernel to
 * the daemon); the order of each pair is random and the median pair ratio is the figure.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.daxfs.bench.MountRecordingAB ON/f OFF/f [PAIRS [WINDOW]]
 * </pre>
 */
public final class MountRecordingAB {
    private MountRecordingAB() {
    }

    public static void main(String[] a) throws Exception {
        Path on = Path.of(a[0]), off = Path.of(a[1]);
        int pairs = a.length > 2 ? Integer.parseInt(a[2]) : 2000;
        int window = a.length > 3 ? Integer.parseInt(a[3]) : 100;
        try (FileChannel c0 = FileChannel.open(on, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileChannel c1 = FileChannel.open(off, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileChannel[] c = {c0, c1};
            ByteBuffer b = ByteBuffer.allocateDirect(4096);
            for (FileChannel x : c) for (int i = 0; i < 256; i++) { b.clear(); x.write(b, i * 4096L); }
            long[][] t = new long[2][pairs];
            Random rnd = new Random(1);
            for (int p = -pairs / 10; p < pairs; p++) {
                int first = rnd.nextInt(2);
                for (int k = 0; k < 2; k++) {
                    int which = k == 0 ? first : 1 - first;
                    long t0 = System.nanoTime();
                    for (int i = 0; i < window; i++) { b.clear(); c[which].write(b, (i & 255) * 4096L); }
                    if (p >= 0) t[which][p] = System.nanoTime() - t0;
                }
            }
            double[] d = new double[pairs];
            for (int p = 0; p < pairs; p++) d[p] = (double) t[1][p] / t[0][p] - 1;
            Arrays.sort(d);
            long min0 = Arrays.stream(t[0]).min().getAsLong(), min1 = Arrays.stream(t[1]).min().getAsLong();
            System.out.printf(Locale.ROOT, "WRITE 4 KiB through the mount: recording changes throughput by %+.2f%% (median of %d pairs; quartiles %+.2f%%, %+.2f%%); fastest windows %.0f ns/request recording, %.0f not%n",
                100 * d[pairs / 2], pairs, 100 * d[pairs / 4], 100 * d[3 * pairs / 4], (double) min0 / window, (double) min1 / window);
        }
    }
}
