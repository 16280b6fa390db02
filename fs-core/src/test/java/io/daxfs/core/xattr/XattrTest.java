package io.daxfs.core.xattr;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.FsCoreDevice;
import io.daxfs.core.FsSnapshot;
import io.daxfs.core.FsckSupport;
import io.daxfs.core.TestDevice;
import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.MountSettings;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.FsStats;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.InodeLayout;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.write;
import static io.daxfs.core.xattr.XattrNames.XATTR_CREATE;
import static io.daxfs.core.xattr.XattrNames.XATTR_REPLACE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Extended attributes through {@link DaxFileSystem}: semantics, errno values, limits, space, fsck. */
@FsCoreDevice(mib = 64, after = FsCoreDevice.Check.NONE)
class XattrTest {
    private TestDevice dev;
    private DaxFileSystem fs;

    static void assertErrno(Errno expected, Executable call) {
        FsException e = assertThrows(FsException.class, call);
        assertEquals(expected, e.errno(), e.getMessage());
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Every attribute of {@code ino}, name to value. */
    static TreeMap<String, String> all(DaxFileSystem fs, long ino) {
        TreeMap<String, String> out = new TreeMap<>();
        for (String n : fs.listxattr(ino)) {
            out.put(n, Arrays.toString(fs.getxattr(ino, n)));
        }
        return out;
    }

    private void fsckClean(String context) {
        FsckSupport.assertClean(dev.region().readView(), context);
    }

    // ------------------------------------------------------------------ basics

    @Test
    void setGetListRemove() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        assertEquals(List.of(), fs.listxattr(f));
        fs.setxattr(f, "user.b", utf8("bee"), 0);
        fs.setxattr(f, "user.a", utf8("ay"), 0);
        fs.setxattr(f, "trusted.t", utf8("tee"), 0);
        fs.setxattr(f, "security.selinux", utf8("system_u:object_r:x:s0"), 0);
        fs.setxattr(f, "user.empty", new byte[0], 0);
        assertEquals(List.of("security.selinux", "trusted.t", "user.a", "user.b", "user.empty"), fs.listxattr(f));
        assertArrayEquals(utf8("ay"), fs.getxattr(f, "user.a"));
        assertArrayEquals(utf8("tee"), fs.getxattr(f, "trusted.t"));
        assertArrayEquals(new byte[0], fs.getxattr(f, "user.empty"));
        fs.setxattr(f, "user.a", utf8("replaced"), 0);
        assertArrayEquals(utf8("replaced"), fs.getxattr(f, "user.a"));
        fs.removexattr(f, "user.b");
        assertErrno(Errno.ENODATA, () -> fs.getxattr(f, "user.b"));
        assertEquals(List.of("security.selinux", "trusted.t", "user.a", "user.empty"), fs.listxattr(f));
        for (String n : fs.listxattr(f)) {
            fs.removexattr(f, n);
        }
        assertEquals(List.of(), fs.listxattr(f));
        assertEquals(0, fs.getattr(f).blocks512(), "no attribute, no block");
        fsckClean("after set and remove");
    }

    @Test
    void directoriesAndSymlinksHoldAttributes() {
        long d = fs.mkdir(ROOT, "d", 0755, 0, 0);
        long l = fs.symlink(ROOT, "l", "d", 0, 0);
        fs.setxattr(d, "user.dir", utf8("1"), 0);
        fs.setxattr(l, "trusted.link", utf8("2"), 0);
        fs.setxattr(l, "security.link", utf8("3"), 0);
        assertArrayEquals(utf8("1"), fs.getxattr(d, "user.dir"));
        assertEquals(List.of("security.link", "trusted.link"), fs.listxattr(l));
        assertEquals(List.of("user.dir"), fs.listxattr(d));
        fsckClean("directory and symlink attributes");
    }

