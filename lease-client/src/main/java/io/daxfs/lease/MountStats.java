package io.daxfs.lease;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.daxfs.lease.LeaseProtocol.*;

/**
 * Live statistics of a daxfs mount (the STATS command; docs/stats.md), for {@code daxfs stat}.
 * Any file or directory of the mount will do, and any user who can open it may ask.
 */
public final class MountStats {
    private MountStats() {
    }

    /**
     * Since the mount: how long it has served, the bytes READ and WRITE moved, open files (of the
     * kernel front end: one per open(2) not yet closed), range-lock waits and how long they took,
     * invalidation-sequence retries.
     */
    public record Summary(Duration uptime, long bytesRead, long bytesWritten, long openFiles, long rangeLockWaits,
                          Duration rangeLockWaitTime, long invalidationRetries) {
    }

    /**
     * The allocator now: free blocks (reusable at once; busy blocks are not among them), how
     * many free extents and the largest; busy blocks, and those of them leases hold; inodes.
     */
    public record Space(long blockSize, long totalBlocks, long freeBlocks, long freeExtents, long largestFreeBlocks,
                        long busyBlocks, long leaseHeldBlocks, long totalInodes, long freeInodes) {
    }

    /**
     * Busy space of one reason: "durability" (its freeing transaction is not durable yet),
     * "read" (a read or copy in flight), "lease", or another kind of reference.
     *
     * @param references references of this kind held now, over busy space or not
     */
    public record Busy(String reason, long extents, long bytes, long references) {
    }

    /**
     * One FUSE opcode ({@code key}) or the journal's commits
     * ({@link LeaseProtocol#LATENCY_JOURNAL_COMMIT}) since the mount: how many (exact), how many
     * were error replies, and the latency in nanoseconds of {@code samples} of them (the daemon
     * times one request in 16, one commit in 8).
     *
     * @param histogram the HdrHistogram in its compressed encoding (decode with
     *                  {@code org.HdrHistogram.Histogram.decodeFromCompressedByteBuffer}); empty
     *                  if it did not fit a message
     */
    public record Latency(int key, long count, long errors, long samples, long maxNanos, long meanNanos, long p50Nanos,
                          long p90Nanos, long p99Nanos, long p999Nanos, byte[] histogram) {
    }

    /** One reading: {@code takenNanos} is the client's System.nanoTime() when it was asked for. */
    public record Snapshot(long takenNanos, Summary summary, Space space, List<Busy> busy, List<Latency> latency) {
    }

    /** Reads the statistics of the daxfs mounted where {@code path} (any file or directory in it) lives. */
    public static Snapshot read(Path path) throws LeaseException {
        long taken = System.nanoTime();
        int fd = Native.open(path.toString(), Native.O_RDONLY);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(MESSAGE_SIZE, 8);
            Summary summary = null;
            Space space = null;
            List<Busy> busy = new ArrayList<>();
            List<Latency> latency = new ArrayList<>();
            long cursor = 0;
            while (true) {
                header(m, STATS, Q_SIZE);
                m.set(U64, Q_AFTER, cursor);
                Native.ioctl(fd, ioctlNumber(STATS), m, "STATS on " + path);
                if (m.get(U32, H_MAGIC) != MAGIC || m.get(U16, H_COMMAND) != STATS) {
                    throw new LeaseException("STATS on " + path + ": not a daxfs reply");
                }
                int count = m.get(U32, SS_COUNT);
                long at = SS_RECORDS;
                for (int i = 0; i < count; i++) {
                    int type = m.get(U16, at + SR_TYPE);
                    int length = m.get(U16, at + SR_LENGTH) & 0xFFFF;
                    int key = m.get(U32, at + SR_KEY);
                    switch (type) {
                        case SR_SUMMARY -> summary = new Summary(Duration.ofNanos(m.get(U64, at + SU_UPTIME_NANOS)),
                                m.get(U64, at + SU_BYTES_READ), m.get(U64, at + SU_BYTES_WRITTEN),
                                m.get(U64, at + SU_OPEN_FILES), m.get(U64, at + SU_RANGE_WAITS),
                                Duration.ofNanos(m.get(U64, at + SU_RANGE_WAIT_NANOS)),
                                m.get(U64, at + SU_INVALIDATION_RETRIES));
                        case SR_SPACE -> space = new Space(m.get(U64, at + SP_BLOCK_SIZE), m.get(U64, at + SP_TOTAL_BLOCKS),
                                m.get(U64, at + SP_FREE_BLOCKS), m.get(U64, at + SP_FREE_EXTENTS),
                                m.get(U64, at + SP_LARGEST_FREE), m.get(U64, at + SP_BUSY_BLOCKS),
                                m.get(U64, at + SP_LEASE_HELD_BLOCKS), m.get(U64, at + SP_TOTAL_INODES),
                                m.get(U64, at + SP_FREE_INODES));
                        case SR_BUSY -> busy.add(new Busy(new String(bytes(m, at + BU_NAME, key), StandardCharsets.UTF_8),
                                m.get(U64, at + BU_EXTENTS), m.get(U64, at + BU_BYTES), m.get(U64, at + BU_REFERENCES)));
                        case SR_LATENCY -> latency.add(new Latency(key, m.get(U64, at + LA_COUNT),
                                m.get(U64, at + LA_ERRORS), m.get(U64, at + LA_SAMPLES), m.get(U64, at + LA_MAX), m.get(U64, at + LA_MEAN),
                                m.get(U64, at + LA_P50), m.get(U64, at + LA_P90), m.get(U64, at + LA_P99),
                                m.get(U64, at + LA_P999), bytes(m, at + LA_HISTOGRAM, m.get(U32, at + LA_HISTOGRAM_LENGTH))));
                        default -> {
                            // a record type of a later version: skipped by its length
                        }
                    }
                    at += length;
                }
                if ((m.get(U32, H_FLAGS) & MORE) == 0) {
                    if (summary == null || space == null) {
                        throw new LeaseException("STATS on " + path + ": incomplete reply");
                    }
                    return new Snapshot(taken, summary, space, List.copyOf(busy), List.copyOf(latency));
                }
                cursor = m.get(U64, SS_NEXT);
            }
        } finally {
            Native.close(fd);
        }
    }

    private static byte[] bytes(MemorySegment m, long at, int length) {
        return m.asSlice(at, length).toArray(ValueLayout.JAVA_BYTE);
    }
}
