package io.daxfs.core.format;

import io.daxfs.devdax.MediaOrder;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * The superblock: identity and geometry of a daxfs, written once by mkfs and never modified
 * while mounted (all mutable state lives in the journal, bitmaps and inodes). A primary copy
 * sits in block 0 and a backup in block 1; both carry a CRC32C over every byte before it.
 *
 * <pre>
 * off size field
 *   0    8 magic "DAXFSv01"
 *   8    4 format version (2)
 *  12    4 block size (4096)
 *  16   16 uuid
 *  32    8 total blocks        40  8 journal start    48  8 journal blocks
 *  56    8 inode bitmap start  64  8 inode bitmap blocks
 *  72    8 block bitmap start  80  8 block bitmap blocks
 *  88    8 inode table start   96  8 inode count      104 8 data start
 * 112    8 created (epoch seconds)
 * 120    8 feature flags (0)
 * 128   64 volume label (UTF-8, zero padded)
 * 192    8 checksum table start 200  8 checksum table blocks (format 2)
 * 208   44 reserved (0)
 * 252    4 crc32c of bytes 0..251
 * </pre>
 */
public record Superblock(UUID uuid, Geometry geometry, long createdEpochSeconds, String label) {

    public static final long MAGIC = MediaOrder.wrap("DAXFSv01".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).getLong();
    public static final int VERSION = 2;
    static final int CRC_OFFSET = 252;
    static final int SIZE = 256;
    private static final ValueLayout.OfLong LONG = MediaOrder.LONG;
    private static final ValueLayout.OfInt INT = MediaOrder.INT;

