package io.daxfs.it;

import io.daxfs.core.HostileImages;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.Map;

import static io.daxfs.it.Daxfs.sha256;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The hostile-image suite through the real commands (fs-core's HostileImageTest does the same
 * in-process): an image with a known tree, written through a mount (the daemon is killed
 * while a file it unlinked is still open, so the image also holds an orphan), then each kind
 * of damage ({@code HostileImages.all()}) to a copy of it:
 * <ul>
 * <li>{@code daxfs mount} fails with one "daxfs mount:" line and leaves the image as it was;</li>
 * <li>{@code daxfs mount -o ro} leaves the image as it was and either mounts, says on one
 *     "daxfs mount: note:" line each what it went past and serves every file the damage did
 *     not touch, or fails with one "daxfs mount:" line;</li>
 * <li>{@code daxfs fsck} exits 4 (8 where nothing can be repaired: a foreign file, a truncated
 *     image, a newer format, both superblocks - and then -y writes nothing either);</li>
 * <li>{@code daxfs fsck -y} exits 1 and prints what it fixed, a second {@code daxfs fsck}
 *     exits 0, the image mounts read-write, every file the damage did not touch reads back
 *     byte for byte, a new file can be written, and fsck is still clean after the unmount.</li>
 * </ul>
 * Every step runs for every kind of damage. The front end plays no part in any of this: the
 * class runs with the kernel front end only.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DamagedImageTest {
    private DaxfsMount source;
    private Path built;

    @BeforeAll
    void buildTheTree() throws IOException {
        assumeTrue(DaxfsMount.kernelFrontend(), "the front end plays no part: run with the kernel front end only");
        source = DaxfsMount.mounted(HostileImages.SIZE / (1 << 20) + "M");
        for (String d : new String[] {"a", "a/b", "c", "big"}) {
            Files.createDirectory(source.path(d));
        }
        for (var e : HostileImages.tree().entrySet()) {
            Path p = source.path(e.getKey().substring(1));
            if (e.getKey().equals("/frag")) {
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    for (int i = 0; i < 300; i++) {
                        long at = 2L * i * 4096;
                        ch.write(ByteBuffer.wrap(e.getValue(), (int) at, 4096), at);
                    }
                }
            } else {
                Files.write(p, e.getValue());
            }
        }
        Files.createSymbolicLink(source.path(HostileImages.LINK.substring(1)), Path.of(HostileImages.LINK_TARGET));
        UserDefinedFileAttributeView x = Files.getFileAttributeView(source.path("x"), UserDefinedFileAttributeView.class);
        for (var a : HostileImages.XATTRS.entrySet()) {
            x.write(a.getKey().substring("user.".length()), ByteBuffer.wrap(a.getValue()));
        }
        // An orphan: unlinked while open, and the daemon dies before the last close.
        RandomAccessFile open = new RandomAccessFile(source.path("orphan").toFile(), "rw");
        open.write(new byte[3 * 4096]);
        Files.delete(source.path("orphan"));
        source.killDaemon();
        try {
            open.close();
        } catch (IOException e) {
            // the daemon is gone: the kernel says so
        }
        source.fusermountU();
        source.fsckClean();
        built = source.dir.resolve("built.img");
        Files.copy(source.image, built);
    }

    @AfterAll
    void closeSource() {
        if (source != null) {
            source.close();
        }
    }

    static HostileImages.Damage[] cases() {
        return HostileImages.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    @Timeout(240)
    void damageIsRefusedAndRepaired(HostileImages.Damage damage) throws IOException {
        try (DaxfsMount m = DaxfsMount.empty()) {
            Files.copy(built, m.image, StandardCopyOption.REPLACE_EXISTING);
            damage.harm().accept(HostileImages.target(m.image));
            String sha = sha256(m.image);

            Daxfs.Result rw = m.tryMount(m.image, m.mnt);
            assertFalse(rw.ok(), "a read-write mount of the damaged image: " + rw);
            assertEquals(1, rw.err().strip().lines().count(), "one line: " + rw);
            assertTrue(rw.err().startsWith("daxfs mount: "), rw.toString());
            assertTrue(DaxfsMount.mountType(m.mnt).isEmpty(), "nothing mounted");
            assertEquals(sha, sha256(m.image), "a refused mount wrote to the image");

            Daxfs.Result ro = m.tryMount(m.image, m.mnt, "ro");
            if (ro.ok()) {
                assertTrue(ro.err().contains("daxfs mount: note: "), "a read-only mount says what it went past: " + ro);
                assertUntouched(m, damage);
                m.umount();
            } else {
                assertEquals(1, ro.err().strip().lines().count(), "one line: " + ro);
                assertTrue(ro.err().startsWith("daxfs mount: "), ro.toString());
                assertTrue(DaxfsMount.mountType(m.mnt).isEmpty(), "nothing mounted");
            }
            assertEquals(sha, sha256(m.image), "a read-only mount wrote to the image");

            Daxfs.Result check = m.fsck();
            assertEquals(damage.repairable() ? 4 : 8, check.exit(), check.toString());
            Daxfs.Result repair = Daxfs.daxfs("fsck", "-y", m.image.toString());
            if (!damage.repairable()) {
                assertEquals(8, repair.exit(), repair.toString());
                assertEquals(sha, sha256(m.image), "fsck -y wrote to an image it cannot repair");
                return;
            }
            assertEquals(1, repair.exit(), repair.toString());
            assertTrue(repair.out().contains("fixed: "), repair.toString());
            m.fsckClean();
            m.mount();
            assertUntouched(m, damage);
            Files.writeString(m.path("after-repair"), "works");
            m.umount();
            m.fsckClean();
        }
    }

    private static void assertUntouched(DaxfsMount m, HostileImages.Damage damage) throws IOException {
        for (Map.Entry<String, byte[]> e : HostileImages.tree().entrySet()) {
            if (!damage.touched().contains(e.getKey())) {
                assertArrayEquals(e.getValue(), Files.readAllBytes(m.path(e.getKey().substring(1))),
                        e.getKey() + " after " + damage);
            }
        }
        if (!damage.touched().contains(HostileImages.LINK)) {
            assertEquals(HostileImages.LINK_TARGET,
                    Files.readSymbolicLink(m.path(HostileImages.LINK.substring(1))).toString());
        }
        if (!damage.touched().contains("/x")) {
            UserDefinedFileAttributeView x = Files.getFileAttributeView(m.path("x"), UserDefinedFileAttributeView.class);
            for (var a : HostileImages.XATTRS.entrySet()) {
                ByteBuffer b = ByteBuffer.allocate(a.getValue().length);
                x.read(a.getKey().substring("user.".length()), b);
                assertArrayEquals(a.getValue(), b.array(), a.getKey());
            }
        }
    }
}
