package io.daxfs.fuse.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;

class KernelReferencesTest {
    @Test
    void pinIsTakenOnceAndReleasedByTheLastForget() {
        KernelReferences r = new KernelReferences();
        assertFalse(r.pinIfReferenced(7), "not referenced: nothing to pin");
        r.add(7);
        r.add(7);
        assertTrue(r.pinIfReferenced(7));
        assertFalse(r.pinIfReferenced(7), "already pinned");
        assertEquals(0, r.forget(7, 1));
        assertTrue(r.referenced(7));
        assertEquals(KernelReferences.RELEASE_PIN, r.forget(7, 1), "the last lookup of a pinned inode releases the pin");
        assertFalse(r.referenced(7));
        assertEquals(0, r.size());
    }

    @Test
    void forgetOfMoreThanHeldOrOfAnUnknownInodeIsHarmless() {
        KernelReferences r = new KernelReferences();
        assertEquals(0, r.forget(3, 5));
        r.add(3);
        assertEquals(0, r.forget(3, 10), "not pinned: nothing to release");
        assertEquals(0, r.size());
        r.add(3);
        r.pinIfReferenced(3);
        r.unpin(3);
        assertEquals(0, r.forget(3, 1), "unpinned again");
    }

    @Test
    void aNumberIsHeldOnlyWhileReferencedAndGivenBackByTheLastForget() {
        KernelReferences r = new KernelReferences();
        assertFalse(r.holdIfReferenced(9), "the kernel never saw it: reuse at once");
        r.add(9);
        r.add(9);
        assertTrue(r.holdIfReferenced(9));
        assertTrue(r.pinIfReferenced(9));
        assertEquals(0, r.forget(9, 1));
        assertEquals(KernelReferences.RELEASE_PIN | KernelReferences.RELEASE_NUMBER, r.forget(9, 1));
    }

    /** Against a HashMap model, with enough keys to make every stripe grow and delete across wrap-around. */
    @Test
    void agreesWithAModelUnderRandomAddsPinsAndForgets() {
        KernelReferences r = new KernelReferences();
        Map<Long, Long> counts = new HashMap<>();
        Set<Long> pinned = new HashSet<>();
        Random random = new Random(42);
        for (int step = 0; step < 400_000; step++) {
            long ino = 1 + random.nextInt(20_000);
            switch (random.nextInt(4)) {
                case 0, 1 -> {
                    r.add(ino);
                    counts.merge(ino, 1L, Long::sum);
                }
                case 2 -> {
                    boolean expect = counts.containsKey(ino) && !pinned.contains(ino);
                    assertEquals(expect, r.pinIfReferenced(ino), "pin " + ino);
                    if (expect) {
                        pinned.add(ino);
                    }
                }
                default -> {
                    long n = 1 + random.nextInt(3);
                    Long c = counts.get(ino);
                    boolean release = c != null && c <= n && pinned.contains(ino);
                    assertEquals(release ? KernelReferences.RELEASE_PIN : 0, r.forget(ino, n), "forget " + ino);
                    if (c != null) {
                        if (c <= n) {
                            counts.remove(ino);
                            pinned.remove(ino);
                        } else {
                            counts.put(ino, c - n);
                        }
                    }
                }
            }
        }
        assertEquals(counts.size(), r.size());
        for (long ino = 1; ino <= 20_000; ino++) {
            assertEquals(counts.containsKey(ino), r.referenced(ino), "inode " + ino);
        }
    }
}
