package io.daxfs.core.inode;

import io.daxfs.core.base.FileMode;
import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * What an inode in use must look like (format 2): its checksum matches, its mode names one of
 * the seven file types and nothing else, its flags are known ones, and every field is in the
 * range it can take - link count (a directory at least 2, a file with none is an orphan),
 * size, block count, the overflow and attribute pointers (0 or a block of the data area), a
 * directory's parent and the next-orphan link (inode numbers). The block map is checked when
 * it is loaded ({@link ExtentMap#load(MemorySegment, Checksums, long)}).
 *
 * <p>The mounted file system checks each inode when it first makes its handle; fsck checks
 * every inode in use and repairs field by field ({@link Fault}).
 */
public final class InodeCheck {
    /** What can be wrong with an inode, one per field (or group of fields). */
    public enum Fault {
        CHECKSUM, MODE, FLAGS, NLINK, SIZE, BLOCKS, OVERFLOW, XATTR, PARENT, NEXT_ORPHAN
    }

    /** One thing wrong with an inode. */
    public record Finding(Fault fault, String message) {
    }

    /** Longest symbolic link target. */
    private static final long MAX_SYMLINK = 4095;
    private static final long MAX_SIZE = Long.MAX_VALUE & ~(Geometry.BLOCK_SIZE - 1L);

    private InodeCheck() {
    }

    /** Everything wrong with inode {@code ino}, which the bitmap says is in use; empty if it is sound. */
    public static List<Finding> findings(MemorySegment media, Checksums checksums, long ino) {
        Geometry g = checksums.geometry();
        List<Finding> out = new ArrayList<>(2);
        long o = g.inodeOffset(ino);
        if (!checksums.verify(Checksums.Kind.INODE, media, o)) {
            out.add(new Finding(Fault.CHECKSUM, "inode " + ino + " fails its checksum"));
        }
        int mode = media.get(MediaOrder.INT, o + InodeLayout.MODE);
        int type = FileMode.type(mode);
        boolean known = type == FileMode.S_IFREG || type == FileMode.S_IFDIR || type == FileMode.S_IFLNK
                || type == FileMode.S_IFIFO || type == FileMode.S_IFCHR || type == FileMode.S_IFBLK
                || type == FileMode.S_IFSOCK;
        if (!known || (mode & ~0177777) != 0) {
            out.add(new Finding(Fault.MODE, "inode " + ino + " has invalid mode " + Integer.toOctalString(mode)
                    + (mode == 0 ? " (a free inode marked in use)" : "")));
        }
        boolean dir = type == FileMode.S_IFDIR;
        int flags = media.get(MediaOrder.INT, o + InodeLayout.FLAGS);
        if ((flags & ~InodeLayout.KNOWN_FLAGS) != 0) {
            out.add(new Finding(Fault.FLAGS, "inode " + ino + " has unknown flags " + Integer.toHexString(flags)));
        }
        long nlink = Integer.toUnsignedLong(media.get(MediaOrder.INT, o + InodeLayout.NLINK));
        // An orphan (unlinked while open) has link count 0: a file, or a directory removed or
        // renamed over while open. Otherwise a directory has at least 2, anything else 1.
        boolean orphan = (flags & InodeLayout.FLAG_ORPHAN) != 0;
        if (!orphan && (dir ? nlink < 2 : nlink == 0)) {
            out.add(new Finding(Fault.NLINK, "inode " + ino + " has link count " + nlink
                    + (dir ? " (a directory has at least 2)" : " but is not an orphan")));
        }
        long size = media.get(MediaOrder.LONG, o + InodeLayout.SIZE);
        if (size < 0 || size > MAX_SIZE || dir && size % Geometry.BLOCK_SIZE != 0
                || type == FileMode.S_IFLNK && (size < 1 || size > MAX_SYMLINK)) {
            out.add(new Finding(Fault.SIZE, "inode " + ino + " has implausible size " + size));
        }
        long blocks = media.get(MediaOrder.LONG, o + InodeLayout.BLOCKS);
        if (blocks < 0 || blocks > g.dataBlocks()) {
            out.add(new Finding(Fault.BLOCKS, "inode " + ino + " records implausible block count " + blocks));
        }
        long overflow = media.get(MediaOrder.LONG, o + InodeLayout.OVERFLOW);
        if (overflow != 0 && !g.inDataArea(overflow, 1)) {
            out.add(new Finding(Fault.OVERFLOW, "inode " + ino + ": extent overflow block " + overflow
                    + " lies outside the data area"));
        }
        long xattr = media.get(MediaOrder.LONG, o + InodeLayout.XATTR);
        if (xattr != 0 && !g.inDataArea(xattr, 1)) {
            out.add(new Finding(Fault.XATTR, "inode " + ino + ": extended attribute block " + xattr
                    + " lies outside the data area"));
        }
        long parent = media.get(MediaOrder.LONG, o + InodeLayout.PARENT);
        if (dir && (parent < 1 || parent > g.inodeCount() || (ino == InodeLayout.ROOT) != (parent == ino))) {
            out.add(new Finding(Fault.PARENT, "directory inode " + ino + " has implausible parent " + parent));
        }
        long next = media.get(MediaOrder.LONG, o + InodeLayout.NEXT_ORPHAN);
        if (next < 0 || next > g.inodeCount() || next == ino) {
            out.add(new Finding(Fault.NEXT_ORPHAN, "inode " + ino + " links to implausible orphan " + next));
        }
        return out;
    }

    /** The first thing wrong with inode {@code ino}, as the exception a decoder throws; null if it is sound. */
    public static CorruptFileSystemException problem(MemorySegment media, Checksums checksums, long ino) {
        List<Finding> f = findings(media, checksums, ino);
        return f.isEmpty() ? null : new CorruptFileSystemException(f.getFirst().message(), ino,
                checksums.geometry().inodeOffset(ino) >>> Geometry.BLOCK_SHIFT);
    }
}
