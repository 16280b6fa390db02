package io.daxfs.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.sha256;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Bad input to the daxfs commands: each fails with a nonzero exit status and a message on
 * stderr that names the problem, and changes nothing (the target's SHA-256 is the same
 * before and after; nothing gets mounted; no file gets created).
 *
 * <p>The tests that need a live mount share one (mounted once for the class); the others get
 * a fresh directory each.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@MountedDaxfs
class BadInputTest {
    private DaxfsMount shared;
    private final List<DaxfsMount> perTest = new ArrayList<>();

    @BeforeAll
    void markShared() throws IOException {
        Files.writeString(shared.path("marker"), "the shared daxfs");
    }

    @AfterEach
    void cleanUp() {
        try {
            for (DaxfsMount m : perTest) {
                m.close();
            }
        } finally {
            perTest.clear();
        }
    }

    private DaxfsMount fresh() {
        DaxfsMount m = DaxfsMount.empty();
        perTest.add(m);
        return m;
    }

    /** Nonzero exit, and stderr mentions every one of {@code words} (case-insensitive). */
    private static void assertFailsSaying(Daxfs.Result r, String... words) {
        assertNotEquals(0, r.exit(), "should have failed: " + r);
        String err = r.err().toLowerCase(Locale.ROOT);
        for (String w : words) {
            assertTrue(err.contains(w.toLowerCase(Locale.ROOT)), "stderr should mention \"" + w + "\": " + r);
        }
    }

    private static void assertNotMounted(Path dir) {
        assertTrue(DaxfsMount.mountType(dir).isEmpty(), dir + " must not be mounted");
    }

    private static Path sparseFile(Path p, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }

    @Test
    void mountOfAMissingImage() {
        DaxfsMount m = fresh();
        Path missing = m.dir.resolve("missing.img");
        assertFailsSaying(m.tryMount(missing, m.mnt), missing.toString(), "does not exist");
        assertNotMounted(m.mnt);
        assertFalse(Files.exists(missing), "mount must not create the image");
    }

    @Test
    void mkfsWithoutSizeOfAMissingImage() {
        DaxfsMount m = fresh();
        Path missing = m.dir.resolve("new.img");
        assertFailsSaying(Daxfs.daxfs("mkfs", missing.toString()), missing.toString(), "does not exist", "--size");
        assertFalse(Files.exists(missing));
    }

    @Test
    void mkfsOfATooSmallImageStatesTheMinimum() throws IOException {
        DaxfsMount m = fresh();
        Path small = sparseFile(m.dir.resolve("8m.img"), 8L << 20);
        String sha = sha256(small);
        assertFailsSaying(Daxfs.daxfs("mkfs", small.toString()), small.toString(), "16 MiB");
        assertEquals(sha, sha256(small));
        assertEquals(8L << 20, Files.size(small));
        Path notCreated = m.dir.resolve("new.img");
        assertFailsSaying(Daxfs.daxfs("mkfs", notCreated.toString(), "--size", "8M"), "16 MiB");
        assertFalse(Files.exists(notCreated));
    }

    @Test
    void mkfsInodeCountOutOfRangeIsRefusedBeforeCreatingTheImage() {
        DaxfsMount m = fresh();
        Path notCreated = m.dir.resolve("new.img");
        assertFailsSaying(Daxfs.daxfs("mkfs", notCreated.toString(), "--size", "64M", "--inodes", "0"), "at least 1");
        assertFailsSaying(Daxfs.daxfs("mkfs", notCreated.toString(), "--size", "64M", "--inodes", "1000000"),
                "fewer inodes");
        assertFailsSaying(Daxfs.daxfs("mkfs", notCreated.toString(), "--size", "64M", "--inodes", "9999999999"),
                "out of range");
        assertFalse(Files.exists(notCreated));
        String out = Daxfs.daxfs("mkfs", notCreated.toString(), "--size", "64M", "--inodes", "1001").expectSuccess().out();
        assertTrue(out.contains(" 1008 inodes"), "rounded up to a multiple of 16: " + out);
    }

    @Test
    void misalignedImageSize() throws IOException {
        DaxfsMount m = fresh();
        Path odd = sparseFile(m.dir.resolve("odd.img"), (16L << 20) + 1);
        String sha = sha256(odd);
        assertFailsSaying(Daxfs.daxfs("mkfs", odd.toString()), odd.toString(), "multiple", "4096 bytes");
        assertFailsSaying(m.tryMount(odd, m.mnt), odd.toString());
        assertEquals(sha, sha256(odd));
        assertEquals((16L << 20) + 1, Files.size(odd));
        assertNotMounted(m.mnt);
        Path notCreated = m.dir.resolve("new.img");
        assertFailsSaying(Daxfs.daxfs("mkfs", notCreated.toString(), "--size", "16777217"), "multiple");
        assertFalse(Files.exists(notCreated));
    }

