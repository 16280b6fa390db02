package io.daxfs.core.race;

import io.daxfs.core.check.FsckReport;
import io.daxfs.core.data.Lease;
import io.daxfs.core.data.ReadSink;
import io.daxfs.devdax.PmemRegion;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.daxfs.core.TestDevice.read;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The race catalog of docs/concurrency.md: one deterministic test per hazard. Each forces
 * the bad interleaving through fs-core's pause points and runs twice: with the protecting
 * mechanism (the outcome is correct) and with that one mechanism switched off (the hazard
 * really happens - proof that the test exercises the mechanism and that the mechanism is
 * what prevents the hazard).
 *
 * <p>Run exactly these with {@code mvn test -Dgroups=race-catalog}.
 */
@Tag("race-catalog")
class RaceCatalogTest extends RaceFixture {
    enum Mode { PROTECTED, UNPROTECTED }

    private static byte[] filled(int value) {
        byte[] b = new byte[B];
        Arrays.fill(b, (byte) value);
        return b;
    }

    /**
     * R1 (Zwisler and Kara, "dax: fix data corruption due to stale mmap reads", 2017): a read finds a hole and is about to cache "hole" when an allocating
     * write fills it. Entry locks serialize the two, so the cached hole is stamped before the
     * allocation and invalidated by it; without them the stale hole outlives the write and a
     * later read returns zeros instead of the written data.
     */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void r1ReadOfHoleVersusAllocatingWrite(Mode mode) throws Exception {
        fs.internals().safeguards().entryLocks = mode == Mode.PROTECTED;
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        fs.truncate(f, 2 * B); // [0, 8192) is a hole
        Gate gate = new Gate();
        fs.internals().pausePoints().install("read.hole-looked-up", gate);

        Future<byte[]> reader = pool.submit(() -> read(fs, f, 0, B));
        gate.awaitArrivals();
        Future<?> writer = pool.submit(() -> write(fs, f, 0, filled(0xAB)));
        if (mode == Mode.PROTECTED) {
            Gate.awaitCondition("the writer waits for the entry lock", () -> fs.internals().inode(f).entries().waiting() == 1);
            gate.open();
        } else {
            get(writer); // nothing stops the allocation while the reader holds its lookup
            gate.open();
        }
        assertArrayEquals(new byte[B], get(reader), "the racing read saw the hole");
        get(writer);

        byte[] after = read(fs, f, 0, B);
        if (mode == Mode.PROTECTED) {
            assertArrayEquals(filled(0xAB), after, "a read after the write completed sees its data");
        } else {
            assertArrayEquals(new byte[B], after, "hazard: the stale cached hole hides completed data");
        }
    }

    /**
     * R2 (Kara and Chinner, "Hole punching and mmap races", 2012): a write has found its block allocated and is about to copy into it when a
     * truncate frees it and another file reuses it. The write holds its range shared, so the
     * truncate waits; without the range lock the write lands in the other file's block.
     */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void r2WriteVersusTruncate(Mode mode) throws Exception {
        fs.internals().safeguards().rangeLocks = mode == Mode.PROTECTED;
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        write(fs, f, 0, filled(0x11));
        Gate gate = new Gate();
        fs.internals().pausePoints().install("write.mapped", gate);

        Future<?> writer = pool.submit(() -> write(fs, f, 0, filled(0xCC)));
        gate.awaitArrivals();
        Future<?> truncate = pool.submit(() -> fs.truncate(f, 0));
        long g;
        if (mode == Mode.PROTECTED) {
            Gate.awaitCondition("truncate waits for the writer's range", () -> fs.internals().inode(f).ranges().waiting() == 1);
            gate.open();
            get(writer);
            get(truncate);
            g = fs.create(ROOT, "g", 0644, 0, 0);
            write(fs, g, 0, filled(0xDD));
        } else {
            get(truncate); // frees the block the writer is about to copy into
            g = fs.create(ROOT, "g", 0644, 0, 0);
            write(fs, g, 0, filled(0xDD)); // reuses it
            gate.open();
            get(writer);
        }
        byte[] other = read(fs, g, 0, B);
        if (mode == Mode.PROTECTED) {
            assertArrayEquals(filled(0xDD), other, "the other file keeps its data");
            assertClean();
        } else {
            assertArrayEquals(filled(0xCC), other, "hazard: a stray write landed in another file's block");
        }
    }

