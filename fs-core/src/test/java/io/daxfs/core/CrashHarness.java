package io.daxfs.core;

import io.daxfs.core.format.Geometry;
import io.daxfs.devdax.MediaOrder;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.ArgumentsProvider;

import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crashes inside the journal's commit protocol, for any operation and any notion of visible
 * state {@code S}: the commit is stopped at a named step (the observer throws {@link Crash}),
 * the mounted instance is abandoned and the image remounted; or the slot is torn by flipping a
 * byte. Each check compares with a reference device that ran the same setup and operation
 * without interruption, and checks space accounting, fsck, that replay happens once, and that
 * the recovered file system takes new work ({@code afterRecovery}) that persists.
 *
 * <p>These crashes stop the process between steps: every store made so far is in the image.
 * The other half of crash testing, every state a power cut can leave under the strict
 * persistence model (stores lost unless written back and fenced), is the crash explorer:
 * {@link RecordedWorkload}, {@link CrashExplorer}, {@code CrashStateExplorationTest}.
 */
public final class CrashHarness<S> {
    /** The commit protocol's steps ({@code Journal}'s observer names). */
    public static final List<String> STEPS = List.of("committed", "applied", "marked");
    /** Where {@link #tearsSlot} flips a byte of the slot. */
    public static final List<String> TEARS = List.of("first", "record", "crc", "last");

    /** Thrown by the observer: the simulated power cut. */
    public static final class Crash extends RuntimeException {
        public Crash(String step) {
            super("simulated crash at " + step, null, false, false);
        }
    }

