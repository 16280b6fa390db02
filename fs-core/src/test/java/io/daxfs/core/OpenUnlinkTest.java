package io.daxfs.core;

import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.DirEntry;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsStats;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;
import io.daxfs.core.format.Geometry;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.NamespaceTest.assertErrno;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.read;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Unlink (and rename over) of an open file, the ext4 way: the inode and its data live on the
 * orphan list until the last release, and a crash before that frees them at the next mount.
 */
@FsCoreDevice
class OpenUnlinkTest {
    private static final int B = Geometry.BLOCK_SIZE;
    private static final int SIZE = 40 * B + 123;

    private TestDevice dev;
    private DaxFileSystem fs;
    /** Free blocks and inodes with only the directory tree the tests start from. */
    private FsStats start;

    @BeforeEach
    void setUp() {
        fs.create(ROOT, "keep", 0644, 0, 0); // the root keeps its entry block
        start = fs.statfs();
    }

    private long fileWithData(String name, long seed) {
        long ino = fs.create(ROOT, name, 0644, 0, 0);
        write(fs, ino, 0, pattern(seed, 0, SIZE));
        return ino;
    }

    private void assertEverythingFreed(DaxFileSystem f) {
        assertEquals(start.freeBlocks(), f.statfs().freeBlocks(), "every block came back");
        assertEquals(start.freeInodes(), f.statfs().freeInodes(), "the inode came back");
        FsSnapshot.assertSpaceAccounted(f);
    }

    private static FsckReport fsck(TestDevice d) {
        return FsChecker.check(d.region().readView());
    }

    @Test
    void unlinkWhileOpenKeepsTheDataUsableUntilTheLastRelease() {
        long ino = fileWithData("f", 1);
        fs.open(ino);
        long held = fs.statfs().freeBlocks();
        fs.unlink(ROOT, "f");

        assertErrno(Errno.ENOENT, () -> fs.lookup(ROOT, "f"));
        assertEquals(0, fs.getattr(ino).nlink());
        assertEquals(held, fs.statfs().freeBlocks(), "space stays allocated while the file is open");
        assertArrayEquals(pattern(1, 0, SIZE), read(fs, ino, 0, SIZE), "reads through the handle");
        byte[] more = pattern(2, SIZE, 3 * B);
        write(fs, ino, SIZE, more);
        assertArrayEquals(more, read(fs, ino, SIZE, more.length), "writes through the handle");
        fs.truncate(ino, 5 * B);
        assertEquals(5 * B, fs.getattr(ino).size());

        FsckReport report = fsck(dev);
        assertTrue(report.clean(), report.render());
        assertTrue(report.notes().stream().anyMatch(n -> n.startsWith("1 orphaned inode(s) holding 5 block(s)")),
                report.render());

        fs.release(ino);
        assertEquals(0, fs.internals().openHandles(ino));
        assertErrno(Errno.ENOENT, () -> fs.getattr(ino));
        assertErrno(Errno.ENOENT, () -> fs.open(ino));
        assertEverythingFreed(fs);
        assertEverythingFreed(dev.remount());
    }

    @Test
    void spaceIsFreedExactlyAtTheLastRelease() {
        long ino = fileWithData("f", 3);
        fs.open(ino);
        fs.open(ino);
        long held = fs.statfs().freeBlocks();
        fs.unlink(ROOT, "f");
        fs.release(ino);
        assertEquals(held, fs.statfs().freeBlocks(), "one handle is still open");
        assertArrayEquals(pattern(3, 0, SIZE), read(fs, ino, 0, SIZE));
        // An unlinked file that is still open can be opened again by number (as through
        // /proc/PID/fd on Linux), and that handle keeps it too.
        fs.open(ino);
        fs.release(ino);
        assertEquals(held, fs.statfs().freeBlocks(), "one handle is still open");
        fs.release(ino);
        assertEverythingFreed(fs);
    }

    @Test
    void unlinkOfAClosedFileStillFreesAtOnce() {
        long ino = fileWithData("f", 4);
        fs.open(ino);
        fs.release(ino);
        fs.unlink(ROOT, "f");
        assertErrno(Errno.ENOENT, () -> fs.getattr(ino));
        assertEverythingFreed(fs);
        fs.release(ino); // a stray release changes nothing
        assertEverythingFreed(fs);
    }

    @Test
    void aFileWithAnotherNameIsNotOrphaned() {
        long ino = fileWithData("f", 5);
        fs.link(ino, ROOT, "g");
        fs.open(ino);
        fs.unlink(ROOT, "f");
        fs.release(ino);
        assertEquals(1, fs.getattr(ino).nlink());
        assertArrayEquals(pattern(5, 0, SIZE), read(fs, ino, 0, SIZE));
        fs.unlink(ROOT, "g");
        assertEverythingFreed(fs);
    }

