package io.daxfs.core.race;

import io.daxfs.core.data.Lease;
import io.daxfs.core.inode.FileExtent;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A lease taken while a truncate frees the same range, forced both ways through pause points
 * (docs/leases.md, "Breaking"). The range lock orders the two: a lease looks its extents up
 * and references them under the range held shared, truncate frees under it held exclusively.
 * Either the truncate finished first and the lease never sees the freed blocks (they go back
 * to free space at once), or the lease referenced them first and the truncate - which does not
 * wait for the lease, only for its short lookup - breaks it and leaves them busy until the
 * lease closes. Never a lease on blocks already freed, which another file could then get.
 */
@Tag("race-catalog")
class LeaseRaceTest extends RaceFixture {
    private long physicalOf(long ino, long block) {
        FileExtent e = fs.internals().inode(ino).extents(dev.region().readView()).find(block);
        return e.physicalOf(block);
    }

    private byte[] device(long offset, int length) {
        byte[] b = new byte[length];
        MemorySegment.copy(dev.region().readView(), ValueLayout.JAVA_BYTE, offset, b, 0, length);
        return b;
    }

    /** Truncate has detached blocks 1-3 and stops before its commit; a lease of [0, 4 blocks) comes. */
    @Test
    void aLeaseWaitsForTheTruncateInFlightAndNeverSeesTheBlocksItFrees() throws Exception {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        write(fs, f, 0, pattern(1, 0, 4 * B));
        long freedBlock = physicalOf(f, 1);
        Gate gate = new Gate();
        fs.internals().pausePoints().install("free.detached", gate);
        Future<?> truncate = pool.submit(() -> fs.truncate(f, B));
        gate.awaitArrivals();
        fs.internals().pausePoints().remove("free.detached");

        AtomicInteger breaks = new AtomicInteger();
        Future<Lease> lease = pool.submit(() -> fs.leases().take(f, 0, 4 * B, Lease.Mode.READ, 16, 1, "A",
                breaks::incrementAndGet));
        Gate.awaitCondition("the lease waits for the truncate's range lock",
                () -> fs.internals().inode(f).ranges().waiting() == 1);
        assertFalse(lease.isDone());
        gate.open();
        get(truncate);
        try (Lease l = get(lease)) {
            assertEquals(B, l.length(), "the lease sees the file as the truncate left it");
            assertEquals(1, l.pieces().size());
            assertFalse(l.broken());
            assertEquals(0, breaks.get());
            assertEquals(0, fs.internals().busyExtents().busyBlocks(), "the freed blocks were not leased: free at once");
            long g = fs.create(ROOT, "g", 0644, 0, 0);
            fs.fallocate(g, 0, 3 * B, false);
            assertEquals(freedBlock, physicalOf(g, 0), "another file may have them");
        }
        assertClean();
    }

    /** A lease has looked up blocks 0-3 and stops before referencing them; a truncate to 1 block comes. */
    @Test
    void aTruncateWaitsOnlyForTheLeasesLookupThenBreaksIt() throws Exception {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        write(fs, f, 0, pattern(2, 0, 4 * B));
        Gate gate = new Gate();
        fs.internals().pausePoints().install("lease.found", gate);
        AtomicInteger breaks = new AtomicInteger();
        Future<Lease> lease = pool.submit(() -> fs.leases().take(f, 0, 4 * B, Lease.Mode.READ, 16, 1, "A",
                breaks::incrementAndGet));
        gate.awaitArrivals();

        Future<Long> truncate = pool.submit(() -> {
            long t0 = System.nanoTime();
            fs.truncate(f, B);
            return System.nanoTime() - t0;
        });
        Gate.awaitCondition("the truncate waits for the lease's lookup",
                () -> fs.internals().inode(f).ranges().waiting() == 1);
        gate.open();
        Lease l = get(lease);
        get(truncate);
        assertTrue(l.broken(), "the truncate freed leased blocks");
        assertEquals(1, breaks.get());
        assertEquals(3, fs.internals().busyExtents().leaseHeldBlocks(), "blocks 1-3 stay busy for the holder");
        long g = fs.create(ROOT, "g", 0644, 0, 0);
        write(fs, g, 0, pattern(3, 0, 8 * B));
        for (Lease.Piece p : l.pieces()) {
            assertArrayEquals(pattern(2, p.fileOffset(), (int) p.length()), device(p.deviceOffset(), (int) p.length()),
                    "the holder still reads the file's old bytes, not g's");
        }
        l.close();
        assertEquals(0, fs.internals().busyExtents().busyBlocks(), "closed: the blocks are free again");
        assertClean();
    }
}
