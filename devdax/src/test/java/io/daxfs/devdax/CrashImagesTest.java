package io.daxfs.devdax;

import static io.daxfs.devdax.TestSupport.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.Set;

import io.daxfs.devdax.CrashImages.CrashImage;
import io.daxfs.devdax.CrashImages.Kind;
import io.daxfs.devdax.RecordingRegion.Event;
import io.daxfs.devdax.RecordingRegion.Fence;
import io.daxfs.devdax.RecordingRegion.Fill;
import io.daxfs.devdax.RecordingRegion.Flush;
import io.daxfs.devdax.RecordingRegion.Release;
import io.daxfs.devdax.RecordingRegion.Store;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RecordingRegion over a real mapped image, and the crash images rebuilt from its log. */
class CrashImagesTest {
    private static final long A = 0x1111111111111111L;
    private static final long B = 0x2222222222222222L;
    private static final long C = 0x3333333333333333L;
    private static final long C2 = 0x4444444444444444L;
    private static final int D = 0x55555555;
    private static final long E = 0x6666666666666666L;

    @TempDir
    Path dir;

    private OpenedDevice device;
    private RecordingRegion rec;

    @BeforeEach
    void open() throws Exception {
        // Small, because the scripted tests keep every image (one copy of the region each).
        device = DeviceOpener.open(dir.resolve("rec.img"), DeviceOptions.builder().createSize(64 * 1024).build());
        rec = new RecordingRegion(device.region());
    }

    @AfterEach
    void close() {
        device.close();
    }

    private static long longAt(byte[] image, int offset) {
        return MemorySegment.ofArray(image).get(ValueLayout.JAVA_LONG_UNALIGNED, offset);
    }

    /** Epoch 0: A, B flushed; epoch 1: C, D (half a word), C2 over C; epoch 2: E, never fenced. */
    private byte[] script() {
        byte[] base = rec.snapshot();
        rec.putLong(0, A);
        rec.putLong(8, B);
        rec.flush(0, 16);
        rec.fence();
        rec.putLong(16, C);
        rec.putInt(24, D);
        rec.putLong(16, C2);
        rec.flush(16, 16);
        rec.fence();
        rec.putLong(32, E);
        return base;
    }

    @Test
    void recordsEveryMutationWithItsBytes() throws Exception {
        device.close();
        device = DeviceOpener.open(dir.resolve("big.img"), DeviceOptions.builder().createSize(4 * MIB).build());
        rec = new RecordingRegion(device.region());
        rec.putByte(1, (byte) 9);
        rec.putShort(2, (short) 0x0102);
        rec.write(100, new byte[] {1, 2, 3, 4, 5}, 1, 3);
        rec.write(200, MemorySegment.ofArray(new byte[] {7, 8, 9}), 1, 2);
        rec.fill(300, 16, (byte) 4);
        rec.fill(0, 2 * MIB, (byte) 0); // large: logged as a Fill
        rec.flush(0, 64);
        rec.fence();
        rec.release(0, 8192);
        List<Event> log = rec.events();
        assertEquals(9, log.size());
        assertEquals(new Store(1, new byte[] {9}), log.get(0));
        byte[] shortBytes = ((Store) log.get(1)).bytes();
        assertEquals((short) 0x0102, MemorySegment.ofArray(shortBytes).get(ValueLayout.JAVA_SHORT_UNALIGNED, 0));
        assertEquals(new Store(100, new byte[] {2, 3, 4}), log.get(2));
        assertEquals(new Store(200, new byte[] {8, 9}), log.get(3));
        assertEquals(new Store(300, filled(16, (byte) 4)), log.get(4));
        assertEquals(new Fill(0, 2 * MIB, (byte) 0), log.get(5));
        assertEquals(new Flush(0, 64), log.get(6));
        assertInstanceOf(Fence.class, log.get(7));
        assertEquals(new Release(0, 8192), log.get(8));
        assertEquals(9, rec.eventCount());
        assertEquals(List.of(new Release(0, 8192)), rec.eventsSince(8));
        // Forwarded for real.
        assertEquals(rec.size(), device.region().size());
        assertEquals(rec.persistenceMode(), device.region().persistenceMode());
        rec.clear();
        assertEquals(0, rec.eventCount());
        // A failed store is not logged.
        assertThrows(IndexOutOfBoundsException.class, () -> rec.putLong(rec.size(), 1));
        assertEquals(0, rec.eventCount());
    }

