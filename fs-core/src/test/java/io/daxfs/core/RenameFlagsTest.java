package io.daxfs.core;

import io.daxfs.core.base.Errno;

import org.junit.jupiter.api.Test;

import static io.daxfs.core.NamespaceTest.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** renameat2(2) flags: RENAME_NOREPLACE and RENAME_EXCHANGE. */
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
}
