package io.daxfs.devdax;

import static io.daxfs.devdax.TestSupport.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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

/** RecordingRegion over a real mapped image: what it logs, and that the log replays to the contents. */
class RecordingRegionTest {
    @TempDir
    Path dir;

    private OpenedDevice device;
    private RecordingRegion rec;

    @BeforeEach
    void open() throws Exception {
        device = DeviceOpener.open(dir.resolve("rec.img"), DeviceOptions.builder().createSize(64 * 1024).build());
        rec = new RecordingRegion(device.region());
    }

    @AfterEach
    void close() {
        device.close();
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
        try (CrashStates model = new CrashStates(new byte[(int) rec.size()], rec.events(),
                PersistenceMode.CACHE_LINE_WRITEBACK)) {
            model.advanceTo(model.logSize());
            assertArrayEquals(rec.snapshot(), model.image(model.allWritten()), "the log replays to the region's contents");
        }
    }

    @Test
    void reportsTheModeItIsGivenOrItsDelegates() {
        assertEquals(device.region().persistenceMode(), rec.persistenceMode());
        RecordingRegion asPmem = new RecordingRegion(device.region(), PersistenceMode.CACHE_LINE_WRITEBACK);
        assertEquals(PersistenceMode.CACHE_LINE_WRITEBACK, asPmem.persistenceMode());
        asPmem.putLong(0, 1);
        assertEquals(1, asPmem.eventCount());
        assertEquals(1, device.region().readView().get(MediaOrder.LONG, 0), "still forwarded");
    }
}
