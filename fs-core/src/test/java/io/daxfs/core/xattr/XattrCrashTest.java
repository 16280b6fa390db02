package io.daxfs.core.xattr;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.FsSnapshot;
import io.daxfs.core.FsckSupport;
import io.daxfs.core.TestDevice;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.core.base.FsStats;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;
import io.daxfs.core.format.Geometry;
import io.daxfs.devdax.CrashImages;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.devdax.RecordingRegion;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Attribute changes are atomic across crashes: stopped at each step of their commit, with a
 * torn journal slot, and at every crash state a recorded workload can leave, the file system
 * shows either the old or the new attribute set - never a mix, never a leaked or doubly owned
 * block - and fsck finds it clean.
 */
class XattrCrashTest {

    static final class Crash extends RuntimeException {
        Crash(String step) {
            super("simulated crash at " + step, null, false, false);
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    record Op(String name, Consumer<DaxFileSystem> setup, Consumer<DaxFileSystem> op) {
        @Override
        public String toString() {
            return name;
        }
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

    static Stream<Arguments> opsAndSteps() {
        return ops().stream().flatMap(op -> Stream.of("committed", "applied", "marked")
                .map(step -> Arguments.of(op, step)));
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

    private static State reference(Op op) {
        try (TestDevice ref = TestDevice.create(16 * MIB)) {
            op.setup().accept(ref.fs());
            op.op().accept(ref.fs());
            return State.of(ref.remount());
        }
    }

    private static void crashAt(DaxFileSystem fs, String step) {
        boolean[] fired = {false};
        fs.internals().journal().setObserver(s -> {
            if (s.equals(step) && !fired[0]) {
                fired[0] = true;
                throw new Crash(s);
            }
        });
    }

    @ParameterizedTest(name = "{0} stopped after ''{1}''")
    @MethodSource("opsAndSteps")
    void aCommittedChangeIsThereAfterTheCrash(Op op, String step) {
        State expected = reference(op);
        try (TestDevice dev = TestDevice.create(16 * MIB)) {
            op.setup().accept(dev.fs());
            State before = State.of(dev.fs());
            assertNotEquals(before, expected, "the operation must change something");
            crashAt(dev.fs(), step);
            assertThrows(Crash.class, () -> op.op().accept(dev.fs()));
            // fsck sees the state the next mount will: the committed transaction applied.
            FsckSupport.assertClean(dev.region().readView(), op + " crashed at " + step + ", before remount");

            DaxFileSystem fs = dev.crashRemount();
            State after = State.of(fs);
            assertEquals(expected, after, op + " after a crash at " + step);
            FsSnapshot.assertSpaceAccounted(fs);
            FsckSupport.assertClean(dev.region().readView(), op + " after a crash at " + step);
            assertEquals(after, State.of(dev.remount()), "replayed once");
            stillUsable(dev);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ops")
    void aTornCommitLeavesTheOldSet(Op op) {
        try (TestDevice dev = TestDevice.create(16 * MIB)) {
            op.setup().accept(dev.fs());
            State before = State.of(dev.fs());
            long slot = dev.fs().superblock().geometry().journalOffset() + Geometry.BLOCK_SIZE;
            crashAt(dev.fs(), "committed");
            assertThrows(Crash.class, () -> op.op().accept(dev.fs()));
            var media = dev.region().readView();
            long total = media.get(ValueLayout.JAVA_LONG_UNALIGNED, slot + 16);
            long at = 24 + (total - 32) / 2;
            dev.region().putByte(slot + at, (byte) (media.get(ValueLayout.JAVA_BYTE, slot + at) ^ 0x10));

            FsckSupport.assertClean(dev.region().readView(), op + " torn, before remount");
            DaxFileSystem fs = dev.remount();
            assertEquals(before, State.of(fs), op + ": a torn commit leaves the old set");
            FsSnapshot.assertSpaceAccounted(fs);
            FsckSupport.assertClean(dev.region().readView(), op + " torn");
            op.op().accept(fs);
            assertEquals(reference(op), State.of(dev.remount()), op + " done again after the torn commit");
        }
    }

    private static void stillUsable(TestDevice dev) {
        DaxFileSystem fs = dev.fs();
        long ino = fs.create(ROOT, "after-recovery", 0644, 0, 0);
        fs.setxattr(ino, "user.after", pattern(5, 0, 5000), 0);
        State s = State.of(fs);
        assertEquals(s, State.of(dev.remount()));
        FsSnapshot.assertSpaceAccounted(dev.fs());
    }

    // ------------------------------------------------------------------ every crash state

    /**
     * Records every store, flush and fence of a sequence of attribute changes and checks each
     * crash state derived from the log: fsck clean, mountable, showing the state after some
     * prefix of the sequence, with space accounted for.
     */
    @Test
    void everyCrashStateShowsAPrefixOfTheChanges() throws IOException {
        Path dir = TestDevice.newTempDir();
        try {
            List<State> states = new ArrayList<>();
            byte[] base;
            List<RecordingRegion.Event> log;
            try (OpenedDevice d = TestDevice.open(dir.resolve("recorded.img"), 16 * MIB)) {
                DaxFileSystem.format(d.region(), FormatOptions.defaults());
                DaxFileSystem pre = DaxFileSystem.mount(d.region());
                write(pre, pre.create(ROOT, "f", 0644, 0, 0), 0, pattern(6, 0, 7000));
                pre.mkdir(ROOT, "d", 0755, 0, 0);
                fullAreas(pre);
                pre.close();
                RecordingRegion rec = new RecordingRegion(d.region());
                base = rec.snapshot();
                DaxFileSystem fs = DaxFileSystem.mount(rec);
                states.add(State.of(fs));
                List<Consumer<DaxFileSystem>> steps = List.of(
                        f -> f.setxattr(f.resolve("/f"), "user.a", utf8("one"), 0),
                        f -> f.setxattr(f.resolve("/grow"), "user.next", pattern(9, 0, 20), 0),
                        f -> f.setxattr(f.resolve("/compact"), "user.x", pattern(10, 0, 20), 0),
                        f -> f.setxattr(f.resolve("/f"), "user.big", pattern(7, 0, 65536), 0),
                        f -> f.setxattr(f.resolve("/f"), "user.a", utf8("two"), 0),
                        f -> f.setxattr(f.resolve("/f"), "user.big", utf8("small now"), 0),
                        f -> f.setxattr(f.resolve("/d"), "trusted.x", pattern(8, 0, 5000), 0),
                        f -> f.removexattr(f.resolve("/f"), "user.a"),
                        f -> f.unlink(ROOT, "f"));
                for (Consumer<DaxFileSystem> s : steps) {
                    s.accept(fs);
                    states.add(State.of(fs));
                }
                fs.close();
                log = rec.events();
            }
            long seed = TestDevice.seed("XattrCrashTest.everyCrashStateShowsAPrefixOfTheChanges");
            Iterator<CrashImages.CrashImage> it = CrashImages.iterator(base, log, 3, seed);
            int lastDurable = 0;
            int images = 0;
            while (it.hasNext()) {
                CrashImages.CrashImage img = it.next();
                String what = img.describe() + " (seed " + seed + ")";
                int k = check(dir, img.image(), states, what);
                switch (img.kind()) {
                    case DURABLE_PREFIX -> {
                        assertTrue(k >= lastDurable, what + " went back from " + lastDurable + " to " + k);
                        lastDurable = k;
                    }
                    case PARTIAL_EPOCH -> assertTrue(k >= lastDurable, what + " went back before its durable prefix");
                    case FINAL -> assertEquals(states.size() - 1, k, what);
                }
                images++;
            }
            assertTrue(images > 30, "only " + images + " crash images");
        } finally {
            TestDevice.deleteTree(dir);
        }
    }

    private static int check(Path dir, byte[] image, List<State> states, String what) {
        Path file = dir.resolve("crash-" + System.nanoTime() + ".img");
        try {
            Files.write(file, image);
            try (OpenedDevice d = TestDevice.openExisting(file)) {
                FsckReport r = FsChecker.check(d.region().readView());
                assertTrue(r.clean(), what + ", before mount:\n" + r.render());
                DaxFileSystem fs = DaxFileSystem.mount(d.region());
                State seen = State.of(fs);
                int k = states.indexOf(seen);
                if (k < 0) {
                    fail(what + " shows a state no prefix has:\n" + seen + "\nexpected one of:\n" + states);
                }
                FsSnapshot.assertSpaceAccounted(fs);
                FsckSupport.assertClean(d.region().readView(), what + ", after mount");
                fs.close();
                return k;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // the directory goes at the end
            }
        }
    }
}
