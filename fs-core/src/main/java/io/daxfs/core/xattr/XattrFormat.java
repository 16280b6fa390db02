package io.daxfs.core.xattr;

import io.daxfs.core.alloc.Extent;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentSlots;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.devdax.MediaOrder;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * On-media format of an inode's extended attributes (docs/format.md, "Extended attributes").
 *
 * <p>The inode's xattr field (offset 112) holds the first block of the <em>index area</em>, or
 * 0. The area is up to {@link #MAX_AREA_EXTENTS} extents of the data area, read as one byte
 * string: a header, then a log of records, each setting or removing one attribute; replaying
 * the log up to the header's end gives the set.
 *
 * <pre>
 * header (552 bytes):
 *   0 magic u32 "DXA1"      4 version u16 (1)      6 area extent count u16 (n)
 *   8 owner inode u64
 *  16 log end u32 (bytes of the area in use, header included)   20 entry count u32
 *  24 blocks owned u32 (area + out-of-line values)   28 CRC32C u32 of the header, this field 0
 *  32 reserved u64
 *  40 64 extent words u64 (physical block bits 0..39, length bits 40..63; n used, rest 0)
 * record:
 *   0 length u32 (whole record)   4 CRC32C u32 of the record, this field 0
 *   8 kind u8 (1 set, 2 remove)   9 name length u8   10 flags u8 (1 = value out of line)
 *  11 reserved u8   12 value extent count u16 (k)   14 reserved u16   16 value length u32
 *  20 name | set, inline: the value | set, out of line: value CRC32C u32, k extent words
 * </pre>
 *
 * Values of up to {@link #INLINE_MAX} bytes live in the log (while the inline values of the
 * inode total at most {@link #MAX_INLINE_TOTAL}); larger ones in blocks of their own.
 */
final class XattrFormat {
    static final int MAGIC = 0x31415844; // "DXA1" little endian
    static final int VERSION = 1;
    static final int FIXED_HEADER = 40;
    static final int MAX_AREA_EXTENTS = 64;
    static final int HEADER = FIXED_HEADER + 8 * MAX_AREA_EXTENTS;
    static final int RECORD_HEADER = 20;
    static final int KIND_SET = 1;
    static final int KIND_REMOVE = 2;
    static final int FLAG_OUT_OF_LINE = 1;
    static final int BLOCK_SHIFT = Geometry.BLOCK_SHIFT;
    private static final int BS = Geometry.BLOCK_SIZE;
    /** Values up to this size are stored in the log. */
    static final int INLINE_MAX = 2048;
    /** Most value bytes one inode keeps inline; later values go out of line. */
    static final int MAX_INLINE_TOTAL = 512 << 10;
    /**
     * Largest index area: 512 blocks. A log of only live records is below 1 MiB given the other
     * limits (names 64 KiB, inline values 512 KiB, value extents 16,384), so a full area always
     * compacts to at most half of it.
     */
    static final int MAX_AREA_BYTES = 2 << 20;
    /**
     * Most extents (area plus values) one inode's attributes may own, so that freeing them all
     * fits one journal transaction of the smallest journal (about 400 KiB of bitmap records in
     * the worst case, against a slot of 1 MiB).
     */
    static final int MAX_EXTENTS = 16384;
    private static final ValueLayout.OfLong LONG = MediaOrder.LONG;
    private static final ValueLayout.OfInt INT = MediaOrder.INT;

    private XattrFormat() {
    }

    /** Inside {@link #decode}: what is wrong, before it becomes a {@link CorruptFileSystemException}. */
    private static final class CorruptException extends RuntimeException {
        CorruptException(String message) {
            super(message, null, false, false);
        }
    }

    static long blocksFor(long bytes) {
        return Geometry.divUp(bytes, BS);
    }

    static long pack(Extent e) {
        return ExtentSlots.packPhysical(e.start(), e.length());
    }

    /** The inode's xattr field. */
    static long pointer(MemorySegment media, long inodeOffset) {
        return media.get(LONG, inodeOffset + InodeLayout.XATTR);
    }

    /** The log end recorded in the header of the area starting at block {@code first}. */
    static int logEnd(MemorySegment media, long first) {
        return media.get(INT, Geometry.blockOffset(first) + 16);
    }

    // ------------------------------------------------------------------ encoding

    static byte[] header(long ino, List<Extent> extents, int end, int count, long blocks) {
        ByteBuffer b = MediaOrder.allocate(HEADER);
        b.putInt(MAGIC).putShort((short) VERSION).putShort((short) extents.size());
        b.putLong(ino).putInt(end).putInt(count).putInt((int) blocks).putInt(0).putLong(0);
        for (int i = 0; i < MAX_AREA_EXTENTS; i++) {
            b.putLong(i < extents.size() ? pack(extents.get(i)) : 0);
        }
        byte[] out = b.array();
        b.putInt(28, crc(out, 0, HEADER));
        return out;
    }

    static byte[] setRecord(XattrEntry e) {
        ByteBuffer b = recordStart(e.recordSize(), KIND_SET, e.nameBytes(), e.isInline() ? 0 : FLAG_OUT_OF_LINE,
                e.extentCount(), e.length());
        if (e.isInline()) {
            b.put(e.inline());
        } else {
            b.putInt(e.crc());
            for (Extent x : e.extents()) {
                b.putLong(pack(x));
            }
        }
        return seal(b);
    }

    static byte[] removeRecord(byte[] nameBytes) {
        return seal(recordStart(RECORD_HEADER + nameBytes.length, KIND_REMOVE, nameBytes, 0, 0, 0));
    }

    private static ByteBuffer recordStart(int size, int kind, byte[] name, int flags, int k, int valueLength) {
        ByteBuffer b = MediaOrder.allocate(size);
        b.putInt(size).putInt(0).put((byte) kind).put((byte) name.length).put((byte) flags).put((byte) 0);
        b.putShort((short) k).putShort((short) 0).putInt(valueLength).put(name);
        return b;
    }

    private static byte[] seal(ByteBuffer b) {
        byte[] out = b.array();
        b.putInt(4, crc(out, 0, out.length));
        return out;
    }

    /** A log holding exactly {@code entries}: header plus one set record each. */
    static byte[] compacted(long ino, Collection<XattrEntry> entries, List<Extent> extents, long blocks) {
        List<byte[]> records = new ArrayList<>(entries.size());
        int end = HEADER;
        for (XattrEntry e : entries) {
            byte[] r = setRecord(e);
            records.add(r);
            end += r.length;
        }
        byte[] out = Arrays.copyOf(header(ino, extents, end, entries.size(), blocks), end);
        int pos = HEADER;
        for (byte[] r : records) {
            System.arraycopy(r, 0, out, pos, r.length);
            pos += r.length;
        }
        return out;
    }

    // ------------------------------------------------------------------ device access

    /**
     * Writes {@code data} at byte {@code at} of the area made of {@code extents}, and flushes
     * what it wrote.
     */
    static void writeArea(PmemRegion region, List<Extent> extents, long at, byte[] data) {
        long base = 0;
        int done = 0;
        for (Extent e : extents) {
            long bytes = e.length() << BLOCK_SHIFT;
            long pos = at + done;
            if (done < data.length && pos < base + bytes) {
                int n = (int) Math.min(data.length - done, base + bytes - pos);
                long dev = Geometry.blockOffset(e.start()) + (pos - base);
                region.write(dev, data, done, n);
                region.flush(dev, n);
                done += n;
            }
            base += bytes;
        }
        if (done < data.length) {
            throw new IllegalStateException("write past the end of the xattr area");
        }
    }

    /** Zeroes the area's bytes from {@code from} to its end, flushed (fresh blocks). */
    static void zeroArea(PmemRegion region, List<Extent> extents, long from) {
        long base = 0;
        for (Extent e : extents) {
            long bytes = e.length() << BLOCK_SHIFT;
            if (from < base + bytes) {
                long skip = Math.max(0, from - base);
                long dev = Geometry.blockOffset(e.start()) + skip;
                region.fill(dev, bytes - skip, (byte) 0);
                region.flush(dev, bytes - skip);
            }
            base += bytes;
        }
    }

    /** Writes {@code data} into fresh {@code extents} from their start, zeroing the rest. */
    static void writeBlocks(PmemRegion region, byte[] data, List<Extent> extents) {
        writeArea(region, extents, 0, data);
        zeroArea(region, extents, data.length);
    }

    /** Reads {@code length} bytes stored across {@code extents} from their start. */
    static byte[] readBlocks(MemorySegment media, List<Extent> extents, int length) {
        byte[] out = new byte[length];
        int pos = 0;
        for (Extent e : extents) {
            int n = (int) Math.min(e.length() << BLOCK_SHIFT, length - pos);
            if (n <= 0) {
                break;
            }
            MemorySegment.copy(media, ValueLayout.JAVA_BYTE, Geometry.blockOffset(e.start()), out, pos, n);
            pos += n;
        }
        return out;
    }

    static int crc(byte[] data) {
        return crc(data, 0, data.length);
    }

    private static int crc(byte[] data, int from, int length) {
        CRC32C c = new CRC32C();
        c.update(data, from, length);
        return (int) c.getValue();
    }

    // ------------------------------------------------------------------ decoding

    /**
     * Reads and validates the area starting at block {@code first}, owned by inode {@code ino},
     * on a device whose data area is [dataStart, totalBlocks), and replays its log.
     *
     * @throws CorruptFileSystemException naming the inode and block, if anything is inconsistent
     */
    static XattrSet decode(MemorySegment media, long dataStart, long totalBlocks, long first, long ino) {
        try {
            return decodeChecked(media, dataStart, totalBlocks, first, ino);
        } catch (CorruptException e) {
            throw new CorruptFileSystemException("inode " + ino + ": " + e.getMessage(), ino, first);
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            throw new CorruptFileSystemException("inode " + ino + ": xattr index at block " + first + " is malformed ("
                    + e.getMessage() + ")", ino, first);
        }
    }

    private static XattrSet decodeChecked(MemorySegment media, long dataStart, long totalBlocks, long first,
                                          long ino) {
        String where = "xattr index at block " + first;
        if (first < dataStart || first >= totalBlocks || Geometry.blockOffset(first) > media.byteSize() - HEADER) {
            throw new CorruptException(where + " lies outside the data area");
        }
        byte[] head = new byte[HEADER];
        MemorySegment.copy(media, ValueLayout.JAVA_BYTE, Geometry.blockOffset(first), head, 0, HEADER);
        ByteBuffer h = MediaOrder.wrap(head);
        if (h.getInt(0) != MAGIC) {
            throw new CorruptException(where + " has a bad magic");
        }
        int stored = h.getInt(28);
        h.putInt(28, 0);
        if (crc(head) != stored) {
            throw new CorruptException(where + ": header fails its CRC");
        }
        int version = h.getShort(4) & 0xffff;
        int n = h.getShort(6) & 0xffff;
        long owner = h.getLong(8);
        long end = Integer.toUnsignedLong(h.getInt(16));
        long count = Integer.toUnsignedLong(h.getInt(20));
        long blocks = Integer.toUnsignedLong(h.getInt(24));
        if (version != VERSION) {
            throw new CorruptException(where + " has unknown version " + version);
        }
        if (owner != ino) {
            throw new CorruptException(where + " belongs to inode " + owner);
        }
        if (n < 1 || n > MAX_AREA_EXTENTS) {
            throw new CorruptException(where + " has " + n + " extents");
        }
        List<Extent> extents = new ArrayList<>(n);
        long capacity = 0;
        for (int i = 0; i < MAX_AREA_EXTENTS; i++) {
            long w = h.getLong(FIXED_HEADER + 8 * i);
            if (i >= n) {
                if (w != 0) {
                    throw new CorruptException(where + ": unused extent word " + i + " is set");
                }
                continue;
            }
            Extent e = extent(w, dataStart, totalBlocks, where);
            extents.add(e);
            capacity += e.length() << BLOCK_SHIFT;
        }
        if (extents.getFirst().start() != first) {
            throw new CorruptException(where + " does not start in its first extent");
        }
        if (capacity > MAX_AREA_BYTES || end < HEADER || end > capacity) {
            throw new CorruptException(where + ": log end " + end + " outside an area of " + capacity + " bytes");
        }
        byte[] all = readBlocks(media, extents, (int) end);
        ByteBuffer b = MediaOrder.wrap(all);
        TreeMap<String, XattrEntry> entries = new TreeMap<>();
        int pos = HEADER;
        while (pos < end) {
            if (end - pos < RECORD_HEADER) {
                throw new CorruptException(where + ": record at " + pos + " runs past the log end");
            }
            int len = b.getInt(pos);
            if (len < RECORD_HEADER || len > end - pos) {
                throw new CorruptException(where + ": record at " + pos + " has length " + len);
            }
            int crc = b.getInt(pos + 4);
            b.putInt(pos + 4, 0);
            if (crc(all, pos, len) != crc) {
                throw new CorruptException(where + ": record at " + pos + " fails its CRC");
            }
            apply(b, pos, len, entries, dataStart, totalBlocks, where + ", record at " + pos);
            pos += len;
        }
        if (entries.size() != count) {
            throw new CorruptException(where + " records " + count + " attributes but its log holds " + entries.size());
        }
        long owned = capacity >>> BLOCK_SHIFT;
        for (XattrEntry e : entries.values()) {
            owned += e.blocks();
        }
        if (owned != blocks) {
            throw new CorruptException(where + " records " + blocks + " blocks but owns " + owned);
        }
        if (entries.isEmpty()) {
            throw new CorruptException(where + " holds no attribute (the inode's field should be 0)");
        }
        return new XattrSet(first, extents, (int) end, entries, blocks);
    }

    private static void apply(ByteBuffer b, int pos, int len, TreeMap<String, XattrEntry> entries, long dataStart,
                              long totalBlocks, String where) {
        int kind = b.get(pos + 8) & 0xff;
        int nameLength = b.get(pos + 9) & 0xff;
        int flags = b.get(pos + 10) & 0xff;
        int k = b.getShort(pos + 12) & 0xffff;
        long valueLength = Integer.toUnsignedLong(b.getInt(pos + 16));
        if (nameLength == 0 || RECORD_HEADER + nameLength > len || (flags & ~FLAG_OUT_OF_LINE) != 0
                || valueLength > XattrNames.MAX_VALUE) {
            throw new CorruptException(where + " is malformed");
        }
        byte[] nameBytes = new byte[nameLength];
        b.get(pos + RECORD_HEADER, nameBytes);
        String name = new String(nameBytes, StandardCharsets.UTF_8);
        if (!XattrNames.isValid(name) || !Arrays.equals(name.getBytes(StandardCharsets.UTF_8), nameBytes)) {
            throw new CorruptException(where + " has an invalid name");
        }
        int p = pos + RECORD_HEADER + nameLength;
        int rest = pos + len - p;
        if (kind == KIND_REMOVE) {
            if (rest != 0 || flags != 0 || k != 0 || valueLength != 0 || entries.remove(name) == null) {
                throw new CorruptException(where + " removes '" + name + "' badly");
            }
            return;
        }
        if (kind != KIND_SET) {
            throw new CorruptException(where + " has unknown kind " + kind);
        }
        XattrEntry e;
        if ((flags & FLAG_OUT_OF_LINE) == 0) {
            if (k != 0 || valueLength > INLINE_MAX || rest != valueLength) {
                throw new CorruptException(where + ": inline value of '" + name + "' is malformed");
            }
            byte[] value = new byte[(int) valueLength];
            b.get(p, value);
            e = XattrEntry.inline(name, nameBytes, value);
        } else {
            if (valueLength == 0 || k < 1 || k > blocksFor(XattrNames.MAX_VALUE) || rest != 4 + 8 * k) {
                throw new CorruptException(where + ": out-of-line value of '" + name + "' is malformed");
            }
            int crc = b.getInt(p);
            List<Extent> vx = new ArrayList<>(k);
            long vb = 0;
            for (int j = 0; j < k; j++) {
                Extent x = extent(b.getLong(p + 4 + 8 * j), dataStart, totalBlocks, where + ", value of '" + name + "'");
                vx.add(x);
                vb += x.length();
            }
            if (vb != blocksFor(valueLength)) {
                throw new CorruptException(where + ": value of '" + name + "' has " + vb + " blocks for "
                        + valueLength + " bytes");
            }
            e = XattrEntry.outOfLine(name, nameBytes, (int) valueLength, vx, crc);
        }
        entries.put(name, e);
    }

    private static Extent extent(long word, long dataStart, long totalBlocks, String where) {
        long start = ExtentSlots.physical(word);
        long len = ExtentSlots.length(word);
        if (len == 0 || start < dataStart || start + len > totalBlocks) {
            throw new CorruptException(where + ": extent " + start + "+" + len + " lies outside the data area");
        }
        return new Extent(start, len);
    }
}
