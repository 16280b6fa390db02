package io.daxfs.core;

import io.daxfs.core.base.AtimePolicy;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The strict crash explorer ({@link CrashExplorer}) over workloads that cover every kind of
 * operation: each crash state must recover, pass fsck and keep every promise made by the
 * point of the crash. Prints one line per workload and a total
 * ("crash explorer: N crash states, 0 inconsistent").
 *
 * <p>Replay: {@code -Ddaxfs.seed=S} (the seed is printed); {@code -Ddaxfs.crash.states=N} aims
 * at about N distinct states over all workloads (default {@value #DEFAULT_STATES});
 * {@code -Ddaxfs.crash.workload=name} runs one workload.
 */
class StrictCrashExplorationTest {
    static final int DEFAULT_STATES = 12_000;
    private static final long SEED = TestDevice.seed("StrictCrashExplorationTest (crash explorer)");
    private static final int TOTAL = Integer.getInteger("daxfs.crash.states", DEFAULT_STATES);
    private static final String ONLY = System.getProperty("daxfs.crash.workload", "");
    private static final List<CrashExplorer.Result> RESULTS = new ArrayList<>();
    private static final long SIZE = 16 * MIB;

    /** Share of the total states for each workload (they add up to 1). */
    private static int share(double fraction) {
        return (int) Math.round(TOTAL * fraction);
    }

    private static void explore(String name, double fraction, ExploredWorkload w) {
        if (!ONLY.isEmpty() && !ONLY.equals(name)) {
            w.close();
            return;
        }
        try (w) {
            CrashExplorer.Result r = CrashExplorer.explore(w, share(fraction), SEED, true);
            System.out.println(r.line());
            synchronized (RESULTS) {
                RESULTS.add(r);
            }
            assertEquals(0, r.inconsistent(), () -> r.line() + "\n" + String.join("\n\n", r.failures())
                    + "\n(replay with -Ddaxfs.seed=" + SEED + " -Ddaxfs.crash.workload=" + name + ")");
        }
    }

    @AfterAll
    static void total() {
        long states = RESULTS.stream().mapToLong(CrashExplorer.Result::states).sum();
        long bad = RESULTS.stream().mapToLong(CrashExplorer.Result::inconsistent).sum();
        long millis = RESULTS.stream().mapToLong(CrashExplorer.Result::millis).sum();
        System.out.printf("crash explorer: %d crash states, %d inconsistent (%d workloads, %.1f s, seed %d)%n",
                states, bad, RESULTS.size(), millis / 1000.0, SEED);
        if (ONLY.isEmpty() && TOTAL >= DEFAULT_STATES && RESULTS.size() == WORKLOADS) {
            assertTrue(states >= 10_000, "only " + states + " crash states explored");
        }
    }

    private static final int WORKLOADS = 1;

    private static Consumer<DaxFileSystem> writes(String path, long offset, byte[] data) {
        return f -> write(f, f.resolve(path), offset, data);
    }

    /**
     * Files made, written (allocating, in place, appending inside a block and across blocks,
     * past the end), fsync'd, truncated up and down, fallocated and zeroed; a symlink, a hard
     * link, a FIFO; attribute changes; a read that stores atime without flushing it.
     */
    @Test
    void createWriteFsync() {
        ExploredWorkload w = ExploredWorkload.start("create-write-fsync", SIZE, pre -> {
            write(pre, pre.create(ROOT, "keep", 0644, 0, 0), 0, pattern(1, 0, 20_000));
        });
        DaxFileSystem fs = w.fs();
        long keep = fs.resolve("/keep");
        w.ns("create /a", f -> f.create(ROOT, "a", 0644, 0, 0));
        long a = fs.resolve("/a");
        w.on("write /a 10000 bytes", a, writes("/a", 0, pattern(2, 0, 10_000)))
                .fsync(a)
                .on("overwrite /a in place", a, writes("/a", 100, pattern(3, 0, 200)))
                .on("append /a across a block boundary", a, writes("/a", 10_000, pattern(4, 0, 3000)))
                .fsync(a);
        w.ns("create /b", f -> f.create(ROOT, "b", 0640, 0, 0));
        long b = fs.resolve("/b");
        w.on("write /b three blocks", b, writes("/b", 0, pattern(5, 0, 3 * 4096)))
                .on("truncate /b to 5000", b, f -> f.truncate(b, 5000))
                .on("append /b from 5000 into a new block", b, writes("/b", 5000, pattern(6, 0, 4000)))
                .on("write /b past the end", b, writes("/b", 20_000, pattern(7, 0, 100)))
                .fsync(b)
                .on("truncate /a up to 50000", a, f -> f.truncate(a, 50_000))
                .on("fallocate /a to 60000", a, f -> f.fallocate(a, 0, 60_000, false))
                .on("zero range in /keep", keep, f -> f.zeroRange(keep, 100, 5000, true))
                .fsync(keep)
                .on("overwrite /keep, no fsync", keep, writes("/keep", 0, pattern(8, 0, 4096)))
                .on("read /a with strictatime", a, f -> {
                    f.atimePolicy(AtimePolicy.STRICT);
                    TestDevice.read(f, a, 0, 100);
                    f.atimePolicy(AtimePolicy.NEVER);
                });
        w.ns("mkdir /d", f -> f.mkdir(ROOT, "d", 0755, 0, 0))
                .ns("symlink /d/ln", f -> f.symlink(f.resolve("/d"), "ln", "../a", 0, 0))
                .ns("link /a as /d/a2", f -> f.link(a, f.resolve("/d"), "a2"))
                .ns("mknod /d/fifo", f -> f.mknod(f.resolve("/d"), "fifo", io.daxfs.core.base.FileMode.S_IFIFO | 0600, 0, 0, 0));
        w.on("chmod /a", a, f -> f.chmod(a, 0600))
                .on("chown /b", b, f -> f.chown(b, 5, 6));
        w.ns("unlink /b", f -> f.unlink(ROOT, "b"));
        w.ns("create /c", f -> f.create(fs.resolve("/d"), "c", 0644, 0, 0));
        long c = fs.resolve("/d/c");
        for (int i = 0; i < 4; i++) {
            int n = i;
            w.on("write /d/c #" + i, c, writes("/d/c", n * 7000L, pattern(10 + n, 0, 7000))).fsync(c);
        }
        w.stop();
        explore("create-write-fsync", 0.2, w);
    }
}
