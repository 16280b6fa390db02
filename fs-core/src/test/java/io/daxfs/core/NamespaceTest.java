package io.daxfs.core;

import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.DirEntry;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.dir.DirentLayout;
import io.daxfs.core.format.Geometry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Names: create, lookup, readdir, unlink, mkdir, rmdir, rename, link, symlink, mknod, resolve. */
@FsCoreDevice(after = FsCoreDevice.Check.REMOUNT_AND_FSCK)
class NamespaceTest {
    private TestDevice dev;
    private DaxFileSystem fs;

    static void assertErrno(Errno expected, Executable op) {
        FsException e = assertThrows(FsException.class, op);
        assertEquals(expected, e.errno(), e.getMessage());
    }

    private Map<String, Long> names(long dir) {
        return fs.readdir(dir).stream().collect(Collectors.toMap(DirEntry::name, DirEntry::ino));
    }

    private long nlink(long ino) {
        return fs.getattr(ino).nlink();
    }

    private long freeBlocks() {
        return fs.statfs().freeBlocks();
    }

    // ------------------------------------------------------------------ create, lookup, readdir, unlink

    @Test
    void createLookupGetattrReaddirUnlink() {
        long ino = fs.create(ROOT, "a.txt", 0640, 1234, 5678);
        assertEquals(ino, fs.lookup(ROOT, "a.txt"));
        Attributes a = fs.getattr(ino);
        assertEquals(FileMode.S_IFREG | 0640, a.mode());
        assertEquals(1, a.nlink());
        assertEquals(1234, a.uid());
        assertEquals(5678, a.gid());
        assertEquals(0, a.size());
        assertEquals(0, a.blocks512());

        List<DirEntry> list = fs.readdir(ROOT);
        assertEquals(List.of(".", ".."), list.subList(0, 2).stream().map(DirEntry::name).toList());
        assertEquals(Map.of(".", ROOT, "..", ROOT, "a.txt", ino), names(ROOT));
        DirEntry e = list.stream().filter(x -> x.name().equals("a.txt")).findFirst().orElseThrow();
        assertEquals(DirentLayout.DT_REG, e.type());

        // Create sets the parent's mtime.
        Attributes root = fs.getattr(ROOT);
        assertTrue(root.mtimeSec() > 0);

        assertErrno(Errno.EEXIST, () -> fs.create(ROOT, "a.txt", 0644, 0, 0));
        fs.unlink(ROOT, "a.txt");
        assertErrno(Errno.ENOENT, () -> fs.lookup(ROOT, "a.txt"));
        assertErrno(Errno.ENOENT, () -> fs.getattr(ino));
        assertErrno(Errno.ENOENT, () -> fs.unlink(ROOT, "a.txt"));
        assertEquals(Set.of(".", ".."), names(ROOT).keySet());
        // The name can be used again.
        long again = fs.create(ROOT, "a.txt", 0600, 0, 0);
        assertEquals(FileMode.S_IFREG | 0600, fs.getattr(again).mode());
    }

    @Test
    void manyNamesInOneDirectory() {
        long d = fs.mkdir(ROOT, "d", 0755, 0, 0);
        for (int i = 0; i < 500; i++) {
            fs.create(d, "file-" + i, 0644, 0, 0);
        }
        for (int i = 0; i < 500; i += 3) {
            fs.unlink(d, "file-" + i);
        }
        dev.remount();
        fs = dev.fs();
        d = fs.resolve("/d");
        var n = names(d);
        for (int i = 0; i < 500; i++) {
            assertEquals(i % 3 != 0, n.containsKey("file-" + i), "file-" + i);
        }
        assertEquals(2 + 500 - 167, n.size());
    }

    // ------------------------------------------------------------------ directories

