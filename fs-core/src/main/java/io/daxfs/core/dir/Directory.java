package io.daxfs.core.dir;

import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.FileExtent;
import io.daxfs.core.journal.Transaction;
import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongPredicate;
import java.util.function.LongToIntFunction;

/**
 * The entries of one directory: a hash index by name for O(1) lookups at any size, and a
 * shadow of every on-media record so that space is found without reading the device (the
 * device may lag this object by the records of the transaction being built).
 *
 * <p>Loaded once from the directory's blocks; afterwards the media is only written, through
 * transactions. Not thread safe: guarded by the directory inode's lock.
 */
public final class Directory {
    /** What a name points at, and where its record lives (absolute byte offset). */
    public record Entry(long ino, int type, long recordOffset) {
    }

    /** Supplies a new directory block: allocated, zeroed, formatted and mapped into the directory by {@code tx}. */
    public interface Grower {
        long newBlock(Transaction tx);
    }

    /**
     * What {@link #load(MemorySegment, ExtentMap, Verify)} checks a directory of a mounted file
     * system against: its blocks' checksums and owner, and that every entry names an inode in
     * use of the type the entry says.
     *
     * @param owner      the directory's inode number
     * @param inodeCount inode numbers run from 1 to this
     * @param inUse      whether an inode number is in use
     * @param modeOf     the mode of an inode in use
     */
    public record Verify(Checksums checksums, long owner, long inodeCount, LongPredicate inUse,
                         LongToIntFunction modeOf) {
    }

    /** The shadow of one on-media record. */
    private static final class Rec {
        int recLen;
        /** Bytes the live record needs; 0 for a free record. */
        int used;

        Rec(int recLen, int used) {
            this.recLen = recLen;
            this.used = used;
        }

        int slack() {
            return recLen - used;
        }
    }

    private static final class Block {
        final long pblk;
        final TreeMap<Integer, Rec> recs = new TreeMap<>();
        /**
         * How many records have each slack (slack to count): the largest is known in O(log n)
         * after each change, where a scan of the block's records (up to a few hundred) was
         * most of a create's directory work in a large directory. Kept by {@link #put},
         * {@link #drop} and {@link #changed}, the only ways {@link #recs} and its records change.
         */
        private final TreeMap<Integer, Integer> slacks = new TreeMap<>();
        /** The slack this block is filed under in {@link #bySlack}; 0 = not filed. */
        int indexedSlack;

        Block(long pblk) {
            this.pblk = pblk;
        }

        void put(int offset, Rec r) {
            Rec old = recs.put(offset, r);
            if (old != null) {
                uncount(old.slack());
            }
            slacks.merge(r.slack(), 1, Integer::sum);
        }

        void drop(int offset) {
            uncount(recs.remove(offset).slack());
        }

        /** Record {@code r} changed; its slack was {@code before}. */
        void changed(int before, Rec r) {
            uncount(before);
            slacks.merge(r.slack(), 1, Integer::sum);
        }

        private void uncount(int slack) {
            slacks.compute(slack, (k, n) -> n == 1 ? null : n - 1);
        }

        int maxSlack() {
            return slacks.isEmpty() ? 0 : slacks.lastKey();
        }
    }

    private final HashMap<String, Entry> entries = new HashMap<>();
    private final HashMap<Long, Block> blocks = new HashMap<>();
    /**
     * Blocks by the largest free slot they have (only slots that can hold a record), so an
     * insert finds a block that fits in O(log n) however large the directory grows.
     */
    private final TreeMap<Integer, LinkedHashSet<Long>> bySlack = new TreeMap<>();
    private long subdirectories;

    private Directory() {
    }

    public static Directory empty() {
        return new Directory();
    }

    /**
     * Reads every record of the directory's blocks, checking their structure only (records
     * tile the block, names are well formed and unique): for tools that look at an image as
     * it is.
     *
     * @throws CorruptFileSystemException if a block does not parse
     */
    public static Directory load(MemorySegment media, ExtentMap extents) {
        return load(media, extents, null);
    }

    /**
     * Reads and verifies a directory of a mounted file system: besides the structure, each
     * block's magic, owner and checksum, and each entry against {@code verify}.
     *
     * @throws CorruptFileSystemException naming the directory and the block, if not sound
     */
    public static Directory load(MemorySegment media, ExtentMap extents, Verify verify) {
        Directory d = new Directory();
        for (FileExtent e : extents.extents()) {
            for (long i = 0; i < e.length(); i++) {
                d.loadBlock(media, e.physical() + i, verify);
            }
        }
        return d;
    }

