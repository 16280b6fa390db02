package io.daxfs.devdax;

import static io.daxfs.devdax.TestSupport.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import io.daxfs.devdax.DeviceException.Reason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device-DAX path (mmap downcall, cache-line write-back, zero-fill release) exercised for
 * real: on regular files standing in for device memory, and on /dev/zero, a real character
 * device that can be mapped shared, described by a fake sysfs tree.
 */
class DaxMappingTest {
    @TempDir
    Path dir;

    private Path shm;

    @AfterEach
    void cleanShm() throws Exception {
        TestSupport.deleteTree(shm);
    }

    private int openFd(Path p) throws ErrnoException {
        return Posix.open(p, Posix.O_RDWR | Posix.O_CLOEXEC);
    }

    @Test
    void downcallMappingOfARegularFileStoresUnmapsAndRemaps() throws Exception {
        shm = TestSupport.shmDir();
        Path img = (shm != null ? shm : dir).resolve("m.img");
        ImageFiles.createSparse(img, 4 * MIB);
        int fd = openFd(img);
        try {
            try (Arena arena = Arena.ofShared()) {
                MmapMapping.Mapping m = MmapMapping.map(fd, 4 * MIB, false, arena);
                assertEquals(4 * MIB, m.segment().byteSize());
                if (shm != null) {
                    // tmpfs cannot do MAP_SYNC: the refusal is recorded, the mapping still works.
                    assertFalse(m.sync());
                    assertEquals("Operation not supported", m.syncRefusal());
                }
                m.segment().set(ValueLayout.JAVA_LONG, 4096, 0x1122334455667788L);
                m.segment().set(ValueLayout.JAVA_BYTE, 4 * MIB - 1, (byte) 7);
                if (CacheLineWriteback.available()) {
                    CacheLineWriteback.writeback(m.segment().address() + 4096, 8);
                }
            } // unmapped here
            try (Arena arena = Arena.ofShared()) {
                MmapMapping.Mapping m = MmapMapping.map(fd, 4 * MIB, true, arena);
                assertTrue(m.segment().isReadOnly());
                assertEquals(0x1122334455667788L, m.segment().get(ValueLayout.JAVA_LONG, 4096));
                assertEquals(7, m.segment().get(ValueLayout.JAVA_BYTE, 4 * MIB - 1));
            }
        } finally {
            Posix.close(fd);
        }
        byte[] file = Files.readAllBytes(img);
        assertEquals(7, file[(int) (4 * MIB - 1)]);
    }

