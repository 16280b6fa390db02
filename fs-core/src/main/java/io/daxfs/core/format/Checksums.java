package io.daxfs.core.format;

import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * The checksums of format 2 (docs/format.md, "Checksums"): a CRC32C per metadata unit, seeded
 * with the file system's UUID and the unit's own number, so that a unit of an earlier mkfs of
 * the same device, or one written to the wrong place, fails its check too.
 *
 * <p>Units and where their CRC lives:
 * <ul>
 * <li>{@link Kind#INODE}: 256 bytes; the CRC is the u32 at byte 68. The fields daxfs stores
 *     outside the journal - size [16,24), atime [24,36), mtime [40,52), ctime [56,68) - and
 *     the CRC itself [68,72) are not covered: a direct store never invalidates the CRC.</li>
 * <li>{@link Kind#BITMAP}: one 4096-byte block of the inode or block bitmap; its CRC is the
 *     u32 at index (block - inode bitmap start) of the checksum table.</li>
 * <li>{@link Kind#DIRECTORY}: a directory block; the CRC is the u32 at byte 4 of its header.</li>
 * <li>{@link Kind#OVERFLOW}: an extent-overflow block; the CRC is the u32 at byte 12.</li>
 * </ul>
 * The CRC covers the whole unit except the excluded ranges, preceded by the 16 bytes of the
 * UUID and the unit's number as a little-endian u64 (inode number, or block number).
 *
 * <p>Who writes them: every journal transaction recomputes the CRC of each unit it changes,
 * over the unit as the transaction leaves it ({@code Journal.commit}); mkfs writes the first
 * ones. Nothing else writes covered bytes.
 */
public final class Checksums {
    /** Byte offset of the CRC in an inode. */
    public static final int INODE_CRC = 68;
    /** Bytes per checksum-table entry. */
    public static final int BITMAP_ENTRY = 4;
    /** Byte offset of the CRC in a directory block's header. */
    public static final int DIRECTORY_CRC = 4;
    /** Byte offset of the CRC in an extent-overflow block's header. */
    public static final int OVERFLOW_CRC = 12;
    /** Bytes of the seed before a unit's own bytes: the UUID and the unit number. */
    private static final int SEED_BYTES = 24;

    /** What kind of unit a checksum protects. */
    public enum Kind {
        /** Not covered: size and atime [16, 36), mtime [40, 52), ctime and the CRC [56, 72). */
        INODE(Geometry.INODE_SIZE, 0, 16, 36, 40, 52, 56, 72, Geometry.INODE_SIZE),
        BITMAP(Geometry.BLOCK_SIZE, 0, Geometry.BLOCK_SIZE),
        DIRECTORY(Geometry.BLOCK_SIZE, 0, DIRECTORY_CRC, DIRECTORY_CRC + 4, Geometry.BLOCK_SIZE),
        OVERFLOW(Geometry.BLOCK_SIZE, 0, OVERFLOW_CRC, OVERFLOW_CRC + 4, Geometry.BLOCK_SIZE);

        private final int size;
        /** The bytes the CRC covers, as [from, to) pairs in order (the complement of the uncovered ones). */
        private final int[] covered;
        /** Length of the message the CRC is computed over: the seed and the covered bytes. */
        private final int messageBytes;

        Kind(int size, int... covered) {
            this.size = size;
            this.covered = covered;
            int n = SEED_BYTES;
            for (int i = 0; i < covered.length; i += 2) {
                n += covered[i + 1] - covered[i];
            }
            this.messageBytes = n;
        }

        /** Bytes of one unit. */
        public int size() {
            return size;
        }
    }

    private final byte[] seed;
    private final Geometry g;

    public Checksums(UUID uuid, Geometry g) {
        this.g = g;
        this.seed = MediaOrder.allocate(16).putLong(uuid.getMostSignificantBits())
                .putLong(uuid.getLeastSignificantBits()).array();
    }

    public Checksums(Superblock sb) {
        this(sb.uuid(), sb.geometry());
    }

    public Geometry geometry() {
        return g;
    }

    /**
     * The kind of unit that byte {@code offset} belongs to when a journal record there must
     * reseal it by its address alone: {@link Kind#INODE} in the inode table, {@link Kind#BITMAP}
     * in the bitmaps; null elsewhere (directory and overflow blocks are marked by their writers).
     */
    public Kind kindAt(long offset) {
        long block = offset >>> Geometry.BLOCK_SHIFT;
        if (offset >= 0 && block >= g.inodeTableStart() && block < g.dataStart()) {
            return Kind.INODE;
        }
        return offset >= 0 && g.isBitmapBlock(block) ? Kind.BITMAP : null;
    }

    /** First byte of the unit of {@code kind} holding byte {@code offset}. */
    public long unitStart(Kind kind, long offset) {
        if (kind == Kind.INODE) {
            long table = g.inodeTableOffset();
            return table + Math.floorDiv(offset - table, Geometry.INODE_SIZE) * Geometry.INODE_SIZE;
        }
        return offset & ~(Geometry.BLOCK_SIZE - 1L);
    }

    /** Byte offset of the stored CRC of the unit at {@code unitStart}. */
    public long crcOffset(Kind kind, long unitStart) {
        return switch (kind) {
            case INODE -> unitStart + INODE_CRC;
            case BITMAP -> g.checksumTableOffset()
                    + ((unitStart >>> Geometry.BLOCK_SHIFT) - g.inodeBitmapStart()) * BITMAP_ENTRY;
            case DIRECTORY -> unitStart + DIRECTORY_CRC;
            case OVERFLOW -> unitStart + OVERFLOW_CRC;
        };
    }

    /** The number the CRC of the unit at {@code unitStart} is seeded with: inode or block number. */
    long unitNumber(Kind kind, long unitStart) {
        return kind == Kind.INODE
                ? (unitStart - g.inodeTableOffset()) / Geometry.INODE_SIZE + 1
                : unitStart >>> Geometry.BLOCK_SHIFT;
    }

    /** The CRC of the unit at {@code unitStart} whose bytes are {@code unit} (its own CRC field is ignored). */
    public int compute(Kind kind, long unitStart, ByteBuffer unit) {
        CRC32C c = new CRC32C();
        c.update(seed);
        c.update(MediaOrder.allocate(8).putLong(0, unitNumber(kind, unitStart)));
        int[] covered = kind.covered;
        for (int i = 0; i < covered.length; i += 2) {
            c.update(unit.slice(covered[i], covered[i + 1] - covered[i]));
        }
        return (int) c.getValue();
    }

    /**
     * {@link #compute(Kind, long, ByteBuffer)} over {@code unit[from, from + size)}: the same
     * bytes in the same order, straight from the array (no buffer per call: the journal
     * computes several per commit).
     */
    public int compute(Kind kind, long unitStart, byte[] unit, int from) {
        CRC32C c = new CRC32C();
        c.update(seed, 0, seed.length);
        long n = unitNumber(kind, unitStart);
        for (int i = 0; i < 8; i++) {
            c.update((int) (n >>> (8 * i))); // little endian, as MediaOrder stores it
        }
        int[] covered = kind.covered;
        for (int i = 0; i < covered.length; i += 2) {
            c.update(unit, from + covered[i], covered[i + 1] - covered[i]);
        }
        return (int) c.getValue();
    }

    /**
     * The CRC of a unit of {@code kind} whose CRC was {@code crc} once its bytes {@code [at, at
     * + length)} (offsets in the unit) change by {@code delta[from, from + length)} (old bytes
     * xor new ones), computed from the change alone ({@link Crc32cDelta}). Equal to {@link
     * #compute} over the changed unit when {@code crc} was the unit's true CRC; when it was not
     * (a damaged unit), the result is not either, so the damage stays detectable.
     *
     * <p>Overwrites {@code delta[from, from + length)}: the bytes the CRC covers are moved
     * together, in place, so one CRC and one shift cover the whole change.
     */
    public static int updated(Kind kind, int crc, int at, byte[] delta, int from, int length) {
        java.util.Objects.checkFromIndexSize(at, length, kind.size);
        java.util.Objects.checkFromIndexSize(from, length, delta.length);
        int end = at + length;
        int message = SEED_BYTES; // where the current covered piece starts in the CRC's message
        int first = -1; // the message position of the first covered byte changed
        int packed = 0;
        int[] covered = kind.covered;
        for (int i = 0; i < covered.length; i += 2) {
            int a = covered[i];
            int b = covered[i + 1];
            int s = Math.max(a, at);
            int e = Math.min(b, end);
            if (s < e) {
                if (first < 0) {
                    first = message + s - a;
                }
                System.arraycopy(delta, from + s - at, delta, from + packed, e - s);
                packed += e - s;
            }
            message += b - a;
        }
        if (packed == 0) {
            return crc;
        }
        int register = Crc32cDelta.raw(delta, from, packed);
        return register == 0 ? crc : crc ^ Crc32cDelta.shift(register, kind.messageBytes - first - packed);
    }

    /** The CRC the unit at {@code unitStart} has on {@code media} now. */
    public int compute(Kind kind, MemorySegment media, long unitStart) {
        return compute(kind, unitStart, media.asSlice(unitStart, kind.size()).asByteBuffer());
    }

    /** The CRC stored for the unit at {@code unitStart}. */
    public int stored(Kind kind, MemorySegment media, long unitStart) {
        return media.get(MediaOrder.INT, crcOffset(kind, unitStart));
    }

    /** Whether the unit at {@code unitStart} matches its stored CRC. The unit must lie inside {@code media}. */
    public boolean verify(Kind kind, MemorySegment media, long unitStart) {
        return compute(kind, media, unitStart) == stored(kind, media, unitStart);
    }

    /** Whether inode {@code ino} matches its CRC. */
    public boolean inodeOk(MemorySegment media, long ino) {
        return verify(Kind.INODE, media, g.inodeOffset(ino));
    }

    /** Whether bitmap block {@code block} matches its entry in the checksum table. */
    public boolean bitmapOk(MemorySegment media, long block) {
        return verify(Kind.BITMAP, media, Geometry.blockOffset(block));
    }
}