    @Test
    void unlinkIfOpenUnlinksAnOpenFileAndKeepsItUntilTheLastRelease() {
        fs.mkdir(ROOT, "d", 0755, 0, 0);
        long dir = fs.lookup(ROOT, "d");
        long ino = fs.create(dir, "f", 0644, 0, 0);
        write(fs, ino, 0, pattern(11, 0, SIZE));
        fs.open(ino);

        assertEquals(ino, fs.unlinkIfOpen(dir, "f"));
        assertEquals(java.util.List.of(".", ".."), fs.readdir(dir).stream().map(DirEntry::name).toList());
        assertEquals(0, fs.getattr(ino).nlink(), "unlinked: st_nlink is 0, as on ext4");
        assertArrayEquals(pattern(11, 0, SIZE), read(fs, ino, 0, SIZE), "the open handle still reads it");
        fs.rmdir(ROOT, "d"); // the directory is empty on the media: removable, as on ext4
        fs.release(ino);
        assertErrno(Errno.ENOENT, () -> fs.getattr(ino));
        assertEverythingFreed(fs);
    }

    @Test
    void unlinkIfOpenLeavesAFileThatIsNotOpen() {
        long ino = fileWithData("f", 13);
        assertEquals(0, fs.unlinkIfOpen(ROOT, "f"), "nothing to keep");
        assertEquals(ino, fs.lookup(ROOT, "f"), "unchanged: the caller renames normally");
        fs.mkdir(ROOT, "dir", 0755, 0, 0);
        assertEquals(0, fs.unlinkIfOpen(ROOT, "dir"), "a directory is never unlinked by it");
        fs.rmdir(ROOT, "dir");
        fs.unlink(ROOT, "f");
        assertEverythingFreed(fs);
    }

    @Test
    void theFreeOfAnUnlinkedOpenFileIsAnnouncedBeforeItsNumberIsReused() {
        long ino = fileWithData("f", 12);
        java.util.List<Long> freed = new java.util.concurrent.CopyOnWriteArrayList<>();
        fs.onInodeFreed(freed::add);
        fs.open(ino);
        assertEquals(ino, fs.unlinkIfOpen(ROOT, "f"));
        assertEquals(java.util.List.of(), freed, "still open");
        fs.release(ino);
        assertEquals(java.util.List.of(ino), freed);
        assertEverythingFreed(fs);
    }

    @Test
    void aCrashWithAnUnlinkedFileOpenFreesItAtTheNextMount() {
        long ino = fileWithData("f", 14);
        fs.open(ino);
        assertEquals(ino, fs.unlinkIfOpen(ROOT, "f"));
        DaxFileSystem after = dev.crashRemount();
        assertErrno(Errno.ENOENT, () -> after.getattr(ino));
        assertEverythingFreed(after);
    }

    @Test
    void crashWhileAnUnlinkedFileIsOpenFreesItAtTheNextMount() {
        long ino = fileWithData("f", 6);
        fs.open(ino);
        fs.unlink(ROOT, "f");
        assertTrue(fsck(dev).clean(), fsck(dev).render());
        // The daemon dies with the file open: no release ever comes.
        DaxFileSystem after = dev.crashRemount();
        assertErrno(Errno.ENOENT, () -> after.getattr(ino));
        assertEverythingFreed(after);
        FsckReport report = fsck(dev);
        assertTrue(report.clean() && report.notes().stream().noneMatch(n -> n.contains("orphan")), report.render());
        // The number and the blocks are usable again.
        long again = after.create(ROOT, "again", 0644, 0, 0);
        write(after, again, 0, pattern(7, 0, SIZE));
        assertArrayEquals(pattern(7, 0, SIZE), read(after, again, 0, SIZE));
        after.unlink(ROOT, "again");
        assertEverythingFreed(after);
    }

    @Test
    void renameOverAnOpenFileKeepsTheOldFileForItsHandle() {
        long old = fileWithData("target", 8);
        long replacement = fileWithData("next", 9);
        fs.open(old);
        fs.rename(ROOT, "next", ROOT, "target");

        assertEquals(replacement, fs.lookup(ROOT, "target"));
        assertEquals(0, fs.getattr(old).nlink());
        assertArrayEquals(pattern(8, 0, SIZE), read(fs, old, 0, SIZE), "the old file through its handle");
        assertArrayEquals(pattern(9, 0, SIZE), read(fs, replacement, 0, SIZE), "the new file by its name");
        fs.release(old);
        assertErrno(Errno.ENOENT, () -> fs.getattr(old));
        fs.unlink(ROOT, "target");
        assertEverythingFreed(fs);
    }

