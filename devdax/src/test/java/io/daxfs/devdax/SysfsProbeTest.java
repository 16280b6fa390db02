package io.daxfs.devdax;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import io.daxfs.devdax.DeviceException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Geometry parsing against fake sysfs trees laid out like the kernel's. */
class SysfsProbeTest {
    @TempDir
    Path root;

    private static final Path DEV = Path.of("/dev/dax0.0"); // only its name is used

    private Path charDir(int major, int minor) throws Exception {
        return Files.createDirectories(root.resolve("dev/char/" + major + ":" + minor));
    }

    @Test
    void readsSizeAndAlignFromDevChar() throws Exception {
        Path d = charDir(252, 0);
        Files.writeString(d.resolve("size"), "17179869184\n");
        Files.writeString(d.resolve("align"), "1073741824\n");
        SysfsProbe.Geometry g = new SysfsProbe(root).probe(DEV, 252, 0);
        assertEquals(17179869184L, g.size());
        assertEquals(1L << 30, g.alignment());
        assertEquals(d, g.source());
    }

    @Test
    void missingAlignMeansTwoMebibytes() throws Exception {
        Files.writeString(charDir(252, 1).resolve("size"), "4194304");
        assertEquals(SysfsProbe.DEFAULT_ALIGNMENT, new SysfsProbe(root).probe(DEV, 252, 1).alignment());
    }

    @Test
    void fallsBackToTheBusDirectoryByName() throws Exception {
        Path bus = Files.createDirectories(root.resolve("bus/dax/devices/dax0.0"));
        Files.writeString(bus.resolve("size"), "8388608\n");
        Files.writeString(bus.resolve("align"), "4096\n");
        SysfsProbe.Geometry g = new SysfsProbe(root).probe(DEV, 252, 0);
        assertEquals(8388608, g.size());
        assertEquals(4096, g.alignment());
        assertEquals(bus, g.source());
    }

    @Test
    void missingSizeMeansNotADaxDevice() throws Exception {
        charDir(1, 3); // exists, like /dev/null's, but has no size
        DeviceException e = assertThrows(DeviceException.class, () -> new SysfsProbe(root).probe(DEV, 1, 3));
        assertEquals(Reason.NOT_A_DEVICE, e.reason());
        assertTrue(e.getMessage().startsWith("/dev/dax0.0 is a character device (1:3) but not a device-DAX device"),
                e.getMessage());
        assertTrue(e.getMessage().contains(root.resolve("dev/char/1:3/size").toString()), e.getMessage());
        assertTrue(e.getMessage().contains(root.resolve("bus/dax/devices/dax0.0/size").toString()), e.getMessage());
    }

    @Test
    void garbageSizeIsAClearIoError() throws Exception {
        Path d = charDir(252, 2);
        Files.writeString(d.resolve("size"), "lots\n");
        DeviceException e = assertThrows(DeviceException.class, () -> new SysfsProbe(root).probe(DEV, 252, 2));
        assertEquals(Reason.IO, e.reason());
        assertEquals("cannot determine the size of /dev/dax0.0: " + d.resolve("size")
                + " contains 'lots', expected a decimal number of bytes", e.getMessage());
    }

    @Test
    void emptyOrHugeSizeIsGarbageToo() throws Exception {
        Path d = charDir(252, 3);
        Files.writeString(d.resolve("size"), "");
        assertEquals(Reason.IO, assertThrows(DeviceException.class, () -> new SysfsProbe(root).probe(DEV, 252, 3)).reason());
        Files.writeString(d.resolve("size"), "99999999999999999999999");
        assertEquals(Reason.IO, assertThrows(DeviceException.class, () -> new SysfsProbe(root).probe(DEV, 252, 3)).reason());
    }

    @Test
    void garbageOrOddAlignmentIsAClearIoError() throws Exception {
        Path d = charDir(252, 4);
        Files.writeString(d.resolve("size"), "4194304");
        Files.writeString(d.resolve("align"), "2M");
        DeviceException e = assertThrows(DeviceException.class, () -> new SysfsProbe(root).probe(DEV, 252, 4));
        assertEquals(Reason.IO, e.reason());
        assertTrue(e.getMessage().startsWith("cannot determine the alignment of /dev/dax0.0: "), e.getMessage());
        Files.writeString(d.resolve("align"), "3000");
        e = assertThrows(DeviceException.class, () -> new SysfsProbe(root).probe(DEV, 252, 4));
        assertTrue(e.getMessage().contains("not a power of two of at least 4096"), e.getMessage());
    }

    @Test
    void probesTheDeviceNumberOfARealCharacterDevice() throws Exception {
        Path d = charDir(1, 5); // /dev/zero is 1:5 on Linux
        Files.writeString(d.resolve("size"), "2097152");
        assertEquals(2097152, new SysfsProbe(root).probe(Path.of("/dev/zero")).size());
    }

    @Test
    void decodesLinuxDeviceNumbers() {
        // makedev(252, 0), makedev(1, 3) and a large one: makedev(0x12345, 0xabcde)
        assertEquals(252, SysfsProbe.major(0xfc00L));
        assertEquals(0, SysfsProbe.minor(0xfc00L));
        assertEquals(1, SysfsProbe.major(0x103L));
        assertEquals(3, SysfsProbe.minor(0x103L));
        long big = ((0x12345L & 0xfffL) << 8) | ((0x12345L & ~0xfffL) << 32) | (0xabcdeL & 0xffL) | ((0xabcdeL & ~0xffL) << 12);
        assertEquals(0x12345, SysfsProbe.major(big));
        assertEquals(0xabcde, SysfsProbe.minor(big));
    }
}
