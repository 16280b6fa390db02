package io.daxfs.it;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.sh;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * FS_IOC_SHUTDOWN through a real mount, as xfstests drives it ({@code xfs_io -x -c shutdown},
 * the same ioctl as its {@code godown}): afterwards a create, an fsync and a directory listing
 * fail with EIO while df still answers; the mount unmounts normally; the next mount finds
 * everything completed before the shutdown, the daemon's log says who shut it down, and fsck
 * is clean. Only the kernel front ends carry FUSE_IOCTL (docs/reliability.md, "Shutdown").
 */
@MountedDaxfs(size = "64M", scope = MountedDaxfs.Scope.TEST, fsck = true)
class ShutdownMountTest {
    private static final String EIO = "Input/output error";

    private DaxfsMount m;

    @Test
    void afterShutdownEverythingFailsWithEioAndTheNextMountFindsWhatCompletedBefore() throws Exception {
        assumeTrue(!DaxfsMount.FRONTEND.equals("libfuse"), "shutdown needs FUSE_IOCTL: the kernel front ends");
        shOk("cd " + q(m.mnt) + " && mkdir d && printf 'synced\\n' > d/f && sync d/f && printf 'done\\n' > d/g"
                + " && touch d/h && rm d/h");

        shOk("xfs_io -x -c shutdown " + q(m.mnt));
        Daxfs.Result create = sh("touch " + q(m.path("d/new")));
        assertTrue(create.exit() != 0 && create.err().contains(EIO), "create after shutdown: " + create);
        Daxfs.Result fsync = sh("xfs_io -c fsync " + q(m.path("d/f")));
        assertTrue(fsync.err().contains(EIO) || fsync.out().contains(EIO), "fsync after shutdown: " + fsync);
        Daxfs.Result list = sh("ls " + q(m.path("d")));
        assertTrue(list.exit() != 0 && list.err().contains(EIO), "opendir after shutdown: " + list);
        shOk("df " + q(m.mnt));
        assertTrue(m.logText().contains("shut down by pid"), m.logText());

        m.umount();
        m.mount();
        assertEquals("synced\n", Files.readString(m.path("d/f")));
        assertEquals("done\n", Files.readString(m.path("d/g")), "completed without an fsync: durable all the same");
        assertTrue(!Files.exists(m.path("d/h")) && !Files.exists(m.path("d/new")));
        shOk("touch " + q(m.path("d/new"))); // the new mount writes again
    }
}
