package io.daxfs.core.journal;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.devdax.MediaOrder;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * The metadata journal: a single-slot redo log with an "applied" mark.
 *
 * <p>Commit of transaction S, serialized by {@link #commitLock}:
 * <ol>
 * <li>resolve bitmap updates against the bitmaps as transaction S-1 left them;</li>
 * <li>write S (header, records, CRC32C trailer) into the slot; flush; fence. From here S is
 *     committed: a crash replays it at the next mount;</li>
 * <li>apply every record to its home location; flush each; fence;</li>
 * <li>store {@code appliedSeq = S} in the journal header; flush; fence.</li>
 * </ol>
 *
 * <p>Invariants. (1) Home locations only ever hold the effects of whole transactions: step 3
 * starts after S is durable in the slot. (2) At most one transaction is committed but not yet
 * marked applied, and it is the one in the slot. (3) Mount replays the slot only when its
 * CRC is valid and its sequence exceeds {@code appliedSeq}. Replaying an applied transaction
 * again is therefore impossible, which is what lets data blocks be written outside the
 * journal: a replay can never write stale metadata over a block that was freed and reused
 * since (the problem jbd solves with revoke records). (4) A torn slot write fails its CRC
 * and is ignored: the operation never happened.
 *
 * <p>On-media layout (journal block 0 is the header, the slot starts at journal block 1):
 * <pre>
 * header: 0 magic u64 "DXJRNL01" | 8 appliedSeq u64
 * slot:   0 magic u32 | 4 record count u32 | 8 seq u64 | 16 total length u64 |
 *         24 records (target u64, length u32, pad u32, data padded to 8) ... |
 *         crc32c u32 of everything before it | end magic u32
 * </pre>
 */
public final class Journal {
    static final long HEADER_MAGIC = 0x31304c4e524a5844L; // "DXJRNL01" little endian
    static final int SLOT_MAGIC = 0x4e585444; // "DTXN"
    static final int END_MAGIC = 0x444e4554; // "TEND"
    private static final ValueLayout.OfLong LONG = MediaOrder.LONG;
    private static final ValueLayout.OfInt INT = MediaOrder.INT;
    private static final int SLOT_HEADER = 24;
    private static final int SLOT_TRAILER = 8;

    private final PmemRegion region;
    private final MemorySegment media;
    private final long headerOffset;
    private final long slotOffset;
    private final int slotCapacity;
    private final ReentrantLock commitLock = new ReentrantLock();
    /** See {@link #slotBuffer}; guarded by commitLock. */
    private byte[] slotBytes = new byte[4096];
    /** Tries for the commit lock before parking: about a commit's length (see lockCommit). */
    private static final int COMMIT_SPINS = 2_000;
    /** Next sequence number; guarded by commitLock. */
    private long nextSeq;
    /** Hook for tests: runs inside commit at named points. */
    private volatile CommitObserver observer = CommitObserver.NONE;

    /** Test hook: observes the commit protocol's steps (crash-point tests). */
    public interface CommitObserver {
        CommitObserver NONE = step -> { };

        void reached(String step);
    }

    private Journal(PmemRegion region, Geometry g, long nextSeq) {
        this.region = region;
        this.media = region.readView();
        this.headerOffset = g.journalOffset();
        this.slotOffset = g.journalOffset() + Geometry.BLOCK_SIZE;
        this.slotCapacity = (int) Math.min(Integer.MAX_VALUE - 8, g.journalBytes() - Geometry.BLOCK_SIZE);
        this.nextSeq = nextSeq;
    }

    /** Writes an empty journal (mkfs). */
    public static void format(PmemRegion region, Geometry g) {
        long off = g.journalOffset();
        region.fill(off, 2L * Geometry.BLOCK_SIZE, (byte) 0);
        region.putLong(off, HEADER_MAGIC);
        region.putLong(off + 8, 0);
        region.flush(off, 2L * Geometry.BLOCK_SIZE);
        region.fence();
    }

    /** Opens the journal at mount, replaying a committed but unapplied transaction. */
    public static Journal recover(PmemRegion region, Geometry g) {
        Journal j = new Journal(region, g, 0);
        PendingTransaction pending = j.readPending();
        long applied = j.media.get(LONG, j.headerOffset + 8);
        if (pending != null) {
            pending.applyTo(region);
            region.fence();
            j.markApplied(pending.seq());
            applied = pending.seq();
        }
        j.nextSeq = applied + 1;
        return j;
    }

    /**
     * Reads the journal without changing anything (fsck): the committed transaction a mount
     * would replay, or null.
     */
    public static PendingTransaction inspect(MemorySegment media, Geometry g) {
        return new Journal(new ReadOnlyRegion(media), g, 0).readPending();
    }

    public Transaction begin() {
        return new Transaction();
    }

    /** Largest encoded transaction the slot holds. Operations split larger work. */
    public int capacity() {
        return slotCapacity - SLOT_HEADER - SLOT_TRAILER;
    }

    /** True if {@code tx} plus {@code moreBytes} of records still fits one commit. */
    public boolean fits(Transaction tx, int moreBytes) {
        return (long) tx.estimatedBytes() + moreBytes <= capacity();
    }

    public void setObserver(CommitObserver observer) {
        this.observer = observer == null ? CommitObserver.NONE : observer;
    }

    /**
     * Makes {@code tx} durable and applies it; see the class comment for the protocol. On
     * return the transaction's effects are on the device and durable, and its after-commit
     * actions have run.
     *
     * @throws FsException ENOSPC-free: EFBIG-style {@link Errno#E2BIG} if it cannot fit the slot
     */
    public void commit(Transaction tx) {
        if (tx.isEmpty()) {
            runAll(tx.afterCommitActions());
            return;
        }
        lockCommit();
        try {
            for (var step : tx.atCommitSteps()) {
                step.accept(tx);
            }
            resolveBits(tx);
            resolveDeferred(tx);
            ByteBuffer recs = tx.recordBuffer();
            int recordBytes = recs.position();
            int total = SLOT_HEADER + recordBytes + SLOT_TRAILER;
            if (total > slotCapacity) {
                abortLocked(tx);
                throw new FsException(Errno.E2BIG, "transaction of " + total + " bytes exceeds the journal slot of "
                        + slotCapacity + " bytes");
            }
            long seq = nextSeq++;
            ByteBuffer slot = slotBuffer(total);
            slot.putInt(SLOT_MAGIC).putInt(tx.recordCount()).putLong(seq).putLong(total);
            slot.put(recs.array(), 0, recordBytes);
            CRC32C crc = new CRC32C();
            crc.update(slot.array(), 0, SLOT_HEADER + recordBytes);
            slot.putInt((int) crc.getValue()).putInt(END_MAGIC);

            // Data and fresh metadata blocks the operation flushed must be durable before the
            // transaction that makes them reachable can be.
            region.fence();
            region.write(slotOffset, slot.array(), 0, total);
            region.flush(slotOffset, total);
            region.fence();
            observer.reached("committed");

            applyRecords(region, slot.array(), SLOT_HEADER, SLOT_HEADER + recordBytes);
            region.fence();
            observer.reached("applied");

            markApplied(seq);
            observer.reached("marked");
        } finally {
            commitLock.unlock();
        }
        tx.recycle();
        runAll(tx.afterCommitActions());
    }

    /**
     * The buffer a commit encodes its slot in, reused from commit to commit (guarded by the
     * commit lock) and grown to the largest slot so far: a fresh one per commit was most of
     * what a create or unlink allocated.
     */
    private ByteBuffer slotBuffer(int total) {
        if (slotBytes.length < total) {
            slotBytes = new byte[Math.max(total, Math.min(slotCapacity, 2 * slotBytes.length))];
        }
        return MediaOrder.wrap(slotBytes);
    }

    /**
     * Takes the commit lock, spinning briefly before parking. A commit holds the lock for a
     * few microseconds; parking a thread and waking it costs more than that, so with two
     * threads committing, a lock that parks at once turns every hand-over into two context
     * switches and two threads commit slower than one (NamespaceBench: 2 threads creating and
     * unlinking in their own directories ran at 0.65x one thread with a plain lock()).
     */
    private void lockCommit() {
        for (int i = 0; i < COMMIT_SPINS; i++) {
            if (commitLock.tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        commitLock.lock();
    }

    /** Drops a transaction that will not be committed, running its abort actions. */
    public void abort(Transaction tx) {
        tx.recycle();
        runAll(tx.abortActions());
    }

    private void abortLocked(Transaction tx) {
        runAll(tx.abortActions());
    }

    private static void runAll(java.util.List<Runnable> actions) {
        for (Runnable r : actions) {
            r.run();
        }
    }

    private void markApplied(long seq) {
        region.putLong(headerOffset + 8, seq);
        region.flush(headerOffset + 8, 8);
        region.fence();
    }

    /**
     * Turns deferred bitmap updates into physical records, computed against the bitmap bytes
     * as every earlier transaction left them (all applied: we hold the commit lock).
     */
    private void resolveBits(Transaction tx) {
        if (tx.bitRanges().isEmpty()) {
            return;
        }
        BitmapRuns runs = new BitmapRuns();
        for (Transaction.BitRange r : tx.bitRanges()) {
            long bit = r.firstBit();
            long end = r.firstBit() + r.count();
            byte[] run = runs.cover(media, r.bitmapOffset() + (bit >>> 3), r.bitmapOffset() + ((end - 1) >>> 3) + 1);
            long runStart = runs.lastStart();
            while (bit < end) {
                long byteOff = r.bitmapOffset() + (bit >>> 3);
                int firstInByte = (int) (bit & 7);
                int n = (int) Math.min(8 - firstInByte, end - bit);
                int mask = ((1 << n) - 1) << firstInByte;
                int i = (int) (byteOff - runStart);
                run[i] = (byte) (r.set() ? (run[i] | mask) : (run[i] & ~mask));
                bit += n;
            }
        }
        runs.emit(tx);
        tx.bitRanges().clear();
    }

    /** Turns deferred counter updates into records, from the values committed so far. */
    private void resolveDeferred(Transaction tx) {
        var deferred = tx.deferred();
        int n = deferred.size();
        if (n == 0) {
            return;
        }
        // A handful of counters per transaction: a quadratic scan beats a map, and allocates
        // nothing. Each offset's value is computed once, from all its updates in order.
        for (int i = 0; i < n; i++) {
            long offset = deferred.get(i).offset();
            boolean seenBefore = false;
            for (int k = 0; k < i && !seenBefore; k++) {
                seenBefore = deferred.get(k).offset() == offset;
            }
            if (seenBefore) {
                continue;
            }
            long value = media.get(LONG, offset);
            for (int k = i; k < n; k++) {
                Transaction.Deferred d = deferred.get(k);
                if (d.offset() == offset) {
                    value = d.isMax() ? Math.max(value, d.operand()) : value + d.operand();
                }
            }
            tx.putLong(offset, value);
        }
        deferred.clear();
    }

    /**
     * Raises the u64 at {@code offset} to {@code value} outside any transaction: one atomic
     * aligned store, made durable, ordered with commits by the commit lock (so a concurrent
     * transaction's {@link Transaction#maxLong} cannot apply a stale value after it).
     */
    public void storeMax(long offset, long value) {
        lockCommit();
        try {
            if (media.get(LONG, offset) < value) {
                // What the caller flushed (the data below the new size) must be durable before
                // the size is: otherwise a crash can show the new size over old bytes.
                region.fence();
                region.putLong(offset, value);
                region.flush(offset, 8);
                region.fence();
            }
        } finally {
            commitLock.unlock();
        }
    }

    /**
     * Writes every record home, then flushes what they touched once per run of adjacent
     * pages: a transaction's records cluster in a few pages (an inode, a bitmap word, a
     * directory block), and on a plain file mapping each flush is an msync system call.
     */
    static void applyRecords(PmemRegion region, byte[] slot, int from, int to) {
        ByteBuffer b = MediaOrder.wrap(slot);
        PageRuns pages = PAGE_RUNS.get();
        pages.clear();
        int p = from;
        while (p < to) {
            long target = b.getLong(p);
            int len = b.getInt(p + 8);
            region.write(target, slot, p + 16, len);
            pages.add(target >>> 12, ((target + Math.max(len, 1) - 1) >>> 12) + 1);
            p += 16 + Transaction.pad8(len);
        }
        pages.flushRuns(region);
    }

    private static final ThreadLocal<PageRuns> PAGE_RUNS = ThreadLocal.withInitial(PageRuns::new);

    /**
     * The pages a transaction's records touched, as [first, end) page pairs, merged into runs
     * of adjacent pages when flushed. Primitive arrays reused per thread, so applying a
     * transaction allocates nothing.
     */
    private static final class PageRuns {
        private long[] firsts = new long[16];
        private long[] ends = new long[16];
        private int count;

        void clear() {
            count = 0;
        }

        void add(long first, long end) {
            if (count == firsts.length) {
                firsts = java.util.Arrays.copyOf(firsts, count * 2);
                ends = java.util.Arrays.copyOf(ends, count * 2);
            }
            // Insertion sort by first page: a transaction has a handful of records.
            int i = count++;
            while (i > 0 && firsts[i - 1] > first) {
                firsts[i] = firsts[i - 1];
                ends[i] = ends[i - 1];
                i--;
            }
            firsts[i] = first;
            ends[i] = end;
        }

        void flushRuns(PmemRegion region) {
            long runStart = -1;
            long runEnd = -1;
            for (int i = 0; i < count; i++) {
                if (firsts[i] > runEnd) {
                    if (runStart >= 0) {
                        region.flush(runStart << 12, (runEnd - runStart) << 12);
                    }
                    runStart = firsts[i];
                }
                runEnd = Math.max(runEnd, ends[i]);
            }
            if (runStart >= 0) {
                region.flush(runStart << 12, (runEnd - runStart) << 12);
            }
        }
    }

    private PendingTransaction readPending() {
        if (media.get(LONG, headerOffset) != HEADER_MAGIC) {
            throw new CorruptFileSystemException("journal header is damaged (bad magic)");
        }
        long applied = media.get(LONG, headerOffset + 8);
        if (media.get(INT, slotOffset) != SLOT_MAGIC) {
            return null;
        }
        long seq = media.get(LONG, slotOffset + 8);
        long total = media.get(LONG, slotOffset + 16);
        if (seq <= applied || total < SLOT_HEADER + SLOT_TRAILER || total > slotCapacity) {
            return null;
        }
        byte[] slot = media.asSlice(slotOffset, total).toArray(ValueLayout.JAVA_BYTE);
        ByteBuffer b = MediaOrder.wrap(slot);
        int end = (int) total - SLOT_TRAILER;
        CRC32C crc = new CRC32C();
        crc.update(slot, 0, end);
        if (b.getInt(end) != (int) crc.getValue() || b.getInt(end + 4) != END_MAGIC) {
            return null; // torn commit: the operation never happened
        }
        return new PendingTransaction(seq, slot, SLOT_HEADER, end);
    }

    /** A committed transaction not yet marked applied. */
    public record PendingTransaction(long seq, byte[] slot, int from, int to) {
        void applyTo(PmemRegion region) {
            applyRecords(region, slot, from, to);
        }

        /** Calls {@code sink} with (target offset, data) for each record, in order. */
        public void forEachRecord(java.util.function.BiConsumer<Long, byte[]> sink) {
            ByteBuffer b = MediaOrder.wrap(slot);
            int p = from;
            while (p < to) {
                long target = b.getLong(p);
                int len = b.getInt(p + 8);
                byte[] data = new byte[len];
                System.arraycopy(slot, p + 16, data, 0, len);
                sink.accept(target, data);
                p += 16 + Transaction.pad8(len);
            }
        }
    }
}
