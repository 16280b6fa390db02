package io.daxfs.core;

import io.daxfs.core.base.DirEntry;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.MountSettings;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.format.Superblock;
import io.daxfs.devdax.PersistenceMode;
import io.daxfs.devdax.PmemRegion;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random damage to the metadata of a small image, many times over (a cheap cousin of the
 * fuzzing of issue 13): whatever the bytes, fsck returns a report (it never throws), a mount
 * either works or throws {@link CorruptFileSystemException}, every operation on what it
 * mounted fails with an {@link FsException} at worst, and fsck -y leaves an image that a
 * second fsck finds clean and that mounts - unless neither superblock copy survived, and then
 * fsck -n and -y both exit 8 and -y writes nothing.
 */
class RandomDamageTest {
    private static final int ROUNDS = 120;

    @TempDir
    Path dir;

    @Test
    @Timeout(600)
    void randomlyDamagedMetadataNeverCrashesAndIsRepaired() {
        Path image = HostileImages.build(dir);
        byte[] sound = HostileImages.readFile(image);
        Geometry g = Superblock.read(MemorySegment.ofArray(sound)).geometry();
        long seed = TestDevice.seed("randomlyDamagedMetadataNeverCrashesAndIsRepaired");
        Random random = new Random(seed);
        // Where damage hurts: both superblocks, the journal header's fields, the bitmaps and
        // their checksums, the inodes in use, and the first data blocks (directories, extent
        // overflow, attributes and file data).
        long[][] zones = {
            {0, 256}, {Geometry.BLOCK_SIZE, Geometry.BLOCK_SIZE + 256}, {g.journalOffset(), g.journalOffset() + 64},
            {g.inodeBitmapOffset(), g.inodeBitmapOffset() + 64}, {g.blockBitmapOffset(), g.blockBitmapOffset() + 512},
            {g.checksumTableOffset(), g.checksumTableOffset() + 8}, {g.inodeOffset(1), g.inodeOffset(321)},
            {Geometry.blockOffset(g.dataStart()), Geometry.blockOffset(g.dataStart() + 1100)},
        };
        int repaired = 0;
        for (int round = 0; round < ROUNDS; round++) {
            byte[] bytes = sound.clone();
            int flips = 1 + random.nextInt(8);
            for (int i = 0; i < flips; i++) {
                long[] zone = zones[random.nextInt(zones.length)];
                int at = (int) (zone[0] + random.nextLong(zone[1] - zone[0]));
                bytes[at] ^= (byte) (1 << random.nextInt(8));
            }
            String round0 = "round " + round + " (seed " + seed + ")";
            // -Ddaxfs.round=N (with the seed's property) runs round N alone; -Ddaxfs.trace=true says what it does
            if (Integer.getInteger("daxfs.round", round) != round) {
                continue;
            }
            trace("check");
            FsckReport check = FsChecker.check(MemorySegment.ofArray(bytes));
            trace("mount " + check.render());
            // Native memory, freed at the end of the round: a mount left behind (nothing closes
            // it) must not keep 64 MiB of heap (per-thread spares of its locks refer to it).
            try (Arena arena = Arena.ofShared()) {
                roundTrip(arena, bytes, check, round0);
            }
            if (lastRepaired) {
                repaired++;
            }
        }
        System.out.println(ROUNDS + " rounds: " + refused + " mounts refused, " + repaired + " repaired");
    }

    private boolean lastRepaired;
    private int refused;

