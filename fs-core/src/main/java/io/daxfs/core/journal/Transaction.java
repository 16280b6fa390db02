package io.daxfs.core.journal;

import io.daxfs.core.format.Checksums;
import io.daxfs.devdax.MediaOrder;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The metadata changes of one operation, made durable and applied atomically by
 * {@link Journal#commit}. Until then nothing reaches the device.
 *
 * <p>Two kinds of change: physical records (these bytes at this offset) and deferred bitmap
 * updates. Bitmap bytes are shared by unrelated inodes, so their new value is computed only
 * at commit time, under the journal lock, from the bitmap as all earlier transactions left it.
 * Computing it earlier would let two concurrent transactions overwrite each other's bits.
 *
 * <p>Not thread safe: one operation builds one transaction.
 */
public final class Transaction {
    /** Encoded records: target u64, length u32, pad u32, data padded to 8 bytes. */
    private ByteBuffer records = takeSpareRecords();
    private int recordCount;
    private final List<BitRange> bitRanges = new ArrayList<>(2);
    private final List<Runnable> afterCommit = new ArrayList<>(1);
    private final List<Runnable> onAbort = new ArrayList<>(1);
    private List<java.util.function.Consumer<Transaction>> atCommit = List.of();

    record BitRange(long bitmapOffset, long firstBit, long count, boolean set) {
    }

    /** A u64 field updated from its committed value: add {@code operand}, or raise to it. */
    record Deferred(long offset, long operand, boolean isMax) {
    }

    private final List<Deferred> deferred = new ArrayList<>(1);
    /** Units marked by their writers for a new CRC at commit: kind, first byte. */
    private List<Seal> seals = List.of();
    private int metaBlocks;
    private boolean resealFully;

    /** A unit whose checksum the commit recomputes ({@link #seal}). */
    record Seal(Checksums.Kind kind, long unitStart) {
    }

    Transaction() {
    }

    public void putLong(long offset, long value) {
        ByteBuffer b = reserve(offset, 8);
        b.putLong(value);
    }

    public void putInt(long offset, int value) {
        ByteBuffer b = reserve(offset, 4);
        b.putInt(value);
        b.putInt(0);
    }

    public void putShort(long offset, short value) {
        ByteBuffer b = reserve(offset, 2);
        b.putShort(value).putShort((short) 0).putInt(0);
    }

    public void putByte(long offset, byte value) {
        ByteBuffer b = reserve(offset, 1);
        b.put(value).put((byte) 0).putShort((short) 0).putInt(0);
    }

    public void write(long offset, byte[] data, int from, int length) {
        ByteBuffer b = reserve(offset, length);
        b.put(data, from, length);
        int pad = pad8(length) - length;
        for (int i = 0; i < pad; i++) {
            b.put((byte) 0);
        }
    }

    public void write(long offset, byte[] data) {
        write(offset, data, 0, data.length);
    }

    /** Sets or clears {@code count} bits from {@code firstBit} of the bitmap at {@code bitmapOffset}. */
    public void updateBits(long bitmapOffset, long firstBit, long count, boolean set) {
        if (count > 0) {
            bitRanges.add(new BitRange(bitmapOffset, firstBit, count, set));
        }
    }

    /**
     * Adds {@code delta} to the u64 at {@code offset}, computed at commit from the value all
     * earlier transactions left. For counters several concurrent operations change (an
     * inode's block count under concurrent allocating writes).
     */
    public void addLong(long offset, long delta) {
        deferred.add(new Deferred(offset, delta, false));
    }

    /** Raises the u64 at {@code offset} to at least {@code value}, at commit (file sizes). */
    public void maxLong(long offset, long value) {
        deferred.add(new Deferred(offset, value, true));
    }

    /**
     * Marks the unit of {@code kind} at {@code unitStart} (a directory or extent-overflow block
     * this transaction writes, or any unit fsck reseals) for a new checksum at commit, computed
     * over the unit as the transaction leaves it. Inodes and bitmap blocks that a record of the
     * transaction touches are resealed without this: the journal recognises them by address.
     */
    public void seal(Checksums.Kind kind, long unitStart) {
        if (seals.isEmpty()) {
            seals = new ArrayList<>(2);
        }
        seals.add(new Seal(kind, unitStart));
    }

    /**
     * Makes the commit compute the CRC of every unit this transaction changes over the whole
     * unit, instead of updating the stored CRC by the changed bytes ({@link Sealer}): for
     * repairs, whose units may not match their stored CRCs.
     */
    public void resealFully() {
        resealFully = true;
    }

    boolean resealsFully() {
        return resealFully;
    }

    /** Counts a metadata block (extent overflow, directory) this transaction allocated. */
    public void countMetaBlock() {
        metaBlocks++;
    }

    public int metaBlocksAllocated() {
        return metaBlocks;
    }

    /** Runs after the transaction is durable and applied (e.g. hand freed blocks back). */
    public void afterCommit(Runnable action) {
        afterCommit.add(action);
    }

    /**
     * Runs {@code step} inside {@link Journal#commit}, under the commit lock, before the records
     * are encoded; it may add records. For shared structures whose new value depends on the
     * order transactions commit in, not the order they were built in (the orphan list's
     * links): the step sees every earlier transaction applied and no later one. Must not block.
     */
    public void atCommit(java.util.function.Consumer<Transaction> step) {
        if (atCommit.isEmpty()) {
            atCommit = new ArrayList<>(1);
        }
        atCommit.add(step);
    }

    /** Runs if the transaction is abandoned (e.g. give reserved blocks back). */
    public void onAbort(Runnable action) {
        onAbort.add(action);
    }

    public boolean isEmpty() {
        return recordCount == 0 && bitRanges.isEmpty() && deferred.isEmpty() && atCommit.isEmpty() && seals.isEmpty();
    }

    /** Encoded size of the physical records so far, without bitmap updates. */
    public int recordBytes() {
        return records.position();
    }

    /**
     * An upper bound on the encoded size once bitmap updates are resolved and checksums
     * added: a unit resealed costs one 24-byte record, and every unit resealed is touched by a
     * record, a bitmap range or a seal.
     */
    int estimatedBytes() {
        long bits = 0;
        long units = recordCount + seals.size();
        for (BitRange r : bitRanges) {
            bits += 16 + pad8((int) Math.min(Integer.MAX_VALUE, r.count() / 8 + 2));
            units += r.count() / (8L * 4096) + 2;
        }
        return (int) Math.min(Integer.MAX_VALUE, records.position() + bits + units * CRC_RECORD);
    }

    /** Encoded size of the record that stores one checksum. */
    static final int CRC_RECORD = 24;

    private ByteBuffer reserve(long offset, int length) {
        int need = 16 + pad8(length);
        if (records.remaining() < need) {
            int cap = Math.max(records.capacity() * 2, records.position() + need);
            ByteBuffer bigger = MediaOrder.allocate(cap);
            records.flip();
            bigger.put(records);
            records = bigger;
        }
        records.putLong(offset).putInt(length).putInt(0);
        recordCount++;
        return records;
    }

    /**
     * Record buffers a thread's committed or aborted transactions gave back, one per thread:
     * a fresh buffer per transaction was half of what a create or unlink allocated. A buffer
     * is given back only once its transaction is over (the journal copied it into the slot,
     * or dropped it), and that transaction keeps no reference to it.
     */
    private static final ThreadLocal<ByteBuffer[]> SPARE_RECORDS = ThreadLocal.withInitial(() -> new ByteBuffer[1]);
    private static final int FIRST_RECORD_BYTES = 512;
    /** Larger buffers (a big truncate's records) go to the garbage collector, not the spare. */
    private static final int LARGEST_SPARE = 64 * 1024;

    private static ByteBuffer takeSpareRecords() {
        ByteBuffer[] spare = SPARE_RECORDS.get();
        ByteBuffer b = spare[0];
        if (b == null) {
            return MediaOrder.allocate(FIRST_RECORD_BYTES);
        }
        spare[0] = null;
        return b.clear();
    }

    /**
     * Ends this transaction's use of its record buffer, keeping it for the thread's next
     * transaction. Called by the journal when the transaction is committed or aborted; using
     * the transaction's records afterwards fails (NullPointerException) instead of writing
     * into another transaction's buffer.
     */
    void recycle() {
        ByteBuffer b = records;
        records = null;
        if (b != null && b.capacity() <= LARGEST_SPARE) {
            SPARE_RECORDS.get()[0] = b;
        }
    }

    static int pad8(int n) {
        return (n + 7) & ~7;
    }

    ByteBuffer recordBuffer() {
        return records;
    }

    int recordCount() {
        return recordCount;
    }

    List<BitRange> bitRanges() {
        return bitRanges;
    }

    List<Deferred> deferred() {
        return deferred;
    }

    List<Seal> seals() {
        return seals;
    }

    List<Runnable> afterCommitActions() {
        return afterCommit;
    }

    List<java.util.function.Consumer<Transaction>> atCommitSteps() {
        return atCommit;
    }

    List<Runnable> abortActions() {
        return onAbort;
    }
}
