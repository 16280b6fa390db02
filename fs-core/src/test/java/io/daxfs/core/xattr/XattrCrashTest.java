package io.daxfs.core.xattr;

import io.daxfs.core.CommitCrashTests;
import io.daxfs.core.CrashHarness;
import io.daxfs.core.CrashHarness.Op;
import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.FsSnapshot;
import io.daxfs.core.base.FsStats;


import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.write;

/**
 * Attribute changes are atomic across crashes: stopped at each step of their commit and with
 * a torn journal slot, the file system shows either the old or the new attribute set - never
 * a mix, never a leaked or doubly owned block - and fsck finds it clean. Every crash state a
 * sequence of attribute changes can leave under the strict persistence model is the
 * "xattrs" workload of {@link io.daxfs.core.CrashStateExplorationTest}.
 */
class XattrCrashTest extends CommitCrashTests<XattrCrashTest.State> {

    @Override
    protected CrashHarness<State> harness() {
        return HARNESS;
    }

    private static final CrashHarness<State> HARNESS = new CrashHarness<>(16 * MIB, State::of, fs -> {
        long ino = fs.create(ROOT, "after-recovery", 0644, 0, 0);
        fs.setxattr(ino, "user.after", pattern(5, 0, 5000), 0);
    });

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A file with an inline and an out-of-line attribute, and a directory. */
    static void standardSetup(DaxFileSystem fs) {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        write(fs, f, 0, pattern(1, 0, 9000));
        fs.setxattr(f, "user.a", utf8("one"), 0);
        fs.setxattr(f, "user.big", pattern(2, 0, 65536), 0);
        fs.mkdir(ROOT, "d", 0755, 0, 0);
    }

    /** Records of 49 bytes (20 header + 9 name + 20 value) that fill a one-block area. */
    static final int GROW_FILL = (4096 - XattrFormat.HEADER) / 49;
    /** Records of 46 bytes (20 header + 6 name + 20 value) that fill a one-block area. */
    static final int COMPACT_FILL = (4096 - XattrFormat.HEADER) / 46;

    /**
     * /grow: distinct attributes filling the one-block area, so that the next set grows it.
     * /compact: one attribute replaced until its area is full of superseded records, so that
     * the next set compacts (XattrTest.theLogGrowsAndCompacts checks both).
     */
    static void fullAreas(DaxFileSystem fs) {
        long grow = fs.create(ROOT, "grow", 0644, 0, 0);
        for (int i = 0; i < GROW_FILL; i++) {
            fs.setxattr(grow, String.format("user.g%03d", i), pattern(i, 0, 20), 0);
        }
        long compact = fs.create(ROOT, "compact", 0644, 0, 0);
        for (int i = 0; i < COMPACT_FILL; i++) {
            fs.setxattr(compact, "user.x", pattern(1000 + i, 0, 20), 0);
        }
    }

    static List<Op> ops() {
        return List.of(
                new Op("append-that-grows-the-area", XattrCrashTest::fullAreas,
                        fs -> fs.setxattr(fs.resolve("/grow"), "user.next", pattern(7, 0, 20), 0)),
                new Op("append-that-compacts", XattrCrashTest::fullAreas,
                        fs -> fs.setxattr(fs.resolve("/compact"), "user.x", pattern(8, 0, 20), 0)),
                new Op("set-new-inline", XattrCrashTest::standardSetup,
                        fs -> fs.setxattr(fs.resolve("/f"), "user.c", utf8("three"), 0)),
                new Op("replace-inline", XattrCrashTest::standardSetup,
                        fs -> fs.setxattr(fs.resolve("/f"), "user.a", utf8("two"), 0)),
                new Op("replace-out-of-line", XattrCrashTest::standardSetup,
                        fs -> fs.setxattr(fs.resolve("/f"), "user.big", pattern(3, 0, 40_000), 0)),
                new Op("out-of-line-to-inline", XattrCrashTest::standardSetup,
                        fs -> fs.setxattr(fs.resolve("/f"), "user.big", utf8("small"), 0)),
                new Op("remove-out-of-line", XattrCrashTest::standardSetup,
                        fs -> fs.removexattr(fs.resolve("/f"), "user.big")),
                new Op("remove-last", fs -> fs.setxattr(fs.create(ROOT, "f", 0644, 0, 0), "user.only", utf8("x"), 0),
                        fs -> fs.removexattr(fs.resolve("/f"), "user.only")),
                new Op("set-on-directory", XattrCrashTest::standardSetup,
                        fs -> fs.setxattr(fs.resolve("/d"), "trusted.d", pattern(4, 0, 3000), 0)),
                new Op("unlink-with-attributes", XattrCrashTest::standardSetup,
                        fs -> fs.unlink(ROOT, "f")));
    }

    /** Tree, every attribute of every path, and statfs. */
    record State(TreeMap<String, String> tree, TreeMap<String, String> xattrs, FsStats stats) {
        static State of(DaxFileSystem fs) {
            TreeMap<String, String> tree = FsSnapshot.of(fs);
            TreeMap<String, String> x = new TreeMap<>();
            for (String path : tree.keySet()) {
                long ino = fs.resolve(path);
                for (String n : fs.listxattr(ino)) {
                    byte[] v = fs.getxattr(ino, n);
                    x.put(path + " " + n, v.length + ":" + Integer.toHexString(Arrays.hashCode(v)));
                }
            }
            return new State(tree, x, fs.statfs());
        }
    }
}
