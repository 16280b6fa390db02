package io.daxfs.core;

import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.format.Superblock;
import io.daxfs.core.inode.ExtentSlots;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.devdax.MediaOrder;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.write;

/**
 * The hostile-image suite's images (docs/reliability.md): a file system with a known tree of
 * files of known contents - directories, small and large files, a fragmented file with an
 * extent-overflow chain, a directory of 300 entries over several blocks, a symbolic link, a
 * file with extended attributes inline and out of line, an orphan (unlinked while open) - and
 * each kind of damage, done to the unmounted image file, with the files it touches. The
 * "fuzzer:" kinds are the images the fuzz targets found (module fuzz-tests), made again on this
 * tree.
 */
public final class HostileImages {
    public static final long SIZE = 64L << 20;
    static final int B = Geometry.BLOCK_SIZE;

    /** The tree: path to content (files), or to the target (the symbolic link). */
    public static Map<String, byte[]> tree() {
        Map<String, byte[]> t = new LinkedHashMap<>();
        t.put("/top", pattern(1, 0, 100));
        t.put("/a/f1", pattern(2, 0, 5000));
        t.put("/a/b/f2", pattern(3, 0, 3 * B));
        t.put("/c/f3", pattern(4, 0, 1 << 20));
        byte[] frag = new byte[599 * B];
        for (int i = 0; i < 300; i++) {
            System.arraycopy(pattern(5, 2L * i * B, B), 0, frag, 2 * i * B, B);
        }
        t.put("/frag", frag);
        for (int i = 0; i < 300; i++) {
            t.put(String.format("/big/e%03d", i), ("entry " + i).getBytes(StandardCharsets.UTF_8));
        }
        t.put("/x", pattern(6, 0, 2 * B));
        return t;
    }

    /** The symbolic link and its target; the attributes of /x. */
    public static final String LINK = "/lnk";
    public static final String LINK_TARGET = "a/f1";
    public static final Map<String, byte[]> XATTRS = Map.of("user.small", "inline".getBytes(StandardCharsets.UTF_8),
            "user.large", pattern(7, 0, 10_000));

    /** Builds the tree on a fresh image of {@link #SIZE} bytes in {@code dir} and unmounts it. */
    public static Path build(Path dir) {
        TestDevice dev = TestDevice.createIn(dir, SIZE, io.daxfs.core.base.FormatOptions.defaults());
        Path image = dev.image();
        DaxFileSystem fs = dev.fs();
        for (String d : new String[] {"/a", "/a/b", "/c", "/big"}) {
            int slash = d.lastIndexOf('/');
            fs.mkdir(fs.resolve(slash == 0 ? "/" : d.substring(0, slash)), d.substring(slash + 1), 0755, 0, 0);
        }
        for (var e : tree().entrySet()) {
            String p = e.getKey();
            int slash = p.lastIndexOf('/');
            long ino = fs.create(fs.resolve(slash == 0 ? "/" : p.substring(0, slash)), p.substring(slash + 1), 0644,
                    0, 0);
            if (p.equals("/frag")) {
                for (int i = 0; i < 300; i++) {
                    write(fs, ino, 2L * i * B, pattern(5, 2L * i * B, B));
                }
            } else {
                write(fs, ino, 0, e.getValue());
            }
        }
        fs.symlink(ROOT, LINK.substring(1), LINK_TARGET, 0, 0);
        long x = fs.resolve("/x");
        XATTRS.forEach((k, v) -> fs.setxattr(x, k, v, 0));
        long orphan = fs.create(ROOT, "orphan", 0644, 0, 0);
        write(fs, orphan, 0, pattern(8, 0, 3 * B));
        fs.open(orphan);
        fs.unlink(ROOT, "orphan"); // open: it stays on the orphan list, freed at the next mount
        // Unmount without closing the device through the fixture, which would delete the image.
        fs.close();
        dev.device().close();
        return image;
    }

    // ------------------------------------------------------------------ the damage

    /** An image file to damage, with what is known of the file system on it. */
    public static final class Target {
        final Path image;
        final Geometry g;
        final Map<String, Long> inodes;

        Target(Path image, Geometry g, Map<String, Long> inodes) {
            this.image = image;
            this.g = g;
            this.inodes = inodes;
        }

        long inodeOffset(String path) {
            return g.inodeOffset(inodes.get(path));
        }

        long getLong(long at) {
            return buffer(at, 8).getLong(0);
        }

        int getInt(long at) {
            return buffer(at, 4).getInt(0);
        }

        void putLong(long at, long v) {
            put(at, MediaOrder.allocate(8).putLong(0, v).array());
        }

        void putInt(long at, int v) {
            put(at, MediaOrder.allocate(4).putInt(0, v).array());
        }

        void xor(long at, int mask) {
            byte[] b = bytes(at, 1);
            b[0] ^= (byte) mask;
            put(at, b);
        }

