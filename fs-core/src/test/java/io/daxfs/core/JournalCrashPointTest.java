package io.daxfs.core;

import io.daxfs.core.CrashHarness.Op;
import io.daxfs.core.base.FsStats;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.TreeMap;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Stops a commit at a named step of the journal protocol (the observer throws), abandons the
 * mounted instance and remounts the image: a transaction durable in the slot is replayed, a
 * replay of an applied one is harmless, a torn slot is ignored.
 *
 * <p>The expected outcome comes from a reference device that ran the same setup and
 * operation without interruption.
 */
class JournalCrashPointTest extends CommitCrashTests<JournalCrashPointTest.State> {

    @Override
    protected CrashHarness<State> harness() {
        return HARNESS;
    }

    private static final CrashHarness<State> HARNESS = new CrashHarness<>(16 * MIB, State::of, fs -> {
        long ino = fs.create(ROOT, "after-recovery", 0644, 0, 0);
        write(fs, ino, 0, pattern(99, 0, 6000));
    });

    static List<Op> ops() {
        return List.of(
                new Op("create", fs -> fs.mkdir(ROOT, "d", 0755, 0, 0),
                        fs -> fs.create(fs.resolve("/d"), "new", 0640, 7, 8)),
                new Op("mkdir", fs -> fs.create(ROOT, "x", 0644, 0, 0),
                        fs -> fs.mkdir(ROOT, "sub", 0700, 0, 0)),
                new Op("allocating-write", fs -> fs.create(ROOT, "f", 0644, 0, 0),
                        fs -> write(fs, fs.resolve("/f"), 100, pattern(1, 0, 10_000)), false),
                new Op("write-past-eof", fs -> write(fs, fs.create(ROOT, "f", 0644, 0, 0), 0, pattern(2, 0, 5000)),
                        fs -> write(fs, fs.resolve("/f"), 3 * MIB, pattern(3, 0, 3)), false),
                new Op("truncate-down", fs -> write(fs, fs.create(ROOT, "f", 0644, 0, 0), 0, pattern(4, 0, 40_000)),
                        fs -> fs.truncate(fs.resolve("/f"), 5000)),
                new Op("truncate-up", fs -> write(fs, fs.create(ROOT, "f", 0644, 0, 0), 0, pattern(5, 0, 9000)),
                        fs -> fs.truncate(fs.resolve("/f"), 1_000_000)),
                new Op("unlink", fs -> {
                    write(fs, fs.create(ROOT, "f", 0644, 0, 0), 0, pattern(6, 0, 30_000));
                    fs.create(ROOT, "keep", 0644, 0, 0);
                }, fs -> fs.unlink(ROOT, "f")),
                new Op("rename-over", fs -> {
                    write(fs, fs.create(ROOT, "src", 0644, 0, 0), 0, pattern(7, 0, 8000));
                    write(fs, fs.create(ROOT, "dst", 0600, 0, 0), 0, pattern(8, 0, 20_000));
                }, fs -> fs.rename(ROOT, "src", ROOT, "dst")),
                new Op("rename-dir-across", fs -> {
                    long a = fs.mkdir(ROOT, "a", 0755, 0, 0);
                    fs.mkdir(ROOT, "b", 0755, 0, 0);
                    fs.create(fs.mkdir(a, "x", 0755, 0, 0), "inside", 0644, 0, 0);
                }, fs -> fs.rename(fs.resolve("/a"), "x", fs.resolve("/b"), "y")),
                new Op("rmdir", fs -> fs.mkdir(fs.mkdir(ROOT, "p", 0755, 0, 0), "q", 0755, 0, 0),
                        fs -> fs.rmdir(fs.resolve("/p"), "q")),
                new Op("link", fs -> fs.create(ROOT, "f", 0644, 0, 0),
                        fs -> fs.link(fs.resolve("/f"), ROOT, "g")),
                new Op("symlink", fs -> fs.mkdir(ROOT, "d", 0755, 0, 0),
                        fs -> fs.symlink(fs.resolve("/d"), "ln", "../somewhere", 0, 0)),
                new Op("chmod-chown", fs -> fs.create(ROOT, "f", 0644, 0, 0),
                        fs -> fs.chmod(fs.resolve("/f"), 0400)));
    }

    /** The visible state and statfs of a file system. */
    record State(TreeMap<String, String> tree, FsStats stats) {
        static State of(DaxFileSystem fs) {
            return new State(FsSnapshot.of(fs), fs.statfs());
        }
    }

    /** Several crash-remount cycles in a row, each at a different step. */
    @Test
    void repeatedCrashesAccumulateCorrectly() {
        try (TestDevice dev = TestDevice.create(16 * MIB)) {
            DaxFileSystem fs = dev.fs();
            String[] steps = {"committed", "applied", "committed", "marked", "committed"};
            for (int i = 0; i < steps.length; i++) {
                CrashHarness.crashAt(fs, steps[i]);
                int n = i;
                DaxFileSystem f = fs;
                assertThrows(CrashHarness.Crash.class, () -> write(f, f.create(ROOT, "f" + n, 0644, 0, 0), 0, new byte[1]));
                fs = dev.crashRemount();
                // The observer fires in the first commit, the create's: the file is there, empty.
                assertTrue(fs.readdir(ROOT).stream().anyMatch(e -> e.name().equals("f" + n)), "f" + n);
                assertEquals(0, fs.getattr(fs.resolve("/f" + n)).size());
            }
            assertEquals(2 + steps.length, fs.readdir(ROOT).size());
            FsSnapshot.assertSpaceAccounted(fs);
        }
    }

}
