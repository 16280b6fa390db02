package io.daxfs.core;

import io.daxfs.core.base.AtimePolicy;
import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.Timestamp;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.inode.InodeTable;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * atime under each {@link AtimePolicy}: which accesses update it (read, readlink, listing a
 * directory) and when (strictatime: always; relatime: when not after mtime/ctime, or a day
 * old; noatime: never; nodiratime: not for directories). Also ctime-only fallocate.
 */
@FsCoreDevice(after = FsCoreDevice.Check.NONE)
class AccessTimeTest {
    private static final Timestamp OLD = new Timestamp(1_000_000_000L, 0);
    private TestDevice dev;
    private DaxFileSystem fs;
    private long file;

    @BeforeEach
    void setUp() {
        file = fs.create(ROOT, "f", 0644, 0, 0);
        fs.write(file, 0, MemorySegment.ofArray(new byte[100]), 0, 100);
    }

    private long atimeNanos(long ino) {
        Attributes a = fs.getattr(ino);
        return a.atimeSec() * 1_000_000_000L + a.atimeNsec();
    }

    private void read(long ino) {
        fs.read(ino, 0, MemorySegment.ofArray(new byte[10]), 0, 10);
    }

    /** atime before mtime and ctime: stale under relatime. */
    private void makeAtimeOld(long ino) {
        fs.setTimes(ino, OLD, null, false);
    }

    @Test
    void theLibraryDefaultNeverUpdatesAtime() {
        assertEquals(AtimePolicy.NEVER, fs.atimePolicy());
        makeAtimeOld(file);
        read(file);
        fs.readdir(ROOT);
        assertEquals(OLD.seconds(), fs.getattr(file).atimeSec());
    }

    @Test
    void relatimeUpdatesOnlyWhenAtimeIsNotAfterMtimeOrCtime() throws Exception {
        fs.atimePolicy(AtimePolicy.RELATIME);
        makeAtimeOld(file);
        read(file);
        long first = atimeNanos(file);
        Attributes a = fs.getattr(file);
        assertTrue(first > a.mtimeSec() * 1_000_000_000L + a.mtimeNsec(), "the read set atime after mtime");
        Thread.sleep(5);
        read(file);
        assertEquals(first, atimeNanos(file), "a second read changes nothing: atime is after mtime and ctime");
        Thread.sleep(5);
        fs.write(file, 0, MemorySegment.ofArray(new byte[1]), 0, 1);
        read(file);
        assertTrue(atimeNanos(file) > first, "after a write, the next read updates atime");
        long afterWrite = atimeNanos(file);
        Thread.sleep(5);
        fs.chmod(file, 0600); // ctime only
        read(file);
        assertTrue(atimeNanos(file) > afterWrite, "after a ctime change, the next read updates atime");
    }

    @Test
    void relatimeStalenessRule() {
        InodeTable table = new InodeTable(dev.region(), fs.superblock().geometry());
        long now = 2_000_000_000L;
        long day = AtimePolicy.RELATIME_MAX_AGE_SECONDS;
        assertFalse(stale(table, now - 10, 5, now - 20, 0, now - 30, 0, now), "after both, recent");
        assertTrue(stale(table, now - day, 5, now - day - 20, 0, now - day - 30, 0, now), "a day old");
        assertFalse(stale(table, now - day + 1, 5, now - day - 20, 0, now - day - 30, 0, now), "a second short of a day");
        assertTrue(stale(table, now - 10, 5, now - 10, 5, now - 30, 0, now), "equal to mtime");
        assertTrue(stale(table, now - 10, 5, now - 20, 0, now - 10, 6, now), "before ctime by a nanosecond");
        assertFalse(stale(table, now - 10, 7, now - 10, 6, now - 10, 6, now), "after both by a nanosecond");
    }

    private boolean stale(InodeTable table, long a, int an, long m, int mn, long c, int cn, long now) {
        long o = table.offset(file);
        dev.region().putLong(o + InodeLayout.ATIME, a);
        dev.region().putInt(o + InodeLayout.ATIME_NS, an);
        dev.region().putLong(o + InodeLayout.MTIME, m);
        dev.region().putInt(o + InodeLayout.MTIME_NS, mn);
        dev.region().putLong(o + InodeLayout.CTIME, c);
        dev.region().putInt(o + InodeLayout.CTIME_NS, cn);
        return table.atimeStale(file, now);
    }

    @Test
    void strictatimeUpdatesOnEveryRead() throws Exception {
        fs.atimePolicy(AtimePolicy.STRICT);
        read(file);
        long first = atimeNanos(file);
        Thread.sleep(5);
        read(file);
        assertTrue(atimeNanos(file) > first, "every read moves atime");
    }

    @Test
    void noatimeNeverUpdates() {
        fs.atimePolicy(AtimePolicy.NEVER);
        makeAtimeOld(file);
        read(file);
        assertEquals(OLD.seconds(), fs.getattr(file).atimeSec());
    }

    @Test
    void readlinkAndListingsAreAccesses() {
        fs.atimePolicy(AtimePolicy.RELATIME);
        long link = fs.symlink(ROOT, "l", "f", 0, 0);
        long dir = fs.mkdir(ROOT, "d", 0755, 0, 0);
        makeAtimeOld(link);
        makeAtimeOld(dir);
        fs.readlink(link);
        fs.readdir(dir);
        assertNotEquals(OLD.seconds(), fs.getattr(link).atimeSec(), "readlink updates the link's atime");
        assertNotEquals(OLD.seconds(), fs.getattr(dir).atimeSec(), "a listing updates the directory's atime");
    }

    @Test
    void nodiratimeSparesDirectoriesOnly() {
        fs.atimePolicy(AtimePolicy.RELATIME.withDirectories(false));
        long dir = fs.mkdir(ROOT, "d", 0755, 0, 0);
        makeAtimeOld(dir);
        makeAtimeOld(file);
        fs.readdir(dir);
        read(file);
        assertEquals(OLD.seconds(), fs.getattr(dir).atimeSec(), "nodiratime: listing leaves atime");
        assertNotEquals(OLD.seconds(), fs.getattr(file).atimeSec(), "files are still updated");
    }

    @Test
    void atimeSurvivesARemount() {
        fs.atimePolicy(AtimePolicy.RELATIME);
        makeAtimeOld(file);
        read(file);
        long t = atimeNanos(file);
        fs = dev.remount();
        assertEquals(t, atimeNanos(file), "the direct store is in the mapping");
    }

    @Test
    void fallocateKeepSizeChangesCtimeOnly() throws Exception {
        fs.setTimes(file, OLD, OLD, false);
        Thread.sleep(5);
        fs.fallocate(file, 0, 1 << 20, true);
        Attributes a = fs.getattr(file);
        assertEquals(OLD.seconds(), a.mtimeSec(), "KEEP_SIZE allocation leaves mtime");
        assertTrue(a.ctimeSec() > OLD.seconds(), "and changes ctime");
        assertEquals(100, a.size());
        fs.fallocate(file, 0, 2 << 20, false);
        assertTrue(fs.getattr(file).mtimeSec() > OLD.seconds(), "growing the file changes mtime");
    }
}
