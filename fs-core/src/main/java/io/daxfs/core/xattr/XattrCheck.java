package io.daxfs.core.xattr;

import io.daxfs.core.alloc.Extent;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The fsck part of extended attributes: validates one inode's index (header and its CRC,
 * extents, every log record and its CRC, the attribute count and block total the header
 * records, every live out-of-line value's CRC) and claims every block it owns - the area and
 * the live values - so that the block bitmap comparison accounts for them.
 */
public final class XattrCheck {
    /** Receives each extent an inode's attributes own. */
    public interface Claimer {
        void claim(long start, long length, String what);
    }

    private XattrCheck() {
    }

    /**
     * One inode's attributes as fsck sees them.
     *
     * @param areaExtents the index area's extents
     * @param values      each out-of-line value's extents, by attribute name
     * @param badValues   names of attributes whose out-of-line value fails its CRC
     * @param problems    limits the index breaks (repaired by dropping the attributes)
     * @param blocks      blocks they own
     */
    public record Attributes(long first, List<Extent> areaExtents, java.util.Map<String, List<Extent>> values,
                             List<String> badValues, List<String> problems, long blocks) {
    }

    /**
     * Reads and checks the attributes of inode {@code ino} (whose field is not 0).
     *
     * @throws io.daxfs.core.format.CorruptFileSystemException if the index is damaged
     */
    public static Attributes inspect(MemorySegment media, Geometry g, long ino) {
        long first = media.get(MediaOrder.LONG, g.inodeOffset(ino) + InodeLayout.XATTR);
        XattrSet s = XattrFormat.decode(media, g.dataStart(), g.totalBlocks(), first, ino);
        java.util.Map<String, List<Extent>> values = new java.util.TreeMap<>();
        List<String> bad = new ArrayList<>();
        int listBytes = 0;
        for (XattrEntry e : s.entries.values()) {
            listBytes += e.nameBytes().length + 1;
            if (e.isInline()) {
                continue;
            }
            values.put(e.name(), e.extents());
            if (XattrFormat.crc(XattrFormat.readBlocks(media, e.extents(), e.length())) != e.crc()) {
                bad.add(e.name());
            }
        }
        List<String> problems = new ArrayList<>();
        if (listBytes > XattrNames.MAX_LIST) {
            problems.add("attribute names take " + listBytes + " bytes, more than " + XattrNames.MAX_LIST);
        }
        if (s.extentCount() > XattrFormat.MAX_EXTENTS) {
            problems.add("attributes own " + s.extentCount() + " extents, more than " + XattrFormat.MAX_EXTENTS);
        }
        return new Attributes(first, s.areaExtents, values, bad, problems, s.blocks);
    }

    /** Receives the writes of a repair. */
    public interface Writer {
        void write(long offset, byte[] data);
    }

    /**
     * Removes attributes {@code names} from inode {@code ino}'s index (fsck: values that fail
     * their CRC): writes a compacted log without them over the start of the index area, in
     * place (it is never longer than the log it replaces). Returns the blocks the attributes
     * still own, or -1 if none is left (the caller clears the inode's field).
     */
    public static long removeFrom(MemorySegment media, Geometry g, long ino, List<String> names, Writer out) {
        long first = media.get(MediaOrder.LONG, g.inodeOffset(ino) + InodeLayout.XATTR);
        XattrSet s = XattrFormat.decode(media, g.dataStart(), g.totalBlocks(), first, ino);
        List<XattrEntry> keep = new ArrayList<>();
        long blocks = 0;
        for (Extent e : s.areaExtents) {
            blocks += e.length();
        }
        for (XattrEntry e : s.entries.values()) {
            if (!names.contains(e.name())) {
                keep.add(e);
                blocks += e.blocks();
            }
        }
        if (keep.isEmpty()) {
            return -1;
        }
        byte[] log = XattrFormat.compacted(ino, keep, s.areaExtents, blocks);
        long done = 0;
        for (Extent e : s.areaExtents) {
            long bytes = e.length() << Geometry.BLOCK_SHIFT;
            if (done >= log.length) {
                break;
            }
            int n = (int) Math.min(bytes, log.length - done);
            byte[] piece = java.util.Arrays.copyOfRange(log, (int) done, (int) done + n);
            out.write(Geometry.blockOffset(e.start()), piece);
            done += n;
        }
        return blocks;
    }

    /**
     * Checks the attributes of inode {@code ino}, claiming their blocks through {@code claimer}
     * and reporting problems to {@code error}. Returns the blocks they own, which the inode's
     * block count includes (0 if there are none or the index is unreadable).
     */
    public static long check(MemorySegment media, Geometry g, long ino, Claimer claimer, Consumer<String> error) {
        long inodeOffset = g.inodeOffset(ino);
        long first = media.get(MediaOrder.LONG, inodeOffset + InodeLayout.XATTR);
        if (first == 0) {
            return 0;
        }
        XattrSet s;
        try {
            s = XattrFormat.decode(media, g.dataStart(), g.totalBlocks(), first, ino);
        } catch (io.daxfs.core.format.CorruptFileSystemException e) {
            error.accept("extended attributes unreadable: " + e.getMessage());
            return 0;
        }
        for (Extent e : s.areaExtents) {
            claimer.claim(e.start(), e.length(), "xattr index extent");
        }
        int listBytes = 0;
        for (XattrEntry e : s.entries.values()) {
            listBytes += e.nameBytes().length + 1;
            if (e.isInline()) {
                continue;
            }
            for (Extent x : e.extents()) {
                claimer.claim(x.start(), x.length(), "xattr value extent");
            }
            byte[] v = XattrFormat.readBlocks(media, e.extents(), e.length());
            if (XattrFormat.crc(v) != e.crc()) {
                error.accept("inode " + ino + ": value of extended attribute '" + e.name() + "' fails its CRC");
            }
        }
        if (listBytes > XattrNames.MAX_LIST) {
            error.accept("inode " + ino + ": attribute names take " + listBytes + " bytes, more than "
                    + XattrNames.MAX_LIST);
        }
        if (s.extentCount() > XattrFormat.MAX_EXTENTS) {
            error.accept("inode " + ino + ": attributes own " + s.extentCount() + " extents, more than "
                    + XattrFormat.MAX_EXTENTS);
        }
        return s.blocks;
    }
}