    private static byte[] filled(int n, byte v) {
        byte[] b = new byte[n];
        Arrays.fill(b, v);
        return b;
    }

    @Test
    void recordingIsThreadSafe() throws Exception {
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 1000; i++) {
                    rec.putLong((id * 1000L + i) * 8, i);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(4000, rec.eventCount());
        byte[] replayed = CrashImages.replay(new byte[(int) rec.size()], rec.events());
        assertArrayEquals(rec.snapshot(), replayed);
    }

    @Test
    void durablePrefixesAndFinalImageAreExact() {
        byte[] base = script();
        List<Event> log = rec.events();
        List<CrashImage> all = CrashImages.stream(base, log, 0, 1).toList();
        assertEquals(CrashImages.count(log, 0), all.size());
        assertEquals(4, all.size()); // 3 epochs + final

        assertEquals(Kind.DURABLE_PREFIX, all.get(0).kind());
        assertArrayEquals(base, all.get(0).image(), "epoch 0 starts from the base image");

        byte[] afterFence0 = all.get(1).image();
        assertEquals(A, longAt(afterFence0, 0));
        assertEquals(B, longAt(afterFence0, 8));
        assertEquals(0, longAt(afterFence0, 16));
        assertEquals(4, all.get(1).eventsApplied());

        byte[] afterFence1 = all.get(2).image();
        assertEquals(C2, longAt(afterFence1, 16));
        assertEquals(D, MemorySegment.ofArray(afterFence1).get(ValueLayout.JAVA_INT_UNALIGNED, 24));
        assertEquals(0, longAt(afterFence1, 32));

        CrashImage fin = all.get(3);
        assertEquals(Kind.FINAL, fin.kind());
        assertEquals(E, longAt(fin.image(), 32));
        assertArrayEquals(rec.snapshot(), fin.image(), "the final image is what the region holds");
        assertArrayEquals(rec.snapshot(), CrashImages.replay(base, log));
    }

    @Test
    void variantsOnlyTouchTheEpochsPendingWordsWithValuesTheyHeld() {
        byte[] base = script();
        List<Event> log = rec.events();
        int n = 60;
        List<CrashImage> all = CrashImages.stream(base, log, n, 42).toList();
        assertEquals(3 + 3 * n + 1, all.size());
        assertEquals(CrashImages.count(log, n), all.size());

        byte[] prefix = null;
        Set<Long> seenAt16 = new HashSet<>();
        Set<Long> seenAt24 = new HashSet<>();
        Set<String> seenEpoch0 = new HashSet<>();
        for (CrashImage img : all) {
            if (img.kind() == Kind.DURABLE_PREFIX) {
                prefix = img.image();
                continue;
            }
            if (img.kind() == Kind.FINAL) {
                continue;
            }
            byte[] v = img.image();
            switch (img.epoch()) {
                case 0 -> {
                    assertTrue(longAt(v, 0) == 0 || longAt(v, 0) == A, img.describe());
                    assertTrue(longAt(v, 8) == 0 || longAt(v, 8) == B, img.describe());
                    assertArrayEquals(Arrays.copyOfRange(prefix, 16, 4096), Arrays.copyOfRange(v, 16, 4096));
                    seenEpoch0.add(longAt(v, 0) + "/" + longAt(v, 8));
                }
                case 1 -> {
                    // Everything outside words 16 and 24 equals the durable prefix.
                    assertArrayEquals(Arrays.copyOfRange(prefix, 0, 16), Arrays.copyOfRange(v, 0, 16), img.describe());
                    assertArrayEquals(Arrays.copyOfRange(prefix, 32, 4096), Arrays.copyOfRange(v, 32, 4096));
                    long w16 = longAt(v, 16);
                    assertTrue(w16 == 0 || w16 == C || w16 == C2, img.describe() + ": " + Long.toHexString(w16));
                    seenAt16.add(w16);
                    long w24 = longAt(v, 24);
                    assertTrue(w24 == 0 || w24 == (D & 0xffffffffL), img.describe());
                    seenAt24.add(w24);
                }
                case 2 -> {
                    assertArrayEquals(Arrays.copyOfRange(prefix, 0, 32), Arrays.copyOfRange(v, 0, 32));
                    assertTrue(longAt(v, 32) == 0 || longAt(v, 32) == E, img.describe());
                }
                default -> throw new AssertionError(img.describe());
            }
        }
        // Every state the words went through shows up, including the intermediate C.
        assertEquals(Set.of(0L, C, C2), seenAt16);
        assertEquals(Set.of(0L, D & 0xffffffffL), seenAt24);
        assertEquals(4, seenEpoch0.size(), "A and B survive independently: " + seenEpoch0);

        // The same seed rebuilds the same images.
        Iterator<CrashImage> again = CrashImages.iterator(base, log, n, 42);
        for (CrashImage img : all) {
            CrashImage other = again.next();
            assertEquals(img.describe(), other.describe());
            assertArrayEquals(img.image(), other.image());
        }
        assertTrue(!again.hasNext());
    }

