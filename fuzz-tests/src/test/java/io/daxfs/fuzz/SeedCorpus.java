package io.daxfs.fuzz;

import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.devdax.MediaOrder;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the seed inputs of every fuzz target from {@link FuzzImage}: the real structures
 * (superblock, journal header and slot, each inode with its overflow blocks, directory blocks,
 * the attribute index) in each target's input format, and for the whole-image target one small
 * change per structure. Run only when asked, to (re)make the committed seeds:
 * {@code mvn -pl fuzz-tests test -Dtest=SeedCorpus -Ddaxfs.fuzz.writeSeeds=$PWD/fuzz-tests/src/test/resources}.
 * Seeds are named "seed-*"; inputs the fuzzer found are kept beside them under other names.
 */
@EnabledIfSystemProperty(named = "daxfs.fuzz.writeSeeds", matches = ".+")
class SeedCorpus {
    private final FuzzImage image = FuzzImage.get();
    private final MemorySegment m = image.memory;
    private final Geometry g = image.g;

    @Test
    void write() throws IOException {
        Path root = Path.of(System.getProperty("daxfs.fuzz.writeSeeds"), "io", "daxfs", "fuzz");
        Path sb = dir(root, "SuperblockFuzzTest", "superblock");
        put(sb, "seed-sound", cat(new byte[] {0}, bytes(0, 256)));
        put(sb, "seed-both", cat(new byte[] {2}, bytes(0, 256)));
        put(sb, "seed-raw", cat(new byte[] {1}, bytes(0, 256)));

        Path j = dir(root, "JournalFuzzTest", "journal");
        long slot = g.journalOffset() + Geometry.BLOCK_SIZE;
        int total = (int) m.get(MediaOrder.LONG, slot + 16);
        byte[] slotBytes = bytes(slot, Math.max(24, total - 8));
        put(j, "seed-last-transaction", cat(new byte[] {0, 64, 0}, bytes(g.journalOffset(), 64), slotBytes));
        put(j, "seed-as-is", cat(new byte[] {15, 64, 0}, bytes(g.journalOffset(), 64), bytes(slot, total)));
        byte[] error = bytes(g.journalOffset(), 96);
        MediaOrder.wrap(error).putInt(24, 0x52455844).putInt(28, 16).putLong(32, 5).putLong(40, 77);
        put(j, "seed-error-record", cat(new byte[] {0, 96, 0}, error, slotBytes));

        Path in = dir(root, "InodeFuzzTest", "inode");
        for (var e : image.inodes.entrySet()) {
            long o = g.inodeOffset(e.getValue());
            byte[] inode = bytes(o, 256);
            MediaOrder.wrap(inode).putLong(InodeLayout.OVERFLOW, 0);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(0);
            out.write(inode);
            long ovf = m.get(MediaOrder.LONG, o + InodeLayout.OVERFLOW);
            while (ovf != 0) {
                out.write(bytes(Geometry.blockOffset(ovf), 4096));
                ovf = m.get(MediaOrder.LONG, Geometry.blockOffset(ovf));
            }
            put(in, "seed" + e.getKey().replace('/', '-'), out.toByteArray());
        }

        Path d = dir(root, "DirectoryFuzzTest", "directory");
        int k = 0;
        for (long blk : image.metadataBlocks) {
            long base = Geometry.blockOffset(blk);
            if (m.get(MediaOrder.INT, base) == Reseal.DIR_MAGIC) {
                put(d, "seed-block-" + k++, cat(new byte[] {0}, bytes(base, 4096)));
            }
        }
        put(d, "seed-empty-block", cat(new byte[] {0}, new byte[16],
                new byte[] {0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xf0, 0x0f}));

        Path x = dir(root, "XattrFuzzTest", "xattr");
        long first = m.get(MediaOrder.LONG, g.inodeOffset(image.inode("/x")) + InodeLayout.XATTR);
        put(x, "seed-index", cat(new byte[] {0}, bytes(Geometry.blockOffset(first), 4096)));
        put(x, "seed-index-records-as-is", cat(new byte[] {2}, bytes(Geometry.blockOffset(first), 4096)));

        Path f = dir(root, "FsckFuzzTest", "fsck");
        put(f, "seed-none", new byte[] {0});
        for (int where = 0; where < 10; where++) {
            put(f, "seed-where-" + where, new byte[] {0, (byte) where, 17, 1, 2, (byte) 0xff, 0x7f});
        }
        put(f, "seed-no-reseal", new byte[] {1, 7, 0, 0, 1, 0x55});
        ByteArrayOutputStream many = new ByteArrayOutputStream();
        many.write(0);
        java.util.Random r = new java.util.Random(13);
        for (int i = 0; i < 24; i++) { // a change in each structure, and more in inodes and metadata blocks
            int where = i < 10 ? i : (i % 2 == 0 ? 7 : 8);
            byte[] change = new byte[1 + r.nextInt(4)];
            r.nextBytes(change);
            many.writeBytes(new byte[] {(byte) where, (byte) r.nextInt(256), (byte) r.nextInt(256),
                    (byte) change.length});
            many.writeBytes(change);
        }
        put(f, "seed-many-changes", many.toByteArray());
    }

    private byte[] bytes(long at, int n) {
        return Reseal.bytes(m, at, n);
    }

    private static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static Path dir(Path root, String cls, String method) throws IOException {
        return Files.createDirectories(root.resolve(cls + "Inputs").resolve(method));
    }

    private static void put(Path dir, String name, byte[] data) throws IOException {
        Files.write(dir.resolve(name), data);
    }
}