    @Test
    void mkdirAndRmdir() {
        long d = fs.mkdir(ROOT, "dir", 0750, 7, 8);
        Attributes a = fs.getattr(d);
        assertEquals(FileMode.S_IFDIR | 0750, a.mode());
        assertEquals(2, a.nlink());
        assertEquals(3, nlink(ROOT), "the subdirectory's '..' links the root");
        assertEquals(Map.of(".", d, "..", ROOT), names(d));
        assertEquals(DirentLayout.DT_DIR,
                fs.readdir(ROOT).stream().filter(e -> e.name().equals("dir")).findFirst().orElseThrow().type());

        long sub = fs.mkdir(d, "sub", 0755, 0, 0);
        assertEquals(3, nlink(d));
        assertEquals(Map.of(".", sub, "..", d), names(sub));

        assertErrno(Errno.ENOTEMPTY, () -> fs.rmdir(ROOT, "dir"));
        long f = fs.create(d, "file", 0644, 0, 0);
        assertErrno(Errno.ENOTDIR, () -> fs.rmdir(d, "file"));
        assertErrno(Errno.EISDIR, () -> fs.unlink(d, "sub"));
        assertErrno(Errno.ENOENT, () -> fs.rmdir(d, "nothing"));
        assertErrno(Errno.EEXIST, () -> fs.mkdir(d, "file", 0755, 0, 0));
        assertErrno(Errno.ENOTDIR, () -> fs.mkdir(f, "x", 0755, 0, 0));
        assertErrno(Errno.ENOTDIR, () -> fs.create(f, "x", 0644, 0, 0));
        assertErrno(Errno.ENOTDIR, () -> fs.readdir(f));

        fs.rmdir(d, "sub");
        assertEquals(2, nlink(d));
        assertErrno(Errno.ENOENT, () -> fs.getattr(sub));
        fs.unlink(d, "file");
        fs.rmdir(ROOT, "dir");
        assertEquals(2, nlink(ROOT));
        assertEquals(Set.of(".", ".."), names(ROOT).keySet());
    }

    @Test
    void removingDirectoryReturnsItsBlocks() {
        long start = freeBlocks();
        long d = fs.mkdir(ROOT, "dir", 0755, 0, 0);
        for (int i = 0; i < 300; i++) { // several directory blocks
            fs.create(d, "a-rather-long-file-name-to-fill-blocks-" + i, 0644, 0, 0);
        }
        assertTrue(fs.getattr(d).blocks512() / 8 >= 3, "directory grew over several blocks");
        for (int i = 0; i < 300; i++) {
            fs.unlink(d, "a-rather-long-file-name-to-fill-blocks-" + i);
        }
        fs.rmdir(ROOT, "dir");
        // The emptied root gives its directory block back too.
        assertEquals(start, freeBlocks());
    }

    // ------------------------------------------------------------------ rename

    @Test
    void renameToNewNameInSameDirectory() {
        long f = fs.create(ROOT, "old", 0644, 0, 0);
        TestDevice.write(fs, f, 0, "data".getBytes(StandardCharsets.UTF_8));
        fs.rename(ROOT, "old", ROOT, "new");
        assertErrno(Errno.ENOENT, () -> fs.lookup(ROOT, "old"));
        assertEquals(f, fs.lookup(ROOT, "new"));
        assertArrayEquals("data".getBytes(StandardCharsets.UTF_8), TestDevice.readAll(fs, f));
        assertEquals(1, nlink(f));
        assertErrno(Errno.ENOENT, () -> fs.rename(ROOT, "old", ROOT, "x"));
    }

    @Test
    void renameDirectoryAcrossDirectoriesFixesLinkCountsAndParent() {
        long a = fs.mkdir(ROOT, "a", 0755, 0, 0);
        long b = fs.mkdir(ROOT, "b", 0755, 0, 0);
        long moved = fs.mkdir(a, "moved", 0755, 0, 0);
        long file = fs.create(a, "file", 0644, 0, 0);
        assertEquals(3, nlink(a));
        assertEquals(2, nlink(b));
        assertEquals(4, nlink(ROOT));

        fs.rename(a, "moved", b, "moved2");
        assertEquals(2, nlink(a));
        assertEquals(3, nlink(b));
        assertEquals(4, nlink(ROOT));
        assertEquals(2, nlink(moved));
        assertEquals(b, names(moved).get(".."), "'..' follows the move");
        assertEquals(b, fs.resolve("/b/moved2/.."));
        assertEquals(moved, fs.resolve("/b/moved2"));

        // A file across directories changes no directory link count.
        fs.rename(a, "file", b, "file");
        assertEquals(2, nlink(a));
        assertEquals(3, nlink(b));
        assertEquals(1, nlink(file));
        assertEquals(file, fs.resolve("/b/file"));

        // Directory within the same directory: counts unchanged.
        fs.rename(b, "moved2", b, "moved3");
        assertEquals(3, nlink(b));
        assertEquals(b, fs.resolve("/b/moved3/.."));

        dev.remount();
        fs = dev.fs();
        assertEquals(2, nlink(a));
        assertEquals(3, nlink(b));
        assertEquals(b, fs.resolve("/b/moved3/.."));
    }

