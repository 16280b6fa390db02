package io.daxfs.devdax;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.daxfs.devdax.CrashStates.CrashState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The strict persistence model: what is durable when, and the states built from it. */
class CrashStatesTest {
    private static final int SIZE = 3 * 4096;
    private static final long A = 0x1111111111111111L;
    private static final long B = 0x2222222222222222L;
    private static final long C = 0x3333333333333333L;

    private final Arena arena = Arena.ofConfined();
    private RecordingRegion rec;
    private byte[] base;
    private CrashStates model;

    private RecordingRegion start(PersistenceMode mode) {
        MemorySegment memory = arena.allocate(SIZE, 4096);
        rec = new RecordingRegion(new ScratchRegion(memory, PersistenceMode.VOLATILE), mode);
        base = rec.snapshot();
        return rec;
    }

    /** The model over what was recorded, advanced to the end of the log. */
    private CrashStates atEnd() {
        model = new CrashStates(base, rec.events(), rec.persistenceMode());
        model.advanceTo(model.logSize());
        return model;
    }

    private static long word(byte[] image, long offset) {
        return MemorySegment.ofArray(image).get(MediaOrder.LONG, offset);
    }

    private long durable(long offset) {
        return word(model.image(model.durableOnly()), offset);
    }

    @AfterEach
    void close() {
        if (model != null) {
            model.close();
        }
        arena.close();
    }

    @Test
    void aFencedStoreThatWasNeverFlushedIsNotDurable() {
        RecordingRegion r = start(PersistenceMode.CACHE_LINE_WRITEBACK);
        r.putLong(0, A);
        r.fence();
        atEnd();
        assertEquals(0, durable(0), "no write-back: the fence made nothing durable");
        assertEquals(1, model.pendingWords());
        assertEquals(A, word(model.image(model.allWritten()), 0), "but it may have reached the media");
    }

    @Test
    void aWriteBackNeedsAFenceAfterIt() {
        RecordingRegion r = start(PersistenceMode.CACHE_LINE_WRITEBACK);
        r.putLong(0, A);
        r.flush(0, 8);
        int afterFlush = r.eventCount();
        r.fence();
        model = new CrashStates(base, rec.events(), PersistenceMode.CACHE_LINE_WRITEBACK);
        model.advanceTo(afterFlush);
        assertEquals(0, durable(0), "written back but not fenced: not durable yet");
        model.advanceTo(model.logSize());
        assertEquals(A, durable(0));
        assertEquals(0, model.pendingWords());
    }

    @Test
    void aFenceBeforeTheWriteBackDoesNotCount() {
        RecordingRegion r = start(PersistenceMode.CACHE_LINE_WRITEBACK);
        r.putLong(0, A);
        r.fence();
        r.flush(0, 8);
        atEnd();
        assertEquals(0, durable(0));
    }

    @Test
    void aWriteBackCoversWholeCacheLinesOnly() {
        RecordingRegion r = start(PersistenceMode.CACHE_LINE_WRITEBACK);
        r.putLong(56, A); // line 0
        r.putLong(64, B); // line 1
        r.putLong(0, C); // line 0
        r.flush(60, 1); // one byte of line 0
        r.fence();
        atEnd();
        assertEquals(A, durable(56));
        assertEquals(C, durable(0), "same line as the flushed byte");
        assertEquals(0, durable(64), "the next line was not written back");
    }

    @Test
    void aStoreAfterTheWriteBackIsNotCoveredByIt() {
        RecordingRegion r = start(PersistenceMode.CACHE_LINE_WRITEBACK);
        r.putLong(0, A);
        r.flush(0, 8);
        r.putLong(0, B);
        r.fence();
        atEnd();
        assertEquals(A, durable(0), "the write-back took A; B came after it");
        assertEquals(B, word(model.image(model.allWritten()), 0));
        r.flush(0, 8);
        r.fence();
        model.close();
        atEnd();
        assertEquals(B, durable(0));
    }