    private void loadBlock(MemorySegment media, long pblk, Verify verify) {
        long owner = verify == null ? CorruptFileSystemException.NONE : verify.owner();
        long base = pblk << Geometry.BLOCK_SHIFT;
        if (pblk < 0 || base > media.byteSize() - Geometry.BLOCK_SIZE) {
            throw new CorruptFileSystemException("directory block " + pblk + " lies outside the device", owner, pblk);
        }
        String header = checkHeader(media, pblk, verify);
        if (header != null) {
            throw new CorruptFileSystemException("directory " + owner + ": block " + pblk + " " + header, owner, pblk);
        }
        Block b = new Block(pblk);
        for (DirentLayout.Record r : DirentLayout.records(media, base)) {
            if (r.problem() != null) {
                throw new CorruptFileSystemException("directory " + owner + ": block " + pblk + " " + r.problem(), owner,
                        pblk);
            }
            if (r.ino() == 0) {
                b.put(r.offset(), new Rec(r.recLen(), 0));
                continue;
            }
            String problem = verify == null ? null : entryProblem(media, r, verify);
            if (problem == null && entries.containsKey(r.name())) {
                problem = "names '" + r.name() + "' twice";
            }
            if (problem != null) {
                throw new CorruptFileSystemException("directory " + owner + ": block " + pblk + " " + problem, owner,
                        pblk);
            }
            entries.put(r.name(), new Entry(r.ino(), r.type(), base + r.offset()));
            if (r.type() == DirentLayout.DT_DIR) {
                subdirectories++;
            }
            b.put(r.offset(), new Rec(r.recLen(), DirentLayout.needed(r.nameLength())));
        }
        blocks.put(pblk, b);
        index(b);
    }

    /** Why the header of block {@code pblk} is not that of a block of the verified directory, or null. */
    private static String checkHeader(MemorySegment media, long pblk, Verify verify) {
        long base = pblk << Geometry.BLOCK_SHIFT;
        if (media.get(MediaOrder.INT, base + DirentLayout.BLOCK_MAGIC) != DirentLayout.BLOCK_MAGIC_VALUE) {
            return "has no directory-block magic";
        }
        if (verify == null) {
            return null;
        }
        long owner = media.get(MediaOrder.LONG, base + DirentLayout.BLOCK_OWNER);
        if (owner != verify.owner()) {
            return "belongs to inode " + owner;
        }
        return verify.checksums().verify(Checksums.Kind.DIRECTORY, media, base) ? null : "fails its checksum";
    }

    /**
     * Why entry {@code r} cannot be in the verified directory, or null. A type that disagrees
     * with a damaged inode (one that fails its checksum) is the inode's damage, found when the
     * inode is used: the directory still loads, so that its other entries can be reached.
     */
    private static String entryProblem(MemorySegment media, DirentLayout.Record r, Verify v) {
        long ino = r.ino();
        if (ino < 1 || ino > v.inodeCount() || ino == v.owner() || ino == DirentLayout.ROOT) {
            return "has an entry '" + r.name() + "' for inode " + ino + ", which no entry can name";
        }
        if (!v.inUse().test(ino)) {
            return "has an entry '" + r.name() + "' for inode " + ino + ", which is free";
        }
        int type = DirentLayout.typeOf(v.modeOf().applyAsInt(ino));
        if (type != r.type() && v.checksums().inodeOk(media, ino)) {
            return "has an entry '" + r.name() + "' of type " + r.type() + " for inode " + ino + " of type " + type;
        }
        return null;
    }

    /** Re-files {@code b} in {@link #bySlack} under its largest slack now. */
    private void index(Block b) {
        if (b.indexedSlack > 0) {
            LinkedHashSet<Long> set = bySlack.get(b.indexedSlack);
            set.remove(b.pblk);
            if (set.isEmpty()) {
                bySlack.remove(b.indexedSlack);
            }
        }
        int slack = b.maxSlack();
        b.indexedSlack = slack >= DirentLayout.needed(1) ? slack : 0;
        if (b.indexedSlack > 0) {
            bySlack.computeIfAbsent(b.indexedSlack, k -> new LinkedHashSet<>()).add(b.pblk);
        }
    }

    public Entry lookup(String name) {
        return entries.get(name);
    }