    @Test
    void mountOfAForeignFileOfRandomBytes() throws IOException {
        DaxfsMount m = fresh();
        Path foreign = Files.write(m.dir.resolve("random.bin"), Daxfs.random(42, 16 << 20));
        String sha = sha256(foreign);
        assertFailsSaying(m.tryMount(foreign, m.mnt), foreign.toString(), "no daxfs superblock");
        assertNotMounted(m.mnt);
        Daxfs.Result fsck = Daxfs.daxfs("fsck", foreign.toString());
        assertEquals(8, fsck.exit(), "fsck could not check: " + fsck);
        assertEquals(sha, sha256(foreign));
    }

    @Test
    void mountOfAZeroFilledFile() throws IOException {
        DaxfsMount m = fresh();
        Path zeros = sparseFile(m.dir.resolve("zeros.img"), 32L << 20);
        String sha = sha256(zeros);
        assertFailsSaying(m.tryMount(zeros, m.mnt), zeros.toString(), "no daxfs superblock");
        assertNotMounted(m.mnt);
        assertEquals(sha, sha256(zeros));
    }

    private static int byteAt(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            f.seek(offset);
            return f.read();
        }
    }

    private static void writeByte(Path file, long offset, int value) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            f.write(value);
        }
    }

    /**
     * A corrupt primary superblock: a read-write mount is refused (saying fsck -y rewrites it
     * from the backup copy at 4096), a read-only one works from the backup, and fsck -y
     * repairs it. With both copies corrupt, mount fails naming the problem and fsck cannot
     * check; the image is left alone.
     */
    @Test
    void corruptedSuperblock() throws IOException {
        DaxfsMount m = fresh();
        m.mkfs("64M");
        int good = byteAt(m.image, 100); // inside the geometry; the backup copy at 4096 is identical
        assertEquals(good, byteAt(m.image, 4096 + 100));

        writeByte(m.image, 100, good ^ 0xFF);
        String damaged = sha256(m.image);
        assertFailsSaying(m.tryMount(m.image, m.mnt), m.image.toString(), "primary superblock", "fsck -y");
        assertEquals(damaged, sha256(m.image));
        Daxfs.Result ro = m.tryMount(m.image, m.mnt, "ro"); // from the backup superblock
        assertTrue(ro.ok(), ro.toString());
        m.umount();
        assertEquals(damaged, sha256(m.image), "a read-only mount writes nothing");
        assertEquals(1, Daxfs.daxfs("fsck", "-y", m.image.toString()).exit());
        m.mount();
        Files.writeString(m.path("works"), "yes");
        assertEquals("yes", Files.readString(m.path("works")));
        m.umount();

        writeByte(m.image, 100, good ^ 0xFF); // both copies corrupt now
        writeByte(m.image, 4096 + 100, good ^ 0xFF);
        String sha = sha256(m.image);
        assertFailsSaying(m.tryMount(m.image, m.mnt), m.image.toString(), "superblock");
        assertNotMounted(m.mnt);
        Daxfs.Result fsck = m.fsck();
        assertEquals(8, fsck.exit(), "fsck cannot check without a superblock: " + fsck);
        assertTrue(fsck.err().contains("superblock"), fsck.toString());
        assertEquals(sha, sha256(m.image));
    }

    @Test
    void mkfsOfAnExistingDaxfsWithoutForce() throws IOException {
        DaxfsMount m = fresh();
        m.mkfs("32M");
        String sha = sha256(m.image);
        assertFailsSaying(Daxfs.daxfs("mkfs", m.image.toString()), m.image.toString(), "already holds a daxfs",
                "--force");
        assertEquals(sha, sha256(m.image));
        Daxfs.daxfs("mkfs", m.image.toString(), "--force").expectSuccess();
        assertNotEquals(sha, sha256(m.image), "--force makes a new file system (new uuid)");
    }

    /**
     * --size over an existing image of another size resizes it (issue 14: it was silently
     * ignored, `mkfs IMG --size 256M --force` over a 64 MiB image made a 64 MiB daxfs), after
     * the usual refusals: a daxfs on it without --force, or the image in use.
     */
    @Test
    void mkfsSizeOverAnExistingImageResizesIt() throws IOException {
        DaxfsMount m = fresh();
        m.mkfs("64M");
        String sha = sha256(m.image);
        assertFailsSaying(Daxfs.daxfs("mkfs", m.image.toString(), "--size", "256M"), "already holds a daxfs", "--force");
        assertEquals(sha, sha256(m.image));
        assertEquals(64L << 20, Files.size(m.image), "not resized without --force");
        String out = Daxfs.daxfs("mkfs", m.image.toString(), "--size", "256M", "--force").expectSuccess().out();
        assertTrue(out.contains("resized") && out.contains("(256 MiB)"), out);
        assertEquals(256L << 20, Files.size(m.image));
        out = Daxfs.daxfs("mkfs", m.image.toString(), "--size", "32M", "--force").expectSuccess().out();
        assertTrue(out.contains("(32 MiB)"), out);
        assertEquals(32L << 20, Files.size(m.image), "shrunk too");
        m.mount();
        long bytes = Long.parseLong(Daxfs.shOk("stat -f -c %b " + q(m.mnt)).strip()) * 4096;
        assertTrue(bytes > (16L << 20) && bytes <= (32L << 20), "a 32 MiB file system: " + bytes);
        m.umount();

        Path plain = sparseFile(m.dir.resolve("plain.img"), 8L << 20); // no daxfs: no --force needed
        Daxfs.daxfs("mkfs", plain.toString(), "--size", "48M").expectSuccess();
        assertEquals(48L << 20, Files.size(plain));

        assertFailsSaying(Daxfs.daxfs("mkfs", shared.image.toString(), "--size", "512M", "--force"), "is mounted on",
                "nothing was written");
        assertEquals("the shared daxfs", Files.readString(shared.path("marker")), "the mounted image is untouched");
        assertNotEquals(512L << 20, Files.size(shared.image));
    }

    @Test
    void mountOfAnImageAlreadyMountedElsewhere() throws IOException {
        Path other = Files.createDirectory(shared.dir.resolve("other-mnt"));
        try {
            assertFailsSaying(shared.tryMount(shared.image, other), shared.image.toString(), "in use");
            assertNotMounted(other);
            assertEquals("the shared daxfs", Files.readString(shared.path("marker")), "the first mount still works");
        } finally {
            Files.deleteIfExists(other);
        }
    }

    @Test
    void mountOnABusyMountPoint() throws IOException {
        DaxfsMount m = fresh();
        m.mkfs("32M");
        String sha = sha256(m.image);
        assertFailsSaying(m.tryMount(m.image, shared.mnt), shared.mnt.toString(), "busy");
        assertEquals("fuse.daxfs", DaxfsMount.mountType(shared.mnt).orElseThrow());
        assertEquals("the shared daxfs", Files.readString(shared.path("marker")), "the existing mount is untouched");
        assertEquals(sha, sha256(m.image));
    }

    @Test
    void mountOnAMissingDirectory() {
        Path nowhere = shared.dir.resolve("no-such-dir");
        assertFailsSaying(shared.tryMount(shared.image, nowhere), nowhere.toString(), "does not exist");
        assertFalse(Files.exists(nowhere));
    }

    @Test
    void fsckOfAMountedImageCannotCheck() {
        Daxfs.Result r = shared.fsck();
        assertEquals(8, r.exit(), r.toString());
        assertTrue(r.err().contains("in use"), r.toString());
    }

    /**
     * `daxfs mount` as user nobody on an image only root may read: refused with "permission
     * denied", nothing mounted, image unchanged. The jar is copied to a world-readable place
     * (the source tree may not be readable by nobody).
     */
    @Test
    void mountAsAnUnprivilegedUserOfAnImageOnlyRootCanRead() throws IOException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv is not installed");
        assumeTrue(Daxfs.sh("setpriv --reuid=nobody --regid=nogroup --clear-groups true").ok(),
                "cannot switch to user nobody with setpriv");
        assumeTrue(Daxfs.sh("setpriv --reuid=nobody --regid=nogroup --clear-groups test -x " + q(Daxfs.java())).ok(),
                "user nobody cannot run " + Daxfs.java());
        DaxfsMount m = fresh();
        m.mkfs("32M");
        Files.setPosixFilePermissions(m.image, PosixFilePermissions.fromString("rw-------"));
        Path jar = Files.copy(Daxfs.jar(), m.dir.resolve("daxfs.jar"), StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        String sha = sha256(m.image);
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"));
        cmd.addAll(Daxfs.daxfsCommand(jar, "mount", m.image.toString(), m.mnt.toString(), "--log",
                m.dir.resolve("nobody.log").toString()));
        Daxfs.Result r = Daxfs.exec(cmd);
        assertFailsSaying(r, "permission denied", m.image.toString());
        assertNotMounted(m.mnt);
        assertEquals(sha, sha256(m.image));
    }
}