    @Test
    void msyncMakesItsWholePagesDurableAtOnce() {
        RecordingRegion r = start(PersistenceMode.MSYNC);
        r.putLong(0, A);
        r.putLong(4000, B); // same page, outside the range
        r.putLong(4096, C); // next page
        r.flush(0, 8);
        atEnd(); // no fence at all
        assertEquals(A, durable(0));
        assertEquals(B, durable(4000), "msync writes back and waits for the whole page");
        assertEquals(0, durable(4096));
    }

    @Test
    void fenceOnlyIsTheKindModel() {
        RecordingRegion r = start(PersistenceMode.FENCE_ONLY);
        r.putLong(0, A);
        r.fence();
        r.putLong(8, B);
        atEnd();
        assertEquals(A, durable(0));
        assertEquals(0, durable(8));
    }

    @Test
    void volatileIsRefused() {
        start(PersistenceMode.CACHE_LINE_WRITEBACK);
        assertThrows(IllegalArgumentException.class, () -> new CrashStates(base, List.of(), PersistenceMode.VOLATILE));
    }

    @Test
    void aReleaseIsZerosWrittenBack() {
        RecordingRegion r = start(PersistenceMode.CACHE_LINE_WRITEBACK);
        r.putLong(4096, A);
        r.flush(4096, 8);
        r.fence();
        r.release(4096, 4096);
        int released = r.eventCount();
        r.fence();
        model = new CrashStates(base, rec.events(), PersistenceMode.CACHE_LINE_WRITEBACK);
        model.advanceTo(released);
        assertEquals(A, durable(4096), "the zeros are not fenced yet");
        model.advanceTo(model.logSize());
        assertEquals(0, durable(4096));
    }

    /** Two 4-byte stores into one word: the word holds one of the three values it had, never a tear. */
    @Test
    void aWordHoldsOnlyValuesItHad() {
        RecordingRegion r = start(PersistenceMode.CACHE_LINE_WRITEBACK);
        r.putInt(0, 0x11111111);
        r.putInt(4, 0x22222222);
        r.putLong(8, C);
        atEnd();
        assertEquals(6, model.combinations(100), "word 0: 3 values, word 8: 2 values");
        List<CrashState> all = model.allCombinations(100);
        Set<List<Long>> seen = new HashSet<>();
        for (CrashState s : all) {
            byte[] img = model.image(s);
            seen.add(List.of(word(img, 0), word(img, 8)));
        }
        assertEquals(Set.of(List.of(0L, 0L), List.of(0x11111111L, 0L), List.of(0x2222222211111111L, 0L),
                List.of(0L, C), List.of(0x11111111L, C), List.of(0x2222222211111111L, C)), seen);
        assertNull(model.allCombinations(5));
    }

    @Test
    void equalImagesHaveEqualFingerprints() {
        RecordingRegion r = start(PersistenceMode.CACHE_LINE_WRITEBACK);
        r.putLong(0, A);
        r.putLong(64, B);
        int beforeFlush = r.eventCount();
        r.flush(0, 128);
        r.fence();
        model = new CrashStates(base, rec.events(), PersistenceMode.CACHE_LINE_WRITEBACK);
        model.advanceTo(beforeFlush);
        CrashState all = model.allWritten();
        CrashState none = model.durableOnly();
        CrashState onlyA = model.keepOnly("first line", off -> off < 64);
        assertNotEquals(all.fingerprint(), none.fingerprint());
        assertNotEquals(all.fingerprint(), onlyA.fingerprint());
        long allFp = all.fingerprint();
        long allHigh = all.fingerprintHigh();
        byte[] allImage = model.image(all);
        model.advanceTo(model.logSize());
        CrashState durable = model.durableOnly();
        assertArrayEquals(allImage, model.image(durable));
        assertEquals(allFp, durable.fingerprint());
        assertEquals(allHigh, durable.fingerprintHigh());
    }

