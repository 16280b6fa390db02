package io.daxfs.core.inode;

import org.junit.jupiter.api.Test;

import java.util.BitSet;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DirtyRanges against a bit set of dirty bytes: same bytes, ranges sorted, disjoint, merged. */
class DirtyRangesTest {

    @Test
    void matchesABitSetModel() {
        Random rnd = new Random(4);
        for (int round = 0; round < 200; round++) {
            DirtyRanges d = new DirtyRanges();
            BitSet model = new BitSet();
            int adds = 1 + rnd.nextInt(60);
            for (int i = 0; i < adds; i++) {
                int off = rnd.nextInt(4000);
                int len = 1 + rnd.nextInt(rnd.nextBoolean() ? 8 : 200);
                d.add(off, len);
                model.set(off, off + len);
            }
            List<long[]> got = d.drain();
            BitSet seen = new BitSet();
            long prevEnd = -2;
            for (long[] r : got) {
                assertTrue(r[0] < r[1], "non-empty");
                assertTrue(r[0] > prevEnd, "sorted, disjoint and not touching: " + r[0] + " after " + prevEnd);
                prevEnd = r[1];
                seen.set((int) r[0], (int) r[1]);
            }
            assertEquals(model, seen, "round " + round);
            assertEquals(List.of(), d.drain(), "drain empties");
        }
    }

    @Test
    void collapsesToEverythingPastTheBound() {
        DirtyRanges d = new DirtyRanges();
        for (int i = 0; i < DirtyRanges.MAX_RANGES; i++) {
            d.add(i * 10L, 1);
        }
        assertEquals(DirtyRanges.MAX_RANGES, d.drain().size());
        for (int i = 0; i <= DirtyRanges.MAX_RANGES; i++) {
            d.add(i * 10L, 1);
        }
        assertNull(d.drain(), "one range too many: everything");
        d.add(5, 5);
        assertEquals(1, d.drain().size(), "tracking again after a drain");
    }
}
