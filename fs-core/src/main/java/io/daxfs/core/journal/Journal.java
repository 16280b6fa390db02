package io.daxfs.core.journal;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.stats.LatencyHistogram;
import io.daxfs.devdax.MediaOrder;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * The metadata journal: a single-slot redo log with an "applied" mark.
 *
 * <p>Commit of transaction S, serialized by {@link #commitLock}:
 * <ol>
 * <li>resolve bitmap updates against the bitmaps as transaction S-1 left them, and add a
 *     record with the new checksum of every unit (inode, bitmap block, directory or
 *     extent-overflow block) the transaction changes, computed over the unit as the media
 *     holds it now overlaid with this transaction's records;</li>
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
 * header: 0 magic u64 "DXJRNL01" | 8 appliedSeq u64 | 16 orphan-list head u64 |
 *         24 error flag u32 ("DXER" = damage recorded) | 28 message length u32 | 32 inode u64 |
 *         40 block u64 | 48 time (epoch seconds) u64 | 64 message (UTF-8, up to 1024 bytes)
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
    /** Header fields (journal block 0). */
    static final int APPLIED = 8;
    public static final int ORPHAN_HEAD = 16;
    static final int ERROR_FLAG = 24;
    static final int ERROR_LENGTH = 28;
    static final int ERROR_INODE = 32;
    static final int ERROR_BLOCK = 40;
    static final int ERROR_TIME = 48;
    static final int ERROR_TEXT = 64;
    static final int ERROR_MAGIC = 0x52455844; // "DXER"
    /** Longest message of the recorded error state, in bytes. */
    public static final int MAX_ERROR_TEXT = 1024;
    /**
     * Latest time an error record may carry, in epoch seconds (9999-12-31): a later one is a
     * damaged header (and past what {@link java.time.Instant} can print, found by fuzzing).
     */
    static final long MAX_ERROR_TIME = 253_402_300_799L;
    /** Sequence numbers beyond this are implausible (a damaged header). */
    private static final long MAX_SEQ = 1L << 62;

    private final PmemRegion region;
    private final MemorySegment media;
    private final Geometry geometry;
    private final Checksums checksums;
    private final ErrorState errors;
    private final long headerOffset;
    private final long slotOffset;
    private final int slotCapacity;
    private final ReentrantLock commitLock = new ReentrantLock();
    /**
     * Each committing thread's {@link CommitScratch}: its {@link Sealer}, which computes what a
     * transaction changes in its units' CRCs before the commit lock ({@link Sealer#prepare}) and
     * seals under it, and the buffer it encodes its slot in.
     */
    private final ThreadLocal<CommitScratch> scratch;
    /**
     * The last commit that changed each unit, by {@link Sealer#versionSlot}; guarded by
     * commitLock. A CRC term prepared outside the lock is used only if no later commit changed
     * its unit.
     */
    private final long[] unitVersions = new long[4096];
    /** The last transaction applied to its home locations (written under commitLock, read outside it). */
    private volatile long lastApplied;
    private final LatencyHistogram commitLatency = new LatencyHistogram();
    private final AtomicLong commits = new AtomicLong();
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

    private Journal(PmemRegion region, Checksums checksums, ErrorState errors, long nextSeq) {
        Geometry g = checksums.geometry();
        this.region = region;
        this.media = region.readView();
        this.geometry = g;
        this.checksums = checksums;
        this.errors = errors;
        this.headerOffset = g.journalOffset();
        this.slotOffset = g.journalOffset() + Geometry.BLOCK_SIZE;
        this.slotCapacity = (int) Math.min(Integer.MAX_VALUE - 8, g.journalBytes() - Geometry.BLOCK_SIZE);
        this.nextSeq = nextSeq;
        this.scratch = ThreadLocal.withInitial(() -> new CommitScratch(new Sealer(checksums, media)));
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

    /**
     * Opens the journal at mount, replaying a committed but unapplied transaction. With
     * {@code recordErrors}, the first damage {@code errors} is told of is recorded in the
     * header (not on a read-only mount: nothing may be written there).
     *
     * @throws CorruptFileSystemException if the header or the committed transaction is
     *     damaged; nothing was written then
     */
    public static Journal recover(PmemRegion region, Checksums checksums, ErrorState errors, boolean recordErrors) {
        Journal j = new Journal(region, checksums, errors, 0);
        Header h = header(j.media, checksums.geometry());
        PendingTransaction pending = j.readPending(h);
        long applied = h.appliedSeq();
        if (pending != null) {
            pending.applyTo(region);
            region.fence();
            j.markApplied(pending.seq());
            applied = pending.seq();
        }
        j.nextSeq = applied + 1;
        j.lastApplied = applied;
        if (recordErrors) {
            errors.recorder(j::recordError);
        }
        return j;
    }

    /**
     * The journal of a read-only mount whose journal header is damaged: nothing is replayed,
     * and {@code errors} refuses every transaction.
     */
    public static Journal unreplayed(PmemRegion region, Checksums checksums, ErrorState errors) {
        errors.refuseChanges("the file system is mounted read-only");
        return new Journal(region, checksums, errors, 0);
    }

    /** {@link #recover(PmemRegion, Checksums, ErrorState, boolean)} of a writable mount with errors=remount-ro. */
    public static Journal recover(PmemRegion region, Checksums checksums) {
        return recover(region, checksums, ErrorState.defaults(), true);
    }

    /**
     * Reads the journal without changing anything (fsck, mount's checks): the committed
     * transaction a mount would replay, or null.
     *
     * @throws CorruptFileSystemException if the header or that transaction is damaged
     */
    public static PendingTransaction inspect(MemorySegment media, Geometry g) {
        Journal j = new Journal(new ReadOnlyRegion(media), new Checksums(new java.util.UUID(0, 0), g),
                ErrorState.defaults(), 0);
        return j.readPending(header(media, g));
    }

    /** The damage recorded while mounted (the first finding), or null. */
    public record ErrorRecord(String message, long inode, long block, long epochSeconds) {
        /** One line: when, what, where. */
        public String describe() {
            return message + (inode >= 0 ? " (inode " + inode + (block >= 0 ? ", block " + block : "") + ")"
                    : block >= 0 ? " (block " + block + ")" : "")
                    + ", recorded " + java.time.Instant.ofEpochSecond(epochSeconds);
        }
    }

    /** The journal header: the last applied sequence number, the orphan list's head, the error state. */
    public record Header(long appliedSeq, long orphanHead, ErrorRecord error) {
    }

    /**
     * Reads and checks the journal header.
     *
     * @throws CorruptFileSystemException if its magic is wrong or a field is implausible
     */
    public static Header header(MemorySegment media, Geometry g) {
        long h = g.journalOffset();
        long block = g.journalStart();
        if (media.byteSize() < h + Geometry.BLOCK_SIZE || media.get(LONG, h) != HEADER_MAGIC) {
            throw new CorruptFileSystemException("journal header is damaged (bad magic)", CorruptFileSystemException.NONE,
                    block);
        }
        long applied = media.get(LONG, h + APPLIED);
        long head = media.get(LONG, h + ORPHAN_HEAD);
        int flag = media.get(INT, h + ERROR_FLAG);
        if (applied < 0 || applied > MAX_SEQ) {
            throw new CorruptFileSystemException("journal header is damaged (applied sequence " + applied + ")",
                    CorruptFileSystemException.NONE, block);
        }
        if (head < 0 || head > g.inodeCount()) {
            throw new CorruptFileSystemException("journal header is damaged (orphan list head " + head
                    + " is not an inode number)", CorruptFileSystemException.NONE, block);
        }
        ErrorRecord error = null;
        if (flag == ERROR_MAGIC) {
            int len = media.get(INT, h + ERROR_LENGTH);
            if (len < 0 || len > MAX_ERROR_TEXT) {
                throw new CorruptFileSystemException("journal header is damaged (error message of " + len + " bytes)",
                        CorruptFileSystemException.NONE, block);
            }
            long time = media.get(LONG, h + ERROR_TIME);
            if (time < 0 || time > MAX_ERROR_TIME) {
                throw new CorruptFileSystemException("journal header is damaged (error recorded at time " + time + ")",
                        CorruptFileSystemException.NONE, block);
            }
            byte[] text = media.asSlice(h + ERROR_TEXT, len).toArray(ValueLayout.JAVA_BYTE);
            error = new ErrorRecord(new String(text, StandardCharsets.UTF_8), media.get(LONG, h + ERROR_INODE),
                    media.get(LONG, h + ERROR_BLOCK), time);
        } else if (flag != 0) {
            throw new CorruptFileSystemException("journal header is damaged (error flag " + Integer.toHexString(flag)
                    + ")", CorruptFileSystemException.NONE, block);
        }
        return new Header(applied, head, error);
    }

    /**
     * Starts a transaction.
     *
     * @throws FsException EROFS if changes are refused (a read-only mount, or damage found
     *     under errors=remount-ro)
     */
    public Transaction begin() {
        errors.checkWritable();
        return new Transaction();
    }

    /** Whether changes may be written, and what happens when damage is found ({@link ErrorState}). */
    public ErrorState errors() {
        return errors;
    }

    /** Reports damage found while mounted ({@link ErrorState#damaged}); returns it for the caller to throw. */
    public CorruptFileSystemException damaged(CorruptFileSystemException e) {
        return errors.damaged(e);
    }

    /**
     * Runs {@code action} while no commit runs: every committed transaction is applied whole
     * (for a reader that must tell a unit being applied from a damaged one). Lock order: the
     * commit lock, then leaves only.
     */
    public <T> T withCommitLock(java.util.function.Supplier<T> action) {
        commitLock.lock();
        try {
            return action.get();
        } finally {
            commitLock.unlock();
        }
    }

    /** The checksums the commits compute. */
    public Checksums checksums() {
        return checksums;
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
        // daxfs stat times one commit in 8 (the clock is not free); a racy read of nextSeq only picks which.
        long start = (nextSeq & 7) == 0 ? System.nanoTime() : 0;
        CommitScratch own = scratch.get();
        Sealer sealer = own.sealer;
        // Most of sealing runs here, in parallel with other threads' commits: lastApplied is
        // read before the media, so seal can tell whether what prepare read is still current.
        sealer.prepare(tx, lastApplied);
        observer.reached("prepared");
        lockCommit();
        try {
            for (var step : tx.atCommitSteps()) {
                step.accept(tx);
            }
            resolveBits(tx);
            resolveDeferred(tx);
            sealer.seal(tx, unitVersions);
            ByteBuffer recs = tx.recordBuffer();
            int recordBytes = recs.position();
            int total = SLOT_HEADER + recordBytes + SLOT_TRAILER;
            if (total > slotCapacity) {
                abortLocked(tx);
                throw new FsException(Errno.E2BIG, "transaction of " + total + " bytes exceeds the journal slot of "
                        + slotCapacity + " bytes");
            }
            long seq = nextSeq++;
            sealer.stamp(unitVersions, seq);
            ByteBuffer slot = own.slot(total, slotCapacity);
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
            lastApplied = seq;
            observer.reached("applied");

            markApplied(seq);
            observer.reached("marked");
        } finally {
            commitLock.unlock();
        }
        commits.getAndIncrement();
        if (start != 0) {
            commitLatency.record(System.nanoTime() - start);
        }
        tx.recycle();
        runAll(tx.afterCommitActions());
    }

    /** How long commits took, from asking for the commit lock to applied: one in 8 (daxfs stat). */
    public LatencyHistogram commitLatency() {
        return commitLatency;
    }

    /** Transactions committed since the mount (empty ones are not commits). */
    public long commits() {
        return commits.get();
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
        markApplied(region, geometry, seq);
    }

    /** Stores {@code seq} as the last applied transaction (fsck: a damaged transaction is discarded so). */
    public static void markApplied(PmemRegion region, Geometry g, long seq) {
        long at = g.journalOffset() + APPLIED;
        region.putLong(at, seq);
        region.flush(at, 8);
        region.fence();
    }

    /**
     * Records {@code e} as the file system's error state in the header, unless one is recorded
     * already: the message first, then the flag, each made durable, so a torn record reads as
     * no record. The next mount refuses the image until fsck has repaired it.
     */
    private void recordError(CorruptFileSystemException e) {
        commitLock.lock();
        try {
            if (media.get(INT, headerOffset + ERROR_FLAG) != ERROR_MAGIC) {
                recordError(region, geometry, e.getMessage(), e.inode(), e.block());
            }
        } finally {
            commitLock.unlock();
        }
    }

    /** Records {@code message} as the error state (fsck, when a repair left damage). */
    public static void recordError(PmemRegion region, Geometry g, String message) {
        recordError(region, g, message, CorruptFileSystemException.NONE, CorruptFileSystemException.NONE);
    }

    private static void recordError(PmemRegion region, Geometry g, String message, long inode, long block) {
        long h = g.journalOffset();
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        int len = Math.min(text.length, MAX_ERROR_TEXT);
        ByteBuffer b = MediaOrder.allocate(ERROR_TEXT - ERROR_LENGTH + len);
        b.putInt(len).putLong(inode).putLong(block).putLong(System.currentTimeMillis() / 1000);
        b.position(ERROR_TEXT - ERROR_LENGTH);
        b.put(text, 0, len);
        region.write(h + ERROR_LENGTH, b.array(), 0, b.capacity());
        region.flush(h + ERROR_LENGTH, b.capacity());
        region.fence();
        region.putInt(h + ERROR_FLAG, ERROR_MAGIC);
        region.flush(h + ERROR_FLAG, 4);
        region.fence();
    }

    /** Clears the recorded error state (fsck, after a successful repair). */
    public static void clearError(PmemRegion region, Geometry g) {
        long h = g.journalOffset();
        region.putInt(h + ERROR_FLAG, 0);
        region.flush(h + ERROR_FLAG, 4);
        region.fence();
        region.fill(h + ERROR_LENGTH, ERROR_TEXT - ERROR_LENGTH + MAX_ERROR_TEXT, (byte) 0);
        region.flush(h + ERROR_LENGTH, ERROR_TEXT - ERROR_LENGTH + MAX_ERROR_TEXT);
        region.fence();
    }

    /**
     * Writes a fresh header over a damaged one (fsck): no orphan list (its inodes are found
     * again as unnamed), no error state, and {@code appliedSeq} so the slot is never replayed.
     */
    public static void rewriteHeader(PmemRegion region, Geometry g, long appliedSeq) {
        long h = g.journalOffset();
        region.fill(h, Geometry.BLOCK_SIZE, (byte) 0);
        region.putLong(h + APPLIED, appliedSeq);
        region.flush(h, Geometry.BLOCK_SIZE);
        region.fence();
        region.putLong(h, HEADER_MAGIC);
        region.flush(h, 8);
        region.fence();
    }

    /** The sequence number in the slot, whatever its state (fsck: to discard it), or 0. */
    public static long slotSequence(MemorySegment media, Geometry g) {
        long slot = g.journalOffset() + Geometry.BLOCK_SIZE;
        return media.get(INT, slot) == SLOT_MAGIC ? Math.max(0, Math.min(MAX_SEQ, media.get(LONG, slot + 8))) : 0;
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
            errors.checkWritable();
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
        // The flushes stay here, in applyRecords: DroppedFlushTest drops this method's flushes.
        int runs = pages.mergeIntoRuns();
        for (int i = 0; i < runs; i++) {
            region.flush(pages.first(i) << 12, (pages.end(i) - pages.first(i)) << 12);
        }
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

        /** Merges overlapping and adjacent pairs into runs, in place; returns how many runs. */
        int mergeIntoRuns() {
            int runs = 0;
            for (int i = 0; i < count; i++) {
                if (runs > 0 && firsts[i] <= ends[runs - 1]) {
                    ends[runs - 1] = Math.max(ends[runs - 1], ends[i]);
                } else {
                    firsts[runs] = firsts[i];
                    ends[runs] = ends[i];
                    runs++;
                }
            }
            count = runs;
            return runs;
        }

        long first(int run) {
            return firsts[run];
        }

        long end(int run) {
            return ends[run];
        }
    }

    /**
     * The committed transaction in the slot that is not applied yet, or null. A slot that
     * fails its CRC is a torn commit (the operation never happened); one that passes it but
     * whose records do not parse, or write outside the device, onto a superblock or into the
     * slot itself, is damage.
     */
    private PendingTransaction readPending(Header h) {
        long applied = h.appliedSeq();
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
        if (seq > MAX_SEQ) {
            throw damagedSlot(seq, "an implausible sequence number");
        }
        long deviceEnd = geometry.totalBlocks() << Geometry.BLOCK_SHIFT;
        long slotEnd = headerOffset + geometry.journalBytes();
        int count = 0;
        int p = SLOT_HEADER;
        while (p < end) {
            if (end - p < 16) {
                throw damagedSlot(seq, "a record header cut short at byte " + p);
            }
            long target = b.getLong(p);
            int len = b.getInt(p + 8);
            if (len < 0 || Transaction.pad8(len) > end - p - 16) {
                throw damagedSlot(seq, "a record of " + len + " bytes at byte " + p + " that runs past its end");
            }
            if (target < 2L * Geometry.BLOCK_SIZE || target > deviceEnd - len
                    || (target < slotEnd && target + len > slotOffset)) {
                throw damagedSlot(seq, "a record for bytes " + target + "+" + len
                        + " outside the metadata a transaction may change");
            }
            p += 16 + Transaction.pad8(len);
            count++;
        }
        if (count != b.getInt(4)) {
            throw damagedSlot(seq, count + " records where its header says " + Integer.toUnsignedString(b.getInt(4)));
        }
        return new PendingTransaction(seq, slot, SLOT_HEADER, end);
    }

    private CorruptFileSystemException damagedSlot(long seq, String what) {
        return new CorruptFileSystemException("journal transaction " + seq + " is damaged: it has " + what,
                CorruptFileSystemException.NONE, geometry.journalStart() + 1);
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
