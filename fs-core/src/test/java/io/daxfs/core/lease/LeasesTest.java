package io.daxfs.core.lease;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.FsCoreDevice;
import io.daxfs.core.TestDevice;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.data.Lease;
import io.daxfs.core.format.Geometry;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Leases in fs-core (docs/leases.md): what a lease covers, what breaks it and what does not,
 * that breaking never waits, that the freed blocks stay busy - held by the lease, not counted
 * free, not waited for at ENOSPC - until it is closed, and that only the leased part of a freed
 * extent stays busy.
 */
@FsCoreDevice(mib = 32, after = FsCoreDevice.Check.SPACE_AND_FSCK)
class LeasesTest {
    private static final int B = Geometry.BLOCK_SIZE;

    private TestDevice dev;
    private DaxFileSystem fs;

    private Lease lease(long ino, long offset, long length, Lease.Mode mode, Runnable onBreak) {
        return fs.leases().take(ino, offset, length, mode, Integer.MAX_VALUE, 42, "test", onBreak);
    }

    private byte[] device(long offset, int length) {
        byte[] b = new byte[length];
        MemorySegment.copy(dev.region().readView(), ValueLayout.JAVA_BYTE, offset, b, 0, length);
        return b;
    }

    private long file(String name, int blocks, int seed) {
        long f = fs.create(ROOT, name, 0644, 0, 0);
        write(fs, f, 0, pattern(seed, 0, blocks * B));
        return f;
    }

    @Test
    void aLeaseNamesTheDeviceBytesOfTheRange() {
        long f = file("f", 16, 1);
        try (Lease l = lease(f, 5 * B + 7, 3 * B, Lease.Mode.READ, null)) {
            assertEquals(5 * B, l.offset(), "page-aligned outward");
            assertEquals(4 * B, l.length());
            assertFalse(l.partial());
            long covered = 0;
            for (Lease.Piece p : l.pieces()) {
                assertArrayEquals(pattern(1, p.fileOffset(), (int) p.length()), device(p.deviceOffset(), (int) p.length()),
                        "the device holds the file's bytes at " + p);
                covered += p.length();
            }
            assertEquals(4 * B, covered);
            assertFalse(l.broken());
            assertEquals(1, fs.leases().count());
        }
        assertEquals(0, fs.leases().count(), "closing forgets the lease");
    }

    @Test
    void aLargeFileIsLeasedIn2MiBCongruentExtents() {
        long f = fs.create(ROOT, "big", 0644, 0, 0);
        fs.fallocate(f, 0, 8 * MIB, false);
        try (Lease l = lease(f, 0, 0, Lease.Mode.READ, null)) {
            assertEquals(8 * MIB, l.length(), "length 0 means to the end of file");
            for (Lease.Piece p : l.pieces()) {
                assertEquals(p.fileOffset() % (2 * MIB), p.deviceOffset() % (2 * MIB), "huge-page congruent: " + p);
            }
        }
    }

    @Test
    void rangesPastTheEndAndNonFilesAreRefused() {
        long f = file("f", 2, 2);
        assertEquals(Errno.EINVAL, assertThrows(FsException.class,
                () -> lease(f, 2 * B, B, Lease.Mode.READ, null)).errno());
        assertEquals(Errno.EISDIR, assertThrows(FsException.class,
                () -> lease(ROOT, 0, B, Lease.Mode.READ, null)).errno());
        assertEquals(Errno.ENOENT, assertThrows(FsException.class,
                () -> lease(9999, 0, B, Lease.Mode.READ, null)).errno());
        try (Lease l = lease(f, 0, 100 * B, Lease.Mode.READ, null)) {
            assertEquals(2 * B, l.length(), "cut at the end of file");
        }
    }

