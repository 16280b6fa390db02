package io.daxfs.core.dir;

import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.FileExtent;
import io.daxfs.core.journal.Transaction;
import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

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

    /** Supplies a new directory block: allocated, zeroed, mapped into the directory by {@code tx}. */
    public interface Grower {
        long newBlock(Transaction tx);
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
        /** Largest slack of any record, as of the last {@link #refresh()}. */
        private int maxSlack;
        /** The slack this block is filed under in {@link #bySlack}; 0 = not filed. */
        int indexedSlack;

        Block(long pblk) {
            this.pblk = pblk;
        }

        /** Recomputes {@link #maxSlack()}; call after every change to {@link #recs}. */
        void refresh() {
            int max = 0;
            for (Rec r : recs.values()) {
                max = Math.max(max, r.slack());
            }
            maxSlack = max;
        }

        int maxSlack() {
            return maxSlack;
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

    /** Reads every record of the directory's blocks. */
    public static Directory load(MemorySegment media, ExtentMap extents) {
        Directory d = new Directory();
        for (FileExtent e : extents.extents()) {
            for (long i = 0; i < e.length(); i++) {
                d.loadBlock(media, e.physical() + i);
            }
        }
        return d;
    }

    private void loadBlock(MemorySegment media, long pblk) {
        Block b = new Block(pblk);
        long base = pblk << 12;
        int off = 0;
        while (off < 4096) {
            long ino = media.get(MediaOrder.LONG, base + off);
            int recLen = Short.toUnsignedInt(media.get(MediaOrder.SHORT, base + off + DirentLayout.REC_LEN));
            if (recLen < 16 || (recLen & 7) != 0 || off + recLen > 4096) {
                throw new IllegalStateException("corrupt directory block " + pblk + " at offset " + off);
            }
            if (ino != 0) {
                int nameLen = Byte.toUnsignedInt(media.get(ValueLayout.JAVA_BYTE, base + off + DirentLayout.NAME_LEN));
                int type = Byte.toUnsignedInt(media.get(ValueLayout.JAVA_BYTE, base + off + DirentLayout.TYPE));
                byte[] name = media.asSlice(base + off + DirentLayout.NAME, nameLen).toArray(ValueLayout.JAVA_BYTE);
                entries.put(new String(name, StandardCharsets.UTF_8), new Entry(ino, type, base + off));
                if (type == DirentLayout.DT_DIR) {
                    subdirectories++;
                }
                b.recs.put(off, new Rec(recLen, DirentLayout.needed(nameLen)));
            } else {
                b.recs.put(off, new Rec(recLen, 0));
            }
            off += recLen;
        }
        blocks.put(pblk, b);
        index(b);
    }

    /** Recomputes {@code b}'s largest slack and re-files it in {@link #bySlack}. */
    private void index(Block b) {
        b.refresh();
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
        b.recs.put(0, new Rec(4096, 0));
        blocks.put(pblk, b);
        // The grower formatted the block as one free record of 4096 bytes.
        if (!place(tx, b, name, nameBytes, need, ino, type)) {
            throw new IllegalStateException("a fresh directory block has no room for " + need + " bytes");
        }
        index(b);
    }

    private boolean place(Transaction tx, Block b, String name, byte[] nameBytes, int need, long ino, int type) {
        for (var e : b.recs.entrySet()) {
            Rec r = e.getValue();
            if (r.slack() < need) {
                continue;
            }
            int off = e.getKey();
            long base = b.pblk << 12;
            int at;
            int recLen;
            if (r.used == 0) {
                at = off;
                recLen = r.recLen;
                r.used = need;
            } else {
                at = off + r.used;
                recLen = r.recLen - r.used;
                r.recLen = r.used;
                tx.putShort(base + off + DirentLayout.REC_LEN, (short) r.recLen);
                b.recs.put(at, new Rec(recLen, need));
            }
            tx.write(base + at, encode(ino, recLen, nameBytes, type));
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
            prev.getValue().recLen += r.recLen;
            b.recs.remove(off);
            tx.putShort((pblk << 12) + prev.getKey() + DirentLayout.REC_LEN, (short) prev.getValue().recLen);
        } else {
            r.used = 0;
            tx.putLong(e.recordOffset() + DirentLayout.INO, 0);
        }
        index(b);
        return e;
    }

    /** Points existing {@code name} at another inode in place (atomic rename over a target). */
    public Entry replace(Transaction tx, String name, long ino, int type) {
        Entry old = entries.get(name);
        tx.putLong(old.recordOffset() + DirentLayout.INO, ino);
        tx.putByte(old.recordOffset() + DirentLayout.TYPE, (byte) type);
        entries.put(name, new Entry(ino, type, old.recordOffset()));
        if (old.type() == DirentLayout.DT_DIR) {
            subdirectories--;
        }
        if (type == DirentLayout.DT_DIR) {
            subdirectories++;
        }
        return old;
    }

    /** Writes the "one free record" format into a fresh zeroed block (before it is linked). */
    public static void formatBlock(io.daxfs.devdax.PmemRegion region, long pblk) {
        region.putShort((pblk << 12) + DirentLayout.REC_LEN, (short) 4096);
    }
}
