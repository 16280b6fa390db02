package io.daxfs.core;

import io.daxfs.core.base.FsStats;
import io.daxfs.core.format.Geometry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.ValueLayout;
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

/**
 * Stops a commit at a named step of the journal protocol (the observer throws), abandons the
 * mounted instance and remounts the image: a transaction durable in the slot is replayed, a
 * replay of an applied one is harmless, a torn slot is ignored.
 *
 * <p>The expected outcome comes from a reference device that ran the same setup and
 * operation without interruption.
 */
class JournalCrashPointTest {

    /** Thrown by the observer: the simulated power cut. */
    static final class Crash extends RuntimeException {
        Crash(String step) {
            super("simulated crash at " + step, null, false, false);
        }
    }

    /**
     * One operation with the state it needs. {@code promisedAtCommit}: its effect is promised
     * once its transaction is durable (namespace, attribute and truncate calls). A write is
     * promised only when it has returned: interrupted inside its commit, it may be there or not
     * - but all of it or none of it.
     */
    record Op(String name, Consumer<DaxFileSystem> setup, Consumer<DaxFileSystem> op, boolean promisedAtCommit) {
        Op(String name, Consumer<DaxFileSystem> setup, Consumer<DaxFileSystem> op) {
            this(name, setup, op, true);
        }

        @Override
        public String toString() {
            return name;
        }
    }

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

    static Stream<Arguments> opsAndSteps() {
        return ops().stream().flatMap(op -> Stream.of("committed", "applied", "marked")
                .map(step -> Arguments.of(op, step)));
    }

    static Stream<Arguments> opsForTornSlot() {
        return ops().stream().flatMap(op -> Stream.of("first", "record", "crc", "last")
                .map(where -> Arguments.of(op, where)));
    }

    /** The visible state and statfs of a file system. */
    record State(TreeMap<String, String> tree, FsStats stats) {
        static State of(DaxFileSystem fs) {
            return new State(FsSnapshot.of(fs), fs.statfs());
        }
    }

    /** Setup and operation run without interruption: the expected result. */
    private static State reference(Op op) {
        try (TestDevice ref = TestDevice.create(16 * MIB)) {
            op.setup().accept(ref.fs());
            op.op().accept(ref.fs());
            return State.of(ref.remount());
        }
    }

    /** Makes the next commit that reaches {@code step} throw; later commits run normally. */
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
    void durableTransactionIsThereAfterRemount(Op op, String step) {
        State expected = reference(op);
        try (TestDevice dev = TestDevice.create(16 * MIB)) {
            op.setup().accept(dev.fs());
            State before = State.of(dev.fs());
            assertNotEquals(before.tree(), expected.tree(), "the operation must change something visible");
            crashAt(dev.fs(), step);
            assertThrows(Crash.class, () -> op.op().accept(dev.fs()), "the crash propagates out of " + op);

            DaxFileSystem fs = dev.crashRemount();
            State after = State.of(fs);
            if (op.promisedAtCommit()) {
                assertEquals(expected, after, op + " after a crash at " + step);
            } else {
                assertTrue(after.tree().equals(before.tree()) || after.tree().equals(expected.tree()),
                        op + " after a crash at " + step + " is neither before nor after: " + after.tree());
            }
            FsSnapshot.assertSpaceAccounted(fs);
            FsckSupport.assertClean(dev.region().readView(), op + " after a crash at " + step);
            // Replay is done once: a second remount changes nothing.
            assertEquals(after, State.of(dev.remount()));
            stillUsable(dev);
        }
    }

    @ParameterizedTest(name = "{0} with a torn slot ({1} byte)")
    @MethodSource("opsForTornSlot")
    void tornSlotMeansTheOperationNeverHappened(Op op, String where) {
        try (TestDevice dev = TestDevice.create(16 * MIB)) {
            op.setup().accept(dev.fs());
            State before = State.of(dev.fs());
            long slot = dev.fs().superblock().geometry().journalOffset() + Geometry.BLOCK_SIZE;
            crashAt(dev.fs(), "committed");
            assertThrows(Crash.class, () -> op.op().accept(dev.fs()));

            var media = dev.region().readView();
            long total = media.get(ValueLayout.JAVA_LONG_UNALIGNED, slot + 16);
            assertTrue(total > 32 && total < 1 << 20, "slot length " + total);
            long at = switch (where) {
                case "first" -> 0;
                case "record" -> 24 + (total - 32) / 2;
                case "crc" -> total - 8;
                default -> total - 1;
            };
            byte b = media.get(ValueLayout.JAVA_BYTE, slot + at);
            dev.region().putByte(slot + at, (byte) (b ^ 0x10));

            FsckSupport.assertClean(dev.region().readView(), op + " with a torn slot, before remount");
            DaxFileSystem fs = dev.crashRemount();
            assertEquals(before, State.of(fs), op + ": a torn commit must leave no trace");
            FsckSupport.assertClean(dev.region().readView(), op + " with a torn slot");
            FsSnapshot.assertSpaceAccounted(fs);
            // The operation can be done again, and it then persists.
            op.op().accept(fs);
            State done = State.of(fs);
            assertEquals(done, State.of(dev.remount()));
            assertEquals(reference(op), done);
            stillUsable(dev);
        }
    }

    /** Several crash-remount cycles in a row, each at a different step. */
    @Test
    void repeatedCrashesAccumulateCorrectly() {
        try (TestDevice dev = TestDevice.create(16 * MIB)) {
            DaxFileSystem fs = dev.fs();
            String[] steps = {"committed", "applied", "committed", "marked", "committed"};
            for (int i = 0; i < steps.length; i++) {
                crashAt(fs, steps[i]);
                int n = i;
                DaxFileSystem f = fs;
                assertThrows(Crash.class, () -> write(f, f.create(ROOT, "f" + n, 0644, 0, 0), 0, new byte[1]));
                fs = dev.crashRemount();
                // The observer fires in the first commit, the create's: the file is there, empty.
                assertTrue(fs.readdir(ROOT).stream().anyMatch(e -> e.name().equals("f" + n)), "f" + n);
                assertEquals(0, fs.getattr(fs.resolve("/f" + n)).size());
            }
            assertEquals(2 + steps.length, fs.readdir(ROOT).size());
            FsSnapshot.assertSpaceAccounted(fs);
        }
    }

    /** After recovery the file system takes new work that persists. */
    private static void stillUsable(TestDevice dev) {
        DaxFileSystem fs = dev.fs();
        long ino = fs.create(ROOT, "after-recovery", 0644, 0, 0);
        write(fs, ino, 0, pattern(99, 0, 6000));
        State s = State.of(fs);
        assertEquals(s, State.of(dev.remount()));
        FsSnapshot.assertSpaceAccounted(dev.fs());
    }
}
