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
    private Formatter() {
    }

    public static Superblock format(PmemRegion region, FormatOptions options) {
        Geometry g = Geometry.forDevice(region.size(), options.inodes());
        Superblock sb = new Superblock(UUID.randomUUID(), g, System.currentTimeMillis() / 1000, options.label());

        region.fill(0, 2L * Geometry.BLOCK_SIZE, (byte) 0);
        region.flush(0, 2L * Geometry.BLOCK_SIZE);
        region.fence();

        Journal.format(region, g);

        long ibm = g.inodeBitmapOffset();
        region.fill(ibm, g.inodeBitmapBlocks() * Geometry.BLOCK_SIZE, (byte) 0);
        region.putByte(ibm, (byte) 1); // inode 1: the root directory
        region.flush(ibm, g.inodeBitmapBlocks() * Geometry.BLOCK_SIZE);

        long bbm = g.blockBitmapOffset();
        long bbmBytes = g.blockBitmapBlocks() * Geometry.BLOCK_SIZE;
        region.fill(bbm, bbmBytes, (byte) 0);
        long metaBlocks = g.dataStart();
        region.fill(bbm, metaBlocks / 8, (byte) 0xff);
        if (metaBlocks % 8 != 0) {
            region.putByte(bbm + metaBlocks / 8, (byte) ((1 << (metaBlocks % 8)) - 1));
        }
        region.flush(bbm, bbmBytes);

        Checksums checksums = new Checksums(sb);
        writeRootInode(region, g, options, checksums);
        writeChecksumTable(region, g, checksums);
        region.fence();

        sb.write(region);
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
