package io.daxfs.core;

import io.daxfs.core.alloc.Extent;
import io.daxfs.core.concurrent.BusyExtents;
import io.daxfs.core.concurrent.RangeLock;
import io.daxfs.core.stats.Contention;
import io.daxfs.core.stats.LatencyHistogram;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What fs-core counts for {@code daxfs stat} (docs/stats.md): journal commits and their latency,
 * range-lock waits, invalidation-sequence retries, busy space by reason. That recording
 * allocates nothing is DataPathAllocationTest's (it runs under C1 too).
 */
class LiveStatisticsTest {
    private TestDevice dev;
    private DaxFileSystem fs;

    @BeforeEach
    void setUp() {
        dev = TestDevice.create(64 * MIB);
        fs = dev.fs();
    }

    @AfterEach
    void tearDown() {
        dev.close();
    }

    @Test
    void everyCommitIsCountedAndOneInEightTimed() {
        LatencyHistogram timed = fs.internals().journal().commitLatency();
        long before = fs.internals().journal().commits();
        long timedBefore = timed.count();
        for (int i = 0; i < 80; i++) {
            fs.create(ROOT, "f" + i, 0644, 0, 0);
        }
        assertEquals(80, fs.internals().journal().commits() - before, "one commit per create");
        assertEquals(10, timed.count() - timedBefore, "one in 8 timed (by sequence number)");
        Histogram h = timed.snapshot();
        assertEquals(timed.count(), h.getTotalCount());
        assertTrue(h.getMaxValue() > 0);
    }

    @Test
    void aRangeLockThatWaitsIsCounted() throws Exception {
        RangeLock lock = new RangeLock();
        long before = Contention.rangeLockWaits();
        RangeLock.Range held = lock.lockExclusive(0, 100);
        Thread t = Thread.ofPlatform().start(() -> lock.lockShared(50, 60).close());
        while (lock.waiting() == 0) {
            Thread.onSpinWait();
        }
        Thread.sleep(20);
        held.close();
        t.join();
        assertEquals(1, Contention.rangeLockWaits() - before);
        assertTrue(Contention.rangeLockWaitNanos() > 0);
        long still = Contention.rangeLockWaits();
        lock.lockShared(0, 10).close();
        assertEquals(still, Contention.rangeLockWaits(), "a range granted at once is not a wait");
    }

    @Test
    void aCachedReadThatSeesTheSequenceMoveIsARetry() {
        long ino = fs.create(ROOT, "f", 0644, 0, 0);
        byte[] data = new byte[64 << 10];
        fs.write(ino, 0, MemorySegment.ofArray(data), 0, data.length);
        MemorySegment buf = MemorySegment.ofArray(new byte[4096]);
        fs.read(ino, 0, buf, 0, 4096); // caches the mapping
        long before = Contention.invalidationRetries();
        fs.read(ino, 4096, buf, 0, 4096);
        assertEquals(before, Contention.invalidationRetries(), "a quiet cached read does not retry");
        AtomicBoolean once = new AtomicBoolean();
        fs.internals().pausePoints().install("read.cached", i -> {
            if (once.compareAndSet(false, true)) {
                fs.punchHole(ino, 32 << 10, 4096); // an invalidation between the lookup and the check
            }
        });
        try {
            assertEquals(4096, fs.read(ino, 0, buf, 0, 4096));
        } finally {
            fs.internals().pausePoints().clear();
        }
        assertEquals(1, Contention.invalidationRetries() - before);
    }

    @Test
    void busySpaceByReason() {
        List<long[]> reused = new ArrayList<>();
        BusyExtents busy = new BusyExtents((s, l) -> reused.add(new long[] {s, l}));
        BusyExtents.Reference read = busy.readReference(100, 10);
        BusyExtents.Reference map = busy.reference(200, 10, "mapping");
        BusyExtents.Reference lease = busy.leaseReference(300, 10, () -> { });
        busy.insert(new Extent(100, 10));
        busy.insert(new Extent(200, 10));
        busy.insert(new Extent(300, 10));
        busy.insert(new Extent(400, 5));
        assertEquals(List.of(new BusyExtents.Reason("durability", 4, 35, 0), new BusyExtents.Reason("lease", 0, 0, 1),
                new BusyExtents.Reason("mapping", 0, 0, 1), new BusyExtents.Reason("read", 0, 0, 1)), busy.byReason(),
                "not durable yet: all four wait for durability, whatever references them");
        for (long s : new long[] {100, 200, 300, 400}) {
            busy.durable(new Extent(s, s == 400 ? 5 : 10));
        }
        assertEquals(List.of(new BusyExtents.Reason("lease", 1, 10, 1), new BusyExtents.Reason("mapping", 1, 10, 1),
                new BusyExtents.Reason("read", 1, 10, 1)), busy.byReason(), "durable: each held by its reference");
        read.close();
        map.close();
        lease.close();
        assertEquals(List.of(), busy.byReason());
        assertEquals(4, reused.size());
    }
}