    @Test
    void renameOverExistingFileFreesTheOldTarget() {
        long src = fs.create(ROOT, "src", 0644, 0, 0);
        long dst = fs.create(ROOT, "dst", 0600, 0, 0);
        long start = freeBlocks();
        TestDevice.write(fs, src, 0, TestDevice.pattern(1, 0, 3 * Geometry.BLOCK_SIZE));
        TestDevice.write(fs, dst, 0, TestDevice.pattern(2, 0, 10 * Geometry.BLOCK_SIZE));
        assertEquals(start - 13, freeBlocks());
        long freeInodes = fs.statfs().freeInodes();

        fs.rename(ROOT, "src", ROOT, "dst");
        assertEquals(src, fs.lookup(ROOT, "dst"));
        assertErrno(Errno.ENOENT, () -> fs.lookup(ROOT, "src"));
        assertErrno(Errno.ENOENT, () -> fs.getattr(dst));
        assertEquals(start - 3, freeBlocks(), "the replaced file's blocks came back");
        assertEquals(freeInodes + 1, fs.statfs().freeInodes(), "the replaced inode was freed");
        assertArrayEquals(TestDevice.pattern(1, 0, 3 * Geometry.BLOCK_SIZE), TestDevice.readAll(fs, src));
        assertEquals(Set.of(".", "..", "dst"), names(ROOT).keySet());

        dev.remount();
        fs = dev.fs();
        assertEquals(start - 3, freeBlocks());
        assertEquals(src, fs.lookup(ROOT, "dst"));
    }

    @Test
    void renameOverFileInAnotherDirectory() {
        long a = fs.mkdir(ROOT, "a", 0755, 0, 0);
        long b = fs.mkdir(ROOT, "b", 0755, 0, 0);
        long src = fs.create(a, "x", 0644, 0, 0);
        long dst = fs.create(b, "y", 0644, 0, 0);
        // The target has a second name: only one link drops, the inode survives.
        fs.link(dst, ROOT, "y-link");
        assertEquals(2, nlink(dst));
        fs.rename(a, "x", b, "y");
        assertEquals(src, fs.lookup(b, "y"));
        assertEquals(1, nlink(dst));
        assertEquals(dst, fs.lookup(ROOT, "y-link"));
        assertEquals(Set.of(".", ".."), names(a).keySet());
    }

    @Test
    void renameDirectoryOverEmptyDirectory() {
        long a = fs.mkdir(ROOT, "a", 0755, 0, 0);
        long b = fs.mkdir(ROOT, "b", 0755, 0, 0);
        fs.create(a, "inside", 0644, 0, 0);
        assertEquals(4, nlink(ROOT));
        long freeInodes = fs.statfs().freeInodes();
        fs.rename(ROOT, "a", ROOT, "b");
        assertEquals(a, fs.lookup(ROOT, "b"));
        assertErrno(Errno.ENOENT, () -> fs.getattr(b));
        assertEquals(3, nlink(ROOT), "one subdirectory less");
        assertEquals(freeInodes + 1, fs.statfs().freeInodes());
        assertEquals(a, fs.resolve("/b/"));
        assertTrue(fs.getattr(fs.resolve("/b/inside")).isRegular());
        assertEquals(ROOT, fs.resolve("/b/.."));

        // Across directories, over an empty directory that had blocks once.
        long p = fs.mkdir(ROOT, "p", 0755, 0, 0);
        long q = fs.mkdir(ROOT, "q", 0755, 0, 0);
        long victim = fs.mkdir(q, "victim", 0755, 0, 0);
        fs.create(victim, "tmp", 0644, 0, 0);
        fs.unlink(victim, "tmp");
        long mover = fs.mkdir(p, "mover", 0755, 0, 0);
        assertEquals(3, nlink(p));
        assertEquals(3, nlink(q));
        fs.rename(p, "mover", q, "victim");
        assertEquals(2, nlink(p));
        assertEquals(3, nlink(q), "one subdirectory replaced by another");
        assertEquals(q, fs.resolve("/q/victim/.."));
        assertEquals(mover, fs.resolve("/q/victim"));
        assertErrno(Errno.ENOENT, () -> fs.getattr(victim));
    }

