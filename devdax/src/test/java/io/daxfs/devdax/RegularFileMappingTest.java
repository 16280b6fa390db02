package io.daxfs.devdax;

import static io.daxfs.devdax.TestSupport.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mapping regular image files: stores, persistence across reopen, flush modes. */
class RegularFileMappingTest {
    @TempDir
    Path dir;

    private Path shm;

    @AfterEach
    void cleanShm() throws Exception {
        TestSupport.deleteTree(shm);
    }

    private static DeviceOptions create(long size) {
        return DeviceOptions.builder().createSize(size).build();
    }

    @Test
    void createsSparseImageAndMapsIt() throws Exception {
        Path img = dir.resolve("a.img");
        try (OpenedDevice dev = DeviceOpener.open(img, create(8 * MIB))) {
            assertTrue(dev.created());
            assertEquals(DeviceKind.REGULAR_FILE, dev.kind());
            assertEquals(8 * MIB, dev.size());
            assertEquals(8 * MIB, dev.region().size());
            assertEquals(4096, dev.alignment());
            assertEquals(img, dev.path());
            assertFalse(dev.readOnly());
        }
        assertEquals(8 * MIB, Files.size(img));
        assertTrue(TestSupport.allocatedBytes(img) < MIB, "a new image must be sparse");
        // createSize leaves an existing file's size alone.
        try (OpenedDevice dev = DeviceOpener.open(img, create(16 * MIB))) {
            assertFalse(dev.created());
            assertEquals(8 * MIB, dev.size());
        }
    }

    @Test
    void storesAndReadsBackEveryWidth() throws Exception {
        try (OpenedDevice dev = DeviceOpener.open(dir.resolve("w.img"), create(MIB))) {
            PmemRegion r = dev.region();
            MemorySegment view = r.readView();
            r.putByte(1, (byte) 0x7f);
            r.putShort(2, (short) 0x1234);
            r.putInt(4, 0xcafebabe);
            r.putLong(8, 0x0123456789abcdefL);
            r.putLong(17, -2L); // unaligned is allowed (just not atomic)
            assertEquals((byte) 0x7f, view.get(ValueLayout.JAVA_BYTE, 1));
            assertEquals((short) 0x1234, view.get(ValueLayout.JAVA_SHORT_UNALIGNED, 2));
            assertEquals(0xcafebabe, view.get(ValueLayout.JAVA_INT_UNALIGNED, 4));
            assertEquals(0x0123456789abcdefL, view.get(ValueLayout.JAVA_LONG, 8));
            assertEquals(-2L, view.get(ValueLayout.JAVA_LONG_UNALIGNED, 17));

            byte[] data = new byte[100_000];
            new Random(1).nextBytes(data);
            r.write(4096 + 3, data, 10, data.length - 10);
            byte[] back = view.asSlice(4096 + 3, data.length - 10).toArray(ValueLayout.JAVA_BYTE);
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 10, data.length), back);

            try (Arena a = Arena.ofConfined()) {
                MemorySegment nat = a.allocate(5000);
                nat.fill((byte) 0x5a);
                r.write(300_000, nat, 100, 4000);
            }
            assertEquals((byte) 0x5a, view.get(ValueLayout.JAVA_BYTE, 300_000));
            assertEquals((byte) 0x5a, view.get(ValueLayout.JAVA_BYTE, 303_999));
            assertEquals(0, view.get(ValueLayout.JAVA_BYTE, 304_000));

            r.fill(500_000, 7000, (byte) 0x11);
            assertEquals(0x11, view.get(ValueLayout.JAVA_BYTE, 506_999));
            assertEquals(0, view.get(ValueLayout.JAVA_BYTE, 507_000));