    private void roundTrip(Arena arena, byte[] bytes, FsckReport check, String round0) {
        lastRepaired = false;
        {
            HeapRegion region = new HeapRegion(arena, bytes);
            try {
                DaxFileSystem fs = DaxFileSystem.mount(region, MountSettings.defaults()
                        .withCheck(MountSettings.Check.QUICK).withErrors(MountSettings.Errors.CONTINUE));
                walk(fs, round0);
            } catch (CorruptFileSystemException e) {
                refused++;
            } catch (RuntimeException e) {
                fail(round0 + ": mount or use threw " + e, e);
            }
            byte[] beforeRepair = region.readView().toArray(ValueLayout.JAVA_BYTE);
            HeapRegion fixed = new HeapRegion(arena, beforeRepair);
            trace("repair");
            FsckReport repairWithLostFound = Fsck.repair(fixed, FsChecker.Progress.NONE);
            trace("repaired " + repairWithLostFound.render());
            MemorySegment damaged = MemorySegment.ofArray(beforeRepair);
            if (Superblock.problem(damaged, 0) != null && Superblock.problem(damaged, 1) != null) {
                // Nothing to repair from: both fsck -n and -y say they could not check, and -y writes nothing.
                assertEquals(FsckReport.COULD_NOT_CHECK, check.exitCode(), round0 + ": " + check.render());
                assertEquals(FsckReport.COULD_NOT_CHECK, repairWithLostFound.exitCode(), round0 + ": "
                        + repairWithLostFound.render());
                assertArrayEquals(beforeRepair, fixed.readView().toArray(ValueLayout.JAVA_BYTE),
                        round0 + ": fsck -y wrote to an image it cannot repair");
                return;
            }
            // A superblock copy is sound: everything else can be repaired, whatever the flips.
            assertTrue(repairWithLostFound.exitCode() <= FsckReport.REPAIRED, round0 + ": fsck -y left damage:\n"
                    + repairWithLostFound.render());
            FsckReport again = FsChecker.check(fixed.readView());
            assertTrue(again.clean(), round0 + ": after fsck -y\n" + repairWithLostFound.render() + "\nagain:\n"
                    + again.render());
            DaxFileSystem fs = DaxFileSystem.mount(fixed);
            walk(fs, round0 + " after the repair");
            lastRepaired = true;
        }
    }

    private static void trace(String what) {
        if (Boolean.getBoolean("daxfs.trace")) {
            System.out.println(what);
        }
    }

    /** Reads every file and lists every directory; a damaged one may fail, with an FsException only. */
    private static void walk(DaxFileSystem fs, String where) {
        ArrayDeque<Long> dirs = new ArrayDeque<>();
        dirs.add(DaxFileSystem.ROOT);
        int seen = 0;
        while (!dirs.isEmpty() && seen++ < 10_000) {
            long d = dirs.poll();
            try {
                for (DirEntry e : fs.readdir(d)) {
                    if (e.name().equals(".") || e.name().equals("..")) {
                        continue;
                    }
                    try {
                        int mode = fs.mode(e.ino());
                        if (FileMode.isDirectory(mode)) {
                            dirs.add(e.ino());
                        } else if (FileMode.isRegular(mode)) {
                            TestDevice.read(fs, e.ino(), 0, (int) Math.min(1 << 20, fs.getattr(e.ino()).size()));
                            fs.listxattr(e.ino());
                        }
                    } catch (FsException ex) {
                        // damage met: fine, as long as it is an FsException
                    }
                }
            } catch (FsException ex) {
                // a damaged directory
            } catch (RuntimeException ex) {
                fail(where + ": " + ex, ex);
            }
        }
    }

    /** A writable region over memory of {@code arena}: an image in memory, flushes and fences are free. */
    static final class HeapRegion implements PmemRegion {
        private final MemorySegment segment;

        HeapRegion(Arena arena, byte[] bytes) {
            this.segment = arena.allocate(bytes.length, 4096);
            MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, 0, bytes.length);
        }

        @Override public long size() { return segment.byteSize(); }
        @Override public MemorySegment readView() { return segment.asReadOnly(); }
        @Override public void putByte(long o, byte v) { segment.set(ValueLayout.JAVA_BYTE, o, v); }
        @Override public void putShort(long o, short v) { segment.set(io.daxfs.devdax.MediaOrder.SHORT, o, v); }
        @Override public void putInt(long o, int v) { segment.set(io.daxfs.devdax.MediaOrder.INT, o, v); }
        @Override public void putLong(long o, long v) { segment.set(io.daxfs.devdax.MediaOrder.LONG, o, v); }
        @Override public void write(long o, MemorySegment s, long so, long l) { MemorySegment.copy(s, so, segment, o, l); }
        @Override public void write(long o, byte[] s, int so, int l) {
            MemorySegment.copy(s, so, segment, ValueLayout.JAVA_BYTE, o, l);
        }
        @Override public void fill(long o, long l, byte v) { segment.asSlice(o, l).fill(v); }
        @Override public void flush(long o, long l) { }
        @Override public void fence() { }
        @Override public void release(long o, long l) { segment.asSlice(o, l).fill((byte) 0); }
        @Override public PersistenceMode persistenceMode() { return PersistenceMode.VOLATILE; }
        @Override public void close() { }
    }
}
