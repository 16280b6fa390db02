package io.daxfs.it.soak;

import io.daxfs.it.soak.SoakModel.Dir;
import io.daxfs.it.soak.SoakModel.File;
import io.daxfs.it.soak.SoakModel.PartialWrite;
import io.daxfs.it.soak.SoakModel.Symlink;
import io.daxfs.it.ItAccess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The kill -9 soak's checker, checked: its model agrees with Linux on a reference file system
 * (a tmpfs: no daxfs, and unlike ext4 it takes extended attributes of any size the planner
 * makes), so a mismatch on daxfs is daxfs's; and its comparison sees each kind of difference.
 */
class SoakModelTest {
    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ALWAYS)
    Path tmp;

    /**
     * Three plans of 3,000 ops each, planned from the model and run by a worker process in a
     * directory of a tmpfs mounted for the test: after each, the directory equals the model, and
     * the model of the next plan is the directory as found.
     */
    @Test
    void plannedOpsLeaveWhatTheModelSaysOnAReferenceFileSystem() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "mounts a tmpfs: run as root");
        long seed = ThreadLocalRandom.current().nextLong() >>> 1;
        Path ref = Files.createDirectory(tmp.resolve("ref"));
        ItAccess.shOk("mount -t tmpfs -o size=256m soak-ref " + ref);
        try {
            run(seed, Files.createDirectory(ref.resolve("w")));
        } finally {
            ItAccess.shOk("umount " + ref);
        }
    }

    private void run(long seed, Path root) throws Exception {
        SoakModel model = SoakModel.scan(root);
        SplittableRandom rnd = new SplittableRandom(seed);
        try (SoakWorkerProcess worker = new SoakWorkerProcess(tmp.resolve("worker.err"))) {
            for (int round = 0; round < 3; round++) {
                SoakModel expected = model.copy();
                List<SoakOp> plan = new SoakPlanner(rnd.split(), true).plan(expected, 3000);
                Path planFile = tmp.resolve("plan.txt");
                Files.write(planFile, plan.stream().map(SoakOp::line).toList(), StandardCharsets.UTF_8);
                worker.send("RUN\t" + root + "\t" + planFile + "\t" + tmp.resolve("log.txt"));
                worker.await("STARTED", 60);
                String stopped = worker.await("STOPPED", 300);
                KillSoak.LogState log = KillSoak.LogState.read(tmp.resolve("log.txt"));
                assertEquals("STOPPED 3000 0", stopped, "seed " + seed + " round " + round + ": op " + log.completed()
                        + " (" + (log.completed() < plan.size() ? plan.get(log.completed()) : "-") + ") failed: "
                        + log.errMessage());
                expected.handles.clear(); // the worker closes what is still open at the end of a run
                SoakModel found = SoakModel.scan(root);
                List<String> diffs = expected.compare(found, null, 20);
                assertTrue(diffs.isEmpty(), "seed " + seed + " round " + round + ": " + diffs);
                model = found;
            }
            SoakModel.Census c = model.census();
            assertTrue(c.entries() > 100 && c.bytes() > 1 << 20 && c.xattrs() > 10, "the workload built little: " + c);
        }
    }

    private static SoakModel sample() {
        Dir root = new Dir(0755);
        SoakModel m = new SoakModel(root);
        Dir d = new Dir(0700);
        root.entries.put("z", d);
        File f = new File(0644);
        f.write(0, "hello, world".getBytes(StandardCharsets.UTF_8));
        f.mtime = 1_000_000_000_123L;
        f.xattrs.put("user.a", new byte[] {1, 2, 3});
        root.entries.put("f", f);
        d.entries.put("hard", f);
        root.entries.put("s", new Symlink("../target"));
        return m;
    }

    /** A model as a scan would make it: st_nlink and inode numbers filled in. */
    private static SoakModel asFound(SoakModel m) {
        SoakModel c = m.copy();
        Dir root = c.root;
        root.nlinkSeen = 3;
        ((Dir) root.entries.get("z")).nlinkSeen = 2;
        File f = (File) root.entries.get("f");
        f.nlinkSeen = 2;
        f.ino = 12;
        return c;
    }

    @Test
    void comparisonSeesEveryKindOfDifference() {
        SoakModel e = sample();
        assertEquals(List.of(), e.compare(asFound(e), null, 10));

        SoakModel found = asFound(e);
        ((Dir) found.root.entries.get("z")).entries.remove("hard");
        ((File) found.root.entries.get("f")).nlinkSeen = 1;
        assertEquals(List.of("f: st_nlink 1, expected 2", "z/hard: missing (expected a file of 12 bytes)"),
                e.compare(found, null, 10));

        found = asFound(e);
        found.root.entries.put("extra", new Symlink("x"));
        assertEquals(List.of("extra: should not exist (found a symbolic link to x)"), e.compare(found, null, 10));

        found = asFound(e);
        ((File) found.root.entries.get("f")).data[4] = 'O';
        assertTrue(e.compare(found, null, 10).getFirst().startsWith("f: content differs (first differing byte at 4"));

        found = asFound(e);
        ((File) found.root.entries.get("f")).truncate(5);
        ((File) found.root.entries.get("f")).mtime = 1_000_000_000_123L;
        assertTrue(e.compare(found, null, 10).getFirst().startsWith("f: size 5, expected 12"));

        found = asFound(e);
        ((File) found.root.entries.get("f")).mode = 0600;
        assertEquals(List.of("f: mode 600, expected 644"), e.compare(found, null, 10));

        found = asFound(e);
        ((File) found.root.entries.get("f")).mtime = 7L;
        assertEquals(List.of("f: mtime 7 ns, expected 1000000000123"), e.compare(found, null, 10));

        found = asFound(e);
        ((File) found.root.entries.get("f")).xattrs.put("user.a", new byte[] {1, 2, 4});
        ((File) found.root.entries.get("f")).xattrs.put("user.b", new byte[0]);
        assertEquals(List.of("f: attribute user.a has 3 bytes, expected 3 (content differs)",
                "f: attribute user.b should not exist (0 bytes)"), e.compare(found, null, 10));

        found = asFound(e);
        found.root.entries.put("s", new Symlink("../other"));
        assertEquals(List.of("s: symbolic link to ../other, expected ../target"), e.compare(found, null, 10));

        // Two files with the same content where one file with two names was expected.
        found = asFound(e);
        File copy = new File(0644);
        File original = (File) found.root.entries.get("f");
        copy.write(0, "hello, world".getBytes(StandardCharsets.UTF_8));
        copy.mtime = original.mtime;
        copy.xattrs.putAll(original.xattrs);
        copy.nlinkSeen = 1;
        copy.ino = 13;
        original.nlinkSeen = 1;
        ((Dir) found.root.entries.get("z")).entries.put("hard", copy);
        assertEquals(List.of("f: st_nlink 1, expected 2",
                "z/hard: hard links differ (inode 13 is not the file expected under this name)"), e.compare(found, null, 10));

        found = asFound(e);
        found.root.nlinkSeen = 2;
        assertEquals(List.of("(worker root): directory st_nlink 2 with 1 subdirectories"), e.compare(found, null, 10));
    }

    @Test
    void aWriteInFlightMayLeaveEachByteOldOrNewAndNothingElse() {
        SoakModel e = sample();
        File f = (File) e.root.entries.get("f");
        byte[] newBytes = "HELLO, WORLD, AND MORE".getBytes(StandardCharsets.UTF_8); // from 0 to 22
        PartialWrite w = new PartialWrite(f, 0, newBytes);

        SoakModel found = asFound(e);
        File ff = (File) found.root.entries.get("f");
        ff.data[0] = 'H';
        ff.data[7] = 'W';
        ff.mtime = 5L; // not checked for the file being written
        assertEquals(List.of(), e.compare(found, w, 10), "some bytes new, some old");

        ff.write(12, ", AN".getBytes(StandardCharsets.UTF_8)); // grown to 16 of the write's 22
        assertEquals(List.of(), e.compare(found, w, 10), "grown part of the way");

        ff.write(3, new byte[] {'x'});
        assertEquals(List.of("f: byte 3 is 120, neither the old 108 nor the new 76"), e.compare(found, w, 10));

        found = asFound(e);
        ((File) found.root.entries.get("f")).truncate(23);
        assertTrue(e.compare(found, w, 10).getFirst().startsWith("f: size 23 after a write of [0, 22) in flight"));

        found = asFound(e);
        ((File) found.root.entries.get("f")).truncate(11);
        assertTrue(e.compare(found, w, 10).getFirst().startsWith("f: size 11 after a write of [0, 22) in flight"));

        PartialWrite beyond = new PartialWrite(f, 20, new byte[] {9, 9});
        found = asFound(e);
        ((File) found.root.entries.get("f")).truncate(22); // zeros between the old end and the write
        ((File) found.root.entries.get("f")).data[21] = 9;
        assertEquals(List.of(), e.compare(found, beyond, 10));
        ((File) found.root.entries.get("f")).data[14] = 9;
        assertEquals(List.of("f: byte 14 is 9, neither the old 0 (outside the write in flight)"), e.compare(found, beyond, 10));
    }
}
