package io.daxfs.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.random;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What is written survives: a clean unmount and mount, and a SIGKILL of the daemon
 * (followed by fusermount -u, fsck and mount) - every completed operation and every fsync'd
 * byte is there afterwards, and fsck finds the image clean.
 */
@MountedDaxfs
class PersistenceTest {
    /** One image for the class (mounts are the slow part); each test works in its own directory. */
    private DaxfsMount m;
    @TestDirectory
    private Path d;

    /**
     * A tree of every kind of object: directories (nested, empty, 200 entries), files of many
     * sizes with random content and various modes and owners, a sparse file, symlinks, a hard
     * link, a FIFO, a name in Unicode, a fixed mtime.
     */
    static void buildTree(Path root, long seed) throws IOException {
        Files.createDirectories(root.resolve("a/b/c"));
        Files.createDirectories(root.resolve("empty"));
        Files.createDirectories(root.resolve("x"));
        int[] sizes = {0, 1, 100, 4095, 4096, 4097, 65537, (1 << 20) + 3, 5 << 20};
        for (int i = 0; i < sizes.length; i++) {
            Path dir = root.resolve(i % 3 == 0 ? "." : i % 3 == 1 ? "a" : "a/b/c");
            Files.write(dir.resolve("file-" + sizes[i]), random(seed + i, sizes[i]));
        }
        Path many = Files.createDirectory(root.resolve("many"));
        for (int i = 0; i < 200; i++) {
            Files.write(many.resolve("small-" + i), random(seed * 1000 + i, i * 37));
        }
        shOk("cd " + q(root) + " && chmod 600 file-0 && chmod 755 a/file-1 && chmod 640 a/b/c/file-100"
                + " && chmod 700 a/b && chown 1000:1000 a/b/c/file-4097 && chmod 1777 x"
                + " && touch -d '2001-02-03 04:05:06.5 UTC' file-4095");
        try (FileChannel ch = FileChannel.open(root.resolve("sparse"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(random(seed - 1, 5000)), 3L << 20);
        }
        Files.createSymbolicLink(root.resolve("rel-link"), Path.of("a/file-1"));
        Files.createSymbolicLink(root.resolve("abs-link"), Path.of("/etc/hostname"));
        Files.createLink(root.resolve("a/hard"), root.resolve("file-65537"));
        // The other name's cached attributes predate the link: chmod refreshes them (nlink 2).
        shOk("chmod 644 " + q(root.resolve("file-65537")));
        shOk("mkfifo " + q(root.resolve("x/fifo")));
        Files.writeString(root.resolve("ünïcødé ファイル"), "unicode");
    }

    /** statfs free blocks and free inodes. */
    static String space(Path mnt) {
        return shOk("stat -f -c '%f %d' " + q(mnt)).strip();
    }

    @Test
    void aTreeSurvivesUmountFsckAndMount() throws IOException {
        buildTree(d, 100);
        Map<String, TreeSnapshot.Entry> before = TreeSnapshot.of(d);
        assertTrue(before.size() > 220, "tree has " + before.size() + " entries");
        String space = space(m.mnt);

        m.umount();
        m.fsckClean();
        m.mount();

        TreeSnapshot.assertSame(before, TreeSnapshot.of(d), "after umount, fsck, mount");
        assertEquals(space, space(m.mnt), "free blocks and inodes");
        // The remounted file system takes changes.
        Files.write(d.resolve("a/after-remount"), random(5, 12345));
        Files.delete(d.resolve("a/file-1"));
        assertEquals(12345, Files.size(d.resolve("a/after-remount")));
    }

    /**
     * SIGKILL of the daemon after completed operations - files written and closed, renames,
     * unlinks, mkdir, rmdir, truncate, chmod - and with a file still open whose data was
     * fsync'd: all of it is there after fusermount -u, fsck (clean) and mount.
     */
    @Test
    void completedOperationsAndFsyncedDataSurviveKill9() throws IOException {
        Path r = d;
        buildTree(r, 200);
        Files.move(r.resolve("a/b/c"), r.resolve("x/c-moved")); // directory across directories
        Files.move(r.resolve("a/file-4096"), r.resolve("renamed-4096"));
        Files.write(r.resolve("replacement"), random(7, 7777));
        Files.move(r.resolve("replacement"), r.resolve("a/file-1"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.delete(r.resolve("a/hard")); // one name of the hard link
        // Through libfuse 2's path-based API each name of a hard-linked file is its own kernel
        // inode, so the other name's cached nlink stays 2 until its attributes time out (1 s):
        // chmod refreshes them.
        shOk("chmod 644 " + q(r.resolve("file-65537")));
        for (int i = 0; i < 200; i += 2) {
            Files.delete(r.resolve("many/small-" + i));
        }
        Files.delete(r.resolve("empty"));
        Files.createDirectories(r.resolve("new/dir/tree"));
        Files.write(r.resolve("new/dir/tree/leaf"), random(8, 300000));
        shOk("cd " + q(r) + " && truncate -s 1000 x/c-moved/file-5242880 && chmod 711 new && mv many many-renamed"
                + " && cp renamed-4096 new/copied && echo appended >> x/c-moved/file-100");

        List<FileChannel> open = new ArrayList<>();
        try {
            // Still open at the kill, data fsync'd: must all be there.
            FileChannel synced = FileChannel.open(r.resolve("fsynced-open"), StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE);
            open.add(synced);
            synced.write(ByteBuffer.wrap(random(9, (3 << 20) + 5)));
            synced.force(true);
            FileChannel appended = FileChannel.open(r.resolve("a/file-1048579"), StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
            open.add(appended);
            appended.write(ByteBuffer.wrap(random(10, 9000)));
            appended.force(false);

            Map<String, TreeSnapshot.Entry> before = TreeSnapshot.of(r);
            assertFalse(before.containsKey("a/b/c"));
            assertTrue(before.containsKey("x/c-moved/file-100"));
            String space = space(m.mnt);

            m.killDaemon();
            for (FileChannel ch : open) {
                closeQuietly(ch); // the connection is gone: close may report ENOTCONN
            }
            open.clear();
            m.fusermountU();
            m.fsckClean();
            m.mount();

            TreeSnapshot.assertSame(before, TreeSnapshot.of(r), "after SIGKILL, fusermount -u, fsck, mount");
            assertEquals(space, space(m.mnt), "free blocks and inodes are the same as before the kill");
        } finally {
            for (FileChannel ch : open) {
                closeQuietly(ch);
            }
        }
        // The file system keeps working after the crash recovery.
        Files.write(r.resolve("after-crash"), random(11, 100000));
        assertEquals(100000, Files.size(r.resolve("after-crash")));
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException expected) {
            // ENOTCONN from a dead mount
        }
    }

    /**
     * st_ino is the file's identity: it must not change when the file system is mounted again,
     * whatever order the files are looked up in.
     */
    @Test
    void inodeNumbersSurviveRemount() throws IOException {
        List<String> names = List.of("first", "second", "third", "dir");
        for (String n : names) {
            if (n.equals("dir")) {
                Files.createDirectory(d.resolve(n));
            } else {
                Files.writeString(d.resolve(n), n);
            }
        }
        List<String> before = inodes(d, names);
        m.remount();
        List<String> after = inodes(d, names.reversed()).reversed(); // looked up in the opposite order
        assertEquals(before, after, "st_ino of " + names + " before and after remount");
    }

    private static List<String> inodes(Path dir, List<String> names) {
        StringBuilder cmd = new StringBuilder("cd " + q(dir));
        for (String n : names) {
            cmd.append(" && stat -c %i ").append(q(n));
        }
        return shOk(cmd.toString()).strip().lines().toList();
    }
}
