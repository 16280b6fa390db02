package io.daxfs.core.journal;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The commit-time resolution of deferred bit updates: whatever ranges a transaction sets and
 * clears, in whatever order and overlap, its records hold exactly the bitmap bytes a bit-by-bit
 * application would give, with disjoint records in ascending offset.
 */
class BitmapRunsTest {
    private static final int BITMAP = 64;

    @Test
    void rangesInOneByteAdjacentAndApartMatchBitByBitApplication() {
        Random random = new Random(42);
        for (int round = 0; round < 2_000; round++) {
            byte[] start = new byte[BITMAP];
            random.nextBytes(start);
            MemorySegment media = Arena.ofAuto().allocate(BITMAP);
            MemorySegment.copy(start, 0, media, ValueLayout.JAVA_BYTE, 0, BITMAP);
            byte[] expected = start.clone();
            Transaction tx = new Transaction();
            BitmapRuns runs = new BitmapRuns();
            int ranges = 1 + random.nextInt(5);
            for (int r = 0; r < ranges; r++) {
                int first = random.nextInt(BITMAP * 8 - 1);
                int count = 1 + random.nextInt(Math.min(40, BITMAP * 8 - first));
                boolean set = random.nextBoolean();
                for (int bit = first; bit < first + count; bit++) {
                    expected[bit >>> 3] = (byte) (set ? expected[bit >>> 3] | 1 << (bit & 7)
                            : expected[bit >>> 3] & ~(1 << (bit & 7)));
                }
                byte[] run = runs.cover(media, first >>> 3, ((first + count - 1) >>> 3) + 1);
                long runStart = runs.lastStart();
                for (int bit = first; bit < first + count; bit++) {
                    int i = (int) ((bit >>> 3) - runStart);
                    run[i] = (byte) (set ? run[i] | 1 << (bit & 7) : run[i] & ~(1 << (bit & 7)));
                }
            }
            runs.emit(tx);
            byte[] result = start.clone();
            long previousEnd = -1;
            for (long[] rec : records(tx, result)) {
                assertTrue(rec[0] > previousEnd, "records disjoint, not adjacent, ascending");
                previousEnd = rec[0] + rec[1];
            }
            assertArrayEquals(expected, result, "round " + round);
        }
    }

    /** Applies the transaction's records to {@code image}; returns (offset, length) of each. */
    private static List<long[]> records(Transaction tx, byte[] image) {
        ByteBuffer b = tx.recordBuffer().duplicate().flip().order(tx.recordBuffer().order());
        List<long[]> out = new ArrayList<>();
        while (b.hasRemaining()) {
            long target = b.getLong();
            int len = b.getInt();
            b.getInt();
            b.get(image, (int) target, len);
            b.position(b.position() + Transaction.pad8(len) - len);
            out.add(new long[]{target, len});
        }
        return out;
    }
}