    @Test
    void renameErrors() {
        long d = fs.mkdir(ROOT, "d", 0755, 0, 0);
        long full = fs.mkdir(ROOT, "full", 0755, 0, 0);
        fs.create(full, "x", 0644, 0, 0);
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        long sub = fs.mkdir(d, "sub", 0755, 0, 0);
        long subsub = fs.mkdir(sub, "subsub", 0755, 0, 0);
        var before = FsSnapshot.of(fs, true);

        assertErrno(Errno.ENOTEMPTY, () -> fs.rename(ROOT, "d", ROOT, "full"));
        assertErrno(Errno.ENOTDIR, () -> fs.rename(ROOT, "d", ROOT, "f"));
        assertErrno(Errno.EISDIR, () -> fs.rename(ROOT, "f", ROOT, "d"));
        assertErrno(Errno.EINVAL, () -> fs.rename(ROOT, "d", d, "inside"));
        assertErrno(Errno.EINVAL, () -> fs.rename(ROOT, "d", sub, "deeper"));
        assertErrno(Errno.EINVAL, () -> fs.rename(ROOT, "d", subsub, "deepest"));
        assertErrno(Errno.EINVAL, () -> fs.rename(d, "sub", subsub, "x"));
        assertErrno(Errno.ENOENT, () -> fs.rename(ROOT, "missing", ROOT, "y"));
        assertErrno(Errno.ENOTDIR, () -> fs.rename(ROOT, "f", f, "y"));
        assertErrno(Errno.EINVAL, () -> fs.rename(ROOT, "f", ROOT, ""));
        assertErrno(Errno.EINVAL, () -> fs.rename(ROOT, "f", ROOT, "a/b"));
        assertErrno(Errno.EINVAL, () -> fs.rename(ROOT, "f", ROOT, ".."));
        assertErrno(Errno.ENAMETOOLONG, () -> fs.rename(ROOT, "f", ROOT, "n".repeat(256)));

        assertEquals(before, FsSnapshot.of(fs, true), "failed renames changed something");
        assertEquals(subsub, fs.resolve("/d/sub/subsub"));
    }