    /**
     * R3 (Arcangeli, "smp race fix between invalidate_inode_pages* and do_no_page", 2005): a read uses a cached block mapping while truncate invalidates it and
     * another file reuses the block. The invalidation sequence moved, so the read retries and
     * never returns the other file's bytes; without it the read trusts the stale mapping.
     */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void r3CachedMappingVersusInvalidation(Mode mode) throws Exception {
        fs.internals().safeguards().invalidationSequence = mode == Mode.PROTECTED;
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        write(fs, f, 0, filled(0xAA));
        assertArrayEquals(filled(0xAA), read(fs, f, 0, B)); // caches the mapping
        Gate gate = new Gate();
        fs.internals().pausePoints().install("read.cached", gate);

        Future<byte[]> reader = pool.submit(() -> read(fs, f, 0, B));
        gate.awaitArrivals();
        fs.truncate(f, 0); // no lock stops it: the cached path holds none
        long g = fs.create(ROOT, "g", 0644, 0, 0);
        write(fs, g, 0, filled(0xDD)); // reuses the freed block
        gate.open();
        byte[] seen = get(reader);
        if (mode == Mode.PROTECTED) {
            assertFalse(Arrays.equals(filled(0xDD), seen), "the read never returns another file's bytes");
            assertArrayEquals(new byte[B], seen, "the retried read sees the truncated (zero) range");
            assertClean();
        } else {
            assertArrayEquals(filled(0xDD), seen, "hazard: the stale mapping leaked another file's bytes");
        }
    }

    /**
     * R4 (Chinner, "dax: fix dma vs truncate", 2017): a read has referenced its block and is copying slowly when truncate frees
     * the block and another file allocates and writes. Truncate does not wait; the busy list
     * keeps the block from reuse until the read drops its reference, so the old reader never
     * sees the other file's bytes. Without the busy list the block is reused at once.
     */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void r4FreedExtentVersusReaderStillReading(Mode mode) throws Exception {
        fs.internals().safeguards().busyExtents = mode == Mode.PROTECTED;
        fs.internals().busyExtents().setEnabled(mode == Mode.PROTECTED);
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        write(fs, f, 0, filled(0xAA));
        Gate gate = new Gate();
        fs.internals().pausePoints().install("read.mapped", gate);

        Future<byte[]> reader = pool.submit(() -> read(fs, f, 0, B));
        gate.awaitArrivals();
        // Truncate never blocks on the reference: it completes while the read is paused.
        CompletableFuture.runAsync(() -> fs.truncate(f, 0), pool).get(Gate.TIMEOUT_SECONDS, TimeUnit.SECONDS);
        long g = fs.create(ROOT, "g", 0644, 0, 0);
        write(fs, g, 0, filled(0xDD));
        if (mode == Mode.PROTECTED) {
            assertEquals(1, fs.internals().busyExtents().busyBlocks(), "the freed block is busy while referenced");
        }
        gate.open();
        byte[] seen = get(reader);
        assertArrayEquals(filled(0xDD), read(fs, g, 0, B));
        if (mode == Mode.PROTECTED) {
            assertArrayEquals(filled(0xAA), seen, "the old reader sees the old bytes, never the other file's");
            assertEquals(0, fs.internals().busyExtents().busyBlocks(), "the last reference cleared it");
            assertClean();
        } else {
            assertArrayEquals(filled(0xDD), seen, "hazard: the old reader saw the other file's bytes");
        }
    }

    /**
     * R4 for a read into a sink ({@link ReadSink}: the kernel front end's spliced READ, whose
     * pipe holds the image's pages, not a copy, until the reply is spliced to /dev/fuse). While
     * the sink still points at the block, truncate frees it and another file writes; the busy
     * list keeps the block from reuse until the read returns, so the reply carries the old
     * bytes. Without it the reply would carry the other file's.
     */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void r4FreedExtentVersusSplicedReply(Mode mode) throws Exception {
        fs.internals().busyExtents().setEnabled(mode == Mode.PROTECTED);
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        write(fs, f, 0, filled(0xAA));
        byte[] seen = new byte[B];
        ReadSink sink = new ReadSink() {
            long device = -1;
            PmemRegion region;

            @Override
            public boolean begin(int length) {
                return true;
            }

            @Override
            public boolean data(PmemRegion r, long deviceOffset, long length) {
                region = r;
                device = deviceOffset;
                return true;
            }

            @Override
            public boolean zeros(long length) {
                return false;
            }

            @Override
            public void end(int length) {
                // The reply is still in the pipe: truncate and another file's write run now.
                fs.truncate(f, 0);
                long g = fs.create(ROOT, "g", 0644, 0, 0);
                write(fs, g, 0, filled(0xDD));
                // ... then the kernel copies the pipe's pages: the bytes at the device offset.
                MemorySegment.copy(region.readView(), java.lang.foreign.ValueLayout.JAVA_BYTE, device, seen, 0, B);
            }
        };
        assertEquals(B, fs.read(f, 0, B, sink));
        if (mode == Mode.PROTECTED) {
            assertArrayEquals(filled(0xAA), seen, "the reply carries the old bytes, never the other file's");
            assertEquals(0, fs.internals().busyExtents().busyBlocks(), "the read's return cleared the reference");
            assertClean();
        } else {
            assertArrayEquals(filled(0xDD), seen, "hazard: the freed block went to g while the reply pointed at it");
        }
    }

