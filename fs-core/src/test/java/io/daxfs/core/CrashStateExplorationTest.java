package io.daxfs.core;

import io.daxfs.core.base.AtimePolicy;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.devdax.PersistenceMode;

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
 * operation ({@link RecordedWorkload}): each crash state must recover, pass fsck and keep every
 * promise made by the point of the crash. Prints one line per workload and a total
 * ("crash explorer: N crash states, 0 inconsistent"); docs/reliability.md describes the model.
 *
 * <p>Replay: {@code -Ddaxfs.seed=S} (the seed is printed); {@code -Ddaxfs.crash.states=N} aims
 * at about N distinct states over all workloads (default {@value #DEFAULT_STATES});
 * {@code -Ddaxfs.crash.workload=name} runs one workload.
 */
class CrashStateExplorationTest {
    static final int DEFAULT_STATES = 13_000;
    private static final long SEED = TestDevice.seed("CrashStateExplorationTest (crash explorer)");
    private static final int TOTAL = Integer.getInteger("daxfs.crash.states", DEFAULT_STATES);
    private static final String ONLY = System.getProperty("daxfs.crash.workload", "");
    private static final List<CrashExplorer.Result> RESULTS = new ArrayList<>();
    private static final long SIZE = 16 * MIB;

    /** Share of the total states for each workload (they add up to 1). */
    private static int share(double fraction) {
        return (int) Math.round(TOTAL * fraction);
    }

    private static void explore(String name, double fraction, RecordedWorkload w) {
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
        long recovery = RESULTS.stream().mapToLong(CrashExplorer.Result::recoveryCrashStates).sum();
        System.out.printf("crash explorer: %d crash states, %d inconsistent (%d workloads; %d more states from crashes "
                + "during recovery; %.1f s; seed %d)%n", states, bad, RESULTS.size(), recovery, millis / 1000.0, SEED);
        if (ONLY.isEmpty() && TOTAL >= DEFAULT_STATES && RESULTS.size() == WORKLOADS) {
            assertTrue(states >= 10_000, "only " + states + " crash states explored");
        }
    }

    private static final int WORKLOADS = 9;

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
        RecordedWorkload w = createWriteFsync("create-write-fsync", PersistenceMode.CACHE_LINE_WRITEBACK);
        explore("create-write-fsync", 0.17, w);
    }

    /**
     * The same on a plain shared mapping of an image file, where a flush is msync of whole
     * pages and durable when it returns.
     */
    @Test
    void createWriteFsyncOnAnImageFile() {
        RecordedWorkload w = createWriteFsync("create-write-fsync (msync)", PersistenceMode.MSYNC);
        explore("create-write-fsync (msync)", 0.04, w);
    }

    private static RecordedWorkload createWriteFsync(String name, PersistenceMode mode) {
        RecordedWorkload w = RecordedWorkload.start(name, SIZE, FormatOptions.defaults(), pre -> {
            write(pre, pre.create(ROOT, "keep", 0644, 0, 0), 0, pattern(1, 0, 20_000));
        }, mode, r -> r);
        DaxFileSystem fs = w.fs();
        long keep = fs.resolve("/keep");
        w.ns("create /a", f -> f.create(ROOT, "a", 0644, 0, 0));
        long a = fs.resolve("/a");
        w.on("write /a 10000 bytes", a, writes("/a", 0, pattern(2, 0, 10_000)))
                .fsync(a)
                .on("overwrite /a in place", a, writes("/a", 100, pattern(3, 0, 200)))
                .on("append /a across a block boundary", a, writes("/a", 10_000, pattern(4, 0, 3000)))
                .fsync(a)
                // Truncated into a block, the bytes cut off stay in it: appends must never show them.
                .on("truncate /a to 12500", a, f -> f.truncate(a, 12_500))
                .on("append /a inside its last block", a, writes("/a", 12_500, pattern(9, 0, 300)));
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
        return w.stop();
    }

    /**
     * Rename chains within and across directories, over files and empty directories (the
     * replaced file's blocks freed), renameat2 RENAME_EXCHANGE of files, of a file and a
     * directory and of two directories, RENAME_NOREPLACE, and data written and fsync'd on the
     * way.
     */
    @Test
    void renameChains() {
        RecordedWorkload w = RecordedWorkload.start("rename-chains", SIZE, pre -> {
            long x = pre.mkdir(ROOT, "x", 0755, 0, 0);
            long y = pre.mkdir(ROOT, "y", 0755, 0, 0);
            for (int i = 1; i <= 5; i++) {
                write(pre, pre.create(x, "f" + i, 0644, 0, 0), 0, pattern(20 + i, 0, 3000 * i));
            }
            write(pre, pre.create(y, "t1", 0600, 0, 0), 0, pattern(30, 0, 40_000));
            long sub = pre.mkdir(x, "sub", 0755, 0, 0);
            pre.create(sub, "inside", 0644, 0, 0);
            pre.mkdir(y, "empty", 0755, 0, 0);
            pre.mkdir(y, "d2", 0755, 0, 0);
        });
        DaxFileSystem fs = w.fs();
        long x = fs.resolve("/x");
        long y = fs.resolve("/y");
        w.ns("rename /x/f1 -> /x/g1", f -> f.rename(x, "f1", x, "g1"))
                .ns("rename /x/g1 -> /y/g1", f -> f.rename(x, "g1", y, "g1"))
                .ns("rename /y/g1 -> /y/h1", f -> f.rename(y, "g1", y, "h1"))
                .ns("rename /x/f2 over /y/t1", f -> f.rename(x, "f2", y, "t1"))
                .ns("exchange /x/f3 and /y/h1", f -> f.rename(x, "f3", y, "h1", DaxFileSystem.RENAME_EXCHANGE));
        long h1 = fs.resolve("/y/h1");
        w.on("write /y/h1", h1, writes("/y/h1", 1000, pattern(31, 0, 6000))).fsync(h1);
        w.ns("exchange directory /x/sub and file /y/t1", f -> f.rename(x, "sub", y, "t1", DaxFileSystem.RENAME_EXCHANGE))
                .ns("exchange directories /y/t1 and /y/d2", f -> f.rename(y, "t1", y, "d2", DaxFileSystem.RENAME_EXCHANGE))
                .ns("rename /x/f4 -> /y/new (noreplace)", f -> f.rename(x, "f4", y, "new", DaxFileSystem.RENAME_NOREPLACE))
                .ns("rename directory /y/d2 -> /x/moved", f -> f.rename(y, "d2", x, "moved"))
                .ns("rename directory /x/moved over /y/empty", f -> f.rename(x, "moved", y, "empty"));
        for (int i = 0; i < 12; i++) {
            String from = i % 2 == 0 ? "/y" : "/x";
            String to = i % 2 == 0 ? "/x" : "/y";
            String src = i == 0 ? "new" : "hop" + (i - 1);
            String dst = "hop" + i;
            w.ns("rename " + from + "/" + src + " -> " + to + "/" + dst, f -> f.rename(f.resolve(from), src, f.resolve(to), dst));
        }
        w.stop();
        explore("rename-chains", 0.14, w);
    }

    /**
     * Truncates (down, up, into a block) and hole punches (whole blocks, inside a block) of
     * some files while other operations are in flight in another thread: a write stopped
     * after its allocation committed and before it copied into its mapped block, a truncate
     * stopped with its extents detached and not yet committed. The blocks freed are reused by
     * the writes that follow.
     */
    @Test
    void truncateAndPunchUnderLoad() {
        RecordedWorkload w = RecordedWorkload.start("truncate-punch-under-load", SIZE, pre -> {
            write(pre, pre.create(ROOT, "t", 0644, 0, 0), 0, pattern(40, 0, 256 * 1024));
            write(pre, pre.create(ROOT, "p", 0644, 0, 0), 0, pattern(41, 0, 64 * 1024));
            write(pre, pre.create(ROOT, "w", 0644, 0, 0), 0, pattern(42, 0, 4096));
            pre.create(ROOT, "q", 0644, 0, 0);
        });
        DaxFileSystem fs = w.fs();
        long t = fs.resolve("/t");
        long p = fs.resolve("/p");
        long wf = fs.resolve("/w");
        long q = fs.resolve("/q");
        RecordedWorkload.Background writer = w.background("write /w 0..40000", wf, "write.mapped",
                writes("/w", 0, pattern(43, 0, 40_000)));
        assertTrue(writer.paused(), "the write stops between its allocation and its copy");
        w.on("truncate /t to 10000", t, f -> f.truncate(t, 10_000))
                .on("punch /p whole blocks", p, f -> f.punchHole(p, 8192, 32 * 1024))
                .on("punch /p inside a block", p, f -> f.punchHole(p, 100, 200))
                .on("write /q 100 KiB", q, writes("/q", 0, pattern(44, 0, 100 * 1024)))
                .fsync(q)
                .on("truncate /t up to 300000", t, f -> f.truncate(t, 300_000))
                .on("zero range in /p", p, f -> f.zeroRange(p, 50_000, 10_000, true))
                .fsync(p);
        writer.finish();
        w.fsync(wf);
        RecordedWorkload.Background truncater = w.background("truncate /q to 5000", q, "free.detached",
                f -> f.truncate(q, 5000));
        assertTrue(truncater.paused(), "the truncate stops with its extents detached");
        w.on("write /t 0..20000", t, writes("/t", 0, pattern(45, 0, 20_000)))
                .fsync(t)
                .on("punch /p 16 KiB", p, f -> f.punchHole(p, 0, 16 * 1024))
                .on("write /w past the end", wf, writes("/w", 60_000, pattern(46, 0, 5000)));
        truncater.finish();
        w.on("write /q over the truncated end", q, writes("/q", 4000, pattern(47, 0, 30_000)))
                .on("truncate /p to 0", p, f -> f.truncate(p, 0))
                .on("write /p again", p, writes("/p", 0, pattern(48, 0, 9000)))
                .fsync(p)
                .fsync(q);
        w.stop();
        explore("truncate-punch-under-load", 0.15, w);
    }

    /**
     * A directory grown to 10,000 entries (9,984 made before recording: 100 files and 9,884
     * hard links to them), then churned while recording: creates up to 10,000, unlinks
     * (records merged into their neighbours, a file's last link), renames inside it, out and
     * back. Each state recovered lists all 10,000 entries, so this workload is the costly one:
     * it records few operations, and every fence of them is a crash point.
     */
    @Test
    void directoryChurnTo10000Entries() {
        RecordedWorkload w = RecordedWorkload.start("directory-churn", SIZE, pre -> {
            long big = pre.mkdir(ROOT, "big", 0755, 0, 0);
            long[] files = new long[100];
            for (int i = 0; i < files.length; i++) {
                files[i] = pre.create(big, String.format("file-%03d", i), 0644, 0, 0);
            }
            for (int i = 0; i < 9884; i++) {
                pre.link(files[i % files.length], big, String.format("link-%05d-of-%03d", i, i % files.length));
            }
            pre.mkdir(ROOT, "small", 0755, 0, 0);
        });
        DaxFileSystem fs = w.fs();
        long big = fs.resolve("/big");
        long small = fs.resolve("/small");
        for (int i = 0; i < 16; i++) {
            String n = "new-" + i + "-" + "x".repeat(i * 5);
            w.ns("create /big/new-" + i, f -> f.create(big, n, 0644, 0, 0));
        }
        assertEquals(10_000 + 2, fs.readdir(big).size(), "the directory holds 10,000 entries");
        for (int i = 0; i < 8; i++) {
            String n = String.format("link-%05d-of-%03d", i * 1200, (i * 1200) % 100);
            w.ns("unlink /big/" + n, f -> f.unlink(big, n));
        }
        for (int i = 0; i < 2; i++) {
            String n = "new-" + i + "-" + "x".repeat(i * 5);
            w.ns("unlink /big/new-" + i + " (its last link)", f -> f.unlink(big, n));
        }
        for (int i = 0; i < 3; i++) {
            String from = String.format("link-%05d-of-%03d", 150 + i * 2000, (150 + i * 2000) % 100);
            w.ns("rename /big/" + from + " inside", f -> f.rename(big, from, big, "renamed-" + from));
        }
        for (int i = 0; i < 2; i++) {
            String n = String.format("file-%03d", 50 + i);
            w.ns("rename /big/" + n + " to /small", f -> f.rename(big, n, small, n));
            w.ns("rename /small/" + n + " back", f -> f.rename(small, n, big, n + "-back"));
        }
        w.ns("link a file of /big into /small", f -> f.link(f.resolve("/big/file-007"), small, "linked"));
        w.stop();
        explore("directory-churn", 0.04, w);
    }

    /**
     * Directory blocks: a directory filled past one block, emptied (its blocks given back),
     * filled again; a directory grown to many blocks and emptied record by record; rmdir of
     * emptied directories; mkdir and rmdir nested.
     */
    @Test
    void directoryBlocks() {
        RecordedWorkload w = RecordedWorkload.start("directory-blocks", SIZE, pre -> {
            pre.mkdir(ROOT, "small", 0755, 0, 0);
            long many = pre.mkdir(ROOT, "many", 0755, 0, 0);
            for (int i = 0; i < 150; i++) {
                pre.create(many, "m" + i + "-" + "z".repeat(100), 0644, 0, 0);
            }
        });
        DaxFileSystem fs = w.fs();
        long small = fs.resolve("/small");
        long many = fs.resolve("/many");
        // Records of about 196 bytes: 20 fill a block, 24 need two.
        for (int i = 0; i < 24; i++) {
            String n = "s" + i + "-" + "y".repeat(180);
            w.ns("create /small/s" + i, f -> f.create(small, n, 0644, 0, 0));
        }
        for (int i = 0; i < 24; i++) {
            String n = "s" + i + "-" + "y".repeat(180);
            w.ns("unlink /small/s" + i, f -> f.unlink(small, n));
        }
        assertEquals(0, fs.getattr(small).blocks512(), "the emptied directory gave its blocks back");
        w.ns("create /small/again", f -> f.create(small, "again", 0644, 0, 0));
        for (int i = 0; i < 150; i += 3) {
            String n = "m" + i + "-" + "z".repeat(100);
            w.ns("unlink /many/m" + i, f -> f.unlink(many, n));
        }
        w.ns("mkdir /small/a", f -> f.mkdir(small, "a", 0755, 0, 0))
                .ns("mkdir /small/a/b", f -> f.mkdir(f.resolve("/small/a"), "b", 0700, 0, 0))
                .ns("rmdir /small/a/b", f -> f.rmdir(f.resolve("/small/a"), "b"))
                .ns("rmdir /small/a", f -> f.rmdir(small, "a"))
                .ns("unlink /small/again", f -> f.unlink(small, "again"))
                .ns("rmdir /small", f -> f.rmdir(ROOT, "small"));
        w.stop();
        explore("directory-blocks", 0.12, w);
    }

    /**
     * Extended attributes: inline and out of line, an area that grows and one that compacts,
     * replacing, shrinking, removing, on a directory, and the unlink of a file that has them.
     */
    @Test
    void xattrs() {
        RecordedWorkload w = RecordedWorkload.start("xattrs", SIZE, pre -> {
            write(pre, pre.create(ROOT, "f", 0644, 0, 0), 0, pattern(50, 0, 7000));
            pre.mkdir(ROOT, "d", 0755, 0, 0);
            io.daxfs.core.xattr.XattrCrashTestAccess.fullAreas(pre);
        });
        DaxFileSystem fs = w.fs();
        long f = fs.resolve("/f");
        long d = fs.resolve("/d");
        long grow = fs.resolve("/grow");
        long compact = fs.resolve("/compact");
        w.on("set user.a", f, x -> x.setxattr(f, "user.a", "one".getBytes(), 0))
                .on("grow an area", grow, x -> x.setxattr(grow, "user.next", pattern(51, 0, 20), 0))
                .on("compact an area", compact, x -> x.setxattr(compact, "user.x", pattern(52, 0, 20), 0))
                .on("set user.big (64 KiB, out of line)", f, x -> x.setxattr(f, "user.big", pattern(53, 0, 65536), 0))
                .on("replace user.a", f, x -> x.setxattr(f, "user.a", "two".getBytes(), 0))
                .on("replace user.big out of line", f, x -> x.setxattr(f, "user.big", pattern(54, 0, 40_000), 0))
                .on("shrink user.big inline", f, x -> x.setxattr(f, "user.big", "small now".getBytes(), 0))
                .on("set on a directory", d, x -> x.setxattr(d, "trusted.x", pattern(55, 0, 5000), 0))
                .on("remove user.a", f, x -> x.removexattr(f, "user.a"))
                .on("write /f with attributes", f, writes("/f", 7000, pattern(56, 0, 9000)))
                .fsync(f);
        for (int i = 0; i < 8; i++) {
            int n = i;
            w.on("set user.many" + i, d, x -> x.setxattr(d, "user.many" + n, pattern(60 + n, 0, 300 * (n + 1)), 0));
        }
        w.ns("unlink /f", x -> x.unlink(ROOT, "f"))
                .ns("unlink /grow", x -> x.unlink(ROOT, "grow"));
        w.on("remove the last of /compact", compact, x -> x.removexattr(compact, "user.x"));
        w.stop();
        explore("xattrs", 0.13, w);
    }

    /**
     * Orphans: files unlinked while open (written after, then released), a rename over an
     * open file, O_TMPFILE files (createUnnamed) written and either linked into the tree or
     * released. A crash leaves them on the orphan list, and recovery frees them.
     */
    @Test
    void orphans() {
        RecordedWorkload w = RecordedWorkload.start("orphans", SIZE, pre -> {
            write(pre, pre.create(ROOT, "victim", 0644, 0, 0), 0, pattern(70, 0, 50_000));
            write(pre, pre.create(ROOT, "target", 0644, 0, 0), 0, pattern(71, 0, 30_000));
            write(pre, pre.create(ROOT, "source", 0644, 0, 0), 0, pattern(72, 0, 8000));
        });
        DaxFileSystem fs = w.fs();
        long victim = fs.resolve("/victim");
        long target = fs.resolve("/target");
        w.on("open /victim", victim, f -> f.open(victim)).track(victim)
                .ns("unlink /victim while open", f -> f.unlink(ROOT, "victim"))
                .on("write the unlinked /victim", victim, f -> write(f, victim, 50_000, pattern(73, 0, 20_000)))
                .on("release /victim (frees it)", victim, f -> f.release(victim)).untrack(victim)
                .on("open /target", target, f -> f.open(target)).track(target)
                .ns("rename /source over the open /target", f -> f.rename(ROOT, "source", ROOT, "target"));
        long[] tmp = new long[1];
        w.ns("create an unnamed file", f -> tmp[0] = f.createUnnamed(ROOT, 0640, 0, 0)).track(tmp[0]);
        long t1 = tmp[0];
        w.on("write the unnamed file", t1, f -> write(f, t1, 0, pattern(74, 0, 12_000)))
                .ns("link the unnamed file as /linked", f -> f.link(t1, ROOT, "linked"))
                .fsync(t1)
                .on("release /linked", t1, f -> f.release(t1)).untrack(t1)
                .on("release the replaced /target (frees it)", target, f -> f.release(target)).untrack(target);
        w.ns("create another unnamed file", f -> tmp[0] = f.createUnnamed(ROOT, 0600, 0, 0)).track(tmp[0]);
        long t2 = tmp[0];
        w.on("write the second unnamed file", t2, f -> write(f, t2, 0, pattern(75, 0, 70_000)))
                .on("release it unnamed (frees it)", t2, f -> f.release(t2)).untrack(t2);
        w.ns("create /open-and-gone", f -> f.create(ROOT, "open-and-gone", 0644, 0, 0));
        long gone = fs.resolve("/open-and-gone");
        w.on("open and write /open-and-gone", gone, f -> {
            f.open(gone);
            write(f, gone, 0, pattern(76, 0, 100_000));
        }).track(gone).ns("unlink /open-and-gone (left open at the end)", f -> f.unlink(ROOT, "open-and-gone"));
        w.stop();
        explore("orphans", 0.12, w);
    }

    /**
     * The allocator's busy extents: blocks freed while a lease and a paused read reference
     * them stay busy (not reused by the writes meanwhile); when the references go they are
     * released (zeroed, an image punched) and reused by the next writes.
     */
    @Test
    void busyExtentClearing() {
        RecordedWorkload w = RecordedWorkload.start("busy-extents", SIZE, pre -> {
            write(pre, pre.create(ROOT, "r1", 0644, 0, 0), 0, pattern(80, 0, 40 * 1024));
            write(pre, pre.create(ROOT, "r2", 0644, 0, 0), 0, pattern(81, 0, 64 * 1024));
            pre.create(ROOT, "r3", 0644, 0, 0);
            pre.create(ROOT, "r4", 0644, 0, 0);
        });
        DaxFileSystem fs = w.fs();
        long r1 = fs.resolve("/r1");
        long r2 = fs.resolve("/r2");
        long r3 = fs.resolve("/r3");
        long r4 = fs.resolve("/r4");
        io.daxfs.core.data.Lease[] lease = new io.daxfs.core.data.Lease[1];
        w.on("lease /r2", r2, f -> lease[0] = readLease(f, r2, 64 * 1024));
        java.util.Set<Long> leased = blocksOf(lease[0]);
        java.util.Set<Long> r1Blocks;
        try (io.daxfs.core.data.Lease l1 = readLease(fs, r1, 40 * 1024)) {
            r1Blocks = blocksOf(l1);
        }
        fs.internals().inode(r1).cache().clear(); // taking the states read /r1: make the read look its blocks up
        RecordedWorkload.Background reader = w.background("read /r1", new long[0], "read.mapped",
                f -> TestDevice.read(f, r1, 0, 40 * 1024));
        assertTrue(reader.paused(), "the read stops holding its blocks");
        w.on("truncate /r1 to 0 (its blocks stay busy)", r1, f -> f.truncate(r1, 0))
                .on("punch /r2 (leased: its blocks stay busy)", r2, f -> f.punchHole(r2, 0, 32 * 1024))
                .on("write /r3 80 KiB", r3, writes("/r3", 0, pattern(82, 0, 80 * 1024)))
                .fsync(r3);
        long busyBefore = fs.internals().busyExtents().busyBlocks();
        assertTrue(busyBefore > 0, "freed blocks are busy while referenced");
        reader.finish();
        w.on("close the lease (its blocks are released)", r2, f -> lease[0].close());
        assertEquals(0, fs.internals().busyExtents().busyBlocks(), "released");
        // Best fit: the 18 blocks released (/r1's 10 and /r2's first 8, adjacent) are the
        // smallest free extent that holds 16.
        w.on("write /r4 64 KiB (reuses the released blocks)", r4, writes("/r4", 0, pattern(83, 0, 64 * 1024)))
                .fsync(r4);
        java.util.Set<Long> reused = new java.util.HashSet<>(leased);
        reused.addAll(r1Blocks);
        try (io.daxfs.core.data.Lease l4 = readLease(fs, r4, 64 * 1024)) {
            reused.retainAll(blocksOf(l4));
        }
        assertTrue(!reused.isEmpty(), "the write reused blocks the truncate and the punch freed");
        w.on("punch /r4", r4, f -> f.punchHole(r4, 0, 64 * 1024))
                .on("write /r1 again", r1, writes("/r1", 0, pattern(84, 0, 64 * 1024)))
                .ns("unlink /r3", f -> f.unlink(ROOT, "r3"))
                .on("write /r2 into its hole", r2, writes("/r2", 0, pattern(85, 0, 32 * 1024)))
                .fsync(r1)
                .fsync(r2);
        w.stop();
        explore("busy-extents", 0.11, w);
    }

    private static io.daxfs.core.data.Lease readLease(DaxFileSystem fs, long ino, long length) {
        return fs.leases().take(ino, 0, length, io.daxfs.core.data.Lease.Mode.READ, Integer.MAX_VALUE, 0, "test", null);
    }

    private static java.util.Set<Long> blocksOf(io.daxfs.core.data.Lease lease) {
        java.util.Set<Long> out = new java.util.HashSet<>();
        for (var e : lease.extents()) {
            for (long b = e.start(); b < e.start() + e.length(); b++) {
                out.add(b);
            }
        }
        return out;
    }
}
