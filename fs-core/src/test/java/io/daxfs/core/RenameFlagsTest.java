package io.daxfs.core;

import io.daxfs.core.base.Errno;

import org.junit.jupiter.api.Test;

import static io.daxfs.core.NamespaceTest.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** renameat2(2) flags: RENAME_NOREPLACE, RENAME_EXCHANGE and RENAME_WHITEOUT. */
@FsCoreDevice(after = FsCoreDevice.Check.REMOUNT_AND_FSCK)
class RenameFlagsTest {
    private static final long MIB = 1 << 20;
    private TestDevice dev;
    private DaxFileSystem fs;

    private long file(long dir, String name) {
        return fs.create(dir, name, 0644, 0, 0);
    }

    @Test
    void noReplaceRefusesAnExistingTargetAndChangesNothing() {
        long a = file(DaxFileSystem.ROOT, "a");
        long b = file(DaxFileSystem.ROOT, "b");
        assertErrno(Errno.EEXIST, () -> fs.rename(DaxFileSystem.ROOT, "a", DaxFileSystem.ROOT, "b",
                DaxFileSystem.RENAME_NOREPLACE));
        assertEquals(a, fs.lookup(DaxFileSystem.ROOT, "a"));
        assertEquals(b, fs.lookup(DaxFileSystem.ROOT, "b"));
        fs.rename(DaxFileSystem.ROOT, "a", DaxFileSystem.ROOT, "c", DaxFileSystem.RENAME_NOREPLACE);
        assertEquals(a, fs.lookup(DaxFileSystem.ROOT, "c"));
        assertErrno(Errno.ENOENT, () -> fs.lookup(DaxFileSystem.ROOT, "a"));
    }

    @Test
    void exchangeSwapsTwoFilesInOneDirectory() {
        long a = file(DaxFileSystem.ROOT, "a");
        long b = file(DaxFileSystem.ROOT, "b");
        fs.rename(DaxFileSystem.ROOT, "a", DaxFileSystem.ROOT, "b", DaxFileSystem.RENAME_EXCHANGE);
        assertEquals(b, fs.lookup(DaxFileSystem.ROOT, "a"));
        assertEquals(a, fs.lookup(DaxFileSystem.ROOT, "b"));
        assertEquals(1, fs.getattr(a).nlink());
        assertEquals(1, fs.getattr(b).nlink());
    }

    @Test
    void exchangeOfADirectoryAndAFileAcrossDirectoriesMovesTheLinkCounts() {
        long d1 = fs.mkdir(DaxFileSystem.ROOT, "d1", 0755, 0, 0);
        long d2 = fs.mkdir(DaxFileSystem.ROOT, "d2", 0755, 0, 0);
        long sub = fs.mkdir(d1, "sub", 0755, 0, 0);
        long f = file(d2, "f");
        assertEquals(3, fs.getattr(d1).nlink());
        assertEquals(2, fs.getattr(d2).nlink());
        fs.rename(d1, "sub", d2, "f", DaxFileSystem.RENAME_EXCHANGE);
        assertEquals(f, fs.lookup(d1, "sub"));
        assertEquals(sub, fs.lookup(d2, "f"));
        assertEquals(2, fs.getattr(d1).nlink(), "d1 lost its subdirectory");
        assertEquals(3, fs.getattr(d2).nlink(), "d2 gained one");
        assertEquals(d2, fs.resolve("/d2/f/..")); // the moved directory's parent follows it
    }

    @Test
    void exchangeOfTwoDirectoriesAcrossParentsKeepsCountsAndSwapsParents() {
        long d1 = fs.mkdir(DaxFileSystem.ROOT, "d1", 0755, 0, 0);
        long d2 = fs.mkdir(DaxFileSystem.ROOT, "d2", 0755, 0, 0);
        long x = fs.mkdir(d1, "x", 0755, 0, 0);
        long y = fs.mkdir(d2, "y", 0755, 0, 0);
        fs.rename(d1, "x", d2, "y", DaxFileSystem.RENAME_EXCHANGE);
        assertEquals(y, fs.lookup(d1, "x"));
        assertEquals(x, fs.lookup(d2, "y"));
        assertEquals(3, fs.getattr(d1).nlink());
        assertEquals(3, fs.getattr(d2).nlink());
        assertEquals(d1, fs.resolve("/d1/x/.."));
        assertEquals(d2, fs.resolve("/d2/y/.."));
    }

    @Test
    void exchangeNeedsBothNamesAndRefusesLoops() {
        long d = fs.mkdir(DaxFileSystem.ROOT, "d", 0755, 0, 0);
        fs.mkdir(d, "inner", 0755, 0, 0);
        file(DaxFileSystem.ROOT, "f");
        assertErrno(Errno.ENOENT, () -> fs.rename(DaxFileSystem.ROOT, "f", DaxFileSystem.ROOT, "none",
                DaxFileSystem.RENAME_EXCHANGE));
        // d would become a child of its own child
        assertErrno(Errno.EINVAL, () -> fs.rename(DaxFileSystem.ROOT, "d", d, "inner", DaxFileSystem.RENAME_EXCHANGE));
        assertErrno(Errno.EINVAL, () -> fs.rename(DaxFileSystem.ROOT, "f", DaxFileSystem.ROOT, "d",
                DaxFileSystem.RENAME_EXCHANGE | DaxFileSystem.RENAME_NOREPLACE));
        assertErrno(Errno.EINVAL, () -> fs.rename(DaxFileSystem.ROOT, "f", DaxFileSystem.ROOT, "d", 4));
    }

