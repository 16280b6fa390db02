package io.daxfs.devdax;

import static io.daxfs.devdax.TestSupport.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import io.daxfs.devdax.DeviceException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every refusal of {@link DeviceOpener}, each on a real file system object. */
class OpenErrorsTest {
    @TempDir
    Path dir;

    private static DeviceException refused(Path path, DeviceOptions options) {
        return assertThrows(DeviceException.class, () -> DeviceOpener.open(path, options).close());
    }

    private Path fileOfSize(String name, long size) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }

    @Test
    void missingPathIsNotFound() {
        Path img = dir.resolve("missing.img");
        DeviceException e = refused(img, DeviceOptions.defaults());
        assertEquals(Reason.NOT_FOUND, e.reason());
        assertTrue(e.getMessage().contains(img.toString()), e.getMessage());
        assertFalse(Files.exists(img));
    }

    @Test
    void missingParentDirectoryIsNotFoundEvenWithCreateSize() {
        Path img = dir.resolve("no/such/dir/x.img");
        DeviceException e = refused(img, DeviceOptions.builder().createSize(MIB).build());
        assertEquals(Reason.NOT_FOUND, e.reason());
        assertTrue(e.getMessage().contains(dir.resolve("no/such/dir").toString()), e.getMessage());
    }

    @Test
    void tooSmallStatesTheMinimumAndWritesNothing() throws Exception {
        Path img = fileOfSize("small.img", 8192);
        byte[] before = Files.readAllBytes(img);
        long mtime = Files.getLastModifiedTime(img).toMillis();
        DeviceException e = refused(img, DeviceOptions.builder().minimumSize(16 * MIB).build());
        assertEquals(Reason.TOO_SMALL, e.reason());
        assertEquals(img + " is too small: 8192 bytes (8 KiB); the minimum is 16777216 bytes (16 MiB)",
                e.getMessage());
        assertEquals(8192, Files.size(img));
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(img)));
        assertEquals(mtime, Files.getLastModifiedTime(img).toMillis());
    }

    @Test
    void emptyFileIsTooSmall() throws Exception {
        Path img = fileOfSize("empty.img", 0);
        DeviceException e = refused(img, DeviceOptions.defaults());
        assertEquals(Reason.TOO_SMALL, e.reason());
        assertTrue(e.getMessage().contains("the minimum is 4096 bytes (4 KiB)"), e.getMessage());
    }

    @Test
    void sizeNotAMultipleOfAPageIsMisaligned() throws Exception {
        Path img = fileOfSize("odd.img", 4097);
        DeviceException e = refused(img, DeviceOptions.defaults());
        assertEquals(Reason.MISALIGNED, e.reason());
        assertEquals(img + " has a size of 4097 bytes, which is not a multiple of the required alignment"
                + " of 4096 bytes (4 KiB)", e.getMessage());
        assertEquals(4097, Files.size(img));
    }

    @Test
    void badCreateSizesAreRefusedBeforeAnythingIsCreated() {
        Path img = dir.resolve("new.img");
        DeviceException misaligned = refused(img, DeviceOptions.builder().createSize(MIB + 1).build());
        assertEquals(Reason.MISALIGNED, misaligned.reason());
        assertTrue(misaligned.getMessage().contains("4096 bytes (4 KiB)"), misaligned.getMessage());
        DeviceException small = refused(img, DeviceOptions.builder().createSize(MIB).minimumSize(2 * MIB).build());
        assertEquals(Reason.TOO_SMALL, small.reason());
        assertTrue(small.getMessage().contains("2097152 bytes (2 MiB)"), small.getMessage());
        assertFalse(Files.exists(img));
    }

    @Test
    void directoryIsNotADevice() throws Exception {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        DeviceException e = refused(sub, DeviceOptions.defaults());
        assertEquals(Reason.NOT_A_DEVICE, e.reason());
        assertEquals(sub + " is a directory, not an image file or a device-DAX device", e.getMessage());
        // createSize does not turn a directory into an image either.
        assertEquals(Reason.NOT_A_DEVICE, refused(sub, DeviceOptions.builder().createSize(MIB).build()).reason());
    }

    @Test
    void fifoIsNotADeviceAndIsNotOpened() throws Exception {
        Path fifo = dir.resolve("fifo");
        Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assumeTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "mkfifo unavailable");
        // Opening a FIFO would block until a writer comes; refusing it must not open it.
        DeviceException e = refused(fifo, DeviceOptions.defaults());
        assertEquals(Reason.NOT_A_DEVICE, e.reason());
        assertTrue(e.getMessage().contains("is a FIFO"), e.getMessage());
    }

    @Test
    void characterDeviceThatIsNotDaxIsNotADevice() {
        Path devNull = Path.of("/dev/null");
        assumeTrue(Files.exists(devNull));
        DeviceException e = refused(devNull, DeviceOptions.defaults());
        assertEquals(Reason.NOT_A_DEVICE, e.reason());
        assertTrue(e.getMessage().startsWith("/dev/null is a character device (1:3) but not a device-DAX device"),
                e.getMessage());
    }

    @Test
    void symbolicLinkToAnImageIsFollowed() throws Exception {
        Path img = fileOfSize("target.img", MIB);
        Path link = Files.createSymbolicLink(dir.resolve("link.img"), img);
        try (OpenedDevice dev = DeviceOpener.open(link, DeviceOptions.defaults())) {
            assertEquals(MIB, dev.size());
            assertEquals(link, dev.path());
        }
    }

    @Test
    void optionsRejectNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new DeviceOptions(true, MIB, 0, true));
        assertThrows(IllegalArgumentException.class, () -> DeviceOptions.builder().createSize(-1).build());
        assertThrows(IllegalArgumentException.class, () -> DeviceOptions.builder().minimumSize(-1).build());
        DeviceOptions d = DeviceOptions.defaults();
        assertEquals(new DeviceOptions(false, 0, 0, true), d);
        assertEquals(d, d.toBuilder().build());
        assertEquals(new DeviceOptions(true, 0, 0, true), DeviceOptions.readOnlyOptions());
    }
}