    @Test
    void valuesAreCopiedInAndOut() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        byte[] v = utf8("value");
        fs.setxattr(f, "user.x", v, 0);
        v[0] = 'X';
        byte[] got = fs.getxattr(f, "user.x");
        assertArrayEquals(utf8("value"), got);
        got[0] = 'Y';
        assertArrayEquals(utf8("value"), fs.getxattr(f, "user.x"));
    }

    // ------------------------------------------------------------------ flags and errno values

    @Test
    void createAndReplaceFlags() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        fs.setxattr(f, "user.a", utf8("1"), XATTR_CREATE);
        assertErrno(Errno.EEXIST, () -> fs.setxattr(f, "user.a", utf8("2"), XATTR_CREATE));
        assertArrayEquals(utf8("1"), fs.getxattr(f, "user.a"), "EEXIST changes nothing");
        assertErrno(Errno.ENODATA, () -> fs.setxattr(f, "user.b", utf8("2"), XATTR_REPLACE));
        assertErrno(Errno.ENODATA, () -> fs.getxattr(f, "user.b"));
        fs.setxattr(f, "user.a", utf8("3"), XATTR_REPLACE);
        assertArrayEquals(utf8("3"), fs.getxattr(f, "user.a"));
        // Both flags: each condition applies, so it always fails one way.
        assertErrno(Errno.EEXIST, () -> fs.setxattr(f, "user.a", utf8("4"), XATTR_CREATE | XATTR_REPLACE));
        assertErrno(Errno.ENODATA, () -> fs.setxattr(f, "user.c", utf8("4"), XATTR_CREATE | XATTR_REPLACE));
        assertErrno(Errno.EINVAL, () -> fs.setxattr(f, "user.a", utf8("5"), 4));
        assertEquals(List.of("user.a"), fs.listxattr(f));
        fsckClean("after failed flag checks");
    }

    @Test
    void missingNames() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        assertErrno(Errno.ENODATA, () -> fs.getxattr(f, "user.none"));
        assertErrno(Errno.ENODATA, () -> fs.removexattr(f, "user.none"));
        fs.setxattr(f, "user.some", utf8("x"), 0);
        assertErrno(Errno.ENODATA, () -> fs.getxattr(f, "user.none"));
        assertErrno(Errno.ENODATA, () -> fs.removexattr(f, "user.none"));
        assertErrno(Errno.ENODATA, () -> fs.getxattr(f, "trusted.some"));
    }

    @Test
    void nameLengths() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        String max = "user." + "n".repeat(250);
        assertEquals(255, utf8(max).length);
        fs.setxattr(f, max, utf8("ok"), 0);
        assertArrayEquals(utf8("ok"), fs.getxattr(f, max));
        String tooLong = max + "n";
        assertErrno(Errno.ERANGE, () -> fs.setxattr(f, tooLong, utf8("x"), 0));
        assertErrno(Errno.ERANGE, () -> fs.getxattr(f, tooLong));
        assertErrno(Errno.ERANGE, () -> fs.removexattr(f, tooLong));
        // 255 bytes is the limit in bytes, not characters.
        String wide = "user." + "é".repeat(126);
        assertEquals(257, utf8(wide).length);
        assertErrno(Errno.ERANGE, () -> fs.setxattr(f, wide, utf8("x"), 0));
        String wideOk = "user." + "é".repeat(125);
        fs.setxattr(f, wideOk, utf8("w"), 0);
        assertArrayEquals(utf8("w"), fs.getxattr(f, wideOk));
        assertErrno(Errno.ERANGE, () -> fs.setxattr(f, "", utf8("x"), 0));
        assertEquals(List.of(max, wideOk), fs.listxattr(f));
    }

    @Test
    void valueSizes() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        byte[] max = pattern(1, 0, 65536);
        fs.setxattr(f, "user.max", max, 0);
        assertArrayEquals(max, fs.getxattr(f, "user.max"));
        assertErrno(Errno.E2BIG, () -> fs.setxattr(f, "user.big", new byte[65537], 0));
        assertErrno(Errno.ENODATA, () -> fs.getxattr(f, "user.big"));
    }

    @Test
    void namespaces() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        for (String bad : List.of("foo.bar", "system.foo", "system.posix_acl_accessx", "os2.x", "user", "User.x",
                "xattr", "system.")) {
            assertErrno(Errno.EOPNOTSUPP, () -> fs.setxattr(f, bad, utf8("x"), 0));
            assertErrno(Errno.EOPNOTSUPP, () -> fs.getxattr(f, bad));
            assertErrno(Errno.EOPNOTSUPP, () -> fs.removexattr(f, bad));
        }
        for (String prefixOnly : List.of("user.", "trusted.", "security.")) {
            assertErrno(Errno.EINVAL, () -> fs.setxattr(f, prefixOnly, utf8("x"), 0));
            assertErrno(Errno.EINVAL, () -> fs.getxattr(f, prefixOnly));
        }
        assertEquals(List.of(), fs.listxattr(f));
    }

    @Test
    void userAttributesOnlyOnFilesAndDirectories() {
        long l = fs.symlink(ROOT, "l", "target", 0, 0);
        long fifo = fs.mknod(ROOT, "fifo", FileMode.S_IFIFO | 0644, 0, 0, 0);
        long chr = fs.mknod(ROOT, "chr", FileMode.S_IFCHR | 0644, 0x0103, 0, 0);
        long sock = fs.mknod(ROOT, "sock", FileMode.S_IFSOCK | 0644, 0, 0, 0);
        for (long ino : new long[] {l, fifo, chr, sock}) {
            assertErrno(Errno.EPERM, () -> fs.setxattr(ino, "user.x", utf8("1"), 0));
            assertErrno(Errno.EPERM, () -> fs.removexattr(ino, "user.x"));
            assertErrno(Errno.ENODATA, () -> fs.getxattr(ino, "user.x"));
            fs.setxattr(ino, "trusted.x", utf8("t"), 0);
            fs.setxattr(ino, "security.x", utf8("s"), 0);
            assertEquals(List.of("security.x", "trusted.x"), fs.listxattr(ino));
        }
        fsckClean("attributes of special files");
    }

    /** A POSIX ACL value: version 2, then (tag u16, perm u16, id u32) entries. */
    static byte[] acl(int... entries) {
        ByteBuffer b = ByteBuffer.allocate(4 + 8 * (entries.length / 3)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(2);
        for (int i = 0; i < entries.length; i += 3) {
            b.putShort((short) entries[i]).putShort((short) entries[i + 1]).putInt(entries[i + 2]);
        }
        return b.array();
    }

    @Test
    void posixAclsAreStoredFaithfully() {
        long d = fs.mkdir(ROOT, "d", 0755, 0, 0);
        // USER_OBJ rwx, USER 1234 rw, GROUP_OBJ rx, MASK rwx, OTHER rx
        byte[] access = acl(0x01, 7, -1, 0x02, 6, 1234, 0x04, 5, -1, 0x10, 7, -1, 0x20, 5, -1);
        byte[] def = acl(0x01, 7, -1, 0x04, 5, -1, 0x08, 5, 55, 0x10, 5, -1, 0x20, 0, -1);
        fs.setxattr(d, XattrNames.ACL_ACCESS, access, 0);
        fs.setxattr(d, XattrNames.ACL_DEFAULT, def, 0);
        assertArrayEquals(access, fs.getxattr(d, XattrNames.ACL_ACCESS));
        assertArrayEquals(def, fs.getxattr(d, XattrNames.ACL_DEFAULT));
        assertEquals(List.of(XattrNames.ACL_ACCESS, XattrNames.ACL_DEFAULT), fs.listxattr(d));
        assertErrno(Errno.EINVAL, () -> fs.setxattr(d, XattrNames.ACL_ACCESS, new byte[7], 0));
        assertErrno(Errno.EINVAL, () -> fs.setxattr(d, XattrNames.ACL_ACCESS, new byte[12], 0)); // version 0
        assertArrayEquals(access, fs.getxattr(d, XattrNames.ACL_ACCESS), "a rejected ACL changes nothing");
        fs.removexattr(d, XattrNames.ACL_DEFAULT);
        DaxFileSystem again = dev.remount();
        assertArrayEquals(access, again.getxattr(again.resolve("/d"), XattrNames.ACL_ACCESS));
        assertErrno(Errno.ENODATA, () -> again.getxattr(again.resolve("/d"), XattrNames.ACL_DEFAULT));
    }

    @Test
    void removedFileIsENOENT() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        fs.setxattr(f, "user.a", utf8("1"), 0);
        fs.unlink(ROOT, "f");
        assertErrno(Errno.ENOENT, () -> fs.getxattr(f, "user.a"));
        assertErrno(Errno.ENOENT, () -> fs.setxattr(f, "user.a", utf8("2"), 0));
        assertErrno(Errno.ENOENT, () -> fs.listxattr(f));
        assertErrno(Errno.ENOENT, () -> fs.removexattr(f, "user.a"));
        fsckClean("after unlink");
        // A new file starts without attributes.
        long g = fs.create(ROOT, "g", 0644, 0, 0);
        assertEquals(List.of(), fs.listxattr(g));
    }

    // ------------------------------------------------------------------ times and block counts

    @Test
    void ctimeChangesOnEverySetAndRemoveAndMtimeDoesNot() throws InterruptedException {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        Attributes a0 = fs.getattr(f);
        Thread.sleep(5);
        fs.setxattr(f, "user.a", utf8("1"), 0);
        Attributes a1 = fs.getattr(f);
        assertTrue(newer(a1, a0), "ctime after set");
        assertEquals(a0.mtimeSec(), a1.mtimeSec());
        assertEquals(a0.mtimeNsec(), a1.mtimeNsec());
        Thread.sleep(5);
        fs.setxattr(f, "user.a", utf8("2"), 0);
        Attributes a2 = fs.getattr(f);
        assertTrue(newer(a2, a1), "ctime after replace");
        Thread.sleep(5);
        fs.removexattr(f, "user.a");
        Attributes a3 = fs.getattr(f);
        assertTrue(newer(a3, a2), "ctime after remove");
        assertEquals(a0.mtimeNsec(), a3.mtimeNsec());
        Thread.sleep(5);
        assertErrno(Errno.ENODATA, () -> fs.removexattr(f, "user.a"));
        assertErrno(Errno.ENODATA, () -> fs.getxattr(f, "user.x"));
        assertErrno(Errno.ENODATA, () -> fs.setxattr(f, "user.a", utf8("3"), XATTR_REPLACE));
        assertEquals(a3.ctimeNsec(), fs.getattr(f).ctimeNsec(), "a failed call changes nothing");
    }

    private static boolean newer(Attributes a, Attributes b) {
        return a.ctimeSec() > b.ctimeSec() || (a.ctimeSec() == b.ctimeSec() && a.ctimeNsec() > b.ctimeNsec());
    }

    @Test
    void blockCountIncludesAttributeBlocks() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        write(fs, f, 0, pattern(2, 0, 5000)); // 2 data blocks
        assertEquals(2 * 8, fs.getattr(f).blocks512());
        fs.setxattr(f, "user.small", utf8("s"), 0);
        assertEquals(3 * 8, fs.getattr(f).blocks512(), "one index block");
        fs.setxattr(f, "user.big", pattern(3, 0, 65536), 0);
        assertEquals((3 + 16) * 8, fs.getattr(f).blocks512(), "index + 16 value blocks");
        fs.setxattr(f, "user.big", pattern(4, 0, 10_000), 0);
        assertEquals((3 + 3) * 8, fs.getattr(f).blocks512(), "index + 3 value blocks");
        fs.removexattr(f, "user.big");
        fs.removexattr(f, "user.small");
        assertEquals(2 * 8, fs.getattr(f).blocks512());
        fs.truncate(f, 0);
        assertEquals(0, fs.getattr(f).blocks512());
        FsSnapshot.assertSpaceAccounted(fs);
        fsckClean("block counts");
    }

    // ------------------------------------------------------------------ scale and persistence

    static String name(int i) {
        return String.format("user.attribute-%04d", i);
    }

    static byte[] value(int i) {
        return pattern(1000 + i, 0, (i * 37) % 300);
    }

    @Test
    void aThousandAttributesOnOneFile() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        for (int i = 0; i < 1000; i++) {
            fs.setxattr(f, name(i), value(i), XATTR_CREATE);
        }
        List<String> names = fs.listxattr(f);
        assertEquals(1000, names.size());
        for (int i = 0; i < 1000; i++) {
            assertEquals(name(i), names.get(i));
            assertArrayEquals(value(i), fs.getxattr(f, name(i)), name(i));
        }
        fsckClean("1000 attributes");
        DaxFileSystem again = dev.remount();
        long g = again.resolve("/f");
        assertEquals(names, again.listxattr(g));
        for (int i = 0; i < 1000; i += 2) {
            again.removexattr(g, name(i));
        }
        for (int i = 1000; i < 1100; i++) {
            again.setxattr(g, name(i), value(i), 0);
        }
        DaxFileSystem third = dev.crashRemount();
        long h = third.resolve("/f");
        List<String> left = third.listxattr(h);
        assertEquals(600, left.size());
        for (int i = 1; i < 1100; i++) {
            if (i < 1000 && i % 2 == 0) {
                int k = i;
                assertErrno(Errno.ENODATA, () -> third.getxattr(h, name(k)));
            } else {
                assertArrayEquals(value(i), third.getxattr(h, name(i)), name(i));
            }
        }
        FsSnapshot.assertSpaceAccounted(third);
        fsckClean("after remount, changes and a crash remount");
    }

    /** The replayed index of {@code ino} as it is on the device. */
    private XattrSet onDevice(long ino) {
        Geometry geo = fs.superblock().geometry();
        var media = dev.region().readView();
        return XattrFormat.decode(media, geo.dataStart(), geo.totalBlocks(),
                XattrFormat.pointer(media, geo.inodeOffset(ino)), ino);
    }

    @Test
    void theLogGrowsAndCompacts() {
        XattrCrashTest.fullAreas(fs);
        long grow = fs.resolve("/grow");
        long compact = fs.resolve("/compact");
        XattrSet g0 = onDevice(grow);
        assertEquals(1, g0.areaBlocks());
        assertTrue(g0.end + 49 > 4096 && g0.end + 2 * 49 > 4096, "full: " + g0.end);
        XattrSet c0 = onDevice(compact);
        assertEquals(1, c0.areaBlocks());
        assertTrue(c0.end + 46 > 4096, "full: " + c0.end);

        fs.setxattr(grow, "user.next", pattern(7, 0, 20), 0);
        XattrSet g1 = onDevice(grow);
        assertEquals(g0.pointer, g1.pointer, "grown in place");
        assertEquals(2, g1.areaBlocks(), "doubled");
        assertEquals(g0.end + 49, g1.end);
        assertEquals(2 * 8, fs.getattr(grow).blocks512());

        fs.setxattr(compact, "user.x", pattern(8, 0, 20), 0);
        XattrSet c1 = onDevice(compact);
        assertNotEquals(c0.pointer, c1.pointer, "compacted into fresh blocks");
        assertEquals(XattrFormat.HEADER + 46, c1.end);
        assertArrayEquals(pattern(8, 0, 20), fs.getxattr(compact, "user.x"));

        // Thousands of changes keep the area bounded (compaction pays for itself).
        for (int i = 0; i < 5000; i++) {
            fs.setxattr(compact, "user.x", pattern(i, 0, 1 + i % 1500), 0);
            if (i % 7 == 0) {
                fs.setxattr(compact, "user.y" + (i % 5), pattern(i, 0, 10), 0);
            }
        }
        assertTrue(onDevice(compact).areaBlocks() <= 4, onDevice(compact).areaBlocks() + " blocks");
        assertArrayEquals(pattern(4999, 0, 1 + 4999 % 1500), fs.getxattr(compact, "user.x"));
        FsSnapshot.assertSpaceAccounted(fs);
        fsckClean("after growth and compaction");
    }

    /**
     * Free space in single blocks: the area grows in many one-block extents until it cannot
     * (64 extents), then changes compact or fail with ENOSPC - never leaving a damaged set.
     */
    @Test
    void fragmentedFreeSpace() {
        long filler = fs.create(ROOT, "filler", 0644, 0, 0);
        long blocks = fs.statfs().freeBlocks() - 64;
        write(fs, filler, 0, new byte[(int) (blocks * 4096)]);
        for (long b = 0; b < blocks; b += 2) {
            fs.punchHole(filler, b * 4096, 4096);
        }
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        TreeMap<String, byte[]> model = new TreeMap<>();
        int maxExtents = 0;
        FsException full = null;
        for (int i = 0; i < 2000 && full == null; i++) {
            String n = String.format("user.v%04d", i % 400);
            byte[] v = pattern(i, 0, 1000);
            try {
                fs.setxattr(f, n, v, 0);
                model.put(n, v);
                maxExtents = Math.max(maxExtents, onDevice(f).areaExtents.size());
            } catch (FsException e) {
                full = e;
            }
        }
        assertTrue(maxExtents > 32, "the area grew in many extents: " + maxExtents);
        if (full != null) {
            assertEquals(Errno.ENOSPC, full.errno());
        }
        DaxFileSystem again = dev.remount();
        fs = again;
        assertEquals(List.copyOf(model.keySet()), fs.listxattr(f));
        for (var e : model.entrySet()) {
            assertArrayEquals(e.getValue(), fs.getxattr(f, e.getKey()));
        }
        FsSnapshot.assertSpaceAccounted(fs);
        fsckClean("fragmented free space");
    }

    /** Random sets, replaces and removes against a model, with remounts and crash remounts. */
    @Test
    void randomChangesMatchAModel() {
        long seed = TestDevice.seed("XattrTest.randomChangesMatchAModel");
        Random r = new Random(seed);
        long[] files = {fs.create(ROOT, "a", 0644, 0, 0), fs.create(ROOT, "b", 0644, 0, 0), fs.mkdir(ROOT, "c", 0755, 0, 0)};
        List<TreeMap<String, byte[]>> model = List.of(new TreeMap<>(), new TreeMap<>(), new TreeMap<>());
        for (int step = 0; step < 6000; step++) {
            int which = r.nextInt(files.length);
            long ino = files[which];
            TreeMap<String, byte[]> m = model.get(which);
            String n = "user.k" + r.nextInt(60);
            int op = r.nextInt(10);
            if (op < 7) {
                int len = switch (r.nextInt(4)) {
                    case 0 -> 0;
                    case 1 -> r.nextInt(64);
                    case 2 -> r.nextInt(3000);
                    default -> r.nextInt(65537);
                };
                byte[] v = pattern(r.nextLong(), 0, len);
                fs.setxattr(ino, n, v, 0);
                m.put(n, v);
            } else if (m.containsKey(n)) {
                fs.removexattr(ino, n);
                m.remove(n);
            } else {
                assertErrno(Errno.ENODATA, () -> fs.removexattr(ino, n));
            }
            if (step % 1500 == 1499) {
                fs = step % 3000 == 1499 ? dev.remount() : dev.crashRemount();
                fsckClean("at step " + step + " (seed " + seed + ")");
            }
        }
        for (int i = 0; i < files.length; i++) {
            assertEquals(List.copyOf(model.get(i).keySet()), fs.listxattr(files[i]), "names (seed " + seed + ")");
            for (var e : model.get(i).entrySet()) {
                assertArrayEquals(e.getValue(), fs.getxattr(files[i], e.getKey()), e.getKey() + " (seed " + seed + ")");
            }
        }
        FsSnapshot.assertSpaceAccounted(fs);
        fsckClean("after the random changes (seed " + seed + ")");
    }

    @Test
    void aValueOf64KiB() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        byte[] v1 = pattern(7, 0, 65536);
        byte[] v2 = pattern(8, 0, 65536);
        fs.setxattr(f, "user.big", v1, 0);
        fs.setxattr(f, "user.small", utf8("s"), 0);
        assertArrayEquals(v1, fs.getxattr(f, "user.big"));
        fs.setxattr(f, "user.big", v2, XATTR_REPLACE);
        assertArrayEquals(v2, fs.getxattr(f, "user.big"));
        DaxFileSystem again = dev.remount();
        long g = again.resolve("/f");
        assertArrayEquals(v2, again.getxattr(g, "user.big"));
        assertArrayEquals(utf8("s"), again.getxattr(g, "user.small"));
        // Out of line to inline and back.
        again.setxattr(g, "user.big", utf8("now small"), 0);
        assertArrayEquals(utf8("now small"), again.getxattr(g, "user.big"));
        again.setxattr(g, "user.big", v1, 0);
        DaxFileSystem third = dev.crashRemount();
        assertArrayEquals(v1, third.getxattr(third.resolve("/f"), "user.big"));
        FsSnapshot.assertSpaceAccounted(third);
        fsckClean("64 KiB values");
    }

    @Test
    void manyLargeValues() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        for (int i = 0; i < 100; i++) {
            fs.setxattr(f, "user.v" + i, pattern(i, 0, 2049 + i * 600), 0);
        }
        DaxFileSystem again = dev.remount();
        long g = again.resolve("/f");
        for (int i = 0; i < 100; i++) {
            assertArrayEquals(pattern(i, 0, 2049 + i * 600), again.getxattr(g, "user.v" + i), "user.v" + i);
        }
        FsSnapshot.assertSpaceAccounted(again);
        fsckClean("100 out-of-line values");
    }

    @Test
    void inlineValuesMoveOutOfLineWhenTheInlineBudgetIsUsed() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        int n = 1000; // 1000 x 2 KiB inline would exceed the index
        for (int i = 0; i < n; i++) {
            fs.setxattr(f, name(i), pattern(i, 0, XattrFormat.INLINE_MAX), 0);
        }
        int inline = XattrFormat.MAX_INLINE_TOTAL / XattrFormat.INLINE_MAX;
        Geometry geo = fs.superblock().geometry();
        var media = dev.region().readView();
        XattrSet s = XattrFormat.decode(media, geo.dataStart(), geo.totalBlocks(),
                XattrFormat.pointer(media, geo.inodeOffset(f)), f);
        assertEquals(inline, s.entries.values().stream().filter(XattrEntry::isInline).count());
        assertEquals(n - inline, s.valueBlocks, "one block per out-of-line value");
        assertEquals((s.areaBlocks() + n - inline) * 8, fs.getattr(f).blocks512());
        DaxFileSystem again = dev.remount();
        long g = again.resolve("/f");
        assertEquals(n, again.listxattr(g).size());
        for (int i = 0; i < n; i++) {
            assertArrayEquals(pattern(i, 0, XattrFormat.INLINE_MAX), again.getxattr(g, name(i)), name(i));
        }
        FsSnapshot.assertSpaceAccounted(again);
        fsckClean("a full index");
    }

    @Test
    void theNameListIsLimitedTo64KiB() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        String stem = "user." + "x".repeat(240) + "-";
        int i = 0;
        FsException full = null;
        while (full == null) {
            try {
                fs.setxattr(f, stem + String.format("%09d", i), utf8("v"), 0);
                i++;
            } catch (FsException e) {
                full = e;
            }
        }
        assertEquals(Errno.ENOSPC, full.errno());
        assertEquals(65536 / 256, i, "names of 255 bytes plus NUL");
        assertEquals(i, fs.listxattr(f).size());
        // Replacing an existing value is still possible; so is a shorter list.
        fs.setxattr(f, stem + String.format("%09d", 0), utf8("w"), XATTR_REPLACE);
        fs.removexattr(f, stem + String.format("%09d", 1));
        fs.setxattr(f, "user.short", utf8("s"), 0);
        fsckClean("a full name list");
    }

    @Test
    void persistsAcrossRemountAndCrashRemount() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        long d = fs.mkdir(ROOT, "d", 0755, 0, 0);
        fs.setxattr(f, "user.a", utf8("1"), 0);
        fs.setxattr(f, "user.big", pattern(9, 0, 30_000), 0);
        fs.setxattr(d, "trusted.d", utf8("dir"), 0);
        TreeMap<String, String> fileAttrs = all(fs, f);
        TreeMap<String, String> dirAttrs = all(fs, d);
        DaxFileSystem again = dev.remount();
        assertEquals(fileAttrs, all(again, again.resolve("/f")));
        assertEquals(dirAttrs, all(again, again.resolve("/d")));
        again.setxattr(again.resolve("/f"), "user.a", utf8("2"), 0);
        again.removexattr(again.resolve("/d"), "trusted.d");
        DaxFileSystem third = dev.crashRemount();
        assertArrayEquals(utf8("2"), third.getxattr(third.resolve("/f"), "user.a"));
        assertEquals(List.of(), third.listxattr(third.resolve("/d")));
        FsSnapshot.assertSpaceAccounted(third);
        fsckClean("after crash remount");
    }

    // ------------------------------------------------------------------ space

    @Test
    void unlinkReturnsEveryAttributeBlock() {
        FsStats start = fs.statfs();
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        write(fs, f, 0, pattern(10, 0, 100_000));
        for (int i = 0; i < 50; i++) {
            fs.setxattr(f, name(i), pattern(i, 0, i % 2 == 0 ? 100 : 9000), 0);
        }
        assertTrue(fs.statfs().freeBlocks() < start.freeBlocks() - 25 - 50 * 3 / 2);
        fs.unlink(ROOT, "f");
        assertEquals(start.freeBlocks(), fs.statfs().freeBlocks(), "all blocks back after unlink");
        assertEquals(start.freeInodes(), fs.statfs().freeInodes());
        fsckClean("after unlink");
        assertEquals(start.freeBlocks(), dev.remount().statfs().freeBlocks(), "and after remount");
    }

    @Test
    void rmdirAndRenameOverReturnAttributeBlocks() {
        FsStats start = fs.statfs();
        long d = fs.mkdir(ROOT, "d", 0755, 0, 0);
        fs.setxattr(d, "user.big", pattern(1, 0, 20_000), 0);
        long a = fs.create(ROOT, "a", 0644, 0, 0);
        long b = fs.create(ROOT, "b", 0644, 0, 0);
        fs.setxattr(a, "user.a", pattern(2, 0, 5000), 0);
        fs.setxattr(b, "user.b", pattern(3, 0, 5000), 0);
        fs.rename(ROOT, "a", ROOT, "b"); // b's attributes go with b's inode
        assertArrayEquals(pattern(2, 0, 5000), fs.getxattr(fs.resolve("/b"), "user.a"));
        assertErrno(Errno.ENODATA, () -> fs.getxattr(fs.resolve("/b"), "user.b"));
        fs.rmdir(ROOT, "d");
        fs.unlink(ROOT, "b");
        assertEquals(start.freeBlocks(), fs.statfs().freeBlocks());
        fsckClean("after rmdir and rename over");
    }

    @Test
    void aDirectoryWithAttributesGrowsAndShrinks() {
        long d = fs.mkdir(ROOT, "d", 0755, 0, 0);
        fs.setxattr(d, "user.d", pattern(5, 0, 10_000), 0);
        for (int i = 0; i < 500; i++) {
            fs.create(d, "file-with-a-longish-name-" + i, 0644, 0, 0);
        }
        FsSnapshot.assertSpaceAccounted(fs);
        fsckClean("grown directory with attributes");
        for (int i = 0; i < 500; i++) {
            fs.unlink(d, "file-with-a-longish-name-" + i);
        }
        assertEquals(4 * 8, fs.getattr(d).blocks512(), "only the attribute blocks are left");
        fsckClean("emptied directory with attributes");
        fs.removexattr(d, "user.d");
        assertEquals(0, fs.getattr(d).blocks512());
        FsSnapshot.assertSpaceAccounted(fs);
    }

    @Test
    void noSpaceLeavesTheOldSet() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        fs.setxattr(f, "user.a", utf8("old"), 0);
        fs.setxattr(ROOT, "user.root", utf8("r"), 0);
        long filler = fs.create(ROOT, "filler", 0644, 0, 0);
        byte[] chunk = new byte[1 << 20];
        long off = 0;
        try {
            while (true) {
                write(fs, filler, off, chunk);
                off += chunk.length;
            }
        } catch (FsException e) {
            assertEquals(Errno.ENOSPC, e.errno());
        }
        try {
            while (true) {
                write(fs, filler, off, new byte[4096]);
                off += 4096;
            }
        } catch (FsException e) {
            assertEquals(Errno.ENOSPC, e.errno());
        }
        assertEquals(0, fs.statfs().freeBlocks());
        assertErrno(Errno.ENOSPC, () -> fs.setxattr(f, "user.big", new byte[5000], 0));
        // Small changes append to the log's block in place while it has room; then the log
        // needs a new block (to grow or to compact into) and the change fails, leaving the set.
        int changes = 0;
        FsException full = null;
        while (full == null) {
            try {
                fs.setxattr(f, "user.a", utf8("value " + changes), 0);
                changes++;
            } catch (FsException e) {
                full = e;
            }
        }
        assertEquals(Errno.ENOSPC, full.errno());
        assertTrue(changes > 50, changes + " changes fitted in the block");
        assertArrayEquals(utf8("value " + (changes - 1)), fs.getxattr(f, "user.a"));
        assertEquals(List.of("user.a"), fs.listxattr(f));
        FsSnapshot.assertSpaceAccounted(fs);
        fsckClean("after ENOSPC");
        fs.unlink(ROOT, "filler");
        assertArrayEquals(utf8("value " + (changes - 1)), dev.remount().getxattr(f, "user.a"));
        fs = dev.fs();
        fs.setxattr(f, "user.a", utf8("new"), 0);
        assertArrayEquals(utf8("new"), dev.remount().getxattr(f, "user.a"));
        assertArrayEquals(utf8("r"), dev.fs().getxattr(ROOT, "user.root"));
    }

    // ------------------------------------------------------------------ fsck

    @Test
    void fsckAccountsForAndValidatesAttributeBlocks() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        fs.setxattr(f, "user.a", utf8("inline"), 0);
        fs.setxattr(f, "user.b", pattern(11, 0, 12_000), 0);
        FsckReport ok = FsChecker.check(dev.region().readView());
        assertTrue(ok.clean(), ok.render());
        Geometry g = fs.superblock().geometry();
        long field = g.inodeOffset(f) + InodeLayout.XATTR;
        var media = dev.region().readView();
        long index = media.get(ValueLayout.JAVA_LONG_UNALIGNED, field);
        assertNotEquals(0, index);

        // Cut the inode's link to its attributes: every attribute block is reported leaked.
        dev.region().putLong(field, 0);
        FsckReport leaked = FsChecker.check(dev.region().readView());
        assertFalse(leaked.clean());
        assertTrue(leaked.errors().stream().anyMatch(e -> e.contains("4 block(s) marked in use but owned by nothing")),
                leaked.render());
        dev.region().putLong(field, index);

        // A damaged index: fsck says so, and reading the attributes is EIO, not garbage.
        long at = Geometry.blockOffset(index) + XattrFormat.HEADER + 10;
        byte b = media.get(ValueLayout.JAVA_BYTE, at);
        dev.region().putByte(at, (byte) (b ^ 1));
        FsckReport bad = FsChecker.check(dev.region().readView());
        assertTrue(bad.errors().stream().anyMatch(e -> e.contains("fails its CRC")), bad.render());
        // A full mount-time check refuses the image; a quick mount finds the damage on first use.
        assertThrows(CorruptFileSystemException.class, dev::remount);
        DaxFileSystem again = dev.mount(DAMAGE_TOLERANT);
        assertErrno(Errno.EUCLEAN, () -> again.getxattr(again.resolve("/f"), "user.a"));
        dev.region().putByte(at, b);
        Journal.clearError(dev.region(), g); // the use recorded the damage
        assertTrue(FsChecker.check(dev.region().readView()).clean());

        // A damaged out-of-line value fails its own CRC.
        media = dev.region().readView();
        XattrSet s = XattrFormat.decode(media, g.dataStart(), g.totalBlocks(), index, f);
        long valueAt = Geometry.blockOffset(s.entries.get("user.b").extents().getFirst().start()) + 100;
        dev.region().putByte(valueAt, (byte) (media.get(ValueLayout.JAVA_BYTE, valueAt) ^ 1));
        FsckReport badValue = FsChecker.check(dev.region().readView());
        assertTrue(badValue.errors().stream().anyMatch(e -> e.contains("'user.b' fails its CRC")), badValue.render());
        DaxFileSystem third = dev.remount(DAMAGE_TOLERANT);
        assertErrno(Errno.EUCLEAN, () -> third.getxattr(third.resolve("/f"), "user.b"));
        assertArrayEquals(utf8("inline"), third.getxattr(third.resolve("/f"), "user.a"));
    }

    /** A mount that checks only what it must before serving, and stays writable after damage. */
    private static final MountSettings DAMAGE_TOLERANT = MountSettings.defaults()
            .withCheck(MountSettings.Check.QUICK).withErrors(MountSettings.Errors.CONTINUE);

    // ------------------------------------------------------------------ concurrency

    @Test
    void concurrentChangesOnOneFileAllLand() throws Exception {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        int threads = 8;
        int each = 60;
        ExecutorService pool = Executors.newFixedThreadPool(threads + 2);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int tt = t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        String n = "user.t" + tt + "-" + i;
                        fs.setxattr(f, n, pattern(tt * 1000 + i, 0, i % 3 == 0 ? 5000 : 40), 0);
                        if (i % 4 == 3) {
                            fs.removexattr(f, "user.t" + tt + "-" + (i - 1));
                        }
                    }
                    return null;
                }));
            }
            // Readers and a directory writer in parallel.
            Random r = new Random(1);
            futures.add(pool.submit(() -> {
                for (int i = 0; i < 300; i++) {
                    for (String n : fs.listxattr(f)) {
                        try {
                            fs.getxattr(f, n);
                        } catch (FsException e) {
                            assertEquals(Errno.ENODATA, e.errno()); // removed since the listing
                        }
                    }
                }
                return null;
            }));
            long d = fs.mkdir(ROOT, "d", 0755, 0, 0);
            futures.add(pool.submit(() -> {
                for (int i = 0; i < 200; i++) {
                    fs.create(d, "entry-" + i + "-" + r.nextInt(), 0644, 0, 0);
                    fs.setxattr(d, "user.n", utf8(Integer.toString(i)), 0);
                }
                return null;
            }));
            for (Future<?> fu : futures) {
                fu.get();
            }
        } finally {
            pool.shutdownNow();
        }
        List<String> names = fs.listxattr(f);
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < each; i++) {
                boolean removed = i % 4 == 2;
                assertEquals(!removed, names.contains("user.t" + t + "-" + i), "user.t" + t + "-" + i);
            }
        }
        FsSnapshot.assertSpaceAccounted(fs);
        fsckClean("after concurrent changes");
        DaxFileSystem again = dev.remount();
        assertEquals(names, again.listxattr(again.resolve("/f")));
    }
}