    @Test
    void mixedStatesAreChosenPerWordFromTheSeedAlone() {
        RecordingRegion r = start(PersistenceMode.CACHE_LINE_WRITEBACK);
        for (int i = 0; i < 200; i++) {
            r.putLong(8L * i, A + i);
        }
        atEnd();
        CrashState one = model.mixed("m", 42, 0.5);
        CrashState again = model.mixed("m", 42, 0.5);
        assertArrayEquals(model.image(one), model.image(again));
        assertTrue(one.wordsReplaced() > 50 && one.wordsReplaced() < 150, "about half kept: " + one.wordsReplaced());
        assertNotEquals(one.fingerprint(), model.mixed("m", 43, 0.5).fingerprint());
        byte[] img = model.image(one);
        model.close();

        // Another log with one more pending word: the other words choose as before.
        RecordingRegion r2 = start(PersistenceMode.CACHE_LINE_WRITEBACK);
        for (int i = 0; i < 200; i++) {
            r2.putLong(8L * i, A + i);
        }
        r2.putLong(8192, B);
        atEnd();
        byte[] img2 = model.image(model.mixed("m", 42, 0.5));
        for (int i = 0; i < 200; i++) {
            assertEquals(word(img, 8L * i), word(img2, 8L * i), "word " + i);
        }
    }

    @Test
    void anInstalledStateIsTakenOutWithEverythingWrittenToIt() {
        RecordingRegion r = start(PersistenceMode.CACHE_LINE_WRITEBACK);
        r.putLong(0, A);
        r.flush(0, 8);
        r.fence();
        r.putLong(8, B);
        atEnd();
        CrashState all = model.allWritten();
        byte[] before = model.durableView().toArray(ValueLayout.JAVA_BYTE);
        try (CrashStates.Installed in = model.install(all)) {
            assertEquals(B, in.region().readView().get(MediaOrder.LONG, 8));
            in.region().putLong(16, C);
            in.region().fill(4096, 8192, (byte) 7);
            assertThrows(IllegalStateException.class, () -> model.advanceTo(model.logSize()));
        }
        assertArrayEquals(before, model.durableView().toArray(ValueLayout.JAVA_BYTE));
        assertEquals(A, before.length > 0 ? word(before, 0) : 0);
    }

    @Test
    void eventsOutsideTheImageAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new CrashStates(new byte[16],
                List.of(new RecordingRegion.Store(12, new byte[8])), PersistenceMode.CACHE_LINE_WRITEBACK));
        assertThrows(IllegalArgumentException.class, () -> new CrashStates(new byte[16],
                List.of(new RecordingRegion.Flush(8, 64)), PersistenceMode.CACHE_LINE_WRITEBACK));
    }

    /** The cost of the model itself: 10,000 events over a 16 MiB image, a state at every fence. */
    @Test
    void tenThousandEventsOnSixteenMebibytes() {
        byte[] big = new byte[16 << 20];
        List<RecordingRegion.Event> log = new java.util.ArrayList<>();
        java.util.Random r = new java.util.Random(5);
        for (int i = 0; i < 10_000; i++) {
            if (i % 500 == 499) {
                log.add(new RecordingRegion.Fence());
            } else if (i % 50 == 49) {
                log.add(new RecordingRegion.Flush(r.nextInt(big.length - 4096), 4096));
            } else {
                byte[] b = new byte[1 + r.nextInt(64)];
                r.nextBytes(b);
                log.add(new RecordingRegion.Store(r.nextInt(big.length - 64), b));
            }
        }
        long start = System.nanoTime();
        int states = 0;
        try (CrashStates m = new CrashStates(big, log, PersistenceMode.CACHE_LINE_WRITEBACK)) {
            for (int i = 0; i < log.size(); i++) {
                if (log.get(i) instanceof RecordingRegion.Fence) {
                    m.advanceTo(i);
                    for (CrashState s : List.of(m.durableOnly(), m.allWritten(), m.mixed("m", i, 0.5))) {
                        try (CrashStates.Installed in = m.install(s)) {
                            states += in.region().size() > 0 ? 1 : 0;
                        }
                    }
                }
            }
            m.advanceTo(log.size());
            assertTrue(m.pendingWords() > 0, "stores never written back stay pending");
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(60, states);
        assertTrue(millis < 30_000, "took " + millis + " ms");
    }
}