    @Test
    void dropPrivilegesClearsSetuidAlwaysAndSetgidOnlyWithGroupExecute() {
        long f = fs.create(DaxFileSystem.ROOT, "f", 06755, 0, 0);
        assertEquals(true, fs.dropPrivileges(f, false));
        assertEquals(0755, fs.getattr(f).mode() & 07777);
        long g = fs.create(DaxFileSystem.ROOT, "g", 02644, 0, 0); // setgid without group x: mandatory locking
        assertEquals(false, fs.dropPrivileges(g, false));
        assertEquals(02644, fs.getattr(g).mode() & 07777);
        long d = fs.mkdir(DaxFileSystem.ROOT, "d", 02775, 0, 0);
        assertEquals(false, fs.dropPrivileges(d, false), "directories keep theirs");
        long c = fs.create(DaxFileSystem.ROOT, "c", 0755, 0, 0);
        fs.setxattr(c, "security.capability", new byte[] {1, 2, 3}, 0);
        fs.setxattr(c, "user.keep", new byte[] {4}, 0);
        assertEquals(false, fs.dropPrivileges(c, false));
        assertEquals(java.util.List.of("user.keep"), fs.listxattr(c), "the capability goes, nothing else");
    }

    /** setattr_should_drop_sgid: a caller outside the file's group loses it even without group-execute. */
    @Test
    void dropPrivilegesOfACallerOutsideTheGroupClearsSetgidWithoutGroupExecuteToo() {
        long g = fs.create(DaxFileSystem.ROOT, "g", 06666, 0, 0);
        assertEquals(true, fs.dropPrivileges(g, true));
        assertEquals(0666, fs.getattr(g).mode() & 07777);
        long h = fs.create(DaxFileSystem.ROOT, "h", 02666, 0, 0);
        assertEquals(false, fs.dropPrivileges(h, false), "a member of the group keeps it");
        assertEquals(02666, fs.getattr(h).mode() & 07777);
        long d = fs.mkdir(DaxFileSystem.ROOT, "d", 02775, 0, 0);
        assertEquals(false, fs.dropPrivileges(d, true), "directories keep theirs");
    }
    /**
     * RENAME_WHITEOUT (overlayfs's): the rename happens, and in the same transaction the source
     * name becomes a character device 0/0 with no permission bits, owned by the caller; a
     * replaced target is dropped as by a plain rename. xfstests generic/078, 626, 700.
     */
    @Test
    void whiteoutLeavesACharacterDevice00AtTheSourceName() {
        long root = DaxFileSystem.ROOT;
        long a = file(root, "a");
        long b = file(root, "b");
        long free = fs.statfs().freeInodes();
        fs.renameWhiteout(root, "a", root, "b", 0, 7, 8);
        assertEquals(a, fs.lookup(root, "b"));
        long w = fs.lookup(root, "a");
        assertTrue(w != a && w != b);
        var wa = fs.getattr(w);
        assertEquals(io.daxfs.core.base.FileMode.S_IFCHR, wa.mode(), "a character device, mode 0");
        assertEquals(0, wa.rdev());
        assertEquals(1, wa.nlink());
        assertEquals(7, wa.uid());
        assertEquals(8, wa.gid());
        assertErrno(Errno.ENOENT, () -> fs.getattr(b));
        assertEquals(free, fs.statfs().freeInodes(), "b's inode went, the whiteout's came");
        var types = fs.readdir(root).stream().filter(e -> e.name().equals("a")).toList();
        assertEquals(io.daxfs.core.dir.DirentLayout.DT_CHR, types.getFirst().type());

        fs.renameWhiteout(root, "b", root, "c", DaxFileSystem.RENAME_NOREPLACE, 0, 0);
        assertEquals(a, fs.lookup(root, "c"));
        assertEquals(io.daxfs.core.base.FileMode.S_IFCHR, fs.getattr(fs.lookup(root, "b")).mode());
        assertErrno(Errno.EEXIST, () -> fs.renameWhiteout(root, "c", root, "a", DaxFileSystem.RENAME_NOREPLACE, 0, 0));
        assertEquals(a, fs.lookup(root, "c"), "nothing changed");
        assertErrno(Errno.EINVAL, () -> fs.renameWhiteout(root, "c", root, "a", DaxFileSystem.RENAME_EXCHANGE, 0, 0));
        assertErrno(Errno.EINVAL, () -> fs.rename(root, "c", root, "a", 4)); // the plain rename takes no whiteout
    }

    @Test
    void whiteoutOfADirectoryMovedAcrossDirectories() {
        long root = DaxFileSystem.ROOT;
        long d1 = fs.mkdir(root, "d1", 02775, 0, 50);
        long d2 = fs.mkdir(root, "d2", 0755, 0, 0);
        long sub = fs.mkdir(d1, "sub", 0755, 0, 0);
        file(sub, "inside");
        fs.renameWhiteout(d1, "sub", d2, "sub", 0, 9, 9);
        assertEquals(sub, fs.lookup(d2, "sub"));
        assertEquals(d2, fs.lookupAttributes(sub, "..").ino());
        assertEquals(2, fs.getattr(d1).nlink(), "the subdirectory left d1");
        assertEquals(3, fs.getattr(d2).nlink());
        var w = fs.getattr(fs.lookup(d1, "sub"));
        assertEquals(io.daxfs.core.base.FileMode.S_IFCHR, w.mode());
        assertEquals(50, w.gid(), "a set-group-ID directory gives its group, as to any new inode");
        assertEquals(9, w.uid());
    }
}
