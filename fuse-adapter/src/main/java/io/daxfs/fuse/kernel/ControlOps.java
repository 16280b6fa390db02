package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.FileSystemControl;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static io.daxfs.fuse.kernel.FuseAbi.*;

/**
 * The ioctls that act on the mount as a whole ({@link FileSystemControl}), root only (XFS and
 * ext4 ask CAP_SYS_ADMIN; the caller's uid stands for it).
 *
 * <p><b>FS_IOC_SHUTDOWN</b>, which is XFS_IOC_GOINGDOWN and EXT4_IOC_SHUTDOWN
 * ({@code _IOR('X', 125, __u32)}; xfstests' {@code godown}, {@code xfs_io -x -c shutdown}).
 * From then on the mount behaves like XFS after a forced shutdown (docs/reliability.md,
 * "Shutdown"): every request fails with EIO and nothing more is written to the device, until it
 * is unmounted; the next mount recovers as after a power cut at the instant of the shutdown,
 * and finds every operation completed before it. The ioctl's flag word (flush the data first,
 * flush the log, or neither) never reaches a FUSE server: the command's number says the kernel
 * copies 4 bytes out, not in (restricted ioctls in fs/fuse/ioctl.c). It would change nothing
 * here: every completed operation is durable when its reply is sent, so all three flags leave
 * the same device behind. A second shutdown succeeds and does nothing, as on XFS.
 *
 * <p><b>FITRIM</b> ({@code _IOWR('X', 121, struct fstrim_range)}: start, len, minlen, u64 each,
 * in and out; fstrim(8)): releases the memory of the free extents of the range and answers the
 * struct with len set to the bytes released (docs/operations.md, "fstrim").
 */
final class ControlOps {
    /** {@code _IOR('X', 125, __u32)}. */
    static final int FS_IOC_SHUTDOWN = 0x8004587d;
    /** {@code _IOWR('X', 121, struct fstrim_range)}. */
    static final int FITRIM = 0xc0185879;
    static final int FSTRIM_RANGE_SIZE = 24;
    private static final Logger LOG = LoggerFactory.getLogger(ControlOps.class);

    private final DaxFileSystem fs;

    ControlOps(DaxFileSystem fs) {
        this.fs = fs;
    }

    static boolean handles(int command) {
        return command == FS_IOC_SHUTDOWN || command == FITRIM;
    }

    void ioctl(Request r, Reply out) {
        int command = r.argInt(IOCTL_IN_CMD);
        if (r.uid() != 0) {
            throw new FsException(Errno.EPERM, (command == FITRIM ? "FITRIM" : "FS_IOC_SHUTDOWN") + " by uid "
                    + r.uid() + ": root only");
        }
        if (command == FITRIM) {
            trim(r, out);
            return;
        }
        if (!fs.control().isShutDown()) {
            fs.control().shutDown("FS_IOC_SHUTDOWN by pid " + r.pid());
            LOG.warn("shut down by pid {} (FS_IOC_SHUTDOWN): every request fails with EIO and nothing more is"
                    + " written until unmount; the next mount recovers every operation completed before it", r.pid());
        }
        out.ioctlDone(0);
    }

    private void trim(Request r, Reply out) {
        if (r.argInt(IOCTL_IN_IN_SIZE) < FSTRIM_RANGE_SIZE || r.argLength() < IOCTL_IN_SIZE + FSTRIM_RANGE_SIZE
                || r.argInt(IOCTL_IN_OUT_SIZE) < FSTRIM_RANGE_SIZE) {
            throw new FsException(Errno.EINVAL, "FITRIM without a struct fstrim_range");
        }
        long start = r.argLong(IOCTL_IN_SIZE);
        long minLength = r.argLong(IOCTL_IN_SIZE + 16);
        long released = fs.control().trim(start, r.argLong(IOCTL_IN_SIZE + 8), minLength);
        out.putLong(IOCTL_OUT_SIZE, start);
        out.putLong(IOCTL_OUT_SIZE + 8, released);
        out.putLong(IOCTL_OUT_SIZE + 16, minLength);
        out.ioctlDone(FSTRIM_RANGE_SIZE);
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
