package io.daxfs.devdax;

import static io.daxfs.devdax.TestSupport.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** release(): holes punched in pmem-backed files (checked through st_blocks), zeros everywhere. */
class ReleaseTest {
    @TempDir
    Path dir;

    private Path shm;

    @AfterEach
    void cleanShm() throws Exception {
        TestSupport.deleteTree(shm);
    }

    @Test
    void punchesHolesOnDisk() throws Exception {
        punchesHoles(dir.resolve("disk.img"));
    }

    @Test
    void punchesHolesOnTmpfs() throws Exception {
        shm = TestSupport.shmDir();
        assumeTrue(shm != null, "no writable /dev/shm on this machine");
        punchesHoles(shm.resolve("shm.img"));
    }

    private static void punchesHoles(Path img) throws Exception {
        long size = 4 * MIB;
        try (OpenedDevice dev = DeviceOpener.open(img, DeviceOptions.builder().createSize(size).build())) {
            PmemRegion r = dev.region();
            r.fill(0, size, (byte) 0xAB);
            r.flush(0, size);
            r.fence();
            long full = TestSupport.allocatedBytes(img);
            assertTrue(full >= size, "after filling, " + full + " bytes allocated");

            long offset = MIB + 100; // unaligned at both ends
            long length = 2 * MIB;
            r.release(offset, length);
            // Measured before reading the range back: on tmpfs a read fault on a hole in a
            // shared mapping allocates a fresh zero page again.
            long after = TestSupport.allocatedBytes(img);
            long punchedPages = (offset + length) / 4096 - Math.ceilDiv(offset, 4096);
            assertTrue(full - after >= punchedPages * 4096,
                    "release freed only " + (full - after) + " bytes, expected at least " + punchedPages * 4096);

            MemorySegment view = r.readView();
            assertEquals((byte) 0xAB, view.get(ValueLayout.JAVA_BYTE, offset - 1));
            assertEquals((byte) 0xAB, view.get(ValueLayout.JAVA_BYTE, offset + length));
            for (long i = offset; i < offset + length; i += 97) {
                assertEquals(0, view.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
            }
            assertEquals(0, view.get(ValueLayout.JAVA_BYTE, offset + length - 1));

            // Released memory is ordinary memory again.
            r.putLong(2 * MIB, 9);
            assertEquals(9, view.get(ValueLayout.JAVA_LONG, 2 * MIB));

            r.release(10, 20); // inside one page: only zeroed
            assertEquals(0, view.get(ValueLayout.JAVA_BYTE, 29));
            assertEquals((byte) 0xAB, view.get(ValueLayout.JAVA_BYTE, 30));
            r.release(0, 0);
            assertThrows(IndexOutOfBoundsException.class, () -> r.release(size - 4096, 8192));
        }
        assertEquals(size, Files.size(img), "release keeps the file size");
        byte[] file = Files.readAllBytes(img);
        assertEquals(0, file[(int) (MIB + 100)]);
        assertEquals((byte) 0xAB, file[(int) (MIB + 99)]);
    }
}
