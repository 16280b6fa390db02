package io.daxfs.core;

import io.daxfs.core.base.MountSettings;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The hostile-image suite, in-process (the integration test runs the same damage through the
 * real {@code daxfs} commands): for each kind of damage ({@link HostileImages#all}) to an image
 * holding a known tree, a read-write mount is refused with a one-line reason and writes
 * nothing; a read-only mount writes nothing and, if it mounts, reads every untouched file;
 * fsck reports the damage; fsck -y repairs it (exit 1), after which fsck is clean, the image
 * mounts read-write, and every file the damage did not touch reads back byte for byte.
 * Damage that leaves nothing to repair from (a foreign file, a truncated image, a newer
 * format, both superblocks) makes fsck exit 8 without writing.
 */
class HostileImageTest {
    @TempDir
    Path dir;

    static HostileImages.Damage[] cases() {
        return HostileImages.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    @Timeout(120)
    void damageIsRefusedAndRepaired(HostileImages.Damage damage) throws Exception {
        Path image = HostileImages.build(dir);
        HostileImages.Target target = HostileImages.target(image);
        damage.harm().accept(target);
        byte[] damaged = HostileImages.readFile(image);

        // A read-write mount is refused, with one line, and writes nothing.
        String reason = refusedReadWrite(image);
        System.out.println(damage.name() + ": daxfs mount: " + reason);
        assertFalse(reason.contains("\n"), "one line: " + reason);
        assertArrayEquals(damaged, HostileImages.readFile(image), "a refused mount wrote to the image");

        // A read-only mount writes nothing; if it mounts, every untouched file reads.
        readOnly(image, damage);
        assertArrayEquals(damaged, HostileImages.readFile(image), "a read-only mount wrote to the image");

        // fsck -n reports it and writes nothing.
        FsckReport check;
        try (OpenedDevice d = DeviceOpener.open(image, DeviceOptions.readOnlyOptions())) {
            check = FsChecker.check(d.region().readView());
        }
        System.out.print(check.render());
        assertFalse(check.clean(), "fsck -n finds the damage");
        assertEquals(damage.repairable() ? FsckReport.ERRORS : FsckReport.COULD_NOT_CHECK, check.exitCode());
        assertArrayEquals(damaged, HostileImages.readFile(image), "fsck -n wrote to the image");

        // fsck -y repairs it, and a second fsck is clean.
        FsckReport repair = repair(image);
        System.out.print(repair.render());
        if (!damage.repairable()) {
            assertEquals(FsckReport.COULD_NOT_CHECK, repair.exitCode(), repair.render());
            assertArrayEquals(damaged, HostileImages.readFile(image), "fsck -y wrote to an image it cannot repair");
            return;
        }
        assertEquals(FsckReport.REPAIRED, repair.exitCode(), repair.render());
        try (OpenedDevice d = DeviceOpener.open(image, DeviceOptions.readOnlyOptions())) {
            FsckReport again = FsChecker.check(d.region().readView());
            assertTrue(again.clean(), "a second fsck is clean:\n" + again.render());
        }

        // It mounts read-write, every untouched file reads back byte for byte, and it stays clean.
        try (OpenedDevice d = TestDevice.openExisting(image)) {
            DaxFileSystem fs = DaxFileSystem.mount(d.region());
            assertUntouched(fs, damage);
            long f = fs.create(DaxFileSystem.ROOT, "after-repair", 0644, 0, 0);
            TestDevice.write(fs, f, 0, new byte[] {1, 2, 3});
            fs.close();
            FsckSupport.assertClean(d.region().readView(), "after using the repaired image");
        }
    }

    private static String refusedReadWrite(Path image) {
        try (OpenedDevice d = DeviceOpener.open(image, DeviceOptions.defaults())) {
            DaxFileSystem.mount(d.region());
            fail("a read-write mount of the damaged image was accepted");
            return null;
        } catch (CorruptFileSystemException e) {
            return e.getMessage();
        } catch (io.daxfs.devdax.DeviceException e) {
            return e.getMessage(); // the truncated image: too small for its own superblock
        }
    }

    private static void readOnly(Path image, HostileImages.Damage damage) throws Exception {
        OpenedDevice d;
        try {
            d = DeviceOpener.open(image, DeviceOptions.builder().readOnly(true).privateMapping(true).build());
        } catch (io.daxfs.devdax.DeviceException e) {
            return;
        }
        try (d) {
            DaxFileSystem fs;
            try {
                fs = DaxFileSystem.mount(d.region(), MountSettings.defaults().withReadOnly(true));
            } catch (CorruptFileSystemException e) {
                assertFalse(damage.repairable() && !damage.name().contains("journal slot"),
                        "a read-only mount refused " + damage + ": " + e.getMessage());
                return;
            }
            System.out.println(damage.name() + ": read-only mount notes " + fs.mountNotes());
            assertUntouched(fs, damage);
        }
    }

    private static void assertUntouched(DaxFileSystem fs, HostileImages.Damage damage) {
        for (Map.Entry<String, byte[]> e : HostileImages.tree().entrySet()) {
            if (!damage.touched().contains(e.getKey())) {
                long ino = fs.resolve(e.getKey());
                assertArrayEquals(e.getValue(), TestDevice.readAll(fs, ino), e.getKey() + " after " + damage);
            }
        }
        if (!damage.touched().contains(HostileImages.LINK)) {
            assertEquals(HostileImages.LINK_TARGET, fs.readlink(fs.resolve(HostileImages.LINK)));
        }
        if (!damage.touched().contains("/x")) {
            long x = fs.resolve("/x");
            HostileImages.XATTRS.forEach((k, v) -> assertArrayEquals(v, fs.getxattr(x, k), k));
        }
    }

    static FsckReport repair(Path image) {
        try (OpenedDevice d = DeviceOpener.open(image, DeviceOptions.defaults())) {
            return Fsck.repair(d.region(), FsChecker.Progress.NONE);
        } catch (io.daxfs.devdax.DeviceException e) {
            FsckReport r = FsChecker.check(java.lang.foreign.MemorySegment.ofArray(new byte[0]));
            assertEquals(FsckReport.COULD_NOT_CHECK, r.exitCode(), new String(e.getMessage().getBytes(),
                    StandardCharsets.UTF_8));
            return r;
        }
    }
}