            assertThrows(IndexOutOfBoundsException.class, () -> r.putLong(MIB - 4, 1));
            assertThrows(IndexOutOfBoundsException.class, () -> r.flush(MIB - 10, 11));
            assertThrows(IllegalArgumentException.class,
                    () -> view.set(ValueLayout.JAVA_BYTE, 0, (byte) 1), "the read view is read-only");
        }
    }

    @Test
    void dataSurvivesCloseAndReopen() throws Exception {
        Path img = dir.resolve("p.img");
        byte[] data = new byte[3 * 4096 + 5];
        new Random(2).nextBytes(data);
        try (OpenedDevice dev = DeviceOpener.open(img, create(MIB))) {
            dev.region().write(12345, data, 0, data.length);
            dev.region().putLong(0, 42);
            dev.region().flush(0, MIB);
            dev.region().fence();
        }
        try (OpenedDevice dev = DeviceOpener.open(img, DeviceOptions.defaults())) {
            assertEquals(42, dev.region().readView().get(ValueLayout.JAVA_LONG, 0));
            assertArrayEquals(data, dev.region().readView().asSlice(12345, data.length).toArray(ValueLayout.JAVA_BYTE));
        }
        // And the bytes really are in the file.
        byte[] file = Files.readAllBytes(img);
        assertArrayEquals(data, java.util.Arrays.copyOfRange(file, 12345, 12345 + data.length));
    }

    @Test
    void flushAndFenceWorkAndReportMsyncOnDisk() throws Exception {
        try (OpenedDevice dev = DeviceOpener.open(dir.resolve("f.img"), create(MIB))) {
            PmemRegion r = dev.region();
            r.putLong(4096 * 3 + 8, 7);
            r.flush(4096 * 3 + 8, 8);
            r.flush(1, 1);
            r.flush(0, MIB);
            r.flush(MIB - 1, 1);
            r.flush(100, 0);
            r.fence();
            // The test file system is not DAX, so MAP_SYNC is refused and msync is used.
            assertEquals(PersistenceMode.MSYNC, r.persistenceMode());
            assertEquals(PersistenceMode.MSYNC, dev.persistenceMode());
            assertTrue(dev.mappingDescription().endsWith(": msync"), dev.mappingDescription());
        }
    }

    @Test
    void imageOnTmpfsIsVolatileAndSkipsFlushes() throws Exception {
        shm = TestSupport.shmDir();
        assumeTrue(shm != null, "no writable /dev/shm on this machine");
        try (OpenedDevice dev = DeviceOpener.open(shm.resolve("t.img"), create(2 * MIB))) {
            assertEquals(PersistenceMode.VOLATILE, dev.persistenceMode());
            assertEquals("shared file mapping (MAP_SYNC unsupported here): msync; on tmpfs: volatile, flushes skipped",
                    dev.mappingDescription());
            dev.region().putInt(0, 5);
            dev.region().flush(0, 4);
            dev.region().fence();
        }
        // Without any msync the store is in the file: it outlives the mapping (and the process).
        try (OpenedDevice dev = DeviceOpener.open(shm.resolve("t.img"), DeviceOptions.defaults())) {
            assertEquals(5, dev.region().readView().get(ValueLayout.JAVA_INT, 0));
        }
    }

    /**
     * The daemon's mapping of an image on tmpfs asks for 2 MiB pages (what a tmpfs mounted
     * huge=advise waits for); on a disk file system it does not (the advice would make faults
     * read 2 MiB ahead). VmFlags "hg" in /proc/self/smaps is MADV_HUGEPAGE.
     */
    @Test
    void anImageOnTmpfsIsMappedAskingForHugePagesAndOneOnDiskIsNot() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/sys/kernel/mm/transparent_hugepage")), "no transparent huge pages here");
        shm = TestSupport.shmDir();
        assumeTrue(shm != null, "no writable /dev/shm on this machine");
        Path onShm = shm.resolve("h.img");
        try (OpenedDevice dev = DeviceOpener.open(onShm, create(4 * MIB))) {
            assertEquals(PersistenceMode.VOLATILE, dev.persistenceMode());
            assertTrue(vmFlags(onShm).contains("hg"), "image on tmpfs: " + vmFlags(onShm));
        }
        assumeTrue(!DeviceOpener.isOnMemoryFileSystem(dir), "the test's temporary directory is on tmpfs too");
        Path onDisk = dir.resolve("h.img");
        try (OpenedDevice dev = DeviceOpener.open(onDisk, create(4 * MIB))) {
            assertFalse(vmFlags(onDisk).contains("hg"), "image on " + Files.getFileStore(dir).type() + ": " + vmFlags(onDisk));
        }
    }

    /** The VmFlags of this process's mapping of {@code file}, from /proc/self/smaps. */
    private static java.util.List<String> vmFlags(Path file) throws Exception {
        String name = " " + file.toRealPath();
        boolean in = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                in = line.endsWith(name);
            } else if (in && line.startsWith("VmFlags:")) {
                return java.util.List.of(line.substring("VmFlags:".length()).trim().split("\\s+"));
            }
        }
        throw new AssertionError("no mapping of " + file + " in /proc/self/smaps");
    }

    @Test
    void readOnlyOpenMapsReadOnly() throws Exception {
        Path img = dir.resolve("ro.img");
        try (OpenedDevice dev = DeviceOpener.open(img, create(MIB))) {
            dev.region().putLong(64, 99);
        }
        try (OpenedDevice dev = DeviceOpener.open(img, DeviceOptions.readOnlyOptions())) {
            assertTrue(dev.readOnly());
            assertEquals(99, dev.region().readView().get(ValueLayout.JAVA_LONG, 64));
            assertEquals("read-only shared file mapping", dev.mappingDescription());
            assertThrows(UnsupportedOperationException.class, () -> dev.region().putLong(64, 1));
            assertThrows(UnsupportedOperationException.class, () -> dev.region().release(0, 4096));
            dev.region().flush(0, 4096); // nothing to flush: allowed
            dev.region().fence();
        }
        try (OpenedDevice dev = DeviceOpener.open(img, DeviceOptions.defaults())) {
            assertEquals(99, dev.region().readView().get(ValueLayout.JAVA_LONG, 64));
        }
    }

    @Test
    void everythingThrowsAfterCloseAndCloseIsIdempotent() throws Exception {
        OpenedDevice dev = DeviceOpener.open(dir.resolve("c.img"), create(MIB));
        PmemRegion r = dev.region();
        MemorySegment view = r.readView();
        dev.close();
        dev.close();
        r.close(); // the region's close is the device's close
        assertThrows(IllegalStateException.class, () -> r.putLong(0, 1));
        assertThrows(IllegalStateException.class, () -> r.putByte(0, (byte) 1));
        assertThrows(IllegalStateException.class, () -> r.write(0, new byte[8], 0, 8));
        assertThrows(IllegalStateException.class, () -> r.fill(0, 8, (byte) 1));
        assertThrows(IllegalStateException.class, () -> r.flush(0, 8));
        assertThrows(IllegalStateException.class, r::fence);
        assertThrows(IllegalStateException.class, () -> r.release(0, 4096));
        assertThrows(IllegalStateException.class, () -> view.get(ValueLayout.JAVA_BYTE, 0));
        assertTrue(dev.toString().contains("closed"), dev.toString());
    }

    @Test
    void closingTheRegionUnlocksTheImage() throws Exception {
        Path img = dir.resolve("u.img");
        OpenedDevice dev = DeviceOpener.open(img, create(MIB));
        dev.region().close();
        try (OpenedDevice again = DeviceOpener.open(img, DeviceOptions.defaults())) {
            assertEquals(MIB, again.size());
        }
    }
}
