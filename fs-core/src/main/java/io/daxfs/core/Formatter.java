package io.daxfs.core;

import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.core.base.Timestamp;
import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.format.Superblock;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.journal.Journal;
import io.daxfs.devdax.MediaOrder;
import io.daxfs.devdax.PmemRegion;

import java.nio.ByteBuffer;
import java.util.UUID;

/**
 * mkfs. Order matters for a crash in the middle: the old superblock is destroyed first and
 * the new one written last, so an interrupted mkfs leaves a device that mounts as nothing
 * rather than as a half-made file system.
 *
 * <p>Data blocks and the inode table are not cleared: a block is zeroed when it is allocated
 * and an inode is written whole when it is allocated; the bitmaps say what is in use.
 */
public final class Formatter {
    /** Bitmaps are cleared and flushed in pieces of this size, so progress can be reported. */
    static final long CHUNK = 8L << 20;

    /** Receives mkfs's progress: bytes of metadata written so far, of all it will write. */
    public interface Progress {
        Progress NONE = (done, total) -> { };

        void advanced(long done, long total);
    }

    private Formatter() {
    }

    public static Superblock format(PmemRegion region, FormatOptions options) {
        return format(region, options, Progress.NONE);
    }

    /** {@link #format(PmemRegion, FormatOptions)}, telling {@code progress} how far it is. */
    public static Superblock format(PmemRegion region, FormatOptions options, Progress progress) {
        Geometry g = Geometry.forDevice(region.size(), options.inodes());
        Superblock sb = new Superblock(UUID.randomUUID(), g, System.currentTimeMillis() / 1000, options.label());
        long ibmBytes = g.inodeBitmapBlocks() * Geometry.BLOCK_SIZE;
        long bbmBytes = g.blockBitmapBlocks() * Geometry.BLOCK_SIZE;
        long total = 6L * Geometry.BLOCK_SIZE + ibmBytes + bbmBytes + Geometry.INODE_SIZE;
        long done = 0;
        progress.advanced(done, total);

        region.fill(0, 2L * Geometry.BLOCK_SIZE, (byte) 0);
        region.flush(0, 2L * Geometry.BLOCK_SIZE);
        region.fence();

        Journal.format(region, g);
        done += 4L * Geometry.BLOCK_SIZE;
        progress.advanced(done, total);

        long ibm = g.inodeBitmapOffset();
        done = clear(region, ibm, ibmBytes, progress, done, total);
        region.putByte(ibm, (byte) 1); // inode 1: the root directory
        region.flush(ibm, 1);

        long bbm = g.blockBitmapOffset();
        done = clear(region, bbm, bbmBytes, progress, done, total);
        long metaBlocks = g.dataStart();
        region.fill(bbm, metaBlocks / 8, (byte) 0xff);
        if (metaBlocks % 8 != 0) {
            region.putByte(bbm + metaBlocks / 8, (byte) ((1 << (metaBlocks % 8)) - 1));
        }
        region.flush(bbm, Geometry.divUp(metaBlocks, 8));

        Checksums checksums = new Checksums(sb);
        writeRootInode(region, g, options, checksums);
        writeChecksumTable(region, g, checksums);
        region.fence();
        done += Geometry.INODE_SIZE;
        progress.advanced(done, total);

        sb.write(region);
        progress.advanced(total, total);
        return sb;
    }

    /** The CRC of every bitmap block as written above (format 2). */
    private static void writeChecksumTable(PmemRegion region, Geometry g, Checksums checksums) {
        long blocks = g.inodeBitmapBlocks() + g.blockBitmapBlocks();
        ByteBuffer table = MediaOrder.allocate((int) (g.checksumTableBlocks() * Geometry.BLOCK_SIZE));
        for (long i = 0; i < blocks; i++) {
            table.putInt(checksums.compute(Checksums.Kind.BITMAP, region.readView(),
                    Geometry.blockOffset(g.inodeBitmapStart() + i)));
        }
        region.write(g.checksumTableOffset(), table.array(), 0, table.capacity());
        region.flush(g.checksumTableOffset(), table.capacity());
    }

    /** Zeroes and flushes {@code length} bytes at {@code offset} piece by piece; returns the new done count. */
    private static long clear(PmemRegion region, long offset, long length, Progress progress, long done, long total) {
        for (long at = 0; at < length; at += CHUNK) {
            long n = Math.min(CHUNK, length - at);
            region.fill(offset + at, n, (byte) 0);
            region.flush(offset + at, n);
            done += n;
            progress.advanced(done, total);
        }
        return done;
    }

    private static void writeRootInode(PmemRegion region, Geometry g, FormatOptions options, Checksums checksums) {
        Timestamp now = Timestamp.now();
        ByteBuffer b = MediaOrder.allocate(Geometry.INODE_SIZE);
        b.putInt(InodeLayout.MODE, FileMode.S_IFDIR | 0755).putInt(InodeLayout.NLINK, 2);
        b.putInt(InodeLayout.UID, options.rootUid()).putInt(InodeLayout.GID, options.rootGid());
        for (int t : new int[] {InodeLayout.ATIME, InodeLayout.MTIME, InodeLayout.CTIME, InodeLayout.BTIME}) {
            b.putLong(t, now.seconds()).putInt(t + 8, now.nanos());
        }
        b.putInt(InodeLayout.GENERATION, 1);
        b.putLong(InodeLayout.PARENT, InodeLayout.ROOT);
        long off = g.inodeOffset(InodeLayout.ROOT);
        b.putInt(Checksums.INODE_CRC, checksums.compute(Checksums.Kind.INODE, off, b.array(), 0));
        region.write(off, b.array(), 0, b.capacity());
        region.flush(off, Geometry.INODE_SIZE);
    }
}