    @Test
    void aWriteLeaseCoversAllocatedSpaceOnly() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        fs.truncate(f, 4 * B);
        write(fs, f, 0, pattern(3, 0, B));
        FsException e = assertThrows(FsException.class, () -> lease(f, 0, 4 * B, Lease.Mode.WRITE, null));
        assertEquals(Errno.ENODATA, e.errno(), "blocks 1-3 are a hole");
        try (Lease r = lease(f, 0, 4 * B, Lease.Mode.READ, null)) {
            assertEquals(1, r.pieces().size(), "a read lease may span holes; they are not pieces");
            assertEquals(4 * B, r.length());
        }
        fs.fallocate(f, 0, 4 * B, true);
        try (Lease w = lease(f, 0, 4 * B, Lease.Mode.WRITE, null)) {
            assertEquals(4 * B, w.pieces().stream().mapToLong(Lease.Piece::length).sum());
        }
    }

    @Test
    void aLeaseOfAtMostNPiecesEndsWhereTheLastEnds() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        long g = fs.create(ROOT, "g", 0644, 0, 0);
        for (int i = 0; i < 6; i++) { // interleaved: every block of f its own extent
            write(fs, f, (long) i * B, pattern(4, (long) i * B, B));
            write(fs, g, (long) i * B, pattern(5, (long) i * B, B));
        }
        try (Lease l = fs.leases().take(f, 0, 0, Lease.Mode.READ, 2, 1, "x", null)) {
            assertEquals(2, l.pieces().size());
            assertEquals(l.pieces().get(1).fileOffset() + l.pieces().get(1).length(), l.length());
            assertTrue(l.length() < 6 * B);
            assertTrue(l.partial(), "the rest needs another lease");
        }
    }

    @Test
    void truncateBreaksTheLeaseWithoutWaitingAndTheBlocksStayBusyUntilItCloses() {
        long f = file("f", 8, 6);
        AtomicInteger breaks = new AtomicInteger();
        Lease l = lease(f, 0, 8 * B, Lease.Mode.READ, breaks::incrementAndGet);
        long available = fs.statfs().freeBlocks();
        fs.truncate(f, 0);
        assertTrue(l.broken());
        assertEquals(1, breaks.get(), "the holder is told once");
        assertEquals(8, fs.internals().busyExtents().leaseHeldBlocks());
        assertEquals(8L * B, fs.leases().heldBusyBytes());
        assertEquals(available, fs.statfs().freeBlocks(), "held blocks are not counted free");
        // The holder still reads its old bytes: nothing else may have them.
        long g = file("g", 8, 7);
        for (Lease.Piece p : l.pieces()) {
            assertArrayEquals(pattern(6, p.fileOffset(), (int) p.length()), device(p.deviceOffset(), (int) p.length()));
        }
        Leases.Info info = fs.leases().list().getFirst();
        assertTrue(info.broken());
        assertEquals(8L * B, info.busyBytes());
        assertEquals(42, info.holderPid());
        l.close();
        assertEquals(1, breaks.get());
        assertEquals(0, fs.internals().busyExtents().busyBlocks(), "closed: the blocks clear");
        assertEquals(available, fs.statfs().freeBlocks(), "truncate gave 8, g took 8");
        assertTrue(g > 0);
    }

    @Test
    void onlyTheLeasedPartOfAFreedExtentStaysBusy() {
        fs.create(ROOT, "keep", 0644, 0, 0); // the directory keeps its block when f goes
        long f = file("f", 64, 8); // one extent
        assertEquals(1, fs.internals().inode(f).extents(dev.region().readView()).extentCount());
        long before = fs.statfs().freeBlocks();
        try (Lease l = lease(f, 10 * B, 2 * B, Lease.Mode.READ, null)) {
            fs.unlink(ROOT, "f");
            assertTrue(l.broken(), "unlink freed the leased blocks");
            assertEquals(2, fs.internals().busyExtents().busyBlocks(), "62 of 64 blocks cleared at once");
            assertEquals(before + 62, fs.statfs().freeBlocks());
        }
        assertEquals(before + 64, fs.statfs().freeBlocks());
    }

    @Test
    void punchBreaksOnlyTheLeasesItFreesFrom() {
        long f = file("f", 16, 9);
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger outside = new AtomicInteger();
        try (Lease a = lease(f, 0, 4 * B, Lease.Mode.READ, inside::incrementAndGet);
             Lease b = lease(f, 8 * B, 4 * B, Lease.Mode.READ, outside::incrementAndGet)) {
            fs.punchHole(f, 2 * B, 2 * B);
            assertTrue(a.broken());
            assertFalse(b.broken(), "the punch freed nothing of b");
            assertEquals(1, inside.get());
            assertEquals(0, outside.get());
            fs.zeroRange(f, 8 * B, 4 * B, true);
            assertFalse(b.broken(), "zero range keeps the blocks: the holder sees zeros, as a reader would");
            for (Lease.Piece p : b.pieces()) {
                assertArrayEquals(new byte[(int) p.length()], device(p.deviceOffset(), (int) p.length()));
            }
        }
    }

    @Test
    void renameOverTheLeasedFileBreaksIt() {
        long f = file("f", 4, 10);
        file("g", 1, 11);
        try (Lease l = lease(f, 0, 0, Lease.Mode.READ, null)) {
            fs.rename(ROOT, "g", ROOT, "f");
            assertTrue(l.broken());
            assertEquals(4, fs.internals().busyExtents().leaseHeldBlocks());
        }
    }

    @Test
    void anUnlinkedOpenFileKeepsItsBlocksAndItsLease() {
        long f = file("f", 4, 12);
        fs.open(f);
        try (Lease l = lease(f, 0, 0, Lease.Mode.READ, null)) {
            fs.unlink(ROOT, "f");
            assertFalse(l.broken(), "an open file lives on: nothing was freed");
            fs.release(f);
            assertTrue(l.broken(), "the last release freed it");
        }
    }

    @Test
    void enospcDoesNotWaitForSpaceLeasesHold() {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        long total = fs.statfs().freeBlocks();
        fs.fallocate(f, 0, (total - 64) * B, false);
        Lease l = lease(f, 0, 0, Lease.Mode.READ, null);
        fs.truncate(f, 0);
        long g = fs.create(ROOT, "g", 0644, 0, 0);
        long t0 = System.nanoTime();
        FsException e = assertThrows(FsException.class, () -> fs.fallocate(g, 0, 1024L * B, false));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(Errno.ENOSPC, e.errno());
        assertTrue(ms < 1000, "ENOSPC at once, not after waiting for the lease: " + ms + " ms");
        assertTrue(fs.statfs().freeBlocks() < 1024, "statfs agrees: the held space is not free");
        l.close();
        fs.fallocate(g, 0, 1024L * B, false);
    }

    private long mtimeNanos(long ino) {
        var a = fs.getattr(ino);
        return a.mtimeSec() * 1_000_000_000L + a.mtimeNsec();
    }

    @Test
    void flushOfAWriteLeaseMovesMtime() throws InterruptedException {
        long f = file("f", 2, 13);
        long mtime = mtimeNanos(f);
        Thread.sleep(5);
        try (Lease w = lease(f, 0, 0, Lease.Mode.WRITE, null); Lease r = lease(f, 0, 0, Lease.Mode.READ, null)) {
            fs.leases().flush(r);
            assertEquals(mtime, mtimeNanos(f), "a read lease changes nothing");
            fs.leases().flush(w);
            assertTrue(mtimeNanos(f) > mtime, "a write lease's flush is a write");
        }
    }

    @Test
    void listShowsEveryOpenLease() {
        long f = file("f", 4, 14);
        List<Lease> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(lease(f, (long) i * B, B, Lease.Mode.READ, null));
        }
        List<Leases.Info> list = fs.leases().list();
        assertEquals(3, list.size());
        assertEquals(held.get(1).id(), list.get(1).id());
        assertEquals(B, list.get(1).offset());
        assertEquals(0, list.get(1).busyBytes());
        assertEquals("test", list.get(1).holder());
        held.forEach(Lease::close);
        assertEquals(0, fs.leases().list().size());
    }
}
