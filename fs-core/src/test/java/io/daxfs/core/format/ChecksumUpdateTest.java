package io.daxfs.core.format;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * {@link Checksums#updated}: a unit's CRC updated from the bytes that change must be the CRC
 * computed over the whole changed unit, for every kind of unit, every place a change can fall
 * (inside the bytes the CRC covers, across an uncovered range, at the first and last byte) and
 * every length; and a damaged unit must stay damaged.
 */
class ChecksumUpdateTest {
    private static final Geometry G = Geometry.forDevice(64L << 20, 0);
    private static final Checksums CHECKSUMS = new Checksums(new UUID(0x1234_5678_9abc_def0L, 42), G);

    private static long unitStart(Checksums.Kind kind) {
        return switch (kind) {
            case INODE -> G.inodeOffset(7);
            case BITMAP -> Geometry.blockOffset(G.inodeBitmapStart());
            case DIRECTORY, OVERFLOW -> Geometry.blockOffset(G.dataStart() + 3);
        };
    }

    @RepeatedTest(20)
    void anUpdatedCrcEqualsTheFullComputation() {
        Random random = new Random();
        long seed = random.nextLong();
        random.setSeed(seed);
        for (Checksums.Kind kind : Checksums.Kind.values()) {
            long start = unitStart(kind);
            byte[] unit = new byte[kind.size()];
            random.nextBytes(unit);
            int crc = CHECKSUMS.compute(kind, start, unit, 0);
            for (int change = 0; change < 200; change++) {
                int at = random.nextInt(kind.size());
                int length = 1 + random.nextInt(Math.min(kind.size() - at, random.nextBoolean() ? 16 : kind.size()));
                byte[] fresh = new byte[length];
                random.nextBytes(fresh);
                byte[] old = java.util.Arrays.copyOfRange(unit, at, at + length);
                crc = Checksums.updated(kind, crc, at, xor(old, fresh), 0, length);
                System.arraycopy(fresh, 0, unit, at, length);
                assertEquals(CHECKSUMS.compute(kind, start, unit, 0), crc,
                        kind + ": change of " + length + " bytes at " + at + " (seed " + seed + ")");
            }
        }
    }

    private static byte[] xor(byte[] a, byte[] b) {
        byte[] d = new byte[a.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = (byte) (a[i] ^ b[i]);
        }
        return d;
    }

    @Test
    void theFirstAndLastBytesAndAWholeUnit() {
        for (Checksums.Kind kind : Checksums.Kind.values()) {
            long start = unitStart(kind);
            byte[] unit = new byte[kind.size()];
            int crc = CHECKSUMS.compute(kind, start, unit, 0);
            for (int at : new int[] {0, kind.size() - 1}) {
                byte[] one = {(byte) 0xA5};
                crc = Checksums.updated(kind, crc, at, xor(new byte[] {unit[at]}, one), 0, 1);
                unit[at] = one[0];
                assertEquals(CHECKSUMS.compute(kind, start, unit, 0), crc, kind + " byte " + at);
            }
            byte[] all = new byte[kind.size()];
            new Random(kind.ordinal()).nextBytes(all);
            crc = Checksums.updated(kind, crc, 0, xor(unit, all), 0, kind.size());
            assertEquals(CHECKSUMS.compute(kind, start, all, 0), crc, kind + " whole unit");
        }
    }

    @Test
    void uncoveredBytesDoNotChangeTheCrc() {
        byte[] inode = new byte[Geometry.INODE_SIZE];
        int crc = CHECKSUMS.compute(Checksums.Kind.INODE, unitStart(Checksums.Kind.INODE), inode, 0);
        byte[] size = {1, 2, 3, 4, 5, 6, 7, 8};
        assertEquals(crc, Checksums.updated(Checksums.Kind.INODE, crc, 16, size, 0, 8));
        byte[] acrossUncovered = new byte[60]; // bytes 10..70: covered, size, atime, covered, mtime...
        java.util.Arrays.fill(acrossUncovered, (byte) 0x5A);
        byte[] changed = inode.clone();
        for (int i = 0; i < 60; i++) {
            changed[10 + i] ^= 0x5A;
        }
        assertEquals(CHECKSUMS.compute(Checksums.Kind.INODE, unitStart(Checksums.Kind.INODE), changed, 0),
                Checksums.updated(Checksums.Kind.INODE, crc, 10, acrossUncovered, 0, 60));
    }

    @Test
    void aDamagedUnitStaysDamaged() {
        Checksums.Kind kind = Checksums.Kind.DIRECTORY;
        long start = unitStart(kind);
        byte[] unit = new byte[kind.size()];
        new Random(7).nextBytes(unit);
        int crc = CHECKSUMS.compute(kind, start, unit, 0);
        unit[1000] ^= 0x10; // damage the stored unit behind its CRC's back
        byte[] fresh = {9, 9, 9};
        int updated = Checksums.updated(kind, crc, 20, xor(java.util.Arrays.copyOfRange(unit, 20, 23), fresh), 0, 3);
        System.arraycopy(fresh, 0, unit, 20, 3);
        assertNotEquals(CHECKSUMS.compute(kind, start, unit, 0), updated);
    }
}