    @Test
    void imagesStreamIsTheSameSequence() {
        byte[] base = script();
        List<Event> log = rec.events();
        List<byte[]> images = CrashImages.images(base, log, 2, 7).toList();
        List<CrashImage> described = CrashImages.stream(base, log, 2, 7).toList();
        assertEquals(described.size(), images.size());
        for (int i = 0; i < images.size(); i++) {
            assertArrayEquals(described.get(i).image(), images.get(i));
        }
    }

    @Test
    void releasesAndFillsAreWritesOfZerosAndValues() {
        byte[] base = new byte[64];
        Arrays.fill(base, (byte) 1);
        List<Event> log = List.of(new Fence(), new Release(8, 16), new Fill(40, 8, (byte) 7));
        List<CrashImage> all = CrashImages.stream(base, log, 40, 3).toList();
        byte[] fin = all.getLast().image();
        assertEquals(0, longAt(fin, 8));
        assertEquals(0, longAt(fin, 16));
        assertEquals(0x0707070707070707L, longAt(fin, 40));
        for (CrashImage img : all) {
            if (img.kind() == Kind.PARTIAL_EPOCH) {
                assertEquals(1, img.epoch());
                long w = longAt(img.image(), 8);
                assertTrue(w == 0 || w == 0x0101010101010101L);
            }
        }
        assertEquals(CrashImages.count(log, 40), all.size());
    }

    @Test
    void eventsOutsideTheImageAreRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> CrashImages.stream(new byte[16], List.of(new Store(12, new byte[8])), 1, 1));
    }

    @Test
    void tenThousandEventsOnSixteenMebibytes() {
        byte[] base = new byte[16 << 20];
        List<Event> log = new ArrayList<>();
        Random r = new Random(5);
        for (int i = 0; i < 10_000; i++) {
            if (i % 500 == 499) {
                log.add(new Fence());
            } else {
                byte[] b = new byte[1 + r.nextInt(64)];
                r.nextBytes(b);
                log.add(new Store(r.nextInt(base.length - 64), b));
            }
        }
        long start = System.nanoTime();
        long[] count = {0};
        CrashImages.images(base, log, 2, 9).forEach(img -> count[0]++);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(CrashImages.count(log, 2), count[0]);
        // 20 fences make 21 epochs; the last one (after the final fence) writes nothing.
        assertEquals(21 + 2 * 20 + 1, count[0]);
        assertTrue(millis < 60_000, "took " + millis + " ms");
    }
}
