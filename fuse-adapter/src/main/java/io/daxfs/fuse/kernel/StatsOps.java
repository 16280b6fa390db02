package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.Internals;
import io.daxfs.core.alloc.BlockAllocator;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.FsStats;
import io.daxfs.core.concurrent.BusyExtents;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.stats.Contention;
import io.daxfs.core.stats.LatencyHistogram;
import io.daxfs.lease.LeaseProtocol;

import org.HdrHistogram.Histogram;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.Deflater;

import static io.daxfs.lease.LeaseProtocol.*;

/**
 * The STATS command of the daemon's ioctl channel (docs/stats.md, byte by byte): what
 * {@code daxfs stat} shows - requests and latency by opcode ({@link RequestStats}), journal
 * commits, range-lock waits and invalidation retries ({@link Contention}), busy space by reason,
 * free space and open files.
 *
 * <p>Answered to anyone who can open a file or directory of the mount, as df's figures are:
 * counts and sizes only, no names, no extents, no holders.
 *
 * <p>Paging: the first page (cursor 0) carries the SUMMARY, SPACE and BUSY records and then
 * LATENCY records by key; a LATENCY record is never split: when the next one does not fit, the
 * reply says MORE and the cursor to ask with (its key plus one). Each page is taken when it is asked for.
 */
final class StatsOps {
    private final DaxFileSystem fs;
    private final RequestStats requests;
    private final FileHandles handles;

    StatsOps(DaxFileSystem fs, RequestStats requests, FileHandles handles) {
        this.fs = fs;
        this.requests = requests;
        this.handles = handles;
    }

    /** Fills the reply message {@code m} (zeroed) for the request {@code in}; returns its length. */
    int stats(MemorySegment in, MemorySegment m) {
        long cursor = in.get(U64, Q_AFTER); // 0: the first page; else one more than the key to go on from
        if (cursor < 0 || cursor > LATENCY_JOURNAL_COMMIT + 1L) {
            throw new FsException(Errno.EINVAL, "STATS cursor " + cursor);
        }
        long at = SS_RECORDS;
        int count = 0;
        if (cursor == 0) {
            at = summary(m, at);
            at = space(m, at);
            count += 2;
            for (BusyExtents.Reason r : fs.internals().busyExtents().byReason()) {
                at = busy(m, at, r);
                count++;
            }
        }
        long next = 0;
        for (int key : KEYS) {
            if (key + 1L < cursor) {
                continue;
            }
            boolean commits = key == LATENCY_JOURNAL_COMMIT;
            long served = commits ? fs.internals().journal().commits() : requests.count(key);
            if (served == 0) {
                continue;
            }
            LatencyHistogram h = commits ? fs.internals().journal().commitLatency() : requests.latency(key);
            long end = latency(m, at, key, served, commits ? 0 : requests.errors(key), h.snapshot(), count == 0);
            if (end < 0) {
                next = key + 1L; // never 0, which would mean the first page again
                break;
            }
            at = end;
            count++;
        }
        m.set(U32, SS_COUNT, count);
        m.set(U64, SS_NEXT, next);
        m.set(U32, H_FLAGS, next != 0 ? MORE : 0);
        return (int) at;
    }

    private static void header(MemorySegment m, long at, int type, int length, int key) {
        m.set(U16, at + SR_TYPE, (short) type);
        m.set(U16, at + SR_LENGTH, (short) length);
        m.set(U32, at + SR_KEY, key);
    }

    private long summary(MemorySegment m, long at) {
        header(m, at, SR_SUMMARY, SU_SIZE, 0);
        m.set(U64, at + SU_UPTIME_NANOS, requests.uptimeNanos());
        m.set(U64, at + SU_BYTES_READ, requests.bytesRead());
        m.set(U64, at + SU_BYTES_WRITTEN, requests.bytesWritten());
        m.set(U64, at + SU_OPEN_FILES, handles.count());
        m.set(U64, at + SU_RANGE_WAITS, Contention.rangeLockWaits());
        m.set(U64, at + SU_RANGE_WAIT_NANOS, Contention.rangeLockWaitNanos());
        m.set(U64, at + SU_INVALIDATION_RETRIES, Contention.invalidationRetries());
        return at + SU_SIZE;
    }

