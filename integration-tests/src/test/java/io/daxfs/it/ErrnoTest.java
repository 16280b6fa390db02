package io.daxfs.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.daxfs.it.Daxfs.python;
import static io.daxfs.it.Daxfs.pythonErrno;
import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.sh;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Error numbers as programs see them through the mount: the exception this JVM gets, the
 * errno a python3 process gets, and the exit status and message of shell tools.
 */
@MountedDaxfs
class ErrnoTest {
    private DaxfsMount m;
    @TestDirectory
    private Path d;

    /** Runs a shell command expected to fail; returns its stderr. */
    static String shFails(String command) {
        return sh(command).expectFailure().err();
    }

    private static void assertContains(String haystack, String needle) {
        assertTrue(haystack.contains(needle), "expected \"" + needle + "\" in: " + haystack);
    }

    @Test
    void enoent() throws IOException {
        Path missing = d.resolve("missing");
        assertThrows(NoSuchFileException.class, () -> Files.newInputStream(missing));
        assertThrows(NoSuchFileException.class, () -> Files.delete(missing));
        assertThrows(NoSuchFileException.class, () -> Files.createFile(d.resolve("no-dir/f")));
        assertContains(shFails("cat " + q(missing)), "No such file or directory");
        assertEquals("ENOENT", pythonErrno("os.open(sys.argv[1], os.O_RDONLY)", missing));
        assertEquals("ENOENT", pythonErrno("os.rename(sys.argv[1], sys.argv[1] + '2')", missing));
        assertEquals("ENOENT", pythonErrno("os.readlink(sys.argv[1])", missing));
        assertEquals("ENOENT", pythonErrno("os.chmod(sys.argv[1], 0o600)", missing));
    }

    @Test
    void eexist() throws IOException {
        Path dir = Files.createDirectory(d.resolve("dir"));
        Path file = Files.writeString(d.resolve("file"), "x");
        assertContains(shFails("mkdir " + q(dir)), "File exists");
        assertThrows(FileAlreadyExistsException.class, () -> Files.createDirectory(dir));
        assertThrows(FileAlreadyExistsException.class, () -> Files.createFile(file)); // O_CREAT|O_EXCL
        assertEquals("EEXIST", pythonErrno("os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY)", file));
        assertEquals("EEXIST", pythonErrno("os.mkdir(sys.argv[1])", file));
        assertEquals("EEXIST", pythonErrno("os.symlink('x', sys.argv[1])", file));
        assertEquals("EEXIST", pythonErrno("os.link(sys.argv[1], sys.argv[2])", file, dir));
        assertEquals("EEXIST", pythonErrno("os.mknod(sys.argv[1])", file));
        assertEquals("x", Files.readString(file), "the existing file is untouched");
    }

    @Test
    void enotempty() throws IOException {
        Path full = Files.createDirectory(d.resolve("full"));
        Files.writeString(full.resolve("inside"), "x");
        Path empty = Files.createDirectory(d.resolve("empty"));
        assertContains(shFails("rmdir " + q(full)), "Directory not empty");
        assertThrows(DirectoryNotEmptyException.class, () -> Files.delete(full));
        assertEquals("ENOTEMPTY", pythonErrno("os.rmdir(sys.argv[1])", full));
        assertEquals("ENOTEMPTY", pythonErrno("os.rename(sys.argv[1], sys.argv[2])", empty, full));
        assertEquals("x", Files.readString(full.resolve("inside")));
    }

    @Test
    void enotdir() throws IOException {
        Path file = Files.writeString(d.resolve("file"), "x");
        Path dir = Files.createDirectory(d.resolve("dir"));
        assertContains(shFails("cat " + q(file.resolve("x"))), "Not a directory");
        FileSystemException e = assertThrows(FileSystemException.class, () -> Files.createFile(file.resolve("x")));
        assertEquals("Not a directory", e.getReason());
        assertContains(shFails("rmdir " + q(file)), "Not a directory");
        assertEquals("ENOTDIR", pythonErrno("os.listdir(sys.argv[1])", file));
        assertEquals("ENOTDIR", pythonErrno("os.rename(sys.argv[1], sys.argv[2])", dir, file));
        assertEquals("ENOTDIR", pythonErrno("os.mkdir(sys.argv[1] + '/sub')", file));
    }

