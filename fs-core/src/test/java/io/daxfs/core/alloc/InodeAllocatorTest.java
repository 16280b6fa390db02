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
}
