package io.daxfs.core.alloc;

import io.daxfs.core.format.Geometry;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Inode numbers: loaded from the bitmap, handed out once, released and reused. */
class InodeAllocatorTest {
    private static final Geometry G = Geometry.forDevice(16L << 20, 64);

    /** An inode bitmap with the given inode numbers in use. */
    private static InodeAllocator load(long... inUse) {
        MemorySegment media = MemorySegment.ofArray(new byte[(int) (G.inodeBitmapOffset() + 4096)]);
        for (long ino : inUse) {
            long bit = ino - 1;
            long off = G.inodeBitmapOffset() + bit / 8;
            media.set(ValueLayout.JAVA_BYTE, off, (byte) (media.get(ValueLayout.JAVA_BYTE, off) | (1 << (bit % 8))));
        }
        return InodeAllocator.load(media, G);
    }

    @Test
    void loadReadsTheBitmap() {
        InodeAllocator a = load(1, 2, 9, 64);
        assertEquals(64, a.count());
        assertEquals(60, a.freeInodes());
        assertTrue(a.isUsed(1));
        assertTrue(a.isUsed(9));
        assertTrue(a.isUsed(64));
        assertFalse(a.isUsed(3));
        assertEquals(3, a.allocate(), "lowest free number first");
        assertEquals(4, a.allocate());
    }

    @Test
    void everyNumberOnceThenZero() {
        InodeAllocator a = load(1);
        Set<Long> got = new HashSet<>();
        for (int i = 0; i < 63; i++) {
            long ino = a.allocate();
            assertTrue(ino >= 2 && ino <= 64, "ino " + ino);
            assertTrue(got.add(ino), "ino " + ino + " handed out twice");
            assertTrue(a.isUsed(ino));
        }
        assertEquals(0, a.freeInodes());
        assertEquals(0, a.allocate(), "none left");
        assertEquals(0, a.allocate());
    }

    @Test
    void releaseAndReuse() {
        InodeAllocator a = load(1);
        for (int i = 0; i < 63; i++) {
            a.allocate();
        }
        a.release(17);
        assertFalse(a.isUsed(17));
        assertEquals(1, a.freeInodes());
        assertEquals(17, a.allocate(), "the released number comes back");
        assertEquals(0, a.allocate());
        a.release(5);
        a.release(40);
        Set<Long> again = Set.of(a.allocate(), a.allocate());
        assertEquals(Set.of(5L, 40L), again);
        assertThrows(IllegalStateException.class, () -> {
            a.release(40);
            a.release(40);
        }, "double release");
        assertThrows(IllegalStateException.class, () -> load(1).release(2), "release of a free number");
    }

    @Test
    void cursorRotatesBeforeReusing() {
        InodeAllocator a = load(1);
        long x = a.allocate(); // 2
        long y = a.allocate(); // 3
        a.release(x);
        // A just-freed number is not handed out again at once while fresh ones remain.
        assertEquals(y + 1, a.allocate());
        assertEquals(2, x);
    }

    /** isUsed reads a lock-free mirror of the bitmap: it must agree with every allocate and release. */
    @Test
    void isUsedFollowsEveryChange() {
        InodeAllocator a = load(1, 20, 40);
        java.util.Random rnd = new java.util.Random(3);
        Set<Long> model = new HashSet<>(Set.of(1L, 20L, 40L));
        for (int step = 0; step < 5000; step++) {
            if (model.isEmpty() || rnd.nextInt(3) > 0) {
                long ino = a.allocate();
                if (ino != 0) {
                    assertTrue(model.add(ino));
                }
            } else {
                Long victim = model.stream().skip(rnd.nextInt(model.size())).findFirst().orElseThrow();
                model.remove(victim);
                a.release(victim);
            }
            if (step % 97 == 0) {
                for (long ino = 1; ino <= a.count(); ino++) {
                    assertEquals(model.contains(ino), a.isUsed(ino), "inode " + ino + " at step " + step);
                }
            }
        }
        assertFalse(a.isUsed(0));
        assertFalse(a.isUsed(a.count() + 1));
    }

    /** The numbers each of {@code threads} threads gets from {@code perThread} allocations. */
    private static java.util.List<java.util.List<Long>> allocateInThreads(InodeAllocator a, int threads, int perThread)
            throws InterruptedException {
        java.util.List<java.util.List<Long>> got = new java.util.ArrayList<>();
        for (int t = 0; t < threads; t++) {
            java.util.List<Long> mine = new java.util.ArrayList<>();
            Thread th = new Thread(() -> {
                for (int i = 0; i < perThread; i++) {
                    mine.add(a.allocate());
                }
            });
            th.start();
            th.join(); // one after the other: the k-th thread to allocate is known
            got.add(mine);
        }
        return got;
    }

    /**
     * Threads allocating in parallel take numbers in regions of their own, so that they do not
     * share bitmap words and lines; the first thread starts at the lowest free number.
     */
    @Test
    void eachThreadAllocatesInItsOwnRegion() throws InterruptedException {
        Geometry g = Geometry.forDevice(64L << 20, 8 * InodeAllocator.REGION);
        MemorySegment media = MemorySegment.ofArray(new byte[(int) (g.inodeBitmapOffset() + 4096)]);
        media.set(ValueLayout.JAVA_BYTE, g.inodeBitmapOffset(), (byte) 1); // the root
        InodeAllocator a = InodeAllocator.load(media, g);
        var got = allocateInThreads(a, 3, 10);
        assertEquals(java.util.stream.LongStream.rangeClosed(2, 11).boxed().toList(), got.get(0), "the first thread: from the start");
        Set<Long> lines = new HashSet<>();
        Set<Long> all = new HashSet<>();
        for (var mine : got) {
            for (int i = 1; i < mine.size(); i++) {
                assertEquals(mine.get(i - 1) + 1, mine.get(i), "a thread's numbers follow one another: " + mine);
            }
            assertTrue(lines.add((mine.get(0) - 1) / InodeAllocator.REGION), "a region per thread: " + got);
            for (long ino : mine) {
                assertTrue(all.add(ino), "ino " + ino + " handed out twice");
            }
        }
    }

    /** A thread whose region runs out wraps around, and every number is still handed out once. */
    @Test
    void aThreadWrapsAroundWhenItsRegionIsFull() throws InterruptedException {
        Geometry g = Geometry.forDevice(64L << 20, 2 * InodeAllocator.REGION);
        MemorySegment media = MemorySegment.ofArray(new byte[(int) (g.inodeBitmapOffset() + 4096)]);
        InodeAllocator a = InodeAllocator.load(media, g);
        var got = allocateInThreads(a, 2, InodeAllocator.REGION);
        Set<Long> all = new HashSet<>();
        got.forEach(all::addAll);
        assertEquals(2 * InodeAllocator.REGION, all.size(), "every number once");
        assertEquals(0, a.allocate(), "none left");
    }
}
