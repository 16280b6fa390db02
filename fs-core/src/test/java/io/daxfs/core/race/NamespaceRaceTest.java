package io.daxfs.core.race;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.TestDevice;
import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.core.base.FsException;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Races of the namespace under per-directory locks, each forced through pause points. Where a
 * single mechanism prevents the hazard, the test also runs with that mechanism switched off
 * ({@code Safeguards}) and shows the hazard happen.
 *
 * <p>Run with the race catalog: {@code mvn test -Dgroups=race-catalog}.
 */
@Tag("race-catalog")
class NamespaceRaceTest {
    enum Mode { PROTECTED, UNPROTECTED }

    private static final long ROOT = DaxFileSystem.ROOT;
    private TestDevice dev;
    private DaxFileSystem fs;
    private final ExecutorService pool = Executors.newCachedThreadPool();

    private void start(int inodes) {
        dev = TestDevice.create(32 * TestDevice.MIB, new FormatOptions(inodes, "race", 0, 0));
        fs = dev.fs();
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        if (fs != null) {
            fs.internals().pausePoints().clear();
        }
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
        if (dev != null) {
            dev.close();
        }
    }

    private static <T> T get(Future<T> f) throws Exception {
        return f.get(Gate.TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** Runs {@code task} on a pool thread and records which thread it is. */
    private <T> Future<T> run(AtomicReference<Thread> thread, java.util.concurrent.Callable<T> task) {
        return pool.submit(() -> {
            thread.set(Thread.currentThread());
            return task.call();
        });
    }

    private static void awaitBlocked(String what, AtomicReference<Thread> thread) throws InterruptedException {
        Gate.awaitCondition(what, () -> thread.get() != null && thread.get().getState() == Thread.State.WAITING);
    }

    private FsckReport fsck() {
        return FsChecker.check(dev.region().readView());
    }

    private static Errno errnoOf(Future<?> f) throws Exception {
        try {
            get(f);
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause() instanceof FsException fe ? fe.errno() : null;
        }
    }

    /**
     * A lookup finds name x and is about to read its attributes when a rename over x frees
     * x's inode. The lookup holds the directory's lock shared, so the rename waits and the
     * lookup returns x's own attributes. Without directory locks for lookups, the rename frees
     * x under the lookup, which then returns the attributes of a free inode.
     */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void lookupRacingARenameOverTheLookedUpName(Mode mode) throws Exception {
        start(1024);
        fs.internals().safeguards().directoryLocks = mode == Mode.PROTECTED;
        long d = fs.mkdir(ROOT, "d", 0755, 0, 0);
        long x = fs.create(d, "x", 0600, 0, 0);
        long y = fs.create(d, "y", 0644, 0, 0);
        Gate gate = new Gate();
        fs.internals().pausePoints().install("lookup.found", gate);
        AtomicReference<Thread> looker = new AtomicReference<>();
        AtomicReference<Thread> renamer = new AtomicReference<>();
        Future<Attributes> lookup = run(looker, () -> fs.lookupAttributes(d, "x"));
        gate.awaitArrivals();
        Future<Object> rename = run(renamer, () -> {
            fs.rename(d, "y", d, "x");
            return null;
        });
        if (mode == Mode.PROTECTED) {
            awaitBlocked("the rename waits for the directory", renamer);
            assertFalse(rename.isDone());
        } else {
            get(rename); // nothing stops it: x's inode is freed under the lookup
        }
        gate.open();
        Attributes a = get(lookup);
        get(rename);
        if (mode == Mode.PROTECTED) {
            assertEquals(x, a.ino());
            assertEquals(1, a.nlink(), "x's attributes as they were when it was looked up");
            assertEquals(0100600, a.mode());
            assertEquals(y, fs.lookup(d, "x"), "then the rename");
            assertTrue(fsck().clean(), fsck().render());
        } else {
            assertEquals(0, a.mode(), "the attributes of a freed inode (mode 0): the hazard");
        }
    }

    /**
     * A create in directory c has resolved c when an rmdir removes c, and a mkdir elsewhere
     * gets c's inode number. When the create gets c's lock it must find c dead (ENOENT).
     * Without that check it creates its file in the new directory that reused the number.
     */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void rmdirRacingACreateInTheRemovedDirectory(Mode mode) throws Exception {
        start(16); // few inodes: the number of the removed directory comes back soon
        fs.internals().safeguards().deadDirectoryCheck = mode == Mode.PROTECTED;
        long p = fs.mkdir(ROOT, "p", 0755, 0, 0);
        long c = fs.mkdir(p, "c", 0755, 0, 0);
        Gate gate = new Gate();
        fs.internals().pausePoints().install("namespace.directory-resolved", ino -> {
            if (ino == c) {
                gate.accept(ino);
            }
        });
        Future<Long> create = run(new AtomicReference<>(), () -> fs.create(c, "f", 0644, 0, 0));
        gate.awaitArrivals();
        fs.internals().pausePoints().clear();
        fs.rmdir(p, "c");
        long reused = 0;
        for (int i = 0; i < 16 && reused != c; i++) {
            reused = fs.mkdir(ROOT, "n" + i, 0755, 0, 0);
        }
        assertEquals(c, reused, "a new directory has c's old number");
        fs.rmdir(ROOT, "n0"); // room for the create's inode
        gate.open();
        if (mode == Mode.PROTECTED) {
            assertEquals(Errno.ENOENT, errnoOf(create), "the create finds its directory removed");
            assertEquals(java.util.List.of(".", ".."),
                    fs.readdir(reused).stream().map(io.daxfs.core.base.DirEntry::name).toList());
            assertTrue(fsck().clean(), fsck().render());
        } else {
            get(create);
            assertEquals(2 + 1, fs.readdir(reused).size(), "the file landed in another directory: the hazard");
        }
    }

    /**
     * The other order: the create holds directory c when the rmdir of c arrives. The rmdir
     * waits for c (it locks the directory it removes) and then finds it not empty.
     */
    @Test
    void rmdirWaitsForACreateInTheDirectoryAndFindsItNotEmpty() throws Exception {
        start(1024);
        long p = fs.mkdir(ROOT, "p", 0755, 0, 0);
        long c = fs.mkdir(p, "c", 0755, 0, 0);
        Gate gate = new Gate();
        fs.internals().pausePoints().install("namespace.directory-locked", gate);
        Future<Long> create = run(new AtomicReference<>(), () -> fs.create(c, "f", 0644, 0, 0));
        gate.awaitArrivals();
        AtomicReference<Thread> remover = new AtomicReference<>();
        Future<Object> rmdir = run(remover, () -> {
            fs.rmdir(p, "c");
            return null;
        });
        awaitBlocked("the rmdir waits for the directory it removes", remover);
        gate.open();
        long f = get(create);
        assertEquals(Errno.ENOTEMPTY, errnoOf(rmdir));
        assertEquals(f, fs.lookup(c, "f"));
        assertTrue(fsck().clean(), fsck().render());
    }

    /**
     * A rename of directory a into its own subtree (/a/b) while a create holds /a/b: the
     * rename waits for /a/b, then finds a above it and fails with EINVAL; the created entry
     * and the tree are intact.
     */
    @Test
    void renameOfADirectoryIntoItsOwnSubtreeRacingACreateInIt() throws Exception {
        start(1024);
        long a = fs.mkdir(ROOT, "a", 0755, 0, 0);
        long b = fs.mkdir(a, "b", 0755, 0, 0);
        Gate gate = new Gate();
        fs.internals().pausePoints().install("namespace.directory-locked", gate);
        Future<Long> mkdir = run(new AtomicReference<>(), () -> fs.mkdir(b, "c", 0755, 0, 0));
        gate.awaitArrivals();
        AtomicReference<Thread> renamer = new AtomicReference<>();
        Future<Object> rename = run(renamer, () -> {
            fs.rename(ROOT, "a", b, "a");
            return null;
        });
        awaitBlocked("the rename waits for the target directory", renamer);
        gate.open();
        long c = get(mkdir);
        assertEquals(Errno.EINVAL, errnoOf(rename));
        assertThrows(FsException.class, () -> fs.rename(ROOT, "a", c, "a"), "deeper: EINVAL too");
        assertEquals(a, fs.lookup(ROOT, "a"));
        assertEquals(c, fs.lookup(b, "c"));
        assertTrue(fsck().clean(), fsck().render());
    }

    /**
     * Two renames across directories in opposite directions: X (in /p) moves under /q/Y/c
     * while Y (in /q) moves under /p/X/d. Each is valid alone; together they would cut a loop
     * X -> c -> Y -> d -> X off the tree. The rename lock serialises them, so the second sees
     * the first and fails with EINVAL. Without it, both pass their checks (they hold disjoint
     * directories) and the loop forms.
     */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void twoCrossDirectoryRenamesInOppositeDirections(Mode mode) throws Exception {
        start(1024);
        fs.internals().safeguards().renameLock = mode == Mode.PROTECTED;
        long p = fs.mkdir(ROOT, "p", 0755, 0, 0);
        long q = fs.mkdir(ROOT, "q", 0755, 0, 0);
        long x = fs.mkdir(p, "X", 0755, 0, 0);
        long y = fs.mkdir(q, "Y", 0755, 0, 0);
        long d = fs.mkdir(x, "d", 0755, 0, 0);
        long c = fs.mkdir(y, "c", 0755, 0, 0);
        Gate gate = new Gate();
        fs.internals().pausePoints().install("rename.checked", ino -> {
            if (ino == x) {
                gate.accept(ino);
            }
        });
        Future<Object> first = run(new AtomicReference<>(), () -> {
            fs.rename(p, "X", c, "X");
            return null;
        });
        gate.awaitArrivals();
        AtomicReference<Thread> secondThread = new AtomicReference<>();
        Future<Object> second = run(secondThread, () -> {
            fs.rename(q, "Y", d, "Y");
            return null;
        });
        if (mode == Mode.PROTECTED) {
            awaitBlocked("the second rename waits for the rename lock", secondThread);
            gate.open();
            get(first);
            assertEquals(Errno.EINVAL, errnoOf(second), "Y would move into its own subtree");
            assertEquals(x, fs.resolve("/q/Y/c/X"));
            assertTrue(fsck().clean(), fsck().render());
        } else {
            get(second); // passes its check: X is still under /p
            gate.open();
            get(first);
            assertFalse(fsck().clean(), "a loop of directories is cut off the tree: the hazard");
        }
    }
}