    @Test
    void eisdir() throws IOException {
        Path dir = Files.createDirectory(d.resolve("dir"));
        Path file = Files.writeString(d.resolve("file"), "x");
        assertContains(shFails("echo x > " + q(dir)), "Is a directory");
        FileSystemException e = assertThrows(FileSystemException.class, () -> Files.newOutputStream(dir));
        assertEquals("Is a directory", e.getReason());
        // rm without -r calls unlink(2) on the directory.
        String rm = shFails("rm " + q(dir));
        assertContains(rm, "cannot remove");
        assertContains(rm, "Is a directory");
        assertEquals("EISDIR", pythonErrno("os.unlink(sys.argv[1])", dir));
        assertEquals("EISDIR", pythonErrno("os.open(sys.argv[1], os.O_RDWR)", dir));
        assertEquals("EISDIR", pythonErrno("os.rename(sys.argv[1], sys.argv[2])", file, dir));
        assertTrue(Files.isDirectory(dir));
    }

    @Test
    void enametoolong() throws IOException {
        String name255 = "a".repeat(255);
        String name256 = "b".repeat(256);
        shOk("touch " + q(d.resolve(name255)) + " && mkdir " + q(d.resolve("d" + "a".repeat(254))));
        assertTrue(Files.exists(d.resolve(name255)));
        assertContains(shFails("touch " + q(d.resolve(name256))), "File name too long");
        assertContains(shFails("mkdir " + q(d.resolve(name256))), "File name too long");
        FileSystemException e = assertThrows(FileSystemException.class, () -> Files.createFile(d.resolve(name256)));
        assertEquals("File name too long", e.getReason());
        assertEquals("ENAMETOOLONG", pythonErrno("os.stat(sys.argv[1])", d.resolve(name256)));
        assertEquals("ENAMETOOLONG", pythonErrno("os.rename(sys.argv[1], sys.argv[2])", d.resolve(name255),
                d.resolve(name256)));
        // The limit is in bytes: 127 two-byte characters plus one byte is 255 bytes.
        String utf255 = "é".repeat(127) + "x";
        String utf256 = "é".repeat(128);
        assertEquals(255, utf255.getBytes(StandardCharsets.UTF_8).length);
        Files.writeString(d.resolve(utf255), "u");
        assertEquals("u", Files.readString(d.resolve(utf255)));
        assertThrows(FileSystemException.class, () -> Files.createFile(d.resolve(utf256)));
        try (Stream<Path> s = Files.list(d)) {
            assertEquals(3, s.count(), "only the three names that fit exist");
        }
    }

    /**
     * Linux passes truncate(2) sizes up to 2^63-1 through FUSE unchanged (the kernel's limit
     * for a FUSE file is 2^63-1), so the limit comes from daxfs: its largest file is 2^63-4096
     * bytes (a whole number of blocks), and anything larger fails with EFBIG ("File too large").
     */
    @Test
    void efbig() throws IOException {
        Path f = Files.createFile(d.resolve("f"));
        String truncate = shFails("truncate -s 9223372036854775807 " + q(f));
        assertContains(truncate, "File too large");
        assertEquals("EFBIG", pythonErrno("os.truncate(sys.argv[1], 2**63 - 1)", f));
        assertEquals("EFBIG", pythonErrno("os.truncate(sys.argv[1], 2**63 - 4095)", f));
        assertEquals("EFBIG", pythonErrno("fd = os.open(sys.argv[1], os.O_WRONLY)\nos.pwrite(fd, b'x', 2**63 - 4096)", f));
        assertEquals(0, Files.size(f), "failed calls change nothing");
        assertEquals("OK", pythonErrno("os.truncate(sys.argv[1], 2**63 - 4096)", f), "the largest size works");
        assertEquals(Long.MAX_VALUE - 4095, Files.size(f));
        assertEquals("OK", pythonErrno("os.truncate(sys.argv[1], 0)", f));
    }

    @Test
    void einvalForMovingADirectoryIntoItself() throws IOException {
        Path a = Files.createDirectories(d.resolve("a/b"));
        assertEquals("EINVAL", pythonErrno("os.rename(sys.argv[1], sys.argv[1] + '/b/c')", a.getParent()));
        assertTrue(Files.isDirectory(a));
    }