    public int size() {
        return entries.size();
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Forgets every block: the directory is empty and its blocks were freed. */
    public void forgetBlocks() {
        if (!entries.isEmpty()) {
            throw new IllegalStateException("directory not empty");
        }
        blocks.clear();
        bySlack.clear();
    }

    /** Number of entries that are directories (for the parent's link count). */
    public long subdirectories() {
        return subdirectories;
    }

    /** A snapshot of the entries, for readdir. */
    public List<Map.Entry<String, Entry>> snapshot() {
        return new ArrayList<>(entries.entrySet());
    }

    /** Adds {@code name}; the caller checked it is absent and valid. */
    public void add(Transaction tx, String name, long ino, int type, Grower grower) {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        int need = DirentLayout.needed(nameBytes.length);
        Map.Entry<Integer, LinkedHashSet<Long>> fit = bySlack.ceilingEntry(need);
        if (fit != null) {
            Block b = blocks.get(fit.getValue().iterator().next());
            if (!place(tx, b, name, nameBytes, need, ino, type)) {
                throw new IllegalStateException("directory block " + b.pblk + " indexed with room it does not have");
            }
            index(b);
            return;
        }
        long pblk = grower.newBlock(tx);
        Block b = new Block(pblk);
        b.put(DirentLayout.BLOCK_HEADER, new Rec(Geometry.BLOCK_SIZE - DirentLayout.BLOCK_HEADER, 0));
        blocks.put(pblk, b);
        // The grower formatted the block as one free record after the header (formatBlock).
        if (!place(tx, b, name, nameBytes, need, ino, type)) {
            throw new IllegalStateException("a fresh directory block has no room for " + need + " bytes");
        }
        index(b);
    }

    private boolean place(Transaction tx, Block b, String name, byte[] nameBytes, int need, long ino, int type) {
        // From the end: a block fills from its front, so the free tail is found first.
        for (var e : b.recs.descendingMap().entrySet()) {
            Rec r = e.getValue();
            if (r.slack() < need) {
                continue;
            }
            int off = e.getKey();
            long base = b.pblk << 12;
            int at;
            int recLen;
            int before = r.slack();
            if (r.used == 0) {
                at = off;
                recLen = r.recLen;
                r.used = need;
                b.changed(before, r);
            } else {
                at = off + r.used;
                recLen = r.recLen - r.used;
                r.recLen = r.used;
                b.changed(before, r);
                tx.putShort(base + off + DirentLayout.REC_LEN, (short) r.recLen);
                b.put(at, new Rec(recLen, need));
            }
            tx.write(base + at, encode(ino, recLen, nameBytes, type));
            tx.seal(Checksums.Kind.DIRECTORY, base);
            entries.put(name, new Entry(ino, type, base + at));
            if (type == DirentLayout.DT_DIR) {
                subdirectories++;
            }
            return true;
        }
        return false;
    }

    private static byte[] encode(long ino, int recLen, byte[] name, int type) {
        byte[] rec = new byte[DirentLayout.needed(name.length)];
        java.nio.ByteBuffer bb = MediaOrder.wrap(rec);
        bb.putLong(0, ino).putShort(8, (short) recLen).put(10, (byte) name.length).put(11, (byte) type);
        bb.put(12, name);
        return rec;
    }

    /** Removes {@code name}, which must exist. Returns its entry. */
    public Entry remove(Transaction tx, String name) {
        Entry e = entries.remove(name);
        if (e == null) {
            throw new IllegalStateException("no entry " + name);
        }
        if (e.type() == DirentLayout.DT_DIR) {
            subdirectories--;
        }
        long pblk = e.recordOffset() >>> 12;
        int off = (int) (e.recordOffset() & 4095);
        Block b = blocks.get(pblk);
        Rec r = b.recs.get(off);
        Map.Entry<Integer, Rec> prev = b.recs.lowerEntry(off);
        if (prev != null) {
            Rec p = prev.getValue();
            int before = p.slack();
            p.recLen += r.recLen;
            b.changed(before, p);
            b.drop(off);
            tx.putShort((pblk << 12) + prev.getKey() + DirentLayout.REC_LEN, (short) p.recLen);
        } else {
            int before = r.slack();
            r.used = 0;
            b.changed(before, r);
            tx.putLong(e.recordOffset() + DirentLayout.INO, 0);
        }
        tx.seal(Checksums.Kind.DIRECTORY, pblk << Geometry.BLOCK_SHIFT);
        index(b);
        return e;
    }

    /** Points existing {@code name} at another inode in place (atomic rename over a target). */
    public Entry replace(Transaction tx, String name, long ino, int type) {
        Entry old = entries.get(name);
        tx.putLong(old.recordOffset() + DirentLayout.INO, ino);
        tx.putByte(old.recordOffset() + DirentLayout.TYPE, (byte) type);
        tx.seal(Checksums.Kind.DIRECTORY, old.recordOffset() & ~(Geometry.BLOCK_SIZE - 1L));
        entries.put(name, new Entry(ino, type, old.recordOffset()));
        if (old.type() == DirentLayout.DT_DIR) {
            subdirectories--;
        }
        if (type == DirentLayout.DT_DIR) {
            subdirectories++;
        }
        return old;
    }

    /**
     * Formats fresh zeroed block {@code pblk} of directory {@code owner} in {@code tx}: the
     * header, and one free record over the rest of the block. The commit seals it.
     */
    public static void formatBlock(Transaction tx, long pblk, long owner) {
        long base = pblk << Geometry.BLOCK_SHIFT;
        tx.putInt(base + DirentLayout.BLOCK_MAGIC, DirentLayout.BLOCK_MAGIC_VALUE);
        tx.putLong(base + DirentLayout.BLOCK_OWNER, owner);
        tx.putShort(base + DirentLayout.BLOCK_HEADER + DirentLayout.REC_LEN,
                (short) (Geometry.BLOCK_SIZE - DirentLayout.BLOCK_HEADER));
        tx.seal(Checksums.Kind.DIRECTORY, base);
    }
}
