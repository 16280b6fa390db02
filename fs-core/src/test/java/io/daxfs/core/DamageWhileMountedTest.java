package io.daxfs.core;

import io.daxfs.core.base.DirEntry;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.MountSettings;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentSlots;
import io.daxfs.core.inode.InodeLayout;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.readAll;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scenario: bytes of one inode of a tree of 40 files flipped (its extent now
 * names the superblock and the inode table), then {@code touch x; rm -rf a} on a mount. A
 * full mount-time check refuses such an image; here the mount is quick, so the damage is met
 * while mounted. Under errors=remount-ro the call that meets it fails with EUCLEAN, the
 * finding is recorded, every later change fails with EROFS and nothing more is written; the
 * next read-write mount is refused until fsck -y has repaired the image, after which every
 * file the damage did not touch is still there. Under errors=continue only the damaged file
 * fails.
 */
class DamageWhileMountedTest {
    private static final int B = Geometry.BLOCK_SIZE;
    private static final MountSettings QUICK = MountSettings.defaults().withCheck(MountSettings.Check.QUICK);

    @TempDir
    Path dir;

    private TestDevice dev;
    private final Map<String, byte[]> files = new HashMap<>();
    private String victim;

    /** /a holds 40 files, /keep 5; the inline extent of /a/f07 now maps the superblock onward. */
    private void build() throws Exception {
        dev = TestDevice.createIn(dir, 64 * MIB, io.daxfs.core.base.FormatOptions.defaults());
        DaxFileSystem fs = dev.fs();
        long a = fs.mkdir(ROOT, "a", 0755, 0, 0);
        long keep = fs.mkdir(ROOT, "keep", 0755, 0, 0);
        for (int i = 0; i < 40; i++) {
            put(fs, a, "/a", String.format("f%02d", i), i);
        }
        for (int i = 0; i < 5; i++) {
            put(fs, keep, "/keep", "k" + i, 100 + i);
        }
        victim = "/a/f07";
        long slot = fs.superblock().geometry().inodeOffset(fs.resolve(victim)) + InodeLayout.INLINE_SLOTS;
        dev.unmount();
        try (RandomAccessFile f = new RandomAccessFile(dev.image().toFile(), "rw")) {
            f.seek(slot + 8);
            byte[] w = io.daxfs.devdax.MediaOrder.allocate(8).putLong(0, ExtentSlots.packPhysical(0, 204)).array();
            f.write(w);
        }
    }

    private void put(DaxFileSystem fs, long dirIno, String dirPath, String name, int seed) {
        long ino = fs.create(dirIno, name, 0644, 0, 0);
        byte[] content = pattern(seed, 0, 3 * B + seed);
        write(fs, ino, 0, content);
        files.put(dirPath + "/" + name, content);
    }

