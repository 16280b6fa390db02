package io.daxfs.core.attr;

import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.Timestamp;
import io.daxfs.core.inode.ChattrFlags;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.journal.Transaction;
import io.daxfs.core.xattr.XattrStore;

import java.util.concurrent.locks.Lock;

/**
 * chmod, chown, utimens, chattr flags and the privileges a write takes away: one journaled transaction
 * each, under the inode's lock held exclusively (so two changes of one inode's attributes
 * never interleave their records).
 */
public final class AttributeChanges {
    private static final int GROUP_EXECUTE = 0010;
    private static final String SECURITY_CAPABILITY = "security.capability";

    private final InodeTable table;
    private final Journal journal;
    private final XattrStore xattrs;

    public AttributeChanges(InodeTable table, Journal journal, XattrStore xattrs) {
        this.table = table;
        this.journal = journal;
        this.xattrs = xattrs;
    }

    /** Sets the permission bits (the type bits stay); ctime becomes now. */
    public void chmod(Inode in, int mode) {
        long ino = in.ino();
        Lock w = in.lock().writeLock();
        w.lock();
        try {
            Transaction tx = journal.begin();
            table.setMode(tx, ino, (table.mode(ino) & FileMode.S_IFMT) | (mode & FileMode.PERMISSION_BITS));
            table.setCtime(tx, ino, Timestamp.now());
            journal.commit(tx);
        } finally {
            w.unlock();
        }
    }

    /** Changes owner and/or group; -1 leaves one unchanged. ctime becomes now. */
    public void chown(Inode in, int uid, int gid) {
        long ino = in.ino();
        Lock w = in.lock().writeLock();
        w.lock();
        try {
            Attributes a = table.attributes(ino);
            Transaction tx = journal.begin();
            table.setOwner(tx, ino, uid == -1 ? a.uid() : uid, gid == -1 ? a.gid() : gid);
            table.setCtime(tx, ino, Timestamp.now());
            journal.commit(tx);
        } finally {
            w.unlock();
        }
    }

    /** Sets access and/or modification time; null leaves one unchanged. ctime becomes now. */
    public void setTimes(Inode in, Timestamp atime, Timestamp mtime) {
        long ino = in.ino();
        Lock w = in.lock().writeLock();
        w.lock();
        try {
            Transaction tx = journal.begin();
            if (atime != null) {
                table.setAtime(tx, ino, atime);
            }
            if (mtime != null) {
                table.setMtime(tx, ino, mtime);
            }
            table.setCtime(tx, ino, Timestamp.now());
            journal.commit(tx);
        } finally {
            w.unlock();
        }
    }

    /**
     * chattr: sets the flags of {@link ChattrFlags#STORED} to {@code flags}; ctime becomes now.
     * As Linux (fs/file_attr.c vfs_fileattr_set, fileattr_set_prepare; ext4_ioctl_setflags):
     * only the owner or root (uid 0; the kernel has checked CAP_FOWNER) may change them, only
     * root (standing for CAP_LINUX_IMMUTABLE, which the kernel has checked too) may set or
     * clear immutable and append-only, and while a file stays immutable nothing else changes.
     * Flags daxfs does not store: EOPNOTSUPP.
     */
    public void setChattrFlags(Inode in, int flags, int callerUid) {
        long ino = in.ino();
        if ((flags & ~ChattrFlags.STORED) != 0) {
            throw new FsException(Errno.EOPNOTSUPP, "chattr flags " + Integer.toHexString(flags & ~ChattrFlags.STORED)
                    + " are not supported");
        }
        Lock w = in.lock().writeLock();
        w.lock();
        try {
            int word = table.flags(ino);
            int old = word & ChattrFlags.STORED;
            if (callerUid != 0 && callerUid != table.attributes(ino).uid()) {
                throw new FsException(Errno.EPERM, "only the owner or root may change chattr flags");
            }
            if (((old ^ flags) & ChattrFlags.PRIVILEGED) != 0 && callerUid != 0) {
                throw new FsException(Errno.EPERM, "only root may set or clear immutable and append-only");
            }
            if ((old & flags & ChattrFlags.IMMUTABLE) != 0 && old != flags) {
                throw new FsException(Errno.EPERM, "an immutable file's other flags stay");
            }
            if (old == flags) {
                return;
            }
            Transaction tx = journal.begin();
            table.setFlags(tx, ino, word & ~ChattrFlags.STORED | flags);
            table.setCtime(tx, ino, Timestamp.now());
            journal.commit(tx);
        } finally {
            w.unlock();
        }
    }

    /**
     * What Linux does to a file that someone without CAP_FSETID writes or truncates, and to
     * any file that is chowned (file_remove_privs, chown_common): the set-user-ID bit goes; the
     * set-group-ID bit goes if group-execute is set, and without group-execute if
     * {@code sgidWithoutExec} (setattr_should_drop_sgid: the caller is not in the file's group);
     * the security.capability attribute goes. Directories keep theirs. A file with none of
     * these costs two reads of its inode and allocates nothing. Returns whether the mode
     * changed (a cached copy of it is then stale).
     */
    public boolean dropPrivileges(Inode in, boolean sgidWithoutExec) {
        int mode = table.mode(in.ino());
        if (FileMode.isDirectory(mode)) {
            return false;
        }
        int kept = mode & ~FileMode.S_ISUID;
        if ((mode & GROUP_EXECUTE) != 0 || sgidWithoutExec) {
            kept &= ~FileMode.S_ISGID;
        }
        if (kept != mode) {
            chmod(in, kept);
        }
        if (table.xattrBlock(in.ino()) != 0) {
            try {
                xattrs.remove(in, SECURITY_CAPABILITY);
            } catch (FsException e) {
                if (e.errno() != Errno.ENODATA) {
                    throw e;
                }
            }
        }
        return kept != mode;
    }
}
