package io.daxfs.fuzz;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.format.Superblock;
import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.FileExtent;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.devdax.MediaOrder;
import io.daxfs.devdax.PersistenceMode;
import io.daxfs.devdax.ScratchRegion;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.daxfs.core.DaxFileSystem.ROOT;

/**
 * The small file system every fuzz target starts from: a 16 MiB image in memory, built once
 * per JVM, holding a little of everything a decoder can meet - directories (one of 200 entries
 * over two blocks), small and multi-block files, a fragmented file whose block map needs an
 * extent-overflow block, a hard link, a symbolic link, a FIFO, extended attributes inline and
 * out of line, and an orphan (unlinked while open) on the orphan list.
 *
 * <p>Targets never change the image for good: each input is applied through a
 * {@link ScratchRegion#withUndo undo region} and rolled back afterwards, so an input costs
 * the pages it touched, not a 16 MiB copy.
 */
final class FuzzImage {
    static final long SIZE = 16L << 20;
    static final int B = Geometry.BLOCK_SIZE;

    private static FuzzImage instance;

    final MemorySegment memory;
    final Geometry g;
    final Checksums checksums;
    /** Inode numbers by path ("/orphan" for the orphan). */
    final Map<String, Long> inodes = new LinkedHashMap<>();
    /** Inodes in use, in inode-number order. */
    final List<Long> inUse = new ArrayList<>();
    /** Directory, extent-overflow and attribute blocks: where whole-image mutations aim. */
    final List<Long> metadataBlocks = new ArrayList<>();
    /** Data-area blocks that nothing uses (targets place decoded structures there). */
    final List<Long> freeBlocks = new ArrayList<>();

    private FuzzImage() {
        memory = Arena.global().allocate(SIZE, B);
        ScratchRegion region = new ScratchRegion(memory, PersistenceMode.FENCE_ONLY);
        DaxFileSystem.format(region, FormatOptions.defaults());
        DaxFileSystem fs = DaxFileSystem.mount(region);
        build(fs);
        fs.close();
        g = Superblock.read(memory).geometry();
        checksums = fixUuid(region);
        survey();
        for (long b : metadataBlocks) {
            new Reseal(region, checksums).dataBlock(b);
        }
    }

    /**
     * Gives the image a fixed UUID, and so the same checksums in every run (mkfs draws a
     * random one; and a fixed creation time): both superblock copies, every inode, every bitmap
     * block's entry; the
     * constructor reseals the metadata blocks once {@link #survey} has found them.
     */
    private Checksums fixUuid(ScratchRegion region) {
        UUID uuid = new UUID(0x6461786673667a7aL, 0x2d66757a7a2d3031L);
        for (long base : new long[] {0, B}) {
            region.putLong(base + 16, uuid.getMostSignificantBits());
            region.putLong(base + 24, uuid.getLeastSignificantBits());
            region.putLong(base + 112, 1_767_225_600L); // created: 2026-01-01
        }
        Checksums c = new Checksums(uuid, g);
        Reseal reseal = new Reseal(region, c);
        reseal.superblocks();
        reseal.unitsIn(g.inodeBitmapOffset(), Geometry.blockOffset(g.dataStart()));
        return c;
    }

    /** The image (built on first use). */
    static synchronized FuzzImage get() {
        if (instance == null) {
            instance = new FuzzImage();
        }
        return instance;
    }

    private void build(DaxFileSystem fs) {
        long d1 = fs.mkdir(ROOT, "d1", 0755, 0, 0);
        long d2 = fs.mkdir(d1, "d2", 0700, 1000, 1000);
        long big = fs.mkdir(ROOT, "big", 0755, 0, 0);
        long f1 = fs.create(d1, "f1", 0644, 0, 0);
        write(fs, f1, 0, 100);
        long f2 = fs.create(d2, "f2", 0600, 1000, 1000);
        write(fs, f2, 0, 3 * B + 17);
        long frag = fs.create(ROOT, "frag", 0644, 0, 0);
        for (int i = 0; i < 20; i++) { // every other block: 20 extents, more than the 7 inline slots
            write(fs, frag, 2L * i * B, B);
        }
        for (int i = 0; i < 200; i++) {
            fs.create(big, String.format("entry-%03d", i), 0644, 0, 0);
        }
        fs.link(f1, ROOT, "hardlink");
        fs.symlink(ROOT, "lnk", "d1/f1", 0, 0);
        fs.mknod(ROOT, "fifo", 0010644, 0, 0, 0);
        long x = fs.create(ROOT, "x", 0644, 0, 0);
        fs.setxattr(x, "user.small", "inline".getBytes(StandardCharsets.UTF_8), 0);
        fs.setxattr(x, "user.large", new byte[10_000], 0);
        fs.setxattr(x, "trusted.t", new byte[] {1, 2, 3}, 0);
        fs.setxattr(x, "user.small", "replaced".getBytes(StandardCharsets.UTF_8), 0); // a superseded record
        long orphan = fs.create(ROOT, "orphan", 0644, 0, 0);
        write(fs, orphan, 0, 2 * B);
        fs.open(orphan);
        fs.unlink(ROOT, "orphan"); // still open at close: it stays on the orphan list
        inodes.put("/d1", d1);
        inodes.put("/d1/d2", d2);
        inodes.put("/big", big);
        inodes.put("/d1/f1", f1);
        inodes.put("/d1/d2/f2", f2);
        inodes.put("/frag", frag);
        inodes.put("/x", x);
        inodes.put("/orphan", orphan);
        inodes.put("/lnk", fs.resolve("/lnk"));
        inodes.put("/fifo", fs.resolve("/fifo"));
    }

    private static void write(DaxFileSystem fs, long ino, long offset, int length) {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++) {
            data[i] = (byte) (offset + i * 31);
        }
        fs.write(ino, offset, MemorySegment.ofArray(data), 0, length);
    }

    /** Finds the inodes in use, the metadata blocks and some free blocks. */
    private void survey() {
        for (long ino = 1; ino <= g.inodeCount(); ino++) {
            if (bit(g.inodeBitmapOffset(), ino - 1)) {
                inUse.add(ino);
            }
        }
        for (long ino : inUse) {
            long o = g.inodeOffset(ino);
            int mode = memory.get(MediaOrder.INT, o + InodeLayout.MODE);
            ExtentMap map = ExtentMap.load(memory, o); // overflow blocks are resealed after this
            metadataBlocks.addAll(map.overflowBlocks());
            if ((mode & 0170000) == 0040000) {
                for (FileExtent e : map.extents()) {
                    for (long i = 0; i < e.length(); i++) {
                        metadataBlocks.add(e.physical() + i);
                    }
                }
            }
            long xattr = memory.get(MediaOrder.LONG, o + InodeLayout.XATTR);
            if (xattr != 0) {
                metadataBlocks.add(xattr);
            }
        }
        for (long b = g.totalBlocks() - 1; b >= g.dataStart() && freeBlocks.size() < 64; b--) {
            if (!bit(g.blockBitmapOffset(), b)) {
                freeBlocks.addFirst(b);
            }
        }
    }

    boolean bit(long bitmapOffset, long bit) {
        return (memory.get(ValueLayout.JAVA_BYTE, bitmapOffset + (bit >>> 3)) & (1 << (bit & 7))) != 0;
    }

    /** A region over the image that records what is stored into it, for {@link ScratchRegion#rollback()}. */
    ScratchRegion undoRegion() {
        return ScratchRegion.withUndo(memory, PersistenceMode.FENCE_ONLY);
    }

    long inode(String path) {
        return inodes.get(path);
    }
}
