package io.daxfs.core;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.MountSettings;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * fsck, as the {@code daxfs fsck} command runs it: {@link #check} reports and never writes;
 * {@link #repair} ({@code -y}) repairs with {@link FsChecker#repair}, and puts inodes that no
 * directory names in {@code /lost+found} (made if missing) through a mount of the repaired
 * image, named "#" and their inode number.
 */
public final class Fsck {
    static final String LOST_FOUND = "lost+found";

    private Fsck() {
    }

    public static FsckReport check(MemorySegment device, FsChecker.Progress progress) {
        return FsChecker.check(device, progress);
    }

    /** Repairs {@code region}, which the caller opened read-write and locked (no mount may have it). */
    public static FsckReport repair(PmemRegion region, FsChecker.Progress progress) {
        return FsChecker.repair(region, progress, Fsck::reconnect);
    }

    private static void reconnect(PmemRegion region, List<long[]> lost) {
        DaxFileSystem fs = DaxFileSystem.mount(region, MountSettings.defaults()
                .withCheck(MountSettings.Check.QUICK).withErrors(MountSettings.Errors.CONTINUE));
        try {
            long dir = lostAndFound(fs);
            for (long[] l : lost) {
                String name = "#" + l[0];
                for (int k = 1; exists(fs, dir, name); k++) {
                    name = "#" + l[0] + "." + k;
                }
                fs.reconnect(l[0], dir, name);
            }
        } finally {
            fs.close();
        }
    }

    /** /lost+found, made if missing (or "lost+found.N" if that name is taken by something else). */
    private static long lostAndFound(DaxFileSystem fs) {
        String name = LOST_FOUND;
        for (int k = 1; ; k++) {
            try {
                long ino = fs.lookup(DaxFileSystem.ROOT, name);
                if (FileMode.isDirectory(fs.mode(ino))) {
                    return ino;
                }
            } catch (FsException e) {
                if (e.errno() != Errno.ENOENT) {
                    throw e;
                }
                return fs.mkdir(DaxFileSystem.ROOT, name, 0700, 0, 0);
            }
            name = LOST_FOUND + "." + k;
        }
    }

    private static boolean exists(DaxFileSystem fs, long dir, String name) {
        try {
            fs.lookup(dir, name);
            return true;
        } catch (FsException e) {
            return false;
        }
    }
}
