package io.daxfs.core.dir;

import io.daxfs.core.format.Geometry;
import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A directory block (format 2) starts with a 16-byte header - magic u32 "DXDB", CRC32C u32
 * ({@link io.daxfs.core.format.Checksums}), owner inode u64 - and the rest, bytes 16 to 4096,
 * is tiled exactly by variable-length records (as in ext2):
 *
 * <pre>
 *  0 inode u64 (0 = free record)
 *  8 record length u16 (multiple of 8; the record owns that many bytes)
 * 10 name length u8
 * 11 type u8 (DT_* of dirent.h)
 * 12 name bytes (UTF-8, no terminator)
 * </pre>
 *
 * A live record may own more bytes than it needs; the slack is free space for a new record.
 * A fresh block is one free record of 4080 bytes. "." and ".." are not stored.
 */
public final class DirentLayout {
    public static final int BLOCK_MAGIC = 0;
    public static final int BLOCK_CRC = io.daxfs.core.format.Checksums.DIRECTORY_CRC;
    public static final int BLOCK_OWNER = 8;
    /** Where the first record of a block starts. */
    public static final int BLOCK_HEADER = 16;
    /** "DXDB", little endian. */
    public static final int BLOCK_MAGIC_VALUE = 0x42445844;

    public static final int INO = 0;
    public static final int REC_LEN = 8;
    public static final int NAME_LEN = 10;
    public static final int TYPE = 11;
    public static final int NAME = 12;
    public static final int MAX_NAME = 255;

    public static final int DT_UNKNOWN = 0;
    public static final int DT_FIFO = 1;
    public static final int DT_CHR = 2;
    public static final int DT_DIR = 4;
    public static final int DT_BLK = 6;
    public static final int DT_REG = 8;
    public static final int DT_LNK = 10;
    public static final int DT_SOCK = 12;

    /** The root directory: no entry names it. */
    public static final long ROOT = 1;

    private DirentLayout() {
    }

    /**
     * One record of a directory block as {@link #records} parsed it: a free record
     * ({@code ino == 0}), a live one, or - last in the list, with {@code problem} set - the
     * point where the block stops parsing.
     *
     * @param offset byte offset in the block
     */
    public record Record(int offset, long ino, int recLen, int nameLength, int type, String name, String problem) {
    }

    /**
     * Parses the records of the directory block at byte {@code base} (its header is not
     * checked here). Stops at the first record that does not parse, which it returns last,
     * with its problem. Never throws on any bytes.
     */
    public static List<Record> records(MemorySegment media, long base) {
        List<Record> out = new ArrayList<>();
        int off = BLOCK_HEADER;
        while (off < Geometry.BLOCK_SIZE) {
            long ino = media.get(MediaOrder.LONG, base + off + INO);
            int recLen = Short.toUnsignedInt(media.get(MediaOrder.SHORT, base + off + REC_LEN));
            if (recLen < needed(1) || (recLen & 7) != 0 || off + recLen > Geometry.BLOCK_SIZE) {
                out.add(bad(off, "has a record at byte " + off + " of length " + recLen));
                return out;
            }
            if (ino == 0) {
                out.add(new Record(off, 0, recLen, 0, 0, null, null));
                off += recLen;
                continue;
            }
            int nameLen = Byte.toUnsignedInt(media.get(ValueLayout.JAVA_BYTE, base + off + NAME_LEN));
            int type = Byte.toUnsignedInt(media.get(ValueLayout.JAVA_BYTE, base + off + TYPE));
            if (nameLen == 0 || needed(nameLen) > recLen) {
                out.add(bad(off, "has a record at byte " + off + " whose name of " + nameLen + " bytes does not fit"));
                return out;
            }
            if (!isValidType(type)) {
                out.add(bad(off, "has a record at byte " + off + " of unknown type " + type));
                return out;
            }
            byte[] bytes = media.asSlice(base + off + NAME, nameLen).toArray(ValueLayout.JAVA_BYTE);
            String name = validName(bytes);
            if (name == null) {
                out.add(bad(off, "has a record at byte " + off + " with an invalid name"));
                return out;
            }
            out.add(new Record(off, ino, recLen, nameLen, type, name, null));
            off += recLen;
        }
        return out;
    }

    private static Record bad(int off, String problem) {
        return new Record(off, 0, 0, 0, 0, null, problem);
    }

    /** The name {@code bytes} encode, if they are strict UTF-8 without '/' or NUL and not "." or ".."; else null. */
    static String validName(byte[] bytes) {
        String name;
        try {
            name = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        if (name.equals(".") || name.equals("..") || name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
            return null;
        }
        return name;
    }

    /** Bytes a record with a name of {@code nameLength} bytes needs. */
    public static int needed(int nameLength) {
        return (NAME + nameLength + 7) & ~7;
    }

    /** Whether {@code type} is a DT_* value a directory entry may carry. */
    public static boolean isValidType(int type) {
        return switch (type) {
            case DT_FIFO, DT_CHR, DT_DIR, DT_BLK, DT_REG, DT_LNK, DT_SOCK -> true;
            default -> false;
        };
    }

    /** DT_* type of a file mode. */
    public static int typeOf(int mode) {
        return switch (mode & 0170000) {
            case 0040000 -> DT_DIR;
            case 0100000 -> DT_REG;
            case 0120000 -> DT_LNK;
            case 0010000 -> DT_FIFO;
            case 0020000 -> DT_CHR;
            case 0060000 -> DT_BLK;
            case 0140000 -> DT_SOCK;
            default -> DT_UNKNOWN;
        };
    }
}