    @Test
    void segmentIsUnusableAfterTheArenaCloses() throws Exception {
        Path img = dir.resolve("closed.img");
        ImageFiles.createSparse(img, MIB);
        int fd = openFd(img);
        try {
            Arena arena = Arena.ofShared();
            MemorySegment s = MmapMapping.map(fd, MIB, false, arena).segment();
            arena.close();
            assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_BYTE, 0));
        } finally {
            Posix.close(fd);
        }
    }

    @Test
    void daxDevicePathOnAFileFlushesWithCacheLineWriteback() throws Exception {
        Path img = dir.resolve("dax.img");
        ImageFiles.createSparse(img, 8 * MIB);
        DeviceOpener opener = new DeviceOpener(SysfsProbe.system());
        SysfsProbe.Geometry geometry = new SysfsProbe.Geometry(8 * MIB, 2 * MIB, dir);
        try (OpenedDevice dev = opener.openAsDaxDevice(img, DeviceOptions.defaults(), geometry)) {
            assertEquals(DeviceKind.DAX_DEVICE, dev.kind());
            assertEquals(2 * MIB, dev.alignment());
            assertEquals(8 * MIB, dev.size());
            // The surefire JVM exports jdk.internal.misc, so write-back must be available.
            assertTrue(CacheLineWriteback.available(), CacheLineWriteback.unavailableReason());
            assertEquals(PersistenceMode.CACHE_LINE_WRITEBACK, dev.persistenceMode());
            assertTrue(dev.mappingDescription().startsWith("direct mmap of a regular file ("), dev.mappingDescription());
            assertTrue(dev.mappingDescription().endsWith("): cache-line write-back"), dev.mappingDescription());

            PmemRegion r = dev.region();
            r.fill(0, 8 * MIB, (byte) 0x33);
            r.putLong(64, 12345);
            r.flush(0, 8 * MIB);
            r.flush(65, 3);
            r.fence();
            r.release(4096 + 1, 3 * MIB); // on a device: zeros, flushed
            assertEquals(0x33, r.readView().get(ValueLayout.JAVA_BYTE, 4096));
            assertEquals(0, r.readView().get(ValueLayout.JAVA_BYTE, 4097));
            assertEquals(0, r.readView().get(ValueLayout.JAVA_BYTE, 4096 + 3 * MIB));
            assertEquals(0x33, r.readView().get(ValueLayout.JAVA_BYTE, 4097 + 3 * MIB));
            // Held locked like any image.
            DeviceException e = assertThrows(DeviceException.class,
                    () -> opener.openAsDaxDevice(img, DeviceOptions.defaults(), geometry).close());
            assertEquals(Reason.IN_USE, e.reason());

            dev.close();
            assertThrows(IllegalStateException.class, () -> r.flush(0, 64));
            assertThrows(IllegalStateException.class, () -> r.putLong(0, 1));
        }
        try (OpenedDevice dev = opener.openAsDaxDevice(img, DeviceOptions.readOnlyOptions(), geometry)) {
            assertEquals(12345, dev.region().readView().get(ValueLayout.JAVA_LONG, 64));
            assertEquals(0, dev.region().readView().get(ValueLayout.JAVA_BYTE, 4097));
            assertTrue(dev.mappingDescription().contains("(read-only)"), dev.mappingDescription());
        }
    }

    @Test
    void withoutAccessToUnsafeTheDevicePathDegradesToFenceOnly() throws Exception {
        Path img = dir.resolve("fence.img");
        ImageFiles.createSparse(img, 2 * MIB);
        String cp = System.getProperty("java.class.path");
        try (TestSupport.Child child = TestSupport.startChild(
                TestSupport.childCommand(false, cp, "dax", img.toString(), "rw"))) {
            assertEquals("OPENED DAX_DEVICE", child.firstLine());
            String line = child.out().readLine();
            assertTrue(line.startsWith("FENCE_ONLY direct mmap of a regular file ("), line);
            assertTrue(line.endsWith("fence only (the JVM does not export jdk.internal.misc"
                    + " (start it with --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED))"), line);
            assertEquals(0, child.finish());
        }
        try (TestSupport.Child child = TestSupport.startChild(
                TestSupport.childCommand(true, System.getProperty("java.class.path"), "dax", img.toString(), "rw"))) {
            assertEquals("OPENED DAX_DEVICE", child.firstLine());
            assertTrue(child.out().readLine().startsWith("CACHE_LINE_WRITEBACK "));
            assertEquals(0, child.finish());
        }
    }

    @Test
    void fileShorterThanTheGeometryIsRefusedBeforeMapping() throws Exception {
        Path img = dir.resolve("short.img");
        ImageFiles.createSparse(img, 2 * MIB);
        SysfsProbe.Geometry geometry = new SysfsProbe.Geometry(4 * MIB, 2 * MIB, dir);
        DeviceException e = assertThrows(DeviceException.class, () ->
                new DeviceOpener(SysfsProbe.system()).openAsDaxDevice(img, DeviceOptions.defaults(), geometry));
        assertEquals(Reason.TOO_SMALL, e.reason());
    }

    private static Path fakeSysfsFor(Path root, Path device, String size, String align) throws Exception {
        long rdev = ((Number) Files.getAttribute(device, "unix:rdev")).longValue();
        Path d = Files.createDirectories(root.resolve("dev/char/" + SysfsProbe.major(rdev) + ":" + SysfsProbe.minor(rdev)));
        Files.writeString(d.resolve("size"), size);
        if (align != null) {
            Files.writeString(d.resolve("align"), align);
        }
        return root;
    }

    @Test
    void characterDeviceIsMappedThroughTheDowncall() throws Exception {
        Path zero = Path.of("/dev/zero");
        assumeTrue(Files.exists(zero), "no /dev/zero");
        Path sysfs = fakeSysfsFor(dir.resolve("sys"), zero, "4194304\n", "2097152\n");
        try (OpenedDevice dev = new DeviceOpener(new SysfsProbe(sysfs)).openTarget(zero, DeviceOptions.defaults())) {
            assertEquals(DeviceKind.DAX_DEVICE, dev.kind());
            assertEquals(4 * MIB, dev.size());
            assertEquals(2 * MIB, dev.alignment());
            assertTrue(dev.mappingDescription().startsWith("device-DAX mapping (MAP_SHARED; MAP_SYNC refused: "),
                    dev.mappingDescription());
            assertNotNull(dev.region().readView());
            dev.region().putLong(8, 99);
            dev.region().flush(8, 8);
            dev.region().fence();
            assertEquals(99, dev.region().readView().get(ValueLayout.JAVA_LONG, 8));
        }
    }

    @Test
    void characterDeviceSizeMustBeAMultipleOfItsAlignment() throws Exception {
        Path zero = Path.of("/dev/zero");
        assumeTrue(Files.exists(zero), "no /dev/zero");
        Path sysfs = fakeSysfsFor(dir.resolve("sys"), zero, "5242880", "2097152");
        DeviceException e = assertThrows(DeviceException.class,
                () -> new DeviceOpener(new SysfsProbe(sysfs)).openTarget(zero, DeviceOptions.defaults()));
        assertEquals(Reason.MISALIGNED, e.reason());
        assertEquals("/dev/zero has a size of 5242880 bytes (5 MiB), which is not a multiple of the required"
                + " alignment of 2097152 bytes (2 MiB)", e.getMessage());
        DeviceException small = assertThrows(DeviceException.class, () -> new DeviceOpener(new SysfsProbe(sysfs))
                .openTarget(zero, DeviceOptions.builder().minimumSize(64 * MIB).build()));
        assertEquals(Reason.TOO_SMALL, small.reason());
        assertTrue(small.getMessage().endsWith("the minimum is 67108864 bytes (64 MiB)"), small.getMessage());
    }
}