    @Test
    void renameOntoItselfIsANoOp() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        long d = fs.mkdir(ROOT, "d", 0755, 0, 0);
        var before = FsSnapshot.of(fs, true);
        fs.rename(ROOT, "f", ROOT, "f");
        fs.rename(ROOT, "d", ROOT, "d");
        assertEquals(before, FsSnapshot.of(fs, true));
        assertEquals(f, fs.lookup(ROOT, "f"));
        assertEquals(d, fs.lookup(ROOT, "d"));
    }

    @Test
    void renameBetweenHardLinksOfOneInodeIsANoOp() {
        long f = fs.create(ROOT, "one", 0644, 0, 0);
        long d = fs.mkdir(ROOT, "d", 0755, 0, 0);
        fs.link(f, ROOT, "two");
        fs.link(f, d, "three");
        var before = FsSnapshot.of(fs, true);
        fs.rename(ROOT, "one", ROOT, "two");
        fs.rename(d, "three", ROOT, "one");
        // POSIX: both names stay, nothing happens.
        assertEquals(before, FsSnapshot.of(fs, true));
        assertEquals(f, fs.lookup(ROOT, "one"));
        assertEquals(f, fs.lookup(ROOT, "two"));
        assertEquals(f, fs.lookup(d, "three"));
        assertEquals(3, nlink(f));
    }

    // ------------------------------------------------------------------ link

    @Test
    void hardLinks() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        long d = fs.mkdir(ROOT, "d", 0755, 0, 0);
        byte[] data = TestDevice.pattern(3, 0, 9000);
        TestDevice.write(fs, f, 0, data);
        fs.create(d, "keep", 0644, 0, 0); // gives d its directory block before counting
        long start = freeBlocks();

        assertEquals(f, fs.link(f, ROOT, "g"));
        assertEquals(2, nlink(f));
        fs.link(f, d, "h");
        assertEquals(3, nlink(f));
        assertEquals(f, fs.lookup(d, "h"));
        assertErrno(Errno.EEXIST, () -> fs.link(f, ROOT, "g"));
        assertErrno(Errno.EPERM, () -> fs.link(d, ROOT, "dirlink"));
        assertErrno(Errno.ENOENT, () -> fs.link(9999, ROOT, "nothing"));
        assertEquals(2, nlink(d), "refused link changed the directory");

        fs.unlink(ROOT, "f");
        assertEquals(2, nlink(f));
        assertArrayEquals(data, TestDevice.readAll(fs, fs.lookup(ROOT, "g")));
        fs.unlink(d, "h");
        assertEquals(1, nlink(f));
        assertEquals(start, freeBlocks(), "data stays while a name is left");
        assertArrayEquals(data, TestDevice.readAll(fs, f));

        dev.remount();
        fs = dev.fs();
        assertEquals(1, nlink(f));
        assertArrayEquals(data, TestDevice.readAll(fs, fs.lookup(ROOT, "g")));
        fs.unlink(ROOT, "g");
        assertEquals(start + 3, freeBlocks(), "last name gone: blocks freed");
        assertErrno(Errno.ENOENT, () -> fs.getattr(f));
    }

    // ------------------------------------------------------------------ symlink, mknod

    @Test
    void symlinks() {
        long s = fs.symlink(ROOT, "link", "/some/where/else", 10, 20);
        Attributes a = fs.getattr(s);
        assertTrue(a.isSymlink());
        assertEquals(FileMode.S_IFLNK | 0777, a.mode());
        assertEquals("/some/where/else".length(), a.size());
        assertEquals(10, a.uid());
        assertEquals("/some/where/else", fs.readlink(s));
        assertEquals(DirentLayout.DT_LNK,
                fs.readdir(ROOT).stream().filter(e -> e.name().equals("link")).findFirst().orElseThrow().type());

        String longTarget = "ü/".repeat(1000) + "x".repeat(DaxFileSystem.MAX_SYMLINK - 3000);
        assertEquals(DaxFileSystem.MAX_SYMLINK, longTarget.getBytes(StandardCharsets.UTF_8).length);
        long s2 = fs.symlink(ROOT, "long", longTarget, 0, 0);
        assertEquals(longTarget, fs.readlink(s2));
        assertErrno(Errno.ENAMETOOLONG, () -> fs.symlink(ROOT, "toolong", longTarget + "x", 0, 0));
        assertErrno(Errno.ENOENT, () -> fs.symlink(ROOT, "empty", "", 0, 0));
        assertErrno(Errno.EEXIST, () -> fs.symlink(ROOT, "link", "x", 0, 0));

        long f = fs.create(ROOT, "regular", 0644, 0, 0);
        assertErrno(Errno.EINVAL, () -> fs.readlink(f));

        dev.remount();
        fs = dev.fs();
        assertEquals("/some/where/else", fs.readlink(fs.lookup(ROOT, "link")));
        assertEquals(longTarget, fs.readlink(fs.lookup(ROOT, "long")));
        long start = freeBlocks();
        fs.unlink(ROOT, "link");
        fs.unlink(ROOT, "long");
        assertEquals(start + 2, freeBlocks(), "each symlink owned one block");
    }

    @Test
    void mknodFifoAndDevices() {
        long fifo = fs.mknod(ROOT, "fifo", FileMode.S_IFIFO | 0620, 0, 1, 2);
        Attributes a = fs.getattr(fifo);
        assertEquals(FileMode.S_IFIFO | 0620, a.mode());
        assertEquals(1, a.nlink());
        assertEquals(0, a.size());

        long rdev = (4L << 8) | 1; // tty1
        long chr = fs.mknod(ROOT, "tty", FileMode.S_IFCHR | 0600, rdev, 0, 0);
        assertEquals(FileMode.S_IFCHR | 0600, fs.getattr(chr).mode());
        assertEquals(rdev, fs.getattr(chr).rdev());

        long blk = fs.mknod(ROOT, "disk", FileMode.S_IFBLK | 0660, (8L << 8), 0, 0);
        assertEquals(8L << 8, fs.getattr(blk).rdev());
        long sock = fs.mknod(ROOT, "sock", FileMode.S_IFSOCK | 0755, 0, 0, 0);
        assertEquals(FileMode.S_IFSOCK | 0755, fs.getattr(sock).mode());
        long plain = fs.mknod(ROOT, "plain", 0644, 0, 0, 0);
        assertEquals(FileMode.S_IFREG | 0644, fs.getattr(plain).mode(), "type 0 means a regular file");

        Map<String, Integer> types = fs.readdir(ROOT).stream()
                .collect(Collectors.toMap(DirEntry::name, DirEntry::type));
        assertEquals(DirentLayout.DT_FIFO, types.get("fifo"));
        assertEquals(DirentLayout.DT_CHR, types.get("tty"));
        assertEquals(DirentLayout.DT_BLK, types.get("disk"));
        assertEquals(DirentLayout.DT_SOCK, types.get("sock"));
        assertEquals(DirentLayout.DT_REG, types.get("plain"));

        assertErrno(Errno.EINVAL, () -> fs.mknod(ROOT, "dir", FileMode.S_IFDIR | 0755, 0, 0, 0));
        assertErrno(Errno.EINVAL, () -> fs.mknod(ROOT, "lnk", FileMode.S_IFLNK | 0777, 0, 0, 0));
        assertErrno(Errno.EINVAL, () -> fs.truncate(fifo, 10));

        dev.remount();
        fs = dev.fs();
        assertEquals(rdev, fs.getattr(fs.lookup(ROOT, "tty")).rdev());
        assertEquals(FileMode.S_IFIFO | 0620, fs.getattr(fs.lookup(ROOT, "fifo")).mode());
    }

    // ------------------------------------------------------------------ name rules

    @Test
    void nameLengthLimits() {
        String max = "n".repeat(255);
        long f = fs.create(ROOT, max, 0644, 0, 0);
        assertEquals(f, fs.lookup(ROOT, max));
        assertErrno(Errno.ENAMETOOLONG, () -> fs.create(ROOT, "n".repeat(256), 0644, 0, 0));
        assertErrno(Errno.ENAMETOOLONG, () -> fs.lookup(ROOT, "n".repeat(256)));
        assertErrno(Errno.ENAMETOOLONG, () -> fs.mkdir(ROOT, "d".repeat(256), 0755, 0, 0));
        assertErrno(Errno.ENAMETOOLONG, () -> fs.unlink(ROOT, "n".repeat(256)));
        assertErrno(Errno.ENAMETOOLONG, () -> fs.link(f, ROOT, "l".repeat(256)));
        assertErrno(Errno.ENAMETOOLONG, () -> fs.symlink(ROOT, "s".repeat(256), "t", 0, 0));

        // Multi-byte UTF-8: the limit counts bytes, not characters.
        String euro85 = "€".repeat(85); // 3 bytes each: 255 bytes
        assertEquals(255, euro85.getBytes(StandardCharsets.UTF_8).length);
        long e = fs.create(ROOT, euro85, 0644, 0, 0);
        assertEquals(e, fs.lookup(ROOT, euro85));
        String tooLong = "€".repeat(85) + "a"; // 256 bytes, 86 characters
        assertErrno(Errno.ENAMETOOLONG, () -> fs.create(ROOT, tooLong, 0644, 0, 0));
        String emoji = "\uD83D\uDE00".repeat(63) + "abc"; // 4 bytes each: 252 + 3 = 255
        assertEquals(255, emoji.getBytes(StandardCharsets.UTF_8).length);
        long em = fs.create(ROOT, emoji, 0644, 0, 0);
        String emojiTooLong = "\uD83D\uDE00".repeat(64); // 256 bytes
        assertErrno(Errno.ENAMETOOLONG, () -> fs.create(ROOT, emojiTooLong, 0644, 0, 0));
        // 85 two-byte characters = 170 bytes (more than 255/4 characters, under 255 bytes).
        String twoByte = "é".repeat(85);
        long tb = fs.create(ROOT, twoByte, 0644, 0, 0);

        dev.remount();
        fs = dev.fs();
        assertEquals(f, fs.lookup(ROOT, max));
        assertEquals(e, fs.lookup(ROOT, euro85));
        assertEquals(em, fs.lookup(ROOT, emoji));
        assertEquals(tb, fs.lookup(ROOT, twoByte));
        assertTrue(names(ROOT).keySet().containsAll(List.of(max, euro85, emoji, twoByte)));
    }

    @Test
    void invalidNames() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        for (String bad : new String[] {"", ".", "..", "a/b", "/", "x/", "nul\0byte"}) {
            assertErrno(Errno.EINVAL, () -> fs.create(ROOT, bad, 0644, 0, 0));
            assertErrno(Errno.EINVAL, () -> fs.mkdir(ROOT, bad, 0755, 0, 0));
            assertErrno(Errno.EINVAL, () -> fs.symlink(ROOT, bad, "t", 0, 0));
            assertErrno(Errno.EINVAL, () -> fs.mknod(ROOT, bad, FileMode.S_IFIFO | 0644, 0, 0, 0));
            assertErrno(Errno.EINVAL, () -> fs.link(f, ROOT, bad));
            assertErrno(Errno.EINVAL, () -> fs.rename(ROOT, "f", ROOT, bad));
        }
        assertErrno(Errno.EINVAL, () -> fs.unlink(ROOT, "."));
        assertErrno(Errno.EINVAL, () -> fs.rmdir(ROOT, "."));
        assertNotEquals(Errno.EINVAL, assertThrows(FsException.class, () -> fs.rmdir(ROOT, "..")).errno());
        assertEquals(Set.of(".", "..", "f"), names(ROOT).keySet());
    }

    // ------------------------------------------------------------------ resolve

    @Test
    void resolvePaths() {
        long a = fs.mkdir(ROOT, "a", 0755, 0, 0);
        long b = fs.mkdir(a, "b", 0755, 0, 0);
        long c = fs.create(b, "c", 0644, 0, 0);
        long other = fs.mkdir(ROOT, "other", 0755, 0, 0);

        assertEquals(ROOT, fs.resolve("/"));
        assertEquals(ROOT, fs.resolve(""));
        assertEquals(a, fs.resolve("/a"));
        assertEquals(b, fs.resolve("/a/b"));
        assertEquals(c, fs.resolve("/a/b/c"));
        assertEquals(c, fs.resolve("//a///b/./c"));
        assertEquals(b, fs.resolve("/a/b/"));
        assertEquals(a, fs.resolve("/a/b/.."));
        assertEquals(ROOT, fs.resolve("/a/b/../.."));
        assertEquals(ROOT, fs.resolve("/.."), "'..' of the root is the root");
        assertEquals(ROOT, fs.resolve("/../../.."));
        assertEquals(other, fs.resolve("/a/b/../../other"));
        assertEquals(c, fs.resolve("/a/../a/b/c"));

        assertErrno(Errno.ENOENT, () -> fs.resolve("/a/x"));
        assertErrno(Errno.ENOENT, () -> fs.resolve("/nothing/b"));
        assertErrno(Errno.ENOTDIR, () -> fs.resolve("/a/b/c/d"));
        assertErrno(Errno.ENOTDIR, () -> fs.resolve("/a/b/c/.."));
        assertErrno(Errno.ENAMETOOLONG, () -> fs.resolve("/" + "x".repeat(256)));
    }
}