    private long space(MemorySegment m, long at) {
        Internals internals = fs.internals();
        BlockAllocator allocator = internals.blockAllocator();
        BusyExtents busy = internals.busyExtents();
        FsStats s = fs.statfs();
        header(m, at, SR_SPACE, SP_SIZE, 0);
        m.set(U64, at + SP_BLOCK_SIZE, s.blockSize());
        m.set(U64, at + SP_TOTAL_BLOCKS, s.totalBlocks());
        m.set(U64, at + SP_FREE_BLOCKS, allocator.freeBlocks());
        m.set(U64, at + SP_FREE_EXTENTS, allocator.freeExtentCount());
        m.set(U64, at + SP_LARGEST_FREE, allocator.largestFreeExtent());
        m.set(U64, at + SP_BUSY_BLOCKS, busy.busyBlocks());
        m.set(U64, at + SP_LEASE_HELD_BLOCKS, busy.leaseHeldBlocks());
        m.set(U64, at + SP_TOTAL_INODES, s.totalInodes());
        m.set(U64, at + SP_FREE_INODES, s.freeInodes());
        return at + SP_SIZE;
    }

    private long busy(MemorySegment m, long at, BusyExtents.Reason r) {
        byte[] name = r.reason().getBytes(StandardCharsets.UTF_8);
        int name64 = Math.min(name.length, 64);
        int length = padded(BU_NAME + name64);
        header(m, at, SR_BUSY, length, name64);
        m.set(U64, at + BU_EXTENTS, r.extents());
        m.set(U64, at + BU_BYTES, r.blocks() * Geometry.BLOCK_SIZE);
        m.set(U64, at + BU_REFERENCES, r.references());
        MemorySegment.copy(name, 0, m, ValueLayout.JAVA_BYTE, at + BU_NAME, name64);
        return at + length;
    }

    /**
     * A LATENCY record at {@code at}: {@code served} requests (or commits), of which the
     * histogram {@code h} holds the sampled ones; the end of it, or -1 if it does not fit (then
     * nothing is written). The histogram goes along when it fits; {@code alone} (the page holds nothing
     * else) sends the record without it rather than not at all.
     */
    private static long latency(MemorySegment m, long at, int key, long served, long errors, Histogram h,
                                boolean alone) {
        ByteBuffer encoded = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int n = h.encodeIntoCompressedByteBuffer(encoded, Deflater.BEST_COMPRESSION);
        if (at + padded(LA_HISTOGRAM + n) > m.byteSize()) {
            if (!alone || at + LA_HISTOGRAM > m.byteSize()) {
                return -1;
            }
            n = 0;
        }
        int length = padded(LA_HISTOGRAM + n);
        header(m, at, SR_LATENCY, length, key);
        m.set(U64, at + LA_COUNT, served);
        m.set(U64, at + LA_SAMPLES, h.getTotalCount());
        m.set(U64, at + LA_ERRORS, errors);
        m.set(U64, at + LA_MAX, h.getMaxValue());
        m.set(U64, at + LA_MEAN, Math.round(h.getMean()));
        m.set(U64, at + LA_P50, h.getValueAtPercentile(50));
        m.set(U64, at + LA_P90, h.getValueAtPercentile(90));
        m.set(U64, at + LA_P99, h.getValueAtPercentile(99));
        m.set(U64, at + LA_P999, h.getValueAtPercentile(99.9));
        m.set(U32, at + LA_HISTOGRAM_LENGTH, n);
        MemorySegment.copy(encoded.array(), 0, m, ValueLayout.JAVA_BYTE, at + LA_HISTOGRAM, n);
        return at + length;
    }

    /** Keys of LATENCY records in order: opcodes (0: any other), then the journal's commits. */
    private static final int[] KEYS = keys();

    private static int[] keys() {
        int[] k = new int[RequestStats.OPCODES + 1];
        for (int i = 0; i < RequestStats.OPCODES; i++) {
            k[i] = i;
        }
        k[RequestStats.OPCODES] = LeaseProtocol.LATENCY_JOURNAL_COMMIT;
        return k;
    }
}
