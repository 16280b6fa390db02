package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.fuse.options.PermissionPolicy;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.daxfs.fuse.kernel.FuseAbi.*;
import static io.daxfs.fuse.kernel.KernelDriver.ioctlOut;
import static io.daxfs.fuse.kernel.KernelDriver.le;
import static io.daxfs.lease.LeaseProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The STATS command (docs/stats.md) at the FUSE level, without a mount: requests built as the
 * kernel writes them, replies through the real {@link FuseChannel} into a plain file. Checks
 * that the figures move as the requests say, the record bytes, paging, and busy space by
 * reason. integration-tests StatTest does the same through a real mount and the CLI.
 */
class StatsOpsTest {
    private static final int EINVAL = 22;

    @TempDir
    Path dir;

    private KernelDriver k;
    private int uid;

    @BeforeEach
    void setUp() {
        // No lease device: the io_uring front end's case. STATS is served all the same.
        k = new KernelDriver(dir);
    }

    @AfterEach
    void tearDown() {
        k.close();
    }

    private ByteBuffer send(int opcode, long nodeid, byte[] args) {
        return k.sendFrom(uid, opcode, nodeid, args);
    }

    /** One STATS page from {@code cursor}: the reply (check its errno) as the kernel returns it. */
    private ByteBuffer statsPage(long cursor) {
        ByteBuffer a = le(IOCTL_IN_SIZE + MESSAGE_SIZE);
        a.putInt(IOCTL_IN_FLAGS, IOCTL_DIR).putInt(IOCTL_IN_CMD, ioctlNumber(STATS)).putInt(IOCTL_IN_IN_SIZE, MESSAGE_SIZE)
                .putInt(IOCTL_IN_OUT_SIZE, MESSAGE_SIZE);
        a.putInt(IOCTL_IN_SIZE + H_MAGIC, MAGIC).putShort(IOCTL_IN_SIZE + H_VERSION, (short) VERSION)
                .putShort(IOCTL_IN_SIZE + H_COMMAND, (short) STATS).putInt(IOCTL_IN_SIZE + H_LENGTH, Q_SIZE)
                .putLong(IOCTL_IN_SIZE + Q_AFTER, cursor);
        return send(IOCTL, ROOT_ID, a.array());
    }

    /** Every record of a whole STATS answer, by (type, key or busy reason), each a slice of its page. */
    private record Stats(ByteBuffer summary, ByteBuffer space, Map<String, ByteBuffer> busy, Map<Integer, ByteBuffer> latency,
                         int pages) {
        long count(int opcode) {
            ByteBuffer l = latency.get(opcode);
            return l == null ? 0 : l.getLong(LA_COUNT);
        }

        long busyBytes(String reason) {
            ByteBuffer b = busy.get(reason);
            return b == null ? 0 : b.getLong(BU_BYTES);
        }
    }

    private Stats stats() {
        ByteBuffer summary = null;
        ByteBuffer space = null;
        Map<String, ByteBuffer> busy = new HashMap<>();
        Map<Integer, ByteBuffer> latency = new HashMap<>();
        long cursor = 0;
        for (int pages = 1; ; pages++) {
            ByteBuffer m = ioctlOut(statsPage(cursor));
            assertEquals(MAGIC, m.getInt(H_MAGIC));
            assertEquals(STATS, m.getShort(H_COMMAND));
            assertEquals(m.limit(), m.getInt(H_LENGTH), "the header's length is the reply's");
            int at = SS_RECORDS;
            for (int i = 0; i < m.getInt(SS_COUNT); i++) {
                int type = m.getShort(at + SR_TYPE);
                int length = m.getShort(at + SR_LENGTH) & 0xFFFF;
                assertEquals(0, length % 8, "records are padded to 8");
                ByteBuffer r = m.slice(at, length).order(ByteOrder.LITTLE_ENDIAN);
                int key = r.getInt(SR_KEY);
                switch (type) {
                    case SR_SUMMARY -> summary = r;
                    case SR_SPACE -> space = r;
                    case SR_BUSY -> {
                        byte[] name = new byte[key];
                        r.get(BU_NAME, name);
                        busy.put(new String(name, StandardCharsets.UTF_8), r);
                    }
                    case SR_LATENCY -> assertEquals(null, latency.put(key, r), "opcode " + key + " sent once");
                    default -> throw new AssertionError("record type " + type);
                }
                at += length;
            }
            assertEquals(m.limit(), at, "the records fill the message");
            if ((m.getInt(H_FLAGS) & MORE) == 0) {
                assertEquals(0, m.getLong(SS_NEXT));
                return new Stats(summary, space, busy, latency, pages);
            }
            assertTrue(m.getLong(SS_NEXT) > cursor, "the cursor moves on");
            cursor = m.getLong(SS_NEXT);
        }
    }

