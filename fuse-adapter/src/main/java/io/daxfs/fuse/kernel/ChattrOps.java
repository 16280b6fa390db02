package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.inode.ChattrFlags;

import static io.daxfs.fuse.kernel.FuseAbi.IOCTL_IN_CMD;
import static io.daxfs.fuse.kernel.FuseAbi.IOCTL_IN_IN_SIZE;
import static io.daxfs.fuse.kernel.FuseAbi.IOCTL_IN_OUT_SIZE;
import static io.daxfs.fuse.kernel.FuseAbi.IOCTL_IN_SIZE;
import static io.daxfs.fuse.kernel.FuseAbi.IOCTL_OUT_SIZE;

/**
 * chattr/lsattr over FUSE_IOCTL: FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_IOC_FSGETXATTR and
 * FS_IOC_FSSETXATTR. The kernel handles these ioctls in the VFS (fs/file_attr.c) and asks the
 * server through fs/fuse/ioctl.c fuse_fileattr_get/set: it opens the file (FUSE_OPEN or
 * OPENDIR, read-only), sends the command with the flags word (4 bytes, though the command's
 * number says long) or struct fsxattr (28 bytes) as in or out data, and releases it. A chattr
 * is three such requests: GETFLAGS (chattr's own read), FSGETXATTR (the VFS's copy of the old
 * flags, against which it checks CAP_LINUX_IMMUTABLE) and SETFLAGS. fs-core stores the flags
 * and enforces them ({@link ChattrFlags}); the caller's uid stands for its capabilities.
 */
final class ChattrOps {
    static final int FS_IOC_GETFLAGS = 0x80086601;
    static final int FS_IOC_SETFLAGS = 0x40086602;
    static final int FS_IOC_FSGETXATTR = 0x801c581f;
    static final int FS_IOC_FSSETXATTR = 0x401c5820;
    /** struct fsxattr: xflags u32, extsize u32, nextents u32, projid u32, cowextsize u32, pad[8]. */
    static final int FSXATTR_SIZE = 28;
    /** FS_XFLAG_* and the FS_*_FL each stands for (fileattr_fill_xflags). */
    private static final int[][] XFLAGS = {
        {0x8, ChattrFlags.IMMUTABLE}, {0x10, ChattrFlags.APPEND}, {0x20, ChattrFlags.SYNC},
        {0x40, ChattrFlags.NOATIME}, {0x80, ChattrFlags.NODUMP},
    };

    private final DaxFileSystem fs;

    ChattrOps(DaxFileSystem fs) {
        this.fs = fs;
    }

    /** Whether {@code command} is one of these (others go to the lease commands). */
    static boolean handles(int command) {
        return command == FS_IOC_GETFLAGS || command == FS_IOC_SETFLAGS
                || command == FS_IOC_FSGETXATTR || command == FS_IOC_FSSETXATTR;
    }

    void ioctl(Request r, Reply out) {
        int command = r.argInt(IOCTL_IN_CMD);
        long ino = r.nodeid();
        boolean xattr = command == FS_IOC_FSGETXATTR || command == FS_IOC_FSSETXATTR;
        int size = xattr ? FSXATTR_SIZE : Integer.BYTES;
        if (command == FS_IOC_GETFLAGS || command == FS_IOC_FSGETXATTR) {
            if (r.argInt(IOCTL_IN_OUT_SIZE) < size) {
                throw new FsException(Errno.EINVAL, "ioctl out size " + r.argInt(IOCTL_IN_OUT_SIZE));
            }
            int flags = fs.chattrFlags(ino);
            out.zero(IOCTL_OUT_SIZE, size);
            out.putInt(IOCTL_OUT_SIZE, xattr ? toXflags(flags) : flags);
        } else {
            if (r.argInt(IOCTL_IN_IN_SIZE) < size || r.argLength() < IOCTL_IN_SIZE + size) {
                throw new FsException(Errno.EINVAL, "ioctl in size " + r.argInt(IOCTL_IN_IN_SIZE));
            }
            int flags = r.argInt(IOCTL_IN_SIZE);
            if (xattr) {
                // extent size hints, project ids: XFS's, not stored here (non-zero: not supported)
                for (int field = 4; field < 20; field += 4) {
                    if (field != 8 && r.argInt(IOCTL_IN_SIZE + field) != 0) {
                        throw new FsException(Errno.EOPNOTSUPP, "fsxattr field at " + field + " is not supported");
                    }
                }
                flags = fromXflags(flags) | fs.chattrFlags(ino) & ~fromXflags(-1);
            }
            fs.setChattrFlags(ino, flags, r.uid());
            // ctime moved; fuse_fileattr_set leaves the kernel's cached attributes as they were
            out.invalidateAttributes(ino);
            size = 0;
        }
        out.ioctlDone(size);
    }

    static int toXflags(int flags) {
        int x = 0;
        for (int[] m : XFLAGS) {
            x |= (flags & m[1]) != 0 ? m[0] : 0;
        }
        return x;
    }

    /** FS_XFLAG_* to FS_*_FL; an xflag without a flag here: EOPNOTSUPP (-1: every mapped flag). */
    static int fromXflags(int xflags) {
        int f = 0;
        int known = 0;
        for (int[] m : XFLAGS) {
            known |= m[0];
            f |= (xflags & m[0]) != 0 ? m[1] : 0;
        }
        if (xflags != -1 && (xflags & ~known) != 0) {
            throw new FsException(Errno.EOPNOTSUPP, "xflags " + Integer.toHexString(xflags & ~known)
                    + " are not supported");
        }
        return f;
    }
}
