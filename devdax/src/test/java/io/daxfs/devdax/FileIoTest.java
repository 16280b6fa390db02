package io.daxfs.devdax;

import static io.daxfs.devdax.TestSupport.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bulk loads and stores of an image file go through pread/pwrite ({@link FileIo}); they must be
 * the same bytes the mapping holds, in both directions, whatever the size and alignment.
 */
class FileIoTest {
    @TempDir
    Path dir;

    @Test
    void pwriteAndMappedStoresAgreeBothWays() throws Exception {
        try (OpenedDevice dev = DeviceOpener.open(dir.resolve("a.img"), DeviceOptions.builder().createSize(4 * MIB).build());
             Arena arena = Arena.ofConfined()) {
            PmemRegion r = dev.region();
            Random random = new Random(7);
            for (int round = 0; round < 200; round++) {
                int length = 1 + random.nextInt(random.nextBoolean() ? 300_000 : 9000);
                long offset = random.nextInt((int) (4 * MIB - length));
                byte[] data = new byte[length];
                random.nextBytes(data);
                MemorySegment src = arena.allocate(length + 16);
                int srcOffset = random.nextInt(16);
                MemorySegment.copy(data, 0, src, ValueLayout.JAVA_BYTE, srcOffset, length);
                r.write(offset, src, srcOffset, length); // pwrite from a page up

                // Through the mapping...
                assertArrayEquals(data, r.readView().asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE));
                // ...and through pread into native memory, and into a heap segment (mapping).
                MemorySegment dst = arena.allocate(length + 16);
                r.read(offset, dst, 5, length);
                assertArrayEquals(data, dst.asSlice(5, length).toArray(ValueLayout.JAVA_BYTE));
                byte[] heap = new byte[length];
                r.read(offset, MemorySegment.ofArray(heap), 0, length);
                assertArrayEquals(data, heap);

                // A mapped store is what pread sees.
                r.putLong(offset - offset % 8, 0x1122334455667788L);
                MemorySegment one = arena.allocate(8192);
                long page = offset - offset % 4096;
                r.read(page, one, 0, Math.min(8192, 4 * MIB - page));
                assertArrayEquals(r.readView().asSlice(page, Math.min(8192, 4 * MIB - page)).toArray(ValueLayout.JAVA_BYTE),
                        one.asSlice(0, Math.min(8192, 4 * MIB - page)).toArray(ValueLayout.JAVA_BYTE));
            }
        }
    }

    @Test
    void zeroFillsOfAPageOrMoreGoThroughTheDescriptorAndLeaveTheRestAlone() throws Exception {
        try (OpenedDevice dev = DeviceOpener.open(dir.resolve("z.img"), DeviceOptions.builder().createSize(4 * MIB).build());
             Arena arena = Arena.ofConfined()) {
            PmemRegion r = dev.region();
            Random random = new Random(11);
            byte[] model = new byte[(int) (4 * MIB)];
            random.nextBytes(model);
            MemorySegment all = arena.allocate(4 * MIB);
            MemorySegment.copy(model, 0, all, ValueLayout.JAVA_BYTE, 0, model.length);
            r.write(0, all, 0, 4 * MIB);
            for (int round = 0; round < 100; round++) {
                int length = 1 + random.nextInt(random.nextBoolean() ? 600_000 : 9000);
                int offset = random.nextInt((int) (4 * MIB - length));
                byte value = round % 4 == 0 ? (byte) 0x33 : 0;
                r.fill(offset, length, value);
                java.util.Arrays.fill(model, offset, offset + length, value);
            }
            assertArrayEquals(model, r.readView().toArray(ValueLayout.JAVA_BYTE), "the mapping sees every fill");
        }
    }

    @Test
    void pwriteFillsAFreshSparseImageWithoutMappingItsPages() throws Exception {
        Path img = dir.resolve("b.img");
        try (OpenedDevice dev = DeviceOpener.open(img, DeviceOptions.builder().createSize(8 * MIB).build());
             Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(2 * MIB).fill((byte) 0x5a);
            dev.region().write(2 * MIB, src, 0, 2 * MIB);
            assertTrue(TestSupport.allocatedBytes(img) >= 2 * MIB, "the image now backs the range");
            assertTrue(dev.region().readView().get(ValueLayout.JAVA_BYTE, 3 * MIB) == 0x5a);
        }
        byte[] all = Files.readAllBytes(img);
        assertTrue(all[(int) (2 * MIB)] == 0x5a && all[(int) (4 * MIB - 1)] == 0x5a && all[(int) (4 * MIB)] == 0);
    }

    @Test
    void zeroPaddedWritesStoreTheBytesOfFillWriteFill() throws Exception {
        try (OpenedDevice dev = DeviceOpener.open(dir.resolve("p.img"), DeviceOptions.builder().createSize(4 * MIB).build());
             Arena arena = Arena.ofConfined()) {
            PmemRegion r = dev.region();
            Random random = new Random(5);
            byte[] model = new byte[(int) (4 * MIB)];
            random.nextBytes(model); // old bytes everywhere: the padding must overwrite them
            MemorySegment all = arena.allocate(4 * MIB);
            MemorySegment.copy(model, 0, all, ValueLayout.JAVA_BYTE, 0, model.length);
            r.write(0, all, 0, 4 * MIB);
            MemorySegment src = arena.allocate(300_000);
            for (int round = 0; round < 200; round++) {
                int blocks = 1 + random.nextInt(round % 3 == 0 ? 40 : 2);
                long start = 4096L * random.nextInt((int) (4 * MIB / 4096) - blocks);
                long span = 4096L * blocks;
                long lead = random.nextInt(4096);
                long length = random.nextLong(Math.min(span - lead, 300_000 - 7) + 1);
                byte[] data = new byte[(int) length];
                random.nextBytes(data);
                MemorySegment.copy(data, 0, src, ValueLayout.JAVA_BYTE, 7, data.length);
                r.writeZeroPadded(start, span, start + lead, src, 7, length);
                java.util.Arrays.fill(model, (int) start, (int) (start + span), (byte) 0);
                System.arraycopy(data, 0, model, (int) (start + lead), data.length);
            }
            assertArrayEquals(model, r.readView().toArray(ValueLayout.JAVA_BYTE), "the mapping sees every padded write");
        }
    }

    @Test
    void aNewBlockTakingAShortWriteIsNotFaultedIntoTheMapping() throws Exception {
        Path img = dir.resolve("f.img");
        try (OpenedDevice dev = DeviceOpener.open(img, DeviceOptions.builder().createSize(8 * MIB).build());
             Arena arena = Arena.ofConfined()) {
            PmemRegion r = dev.region();
            MemorySegment src = arena.allocate(1024).fill((byte) 0x77);
            long block = 3 * MIB;
            r.writeZeroPadded(block, 4096, block + 512, src, 0, 1024);
            // The store went through the descriptor: the page is backed, but not mapped into this
            // process (a store through the mapping would have faulted it in; docs/devdax.md).
            assertTrue(TestSupport.allocatedBytes(img) >= 4096, "the image backs the block");
            assertTrue(!pagePresent(r.readView().address() + block), "the block's page is not in the mapping");
        }
        byte[] all = Files.readAllBytes(img);
        assertTrue(all[(int) (3 * MIB + 511)] == 0 && all[(int) (3 * MIB + 512)] == 0x77
                && all[(int) (3 * MIB + 1535)] == 0x77 && all[(int) (3 * MIB + 1536)] == 0);
    }

    /** Whether virtual address {@code address} of this process has a page mapped (/proc/self/pagemap bit 63). */
    private static boolean pagePresent(long address) throws Exception {
        try (java.nio.channels.FileChannel pagemap = java.nio.channels.FileChannel.open(Path.of("/proc/self/pagemap"))) {
            java.nio.ByteBuffer entry = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            pagemap.read(entry, (address / 4096) * 8);
            return (entry.getLong(0) & (1L << 63)) != 0;
        }
    }
}
