package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.FsStats;
import io.daxfs.core.base.Timestamp;
import io.daxfs.fuse.vfs.PosixAcls;

import java.nio.charset.StandardCharsets;

import static io.daxfs.fuse.kernel.FuseAbi.*;

/** GETATTR, SETATTR, READLINK and STATFS. */
final class AttributeOps {
    private final DaxFileSystem fs;
    private final KernelOptions options;
    private final PosixAcls acls;

    AttributeOps(DaxFileSystem fs, KernelOptions options, PosixAcls acls) {
        this.fs = fs;
        this.options = options;
        this.acls = acls;
    }

    void getattr(Request r, Reply out) {
        out.send(AttrCodec.putAttrOut(out, fs.getattr(r.nodeid()), options.attrTimeoutNanos()));
    }

    /**
     * STATX (Linux 6.6+): what GETATTR says and the birth time. The kernel asks for it only
     * when a caller wants the birth time (statx with STATX_BTIME); until then GETATTR serves.
     */
    void statx(Request r, Reply out) {
        long ino = r.nodeid();
        Attributes a = fs.getattr(ino);
        out.send(AttrCodec.putStatxOut(out, a, fs.birthTime(ino), options.attrTimeoutNanos()));
    }

    /** SETATTR bits that change something; a SETATTR with none of them only takes privileges away. */
    private static final int CHANGES = FATTR_MODE | FATTR_UID | FATTR_GID | FATTR_SIZE | FATTR_ATIME | FATTR_MTIME
            | FATTR_ATIME_NOW | FATTR_MTIME_NOW | FATTR_CTIME;

    /**
     * One SETATTR may carry several changes (chown, chmod, truncate, times); they are applied in
     * that order, each in its own transaction. The kernel has checked permissions (with
     * default_permissions) and already dropped set-group-ID from a chmod by a non-member. With
     * HANDLE_KILLPRIV_V2 daxfs drops set-user-ID/set-group-ID itself ({@link Privileges}): on
     * every chown of a non-directory (as Linux does, root included), on a truncate by a caller
     * without CAP_FSETID (FATTR_KILL_SUIDGID), and when the SETATTR changes nothing at all:
     * that is the kernel's file_remove_privs (fallocate, copy_file_range and write call it, when
     * the file has something to lose and the caller lacks CAP_FSETID) or a chown(-1, -1), whose
     * attribute change the protocol cannot say otherwise.
     */
    void setattr(Request r, Reply out) {
        long ino = r.nodeid();
        int valid = r.argInt(SETATTR_IN_VALID);
        boolean chown = (valid & (FATTR_UID | FATTR_GID)) != 0;
        if ((valid & CHANGES) == 0) {
            Privileges.drop(fs, r, ino);
        }
        if (chown) {
            boolean sgidToo = Privileges.sgidWithoutExecGoes(fs, r, ino); // by the group before the chown
            int uid = (valid & FATTR_UID) != 0 ? r.argInt(SETATTR_IN_UID) : -1;
            int gid = (valid & FATTR_GID) != 0 ? r.argInt(SETATTR_IN_GID) : -1;
            fs.chown(ino, uid, gid);
            if ((valid & FATTR_MODE) == 0) {
                fs.dropPrivileges(ino, sgidToo);
            }
        }
        if ((valid & FATTR_MODE) != 0) {
            acls.chmod(ino, r.argInt(SETATTR_IN_MODE));
        }
        if ((valid & FATTR_SIZE) != 0) {
            fs.truncate(ino, r.argLong(SETATTR_IN_SIZE));
            if ((valid & FATTR_KILL_SUIDGID) != 0) {
                Privileges.drop(fs, r, ino);
            }
        }
        Timestamp atime = time(r, valid, FATTR_ATIME, FATTR_ATIME_NOW, SETATTR_IN_ATIME, SETATTR_IN_ATIMENSEC);
        Timestamp mtime = time(r, valid, FATTR_MTIME, FATTR_MTIME_NOW, SETATTR_IN_MTIME, SETATTR_IN_MTIMENSEC);
        if (atime != null || mtime != null) {
            // utimes(NULL): the kernel sets FATTR_xTIME with FATTR_xTIME_NOW (an append-only file allows it)
            boolean toNow = ((valid & FATTR_ATIME) == 0 || (valid & FATTR_ATIME_NOW) != 0)
                    && ((valid & FATTR_MTIME) == 0 || (valid & FATTR_MTIME_NOW) != 0);
            fs.setTimes(ino, atime, mtime, toNow);
        }
        out.send(AttrCodec.putAttrOut(out, fs.getattr(ino), options.attrTimeoutNanos()));
    }

    /** The time to set, or null to leave it (UTIME_OMIT); "now" is the daemon's clock. */
    private static Timestamp time(Request r, int valid, int set, int now, int secOffset, int nsecOffset) {
        if ((valid & now) != 0) {
            return Timestamp.now();
        }
        if ((valid & set) != 0) {
            return new Timestamp(r.argLong(secOffset), r.argInt(nsecOffset));
        }
        return null;
    }

    void readlink(Request r, Reply out) {
        byte[] target = fs.readlink(r.nodeid()).getBytes(StandardCharsets.UTF_8);
        out.putBytes(0, target);
        out.send(target.length);
    }

    void statfs(Request r, Reply out) {
        FsStats s = fs.statfs();
        out.putLong(STATFS_BLOCKS, s.totalBlocks());
        out.putLong(STATFS_BFREE, s.freeBlocks());
        out.putLong(STATFS_BAVAIL, s.freeBlocks());
        out.putLong(STATFS_FILES, s.totalInodes());
        out.putLong(STATFS_FFREE, s.freeInodes());
        out.putInt(STATFS_BSIZE, (int) s.blockSize());
        out.putInt(STATFS_NAMELEN, s.maxNameLength());
        out.putInt(STATFS_FRSIZE, (int) s.blockSize());
        out.zero(STATFS_FRSIZE + 4, STATFS_OUT_SIZE - STATFS_FRSIZE - 4);
        out.send(STATFS_OUT_SIZE);
    }
}