        ByteBuffer buffer(long at, int n) {
            return MediaOrder.wrap(bytes(at, n));
        }

        byte[] bytes(long at, int n) {
            try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
                byte[] b = new byte[n];
                f.seek(at);
                f.readFully(b);
                return b;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        void put(long at, byte[] b) {
            try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
                f.seek(at);
                f.write(b);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /**
     * One kind of damage.
     *
     * @param touched     the paths whose content, name or attributes the damage may change
     *                    (every other file reads back byte for byte after the repair)
     * @param repairable  false where nothing can be repaired (fsck exits 8 and writes nothing)
     */
    public record Damage(String name, Consumer<Target> harm, Set<String> touched, boolean repairable) {
        @Override
        public String toString() {
            return name;
        }
    }

    public static Damage[] all() {
        Set<String> bigDir = new java.util.HashSet<>();
        for (int i = 0; i < 300; i++) {
            bigDir.add(String.format("/big/e%03d", i));
        }
        return new Damage[] {
            new Damage("foreign file", t -> {
                byte[] junk = new byte[(int) SIZE];
                new Random(1).nextBytes(junk);
                t.put(0, junk);
            }, Set.of(), false),
            new Damage("truncated image", t -> truncate(t.image, SIZE / 2), Set.of(), false),
            new Damage("newer format version", t -> {
                for (long base : new long[] {0, B}) {
                    t.putInt(base + 8, Superblock.VERSION + 1);
                    t.putInt(base + 252, crc32c(t.bytes(base, 252)));
                }
            }, Set.of(), false),
            new Damage("primary superblock", t -> t.put(0, pattern(9, 0, 256)), Set.of(), true),
            new Damage("both superblocks", t -> {
                t.put(0, pattern(9, 0, 256));
                t.put(B, pattern(10, 0, 256));
            }, Set.of(), false),
            new Damage("journal header", t -> t.xor(t.g.journalOffset(), 0x01), Set.of(), true),
            new Damage("journal slot", HostileImages::hostileSlot, Set.of(), true),
            new Damage("inode bitmap", t -> t.xor(t.g.inodeBitmapOffset() + 100, 0x10), Set.of(), true),
            new Damage("block bitmap", t -> t.xor(t.g.blockBitmapOffset() + (t.g.dataStart() + 3000) / 8, 0x04),
                    Set.of(), true),
            new Damage("checksum table", t -> t.xor(t.g.checksumTableOffset() + 1, 0x80), Set.of(), true),
            // The type bits of /top's mode become 013: no file type. The inode is cleared.
            new Damage("an inode", t -> t.xor(t.inodeOffset("/top") + InodeLayout.MODE + 1, 0x30), Set.of("/top"),
                    true),
            // /a/f1's first extent now names /c/f3's first blocks: /a/f1 fails its checksum, so
            // /c/f3 (sound) keeps them and /a/f1 loses that range.
            new Damage("an inline extent", t -> {
                long slot = t.inodeOffset("/a/f1") + InodeLayout.INLINE_SLOTS;
                long theirs = ExtentSlots.physical(t.getLong(t.inodeOffset("/c/f3") + InodeLayout.INLINE_SLOTS + 8));
                long mine = t.getLong(slot + 8);
                t.putLong(slot + 8, ExtentSlots.packPhysical(theirs, ExtentSlots.length(mine)));
            }, Set.of("/a/f1", LINK), true),
            // A slot of /frag's first overflow block now maps its extent elsewhere in the file.
            new Damage("an overflow block", t -> {
                long ovf = t.getLong(t.inodeOffset("/frag") + InodeLayout.OVERFLOW);
                t.xor(Geometry.blockOffset(ovf) + ExtentSlots.OVERFLOW_HEADER + 5 * ExtentSlots.SLOT_SIZE + 1, 0x40);
            }, Set.of("/frag"), true),
            // The record length of the 3rd record of /big's first block: the block stops parsing there.
            new Damage("a directory block", t -> {
                long blk = ExtentSlots.physical(t.getLong(t.inodeOffset("/big") + InodeLayout.INLINE_SLOTS + 8));
                long base = Geometry.blockOffset(blk) + io.daxfs.core.dir.DirentLayout.BLOCK_HEADER;
                long rec = base;
                for (int i = 0; i < 2; i++) {
                    rec += t.buffer(rec + 8, 2).getShort(0) & 0xffff;
                }
                t.xor(rec + 8, 0x03);
            }, bigDir, true),
            new Damage("an xattr block", t -> {
                long blk = t.getLong(t.inodeOffset("/x") + InodeLayout.XATTR);
                t.xor(Geometry.blockOffset(blk) + 20, 0x01); // the attribute count
            }, Set.of("/x"), true),
            // The orphan list's head names a file that has a name (and links).
            new Damage("the orphan list", t -> t.putLong(t.g.journalOffset() + 16, t.inodes.get("/c/f3")),
                    Set.of(), true),
            // The images the fuzzer found (docs/reliability.md, "Fuzzing"), made again on this tree.
            new Damage("fuzzer: primary superblock of another UUID, its CRC valid",
                    HostileImages::otherUuid, Set.of(), true),
            new Damage("fuzzer: xattr name with a newline, its value outside the device",
                    HostileImages::newlineXattrName, Set.of("/x"), true),
            // A recorded error state whose time is past what java.time can hold: printing it
            // threw DateTimeException out of mount and fsck.
            new Damage("fuzzer: journal error record from the year 292 billion", t -> {
                long h = t.g.journalOffset();
                t.putInt(h + 24, 0x52455844); // "DXER"
                t.putInt(h + 28, 5);
                t.putLong(h + 32, -1);
                t.putLong(h + 40, -1);
                t.putLong(h + 48, Long.MAX_VALUE);
                t.put(h + 64, "fuzz\n".getBytes(StandardCharsets.UTF_8));
            }, Set.of(), true),
        };
    }

    /** A committed transaction in the slot, with a valid CRC, whose record would write the superblock. */
    private static void hostileSlot(Target t) {
        long header = t.g.journalOffset();
        long slot = header + B;
        long applied = t.getLong(header + 8);
        ByteBuffer s = MediaOrder.allocate(24 + 24 + 8);
        s.putInt(0x4e585444).putInt(1).putLong(applied + 1).putLong(56);
        s.putLong(100).putInt(8).putInt(0).putLong(0x6a756e6b); // 8 bytes at byte 100: the superblock
        byte[] body = s.array();
        int crc = crc32c(java.util.Arrays.copyOf(body, 48));
        MediaOrder.wrap(body).putInt(48, crc).putInt(52, 0x444e4554);
        t.put(slot, body);
    }

    /**
     * The primary superblock's UUID changed and its CRC made right: both copies pass their own
     * check, but every other checksum is seeded with the backup's UUID. fsck used to trust the
     * primary, find every inode and bitmap damaged and lose the tree.
     */
    private static void otherUuid(Target t) {
        t.xor(17, 0x5a);
        t.putInt(252, crc32c(t.bytes(0, 252)));
    }

    /**
     * /x's out-of-line attribute renamed "user.l\nrge" and its value's extent moved past the end
     * of the device, every CRC made right: the decoder's message quoted the name, newline and
     * all, so the one-line reason of a refused mount was two lines.
     */
    private static void newlineXattrName(Target t) {
        long area = Geometry.blockOffset(t.getLong(t.inodeOffset("/x") + InodeLayout.XATTR));
        int end = t.getInt(area + 16);
        byte[] log = t.bytes(area, end);
        ByteBuffer b = MediaOrder.wrap(log);
        for (int pos = 552; pos < end; pos += b.getInt(pos)) {
            int nameLength = b.get(pos + 9) & 0xff;
            String name = new String(log, pos + 20, nameLength, StandardCharsets.UTF_8);
            if (!name.equals("user.large")) {
                continue;
            }
            log[pos + 20 + 6] = '\n';
            int extent = pos + 20 + nameLength + 4; // after the value's CRC: its first extent word
            long word = b.getLong(extent);
            b.putLong(extent, (word & ~((1L << 40) - 1)) | (t.g.totalBlocks() + 5));
            b.putInt(pos + 4, 0);
            b.putInt(pos + 4, crc32c(java.util.Arrays.copyOfRange(log, pos, pos + b.getInt(pos))));
        }
        b.putInt(28, 0);
        b.putInt(28, crc32c(java.util.Arrays.copyOf(log, 552)));
        t.put(area, log);
    }

    static int crc32c(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(b);
        return (int) c.getValue();
    }

    private static void truncate(Path image, long size) {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(size);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads what a damage needs to know (geometry, inode numbers) from the sound image. */
    public static Target target(Path image) {
        try (var d = TestDevice.openExisting(image)) {
            MemorySegment media = d.region().readView();
            Geometry g = Superblock.read(media).geometry();
            DaxFileSystem fs = DaxFileSystem.mount(d.region(), io.daxfs.core.base.MountSettings.defaults()
                    .withReadOnly(true));
            Map<String, Long> inodes = new LinkedHashMap<>();
            for (String p : tree().keySet()) {
                inodes.put(p, fs.resolve(p));
            }
            for (String p : new String[] {"/a", "/big", LINK}) {
                inodes.put(p, fs.resolve(p));
            }
            new Checksums(Superblock.read(media)); // the image is sound
            return new Target(image, g, inodes);
        }
    }

    static byte[] readFile(Path image) {
        try {
            return Files.readAllBytes(image);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private HostileImages() {
    }
}