    /**
     * One operation with the state it needs. {@code promisedAtCommit}: its effect is promised
     * once its transaction is durable (namespace, attribute and truncate calls). A write is
     * promised only when it has returned: interrupted inside its commit, it may be there or not
     * - but all of it or none of it.
     */
    public record Op(String name, Consumer<DaxFileSystem> setup, Consumer<DaxFileSystem> op, boolean promisedAtCommit) {
        public Op(String name, Consumer<DaxFileSystem> setup, Consumer<DaxFileSystem> op) {
            this(name, setup, op, true);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private final long size;
    private final Function<DaxFileSystem, S> state;
    private final Consumer<DaxFileSystem> afterRecovery;

    /**
     * @param size          device size for every run
     * @param state         the visible state compared (a tree, attributes, statfs...)
     * @param afterRecovery new work done on the recovered file system, which must persist
     */
    public CrashHarness(long size, Function<DaxFileSystem, S> state, Consumer<DaxFileSystem> afterRecovery) {
        this.size = size;
        this.state = state;
        this.afterRecovery = afterRecovery;
    }

    /** Every op of the test class's static {@code ops()} with every step of {@link #STEPS}. */
    public static final class OpsAndSteps implements ArgumentsProvider {
        @Override
        public Stream<? extends Arguments> provideArguments(ExtensionContext context) {
            return opsOf(context).stream().flatMap(op -> STEPS.stream().map(step -> Arguments.of(op, step)));
        }
    }

    /** Every op of the test class's static {@code ops()} with every place of {@link #TEARS}. */
    public static final class OpsAndTears implements ArgumentsProvider {
        @Override
        public Stream<? extends Arguments> provideArguments(ExtensionContext context) {
            return opsOf(context).stream().flatMap(op -> TEARS.stream().map(where -> Arguments.of(op, where)));
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Op> opsOf(ExtensionContext context) {
        try {
            var m = context.getRequiredTestClass().getDeclaredMethod("ops");
            m.setAccessible(true);
            return (List<Op>) m.invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("a crash test class needs a static List<Op> ops()", e);
        }
    }

    /** Makes the next commit that reaches {@code step} throw; later commits run normally. */
    public static void crashAt(DaxFileSystem fs, String step) {
        crashAtCommit(fs, step, 1);
    }

    /** Makes the {@code n}-th commit from now that reaches {@code step} throw; the others run normally. */
    public static void crashAtCommit(DaxFileSystem fs, String step, int n) {
        AtomicInteger seen = new AtomicInteger();
        fs.internals().journal().setObserver(s -> {
            if (s.equals(step) && seen.incrementAndGet() == n) {
                throw new Crash(s);
            }
        });
    }

    /** Counts the commits that reach {@code step}. */
    public static AtomicInteger countCommits(DaxFileSystem fs, String step) {
        AtomicInteger seen = new AtomicInteger();
        fs.internals().journal().setObserver(s -> {
            if (s.equals(step)) {
                seen.incrementAndGet();
            }
        });
        return seen;
    }

    /**
     * Runs {@code op}, which commits several transactions, on the mounted file system of
     * {@code dev}: with {@code crashAtCommit} > 0 the power fails once that many of its commits
     * are durable and the image is remounted; with 0 it runs to the end, and must have
     * committed at least {@code minCommits} transactions. Returns the file system afterwards.
     */
    public static DaxFileSystem runCrashingAtCommit(TestDevice dev, Consumer<DaxFileSystem> op, int crashAtCommit,
                                                    int minCommits) {
        DaxFileSystem fs = dev.fs();
        if (crashAtCommit > 0) {
            crashAtCommit(fs, "committed", crashAtCommit);
            assertThrows(Crash.class, () -> op.accept(fs));
            return dev.crashRemount();
        }
        AtomicInteger commits = countCommits(fs, "committed");
        op.accept(fs);
        assertTrue(commits.get() >= minCommits, "expected at least " + minCommits + " transactions, got " + commits.get());
        return fs;
    }

    /** Setup and operation run without interruption, after a remount: the expected result. */
    public S reference(Op op) {
        try (TestDevice ref = TestDevice.create(size)) {
            op.setup().accept(ref.fs());
            op.op().accept(ref.fs());
            return state.apply(ref.remount());
        }
    }

    /**
     * The operation's commit stops after {@code step}: after the remount, a promised operation
     * shows the reference state, any other shows the state before or after it.
     */
    public void crashesAt(Op op, String step) {
        S expected = reference(op);
        try (TestDevice dev = TestDevice.create(size)) {
            op.setup().accept(dev.fs());
            S before = state.apply(dev.fs());
            assertNotEquals(before, expected, "the operation must change something visible");
            crashAt(dev.fs(), step);
            assertThrows(Crash.class, () -> op.op().accept(dev.fs()), "the crash propagates out of " + op);
            // fsck sees the state the next mount will: a committed transaction applied.
            FsckSupport.assertClean(dev.region().readView(), op + " crashed at " + step + ", before remount");

            DaxFileSystem fs = dev.crashRemount();
            S after = state.apply(fs);
            if (op.promisedAtCommit()) {
                assertEquals(expected, after, op + " after a crash at " + step);
            } else {
                assertTrue(after.equals(before) || after.equals(expected),
                        op + " after a crash at " + step + " is neither before nor after: " + after);
            }
            FsSnapshot.assertSpaceAccounted(fs);
            FsckSupport.assertClean(dev.region().readView(), op + " after a crash at " + step);
            assertEquals(after, state.apply(dev.remount()), "replayed once: a second remount changes nothing");
            stillUsable(dev);
        }
    }

    /**
     * The commit's slot is torn ({@code where}: its first byte, a record, the CRC or its last
     * byte): the operation never happened, and can be done again.
     */
    public void tearsSlot(Op op, String where) {
        try (TestDevice dev = TestDevice.create(size)) {
            op.setup().accept(dev.fs());
            S before = state.apply(dev.fs());
            long slot = dev.fs().superblock().geometry().journalOffset() + Geometry.BLOCK_SIZE;
            crashAt(dev.fs(), "committed");
            assertThrows(Crash.class, () -> op.op().accept(dev.fs()));

            var media = dev.region().readView();
            long total = media.get(MediaOrder.LONG, slot + 16);
            assertTrue(total > 32 && total < 1 << 20, "slot length " + total);
            long at = switch (where) {
                case "first" -> 0;
                case "record" -> 24 + (total - 32) / 2;
                case "crc" -> total - 8;
                default -> total - 1;
            };
            dev.region().putByte(slot + at, (byte) (media.get(ValueLayout.JAVA_BYTE, slot + at) ^ 0x10));

            FsckSupport.assertClean(dev.region().readView(), op + " with a torn slot, before remount");
            DaxFileSystem fs = dev.crashRemount();
            assertEquals(before, state.apply(fs), op + ": a torn commit must leave no trace");
            FsckSupport.assertClean(dev.region().readView(), op + " with a torn slot");
            FsSnapshot.assertSpaceAccounted(fs);
            op.op().accept(fs);
            S done = state.apply(fs);
            assertEquals(done, state.apply(dev.remount()));
            assertEquals(reference(op), done, op + " done again after the torn commit");
            stillUsable(dev);
        }
    }

    /** After recovery the file system takes new work that persists. */
    private void stillUsable(TestDevice dev) {
        afterRecovery.accept(dev.fs());
        S s = state.apply(dev.fs());
        assertEquals(s, state.apply(dev.remount()));
        FsSnapshot.assertSpaceAccounted(dev.fs());
    }
}