    private ByteBuffer write(long ino, long offset, int size) {
        ByteBuffer a = le(WRITE_IN_SIZE + size).putLong(IO_IN_OFFSET, offset).putInt(IO_IN_SIZE, size);
        return send(WRITE, ino, a.array());
    }

    private ByteBuffer read(long ino, long offset, int size) {
        ByteBuffer a = le(WRITE_IN_SIZE).putLong(IO_IN_OFFSET, offset).putInt(IO_IN_SIZE, size);
        return send(READ, ino, a.array());
    }

    @Test
    void nWritesGiveNWriteRequestsAndTheirBytes() throws Exception {
        long ino = k.fs.create(DaxFileSystem.ROOT, "f", 0644, 0, 0);
        Stats before = stats();
        for (int i = 0; i < 370; i++) {
            assertEquals(0, write(ino, i % 100 * 4096L, 4096).getInt(4));
        }
        for (int i = 0; i < 5; i++) {
            read(ino, i * 8192L, 8192);
        }
        assertEquals(-2, send(GETATTR, 999, le(16).array()).getInt(4), "an inode that does not exist: ENOENT");
        Stats after = stats();
        assertEquals(370, after.count(WRITE) - before.count(WRITE));
        assertEquals(5, after.count(READ) - before.count(READ));
        assertEquals(1, after.latency.get(GETATTR).getLong(LA_ERRORS), "the ENOENT counted as an error reply");
        assertEquals(0, after.latency.get(WRITE).getLong(LA_ERRORS));
        assertEquals(370 * 4096L, after.summary.getLong(SU_BYTES_WRITTEN) - before.summary.getLong(SU_BYTES_WRITTEN));
        assertEquals(5 * 8192L, after.summary.getLong(SU_BYTES_READ) - before.summary.getLong(SU_BYTES_READ));
        assertEquals(before.count(IOCTL) + before.pages, after.count(IOCTL), "the STATS requests themselves are counted");
        ByteBuffer w = after.latency.get(WRITE);
        long p50 = w.getLong(LA_P50);
        assertTrue(p50 > 0 && p50 <= w.getLong(LA_P99) && w.getLong(LA_P99) <= w.getLong(LA_MAX), "percentiles in order");
        byte[] encoded = new byte[w.getInt(LA_HISTOGRAM_LENGTH)];
        w.get(LA_HISTOGRAM, encoded);
        Histogram h = Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(encoded), 0);
        assertEquals(w.getLong(LA_SAMPLES), h.getTotalCount(), "the histogram the client decodes holds the samples");
        assertTrue(h.getTotalCount() >= 370 / 32 && h.getTotalCount() <= 370 / 8, "about one WRITE in 16 timed: "
                + h.getTotalCount());
        assertEquals(h.getValueAtPercentile(50), p50);
        assertEquals(100, after.latency.get(LATENCY_JOURNAL_COMMIT).getLong(LA_COUNT)
                - (before.latency.containsKey(LATENCY_JOURNAL_COMMIT) ? before.latency.get(LATENCY_JOURNAL_COMMIT).getLong(LA_COUNT) : 0),
                "the first write of each of the 100 blocks allocated it: one commit each");
        assertEquals(0, after.summary.getLong(SU_OPEN_FILES));
        assertEquals(4096, after.space.getLong(SP_BLOCK_SIZE));
        assertEquals(k.fs.statfs().totalInodes() - k.fs.statfs().freeInodes(),
                after.space.getLong(SP_TOTAL_INODES) - after.space.getLong(SP_FREE_INODES));
        assertEquals(k.fs.internals().blockAllocator().freeBlocks(), after.space.getLong(SP_FREE_BLOCKS));
        assertTrue(after.space.getLong(SP_LARGEST_FREE) > 0 && after.space.getLong(SP_FREE_EXTENTS) >= 1);
    }

    @Test
    void aTruncateUnderAReadInFlightShowsBusyBytesWithTheReasonRead() throws Exception {
        long ino = k.file("f", 64 << 10);
        CountDownLatch atCopy = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        k.fs.internals().pausePoints().install("read.mapped", i -> {
            atCopy.countDown();
            try {
                go.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Thread reader = Thread.ofPlatform().start(() -> k.fs.read(ino, 0, MemorySegment.ofArray(new byte[64 << 10]), 0, 64 << 10));
        try {
            assertTrue(atCopy.await(30, TimeUnit.SECONDS), "the read holds its reference");
            assertEquals(1, stats().busy.get("read").getLong(BU_REFERENCES), "one read in flight");
            k.fs.truncate(ino, 0); // frees the 64 KiB under the read: busy until it is done
            Stats s = stats();
            assertEquals(64 << 10, s.busyBytes("read"), "the truncated blocks are busy: a read copies from them");
            assertEquals(1, s.busy.get("read").getLong(BU_EXTENTS));
            assertEquals(0, s.busyBytes("durability"), "the free is durable already");
            assertEquals(16, s.space.getLong(SP_BUSY_BLOCKS));
        } finally {
            go.countDown();
            reader.join();
            k.fs.internals().pausePoints().clear();
        }
        Stats s = stats();
        assertEquals(0, s.busyBytes("read"), "the read is done: the blocks are free again");
        assertEquals(0, s.space.getLong(SP_BUSY_BLOCKS));
    }

    @Test
    void manyOpcodesArePagedWithoutLosingOrRepeatingOne() throws Exception {
        long ino = k.fs.create(DaxFileSystem.ROOT, "f", 0644, 0, 0);
        int sent = 0;
        for (int op = 1; op < RequestStats.OPCODES; op++) {
            if (op == FORGET || op == BATCH_FORGET || op == INTERRUPT || op == NOTIFY_REPLY || op == INIT
                    || op == DESTROY || op == IOCTL || op == RELEASE || op == RELEASEDIR) {
                continue;
            }
            send(op, ino, le(64).array()); // mostly nonsense arguments: an error reply still counts
            sent++;
        }
        Stats s = stats();
        assertTrue(s.pages > 1, "more records than one message holds: " + s.pages + " page(s)");
        assertTrue(s.latency.size() >= sent, s.latency.keySet().toString());
        for (int op = 1; op < RequestStats.OPCODES; op++) {
            if (s.latency.containsKey(op)) {
                assertTrue(s.latency.get(op).getLong(LA_COUNT) >= 1);
            }
        }
    }

    @Test
    void anyoneMayAskForStatisticsButNotForTheLeaseList() throws Exception {
        Files.setPosixFilePermissions(dir.resolve("img"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        KernelFileSystem leases = new KernelFileSystem(k.fs, KernelOptions.defaults(PermissionPolicy.DAEMON_ACL),
                LeaseDevice.of(k.device));
        uid = 12345; // may not open the image
        k.servedBy(leases, () -> {
            assertEquals(0, statsPage(0).getInt(4), "STATS: counts and sizes, for anyone who can open the mount");
            ByteBuffer a = le(IOCTL_IN_SIZE + MESSAGE_SIZE);
            a.putInt(IOCTL_IN_FLAGS, IOCTL_DIR).putInt(IOCTL_IN_CMD, ioctlNumber(LIST)).putInt(IOCTL_IN_IN_SIZE, MESSAGE_SIZE)
                    .putInt(IOCTL_IN_OUT_SIZE, MESSAGE_SIZE);
            a.putInt(IOCTL_IN_SIZE + H_MAGIC, MAGIC).putShort(IOCTL_IN_SIZE + H_VERSION, (short) VERSION)
                    .putShort(IOCTL_IN_SIZE + H_COMMAND, (short) LIST).putInt(IOCTL_IN_SIZE + H_LENGTH, Q_SIZE);
            assertEquals(-13, send(IOCTL, ROOT_ID, a.array()).getInt(4), "LIST names holders and files: EACCES");
        });
    }

    @Test
    void aCursorOutOfRangeIsEinval() throws Exception {
        assertEquals(-EINVAL, statsPage(-1).getInt(4));
        assertEquals(-EINVAL, statsPage(LATENCY_JOURNAL_COMMIT + 2L).getInt(4));
        assertEquals(0, statsPage(LATENCY_JOURNAL_COMMIT + 1L).getInt(4), "the last page there can be");
    }
}