    /** The kernel itself rejects '/' in a name; every other byte but NUL is a valid name. */
    @Test
    void namesWithANewlineAndUnicodeWork() throws IOException {
        List<String> names = List.of("line\nbreak", "tab\there", "space name", "日本語のファイル", "emoji-😀",
                "ü-é-ß", "-dash", "'quote\"", "back\\slash");
        for (String n : names) {
            Files.writeString(d.resolve(n), "content of " + n);
        }
        try (Stream<Path> s = Files.list(d)) {
            assertEquals(new TreeSet<>(names), s.map(p -> p.getFileName().toString())
                    .collect(Collectors.toCollection(TreeSet::new)));
        }
        for (String n : names) {
            assertEquals("content of " + n, Files.readString(d.resolve(n)));
        }
        // Another process sees the same bytes (python prints the names' repr, sorted).
        String listed = python("import os,sys; print(sorted(os.listdir(sys.argv[1])))", d).strip();
        String expected = python("import sys; print(sorted(sys.argv[1:]))", names.toArray()).strip();
        assertEquals(expected, listed);
        Files.move(d.resolve("line\nbreak"), d.resolve("日本語\nrenamed"));
        assertEquals("content of line\nbreak", Files.readString(d.resolve("日本語\nrenamed")));
        Files.delete(d.resolve("日本語\nrenamed"));
        assertFalse(Files.exists(d.resolve("日本語\nrenamed")));
    }

    /**
     * ENOSPC on a small (32 MiB) image: dd runs until "No space left on device"; deleting the
     * file gives all the space back; inodes run out the same way.
     */
    @Test
    void enospcOnASmallImageAndTheSpaceComesBack() throws IOException {
        try (DaxfsMount small = DaxfsMount.mounted("32M", "--inodes", "32")) {
            // A file that stays: the root directory's entry block is allocated before and after.
            Files.createFile(small.path("keep"));
            Path fill = small.path("fill");
            long[] before = statfs(small.mnt);
            Daxfs.Result dd = sh("dd if=/dev/zero of=" + q(fill) + " bs=1M");
            assertEquals(1, dd.exit(), "dd until the disk is full: " + dd);
            assertContains(dd.err(), "No space left on device");
            long written = Files.size(fill);
            assertTrue(written > 20L << 20 && written < 32L << 20, "dd wrote " + written + " bytes");
            long[] full = statfs(small.mnt);
            assertTrue(full[1] < 256, "almost no free block left: " + Arrays.toString(full));
            assertTrue(full[1] * 4096 + written >= before[1] * 4096 - (1 << 20),
                    "the free space went into the file: before " + before[1] + " blocks, after " + full[1]
                            + ", file " + written + " bytes");
            assertEquals("ENOSPC", pythonErrno("f = open(sys.argv[1], 'ab')\nf.write(b'y' * (1 << 20))\nf.close()",
                    small.path("more")));
            Files.delete(fill);
            Files.deleteIfExists(small.path("more"));
            assertEquals(before[1], statfs(small.mnt)[1], "every block is free again after the delete");
            String df = shOk("df -B4096 --output=avail " + q(small.mnt)).lines().skip(1).findFirst().orElseThrow().strip();
            assertEquals(String.valueOf(before[1]), df, "df shows the space back");
            Files.write(small.path("after"), new byte[1 << 20]);

            // Inodes: create files until the table is full.
            long freeInodes = statfs(small.mnt)[2];
            String created = python("import os,sys,errno\n"
                    + "n=0\n"
                    + "while True:\n"
                    + "    try: os.close(os.open(os.path.join(sys.argv[1], \"i%d\" % n), os.O_CREAT|os.O_WRONLY))\n"
                    + "    except OSError as e: print(n, errno.errorcode[e.errno]); break\n"
                    + "    n += 1\n", small.mnt).strip();
            assertEquals(freeInodes + " ENOSPC", created, "files created until the inodes ran out");
            Files.delete(small.path("i0"));
            Files.createFile(small.path("again"));
            small.umount();
            small.fsckClean();
        }
    }

    /** bsize, free blocks, free inodes: `stat -f`. */
    private static long[] statfs(Path mnt) {
        return Arrays.stream(shOk("stat -f -c '%S %f %d' " + q(mnt)).strip().split(" ")).mapToLong(Long::parseLong)
                .toArray();
    }
}