    @Test
    void anUnlinkedOpenFileCannotGetANameAgain() {
        long ino = fileWithData("f", 10);
        fs.open(ino);
        fs.unlink(ROOT, "f");
        // No path leads to it; by number, link must refuse (as Linux's linkat of a deleted file),
        // or the file would have a name while the orphan list still says "free at mount".
        assertErrno(Errno.ENOENT, () -> fs.link(ino, ROOT, "back"));
        fs.release(ino);
        assertEverythingFreed(fs);
    }

    @Test
    void createOpenAndOpenByPathRegisterAHandle() {
        long a = fs.createOpen(ROOT, "a", 0644, 0, 0);
        assertEquals(1, fs.internals().openHandles(a));
        write(fs, a, 0, pattern(11, 0, SIZE));
        assertEquals(a, fs.open("/a"));
        assertEquals(2, fs.internals().openHandles(a));
        fs.unlink(ROOT, "a");
        fs.release(a);
        assertArrayEquals(pattern(11, 0, SIZE), read(fs, a, 0, SIZE));
        fs.release(a);
        assertEverythingFreed(fs);
        assertErrno(Errno.ENOENT, () -> fs.open("/a"));
    }

    /**
     * A directory removed or renamed over while open (opendir) stays, as on ext4: fstat shows
     * link count 0, nothing can be made in it, and its last release frees it (xfstests
     * generic/035). After a crash the next mount frees it.
     */
    @Test
    void aDirectoryRemovedWhileOpenLivesUntilItsLastRelease() {
        long d = fs.mkdir(ROOT, "d", 0755, 0, 0);
        fs.open(d);
        long free = fs.statfs().freeInodes();
        fs.rmdir(ROOT, "d");
        Attributes a = fs.getattr(d);
        assertTrue(a.isDirectory());
        assertEquals(0, a.nlink());
        assertEquals(2, fs.getattr(ROOT).nlink(), "the parent lost the link at once");
        assertEquals(free, fs.statfs().freeInodes(), "still allocated");
        assertErrno(Errno.ENOENT, () -> fs.mkdir(d, "x", 0755, 0, 0));
        assertErrno(Errno.ENOENT, () -> fs.create(d, "f", 0644, 0, 0));
        assertErrno(Errno.ENOENT, () -> fs.readdir(d));
        assertErrno(Errno.ENOENT, () -> fs.lookup(d, "x"));
        assertErrno(Errno.ENOENT, () -> fs.lookupAttributes(d, ".."));
        fs.chmod(d, 0700); // an open descriptor may still change its attributes
        assertEquals(040700, fs.getattr(d).mode());
        fs.release(d);
        assertErrno(Errno.ENOENT, () -> fs.getattr(d));
        assertEquals(free + 1, fs.statfs().freeInodes());

        long a2 = fs.mkdir(ROOT, "a", 0755, 0, 0);
        long b2 = fs.mkdir(ROOT, "b", 0755, 0, 0);
        fs.open(b2);
        fs.rename(ROOT, "a", ROOT, "b");
        assertEquals(0, fs.getattr(b2).nlink(), "renamed over: removed, still there");
        assertEquals(a2, fs.lookup(ROOT, "b"));
        fs.release(b2);
        assertErrno(Errno.ENOENT, () -> fs.getattr(b2));
        fs.rmdir(ROOT, "b");
        assertEverythingFreed(fs);
    }

    @Test
    void aDirectoryRemovedWhileOpenIsFreedByTheNextMountAfterACrash() {
        long d = fs.mkdir(ROOT, "gone", 0755, 0, 0);
        fs.setxattr(d, "user.x", new byte[100], 0);
        fs.open(d);
        fs.rmdir(ROOT, "gone");
        assertTrue(fsck(dev).clean(), fsck(dev).render());
        DaxFileSystem after = dev.crashRemount(); // the daemon dies with the directory open
        assertErrno(Errno.ENOENT, () -> after.getattr(d));
        assertEverythingFreed(after);
    }

    /** Unlink and the last release race: the file is freed exactly once, whoever wins. */
    @Test
    void unlinkRacingTheLastReleaseFreesTheFileExactlyOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int i = 0; i < 300; i++) {
                long ino = fs.create(ROOT, "r", 0644, 0, 0);
                write(fs, ino, 0, pattern(i, 0, 3 * B));
                fs.open(ino);
                CyclicBarrier go = new CyclicBarrier(2);
                Future<?> unlink = pool.submit(() -> {
                    go.await();
                    fs.unlink(ROOT, "r");
                    return null;
                });
                Future<?> release = pool.submit(() -> {
                    go.await();
                    fs.release(ino);
                    return null;
                });
                unlink.get();
                release.get();
                assertErrno(Errno.ENOENT, () -> fs.getattr(ino));
                assertEquals(start.freeBlocks(), fs.statfs().freeBlocks(), "iteration " + i);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEverythingFreed(fs);
    }
}