    /** Serializes to the 256-byte on-media form, CRC included. */
    public byte[] encode() {
        ByteBuffer b = MediaOrder.allocate(SIZE);
        b.putLong(0, MAGIC).putInt(8, VERSION).putInt(12, Geometry.BLOCK_SIZE);
        b.putLong(16, uuid.getMostSignificantBits()).putLong(24, uuid.getLeastSignificantBits());
        Geometry g = geometry;
        b.putLong(32, g.totalBlocks()).putLong(40, g.journalStart()).putLong(48, g.journalBlocks());
        b.putLong(56, g.inodeBitmapStart()).putLong(64, g.inodeBitmapBlocks());
        b.putLong(72, g.blockBitmapStart()).putLong(80, g.blockBitmapBlocks());
        b.putLong(88, g.inodeTableStart()).putLong(96, g.inodeCount()).putLong(104, g.dataStart());
        b.putLong(112, createdEpochSeconds).putLong(120, 0);
        b.putLong(192, g.checksumTableStart()).putLong(200, g.checksumTableBlocks());
        byte[] labelBytes = label.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        b.put(128, labelBytes, 0, Math.min(labelBytes.length, 64));
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, CRC_OFFSET);
        b.putInt(CRC_OFFSET, (int) crc.getValue());
        return b.array();
    }

    /** Writes both copies and makes them durable. */
    public void write(PmemRegion region) {
        byte[] bytes = encode();
        region.write(0, bytes, 0, bytes.length);
        region.write(Geometry.BLOCK_SIZE, bytes, 0, bytes.length);
        region.flush(0, 2L * Geometry.BLOCK_SIZE);
        region.fence();
    }

    /** True if the first eight bytes carry the daxfs magic, whatever the rest holds. */
    public static boolean hasMagic(MemorySegment device) {
        return device.byteSize() >= SIZE && device.get(LONG, 0) == MAGIC;
    }

    /**
     * Reads and validates the primary copy, falling back to the backup.
     *
     * @throws CorruptFileSystemException naming what is wrong when neither copy is valid
     */
    public static Superblock read(MemorySegment device) {
        if (device.byteSize() < 2L * Geometry.BLOCK_SIZE) {
            throw new CorruptFileSystemException("device of " + device.byteSize() + " bytes is too small to hold a daxfs");
        }
        String primaryProblem = problemAt(device, 0);
        if (primaryProblem == null) {
            return decode(device, 0);
        }
        if (problemAt(device, Geometry.BLOCK_SIZE) == null) {
            return decode(device, Geometry.BLOCK_SIZE);
        }
        throw new CorruptFileSystemException(primaryProblem);
    }

    /**
     * {@link #read}, except that when both copies are sound but differ, it returns the one
     * whose UUID the root inode's checksum verifies under ({@link #rootVerifies}): the primary
     * unless only the backup passes that test. Mount and fsck read the superblock this way.
     *
     * @throws CorruptFileSystemException naming what is wrong when neither copy is valid
     */
    public static Superblock readVerified(MemorySegment device) {
        Superblock sb = read(device);
        if (problemAt(device, 0) == null && problemAt(device, Geometry.BLOCK_SIZE) == null
                && !rootVerifies(device, 0) && rootVerifies(device, 1)) {
            return decode(device, Geometry.BLOCK_SIZE);
        }
        return sb;
    }

    /**
     * Whether the root inode (number 1) passes its checksum under the UUID of copy {@code copy},
     * which must be sound. Every metadata checksum is seeded with the UUID, so of two sound
     * copies that differ, one whose UUID fails the root's is not the one the file system was
     * written with (found by fuzzing: a primary of another UUID with a valid CRC).
     */
    public static boolean rootVerifies(MemorySegment device, int copy) {
        return new Checksums(copy(device, copy)).inodeOk(device, 1);
    }

    /**
     * Why copy {@code copy} (0 = primary in block 0, 1 = backup in block 1) is unusable, or
     * null if it is valid (fsck looks at each).
     */
    public static String problem(MemorySegment device, int copy) {
        if (copy < 0 || copy > 1 || device.byteSize() < 2L * Geometry.BLOCK_SIZE) {
            return "device of " + device.byteSize() + " bytes is too small to hold a daxfs";
        }
        return problemAt(device, (long) copy * Geometry.BLOCK_SIZE);
    }

    /** Decodes copy {@code copy}, which {@link #problem} found valid. */
    public static Superblock copy(MemorySegment device, int copy) {
        return decode(device, (long) copy * Geometry.BLOCK_SIZE);
    }

    /** Why the copy at {@code base} is unusable, or null if it is valid. */
    /**
     * The geometry the primary superblock at the start of {@code head} states, checked by
     * magic, version and checksum but not against a device size ({@code head} may hold only
     * the first blocks of the device): for sizing the daemon before the device is opened.
     * Null if that superblock is not sound.
     */
    public static Geometry statedGeometry(MemorySegment head) {
        if (head.byteSize() < Geometry.BLOCK_SIZE) {
            return null;
        }
        String problem = problemAt(head.asSlice(0, Geometry.BLOCK_SIZE), 0);
        boolean onlySize = problem != null && problem.startsWith("superblock geometry: ");
        return problem == null || onlySize ? decode(head, 0).geometry() : null;
    }

    static String problemAt(MemorySegment device, long base) {
        if (device.get(LONG, base) != MAGIC) {
            return "no daxfs superblock (bad magic): not a daxfs device, or never formatted";
        }
        int version = device.get(INT, base + 8);
        if (version == 1) {
            return "daxfs format version 1 (made by an earlier daxfs) is not supported: this daxfs reads version "
                    + VERSION + ", which checksums its metadata; copy the files off with the earlier daxfs and "
                    + "re-create the file system with daxfs mkfs";
        }
        if (version != VERSION) {
            return "daxfs format version " + Integer.toUnsignedString(version) + " is not supported (this daxfs reads"
                    + " version " + VERSION + (Integer.compareUnsigned(version, VERSION) > 0
                    ? "; the image was made by a newer daxfs)" : ")");
        }
        byte[] bytes = device.asSlice(base, SIZE).toArray(ValueLayout.JAVA_BYTE);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, CRC_OFFSET);
        int stored = MediaOrder.wrap(bytes).getInt(CRC_OFFSET);
        if (stored != (int) crc.getValue()) {
            return "superblock checksum mismatch: the superblock is corrupt";
        }
        if (device.get(INT, base + 12) != Geometry.BLOCK_SIZE) {
            return "unsupported block size " + device.get(INT, base + 12);
        }
        String geometryProblem = decode(device, base).geometry().validate(device.byteSize());
        return geometryProblem == null ? null : "superblock geometry: " + geometryProblem;
    }

    private static Superblock decode(MemorySegment d, long base) {
        UUID uuid = new UUID(d.get(LONG, base + 16), d.get(LONG, base + 24));
        Geometry g = new Geometry(d.get(LONG, base + 32), d.get(LONG, base + 40), d.get(LONG, base + 48),
                d.get(LONG, base + 56), d.get(LONG, base + 64), d.get(LONG, base + 72), d.get(LONG, base + 80),
                d.get(LONG, base + 192), d.get(LONG, base + 200),
                d.get(LONG, base + 88), d.get(LONG, base + 96), d.get(LONG, base + 104));
        byte[] label = d.asSlice(base + 128, 64).toArray(ValueLayout.JAVA_BYTE);
        int len = 0;
        while (len < label.length && label[len] != 0) {
            len++;
        }
        return new Superblock(uuid, g, d.get(LONG, base + 112),
                new String(label, 0, len, java.nio.charset.StandardCharsets.UTF_8));
    }
}