    /**
     * R4 with a long-lived reference (a direct mapping or lease) and hole punch: punch never
     * waits for the lease; the punched blocks are not handed to another file until the lease
     * is closed, then they return to free space.
     */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void r4PunchVersusLease(Mode mode) throws Exception {
        fs.internals().busyExtents().setEnabled(mode == Mode.PROTECTED);
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        write(fs, f, 0, filled(0xAA));
        write(fs, f, B, filled(0xAA));
        long free = fs.statfs().freeBlocks();
        Lease lease = fs.leases().take(f, 0, 2 * B, Lease.Mode.READ, Integer.MAX_VALUE, 0, "test", null);
        long leased = lease.extents().getFirst().start();
        fs.punchHole(f, 0, 2 * B);
        long g = fs.create(ROOT, "g", 0644, 0, 0);
        fs.fallocate(g, 0, 2 * B, false);
        long gBlock = fs.internals().inode(g).extents(dev.region().readView()).find(0).physical();
        if (mode == Mode.PROTECTED) {
            assertTrue(gBlock < leased || gBlock >= leased + 2, "a leased block was handed to another file");
            assertEquals(2, fs.internals().busyExtents().busyBlocks());
            lease.close();
            assertEquals(0, fs.internals().busyExtents().busyBlocks());
            // Busy blocks count as free (they belong to no file); f gave two, g took two.
            assertEquals(free, fs.statfs().freeBlocks(), "punched blocks are free again, g holds two");
            assertClean();
        } else {
            assertEquals(leased, gBlock, "hazard: the leased block went to another file at once");
            lease.close();
        }
    }

    /**
     * R5 (Kara, "dax: New fault locking", 2016): two writers find the same hole at once. Entry locks make the second wait
     * and find the block allocated; without them both allocate and one block leaks.
     */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void r5TwoWritersAllocateOneHole(Mode mode) throws Exception {
        fs.internals().safeguards().entryLocks = mode == Mode.PROTECTED;
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        fs.truncate(f, B);
        long free = fs.statfs().freeBlocks();
        boolean protectedMode = mode == Mode.PROTECTED;
        // Unprotected, both writers reach the allocation point; protected, the second waits
        // for the first's entry lock before it can even re-check the hole.
        Gate gate = new Gate(protectedMode ? 1 : 2);
        fs.internals().pausePoints().install("write.allocating", gate);

        Future<?> a = pool.submit(() -> write(fs, f, 0, filled(0xA1)));
        Future<?> b = pool.submit(() -> write(fs, f, 0, filled(0xB2)));
        gate.awaitArrivals();
        if (protectedMode) {
            Gate.awaitCondition("the second writer waits for the entry lock", () -> fs.internals().inode(f).entries().waiting() == 1);
        }
        gate.open();
        get(a);
        get(b);
        byte[] content = read(fs, f, 0, B);
        assertTrue(Arrays.equals(filled(0xA1), content) || Arrays.equals(filled(0xB2), content),
                "the block holds one writer's data");
        FsckReport report = fsck();
        if (mode == Mode.PROTECTED) {
            assertEquals(free - 1, fs.statfs().freeBlocks(), "the hole was allocated exactly once");
            assertEquals(8, fs.getattr(f).blocks512());
            assertTrue(report.clean(), report.render());
        } else {
            assertEquals(free - 2, fs.statfs().freeBlocks(), "hazard: the hole was allocated twice");
            assertFalse(report.clean(), "hazard: fsck finds the doubly allocated block");
        }
    }
}