    @Test
    void remountReadOnlyStopsEveryChangeAndFsckRepairs() throws Exception {
        build();
        assertThrows(CorruptFileSystemException.class, () -> dev.mount(), "a full check refuses the image");
        DaxFileSystem fs = dev.mount(QUICK);
        long x = fs.create(ROOT, "x", 0644, 0, 0); // touch x: the damage is not met yet
        List<String> removed = new ArrayList<>();
        Map<String, Errno> failed = new HashMap<>();
        byte[] afterDamage = null;
        long a = fs.resolve("/a");
        for (DirEntry e : fs.readdir(a)) {
            if (e.name().equals(".") || e.name().equals("..")) {
                continue;
            }
            try {
                fs.unlink(a, e.name());
                removed.add("/a/" + e.name());
            } catch (FsException ex) {
                failed.put("/a/" + e.name(), ex.errno());
                if (ex.errno() == Errno.EUCLEAN) {
                    afterDamage = dev.imageBytes();
                }
            }
        }
        assertEquals(Errno.EUCLEAN, failed.get(victim), "the call that meets the damage: " + failed);
        assertTrue(failed.entrySet().stream().allMatch(f -> f.getKey().equals(victim) || f.getValue() == Errno.EROFS),
                "every later change: EROFS " + failed);
        assertFalse(fs.internals().journal().errors().writable());
        assertErrno(Errno.EROFS, () -> fs.create(ROOT, "y", 0644, 0, 0));
        assertErrno(Errno.EROFS, () -> write(fs, x, 0, new byte[] {1}));
        assertErrno(Errno.EROFS, () -> fs.truncate(x, 0));
        assertErrno(Errno.EROFS, () -> fs.setxattr(x, "user.a", new byte[] {1}, 0));
        assertErrno(Errno.EROFS, () -> fs.mkdir(ROOT, "d", 0755, 0, 0));
        assertArrayEquals(pattern(100, 0, 3 * B + 100), readAll(fs, fs.resolve("/keep/k0")), "reads go on");
        assertArrayEquals(afterDamage, dev.imageBytes(), "nothing was written after the damage was found");

        dev.unmount();
        var refused = assertThrows(CorruptFileSystemException.class, () -> dev.mount());
        assertTrue(refused.getMessage().contains("fails its checksum") && refused.getMessage().contains("fsck -y"),
                refused.getMessage());
        DaxFileSystem ro = dev.mount(MountSettings.defaults().withReadOnly(true));
        assertFalse(ro.mountNotes().isEmpty());
        assertArrayEquals(files.get("/keep/k1"), readAll(ro, ro.resolve("/keep/k1")), "a read-only mount rescues");
        dev.unmount();

        FsckReport repair;
        try (var d = TestDevice.openExisting(dev.image())) {
            repair = Fsck.repair(d.region(), FsChecker.Progress.NONE);
        }
        System.out.print(repair.render());
        assertEquals(FsckReport.REPAIRED, repair.exitCode(), repair.render());
        DaxFileSystem again = dev.mount();
        for (var f : files.entrySet()) {
            if (removed.contains(f.getKey()) || f.getKey().equals(victim)) {
                continue;
            }
            assertArrayEquals(f.getValue(), readAll(again, again.resolve(f.getKey())), f.getKey());
        }
        assertErrno(Errno.ENOENT, () -> again.resolve(removed.getFirst()));
        FsckSupport.assertClean(dev.region().readView(), "after the repair");
        dev.close();
    }

    @Test
    void errorsContinueFailsOnlyTheDamagedFile() throws Exception {
        build();
        DaxFileSystem fs = dev.mount(QUICK.withErrors(MountSettings.Errors.CONTINUE));
        long a = fs.resolve("/a");
        assertErrno(Errno.EUCLEAN, () -> fs.unlink(a, "f07"));
        fs.unlink(a, "f08"); // other changes go on
        long y = fs.create(ROOT, "y", 0644, 0, 0);
        write(fs, y, 0, new byte[] {1, 2});
        assertTrue(fs.internals().journal().errors().writable());
        assertEquals(1, fs.internals().journal().errors().findings());
        dev.unmount();
        assertThrows(CorruptFileSystemException.class, () -> dev.mount(), "the damage was recorded");
        dev.close();
    }

    @Test
    void aReadOnlyMountNeverWritesEvenWhenItMeetsDamage() throws Exception {
        build();
        byte[] before = HostileImages.readFile(dev.image());
        DaxFileSystem fs = dev.mount(QUICK.withReadOnly(true));
        long a = fs.resolve("/a");
        assertErrno(Errno.EROFS, () -> fs.unlink(a, "f08"));
        assertErrno(Errno.EUCLEAN, () -> fs.seekData(fs.resolve(victim), 0));
        assertArrayEquals(files.get("/a/f08"), readAll(fs, fs.resolve("/a/f08")));
        dev.unmount();
        assertArrayEquals(before, HostileImages.readFile(dev.image()), "the read-only mount wrote nothing");
        dev.close();
    }

    static void assertErrno(Errno expected, org.junit.jupiter.api.function.Executable call) {
        FsException e = assertThrows(FsException.class, call);
        assertEquals(expected, e.errno(), e.getMessage());
    }
}
