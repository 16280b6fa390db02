package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static io.daxfs.fuse.kernel.FuseAbi.*;

/**
 * Shutting a mount down: FS_IOC_SHUTDOWN, which is XFS_IOC_GOINGDOWN and EXT4_IOC_SHUTDOWN
 * ({@code _IOR('X', 125, __u32)}; xfstests' {@code godown}, {@code xfs_io -x -c shutdown}),
 * reaches daxfs as FUSE_IOCTL. From then on the mount behaves like XFS after a forced shutdown
 * (docs/reliability.md, "Shutdown"): every request fails with EIO and nothing more is written
 * to the device, until it is unmounted; the next mount recovers as after a power cut at the
 * instant of the shutdown, and finds every operation completed before it.
 *
 * <p>The ioctl's flag word (flush the data first, flush the log, or neither) never reaches a
 * FUSE server: the command's number says the kernel copies 4 bytes out, not in (restricted
 * ioctls in fs/fuse/ioctl.c). It would change nothing here: every completed operation is
 * durable when its reply is sent, so all three flags leave the same device behind.
 *
 * <p>Only root may shut a mount down (XFS and ext4 ask CAP_SYS_ADMIN; the caller's uid stands
 * for it). A second shutdown succeeds and does nothing, as on XFS.
 */
final class ShutdownOps {
    /** {@code _IOR('X', 125, __u32)}. */
    static final int FS_IOC_SHUTDOWN = 0x8004587d;
    private static final Logger LOG = LoggerFactory.getLogger(ShutdownOps.class);

    private final DaxFileSystem fs;

    ShutdownOps(DaxFileSystem fs) {
        this.fs = fs;
    }

    static boolean handles(int command) {
        return command == FS_IOC_SHUTDOWN;
    }

    void ioctl(Request r, Reply out) {
        if (r.uid() != 0) {
            throw new FsException(Errno.EPERM, "FS_IOC_SHUTDOWN by uid " + r.uid() + ": root only");
        }
        if (!fs.isShutDown()) {
            fs.shutDown("FS_IOC_SHUTDOWN by pid " + r.pid());
            LOG.warn("shut down by pid {} (FS_IOC_SHUTDOWN): every request fails with EIO and nothing more is"
                    + " written until unmount; the next mount recovers every operation completed before it", r.pid());
        }
        out.ioctlDone(0);
    }

    /**
     * Answers {@code r} as a shut-down mount does, without calling fs-core (whose changes would
     * fail with EIO): releases and DESTROY succeed and do nothing (an unlinked file stays an
     * orphan for the next mount to free), STATFS is served (df of a shut-down XFS works), a
     * second shutdown succeeds, everything else fails with EIO. Returns false for the requests
     * still served by fs-core. FORGET, BATCH_FORGET and INTERRUPT never come here: they have
     * no reply, and {@link KernelFileSystem} drops them once the mount is down.
     */
    boolean answerWhileDown(int opcode, Request r, Reply out) {
        switch (opcode) {
            case STATFS -> {
                return false;
            }
            case RELEASE, RELEASEDIR, DESTROY -> out.ok();
            case IOCTL -> {
                if (handles(r.argInt(IOCTL_IN_CMD))) {
                    return false;
                }
                out.error(Errno.EIO.code());
            }
            default -> out.error(Errno.EIO.code());
        }
        return true;
    }
}
