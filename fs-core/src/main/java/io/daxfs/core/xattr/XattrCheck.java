package io.daxfs.core.xattr;

import io.daxfs.core.alloc.Extent;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.MemorySegment;
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
