package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.perm.Credentials;
import io.daxfs.fuse.vfs.PosixAcls;
import io.daxfs.fuse.vfs.ProcGroups;

import static io.daxfs.fuse.kernel.FuseAbi.*;

/**
 * Names: LOOKUP, MKNOD, MKDIR, SYMLINK, LINK, UNLINK, RMDIR, RENAME, RENAME2 and CREATE. Every
 * reply that hands the kernel an inode carries its generation, so a number reused after a file
 * died never aliases the dead file's kernel inode (fuse_iget compares generations).
 *
 * <p>Permission checks are the kernel's (default_permissions) or nobody's; the daemon never
 * checks here. New inodes get the umask or the directory's default ACL ({@link PosixAcls}).
 */
final class NamespaceOps {
    static final int O_EXCL = 0200;
    static final int O_TRUNC = 01000;

    private final DaxFileSystem fs;
    private final KernelOptions options;
    private final PosixAcls acls;
    private final DataOps data;
    private final KernelLookups lookups;

    NamespaceOps(DaxFileSystem fs, KernelOptions options, PosixAcls acls, DataOps data, KernelLookups lookups) {
        this.fs = fs;
        this.options = options;
        this.acls = acls;
        this.data = data;
        this.lookups = lookups;
    }

    static Credentials caller(Request r) {
        int pid = r.pid();
        return new Credentials(r.uid(), r.gid(), () -> ProcGroups.of(pid));
    }

    private int entry(Reply out, Attributes a) {
        return AttrCodec.putEntry(out, 0, a, options.entryTimeoutNanos(), options.attrTimeoutNanos());
    }

    /**
     * Sends a reply that hands the kernel inode {@code ino} (one more lookup it holds). Counted
     * before sending, since the kernel may forget it before send returns; uncounted if the reply
     * never arrived.
     */
    private void sendEntry(Reply out, long ino, int length) {
        lookups.handing(ino);
        if (!out.send(length)) {
            lookups.forget(ino, 1);
        }
    }

    /**
     * LOOKUP of a name. "." and ".." come only from the kernel's export operations (FUSE_EXPORT_SUPPORT):
     * LOOKUP(nodeid, ".") finds an inode a file handle names that has left the kernel's cache
     * (open_by_handle_at, NFS; the kernel then compares the handle's generation), LOOKUP(dir, "..")
     * its parent, to reconnect a directory handle to the tree. Neither is a negative entry.
     */
    void lookup(Request r, Reply out) {
        String name = r.string(0);
        if (name.equals(".") || name.equals("..")) {
            Attributes a = name.equals(".") ? fs.attributesByNumber(r.nodeid()) : fs.lookupAttributes(r.nodeid(), name);
            sendEntry(out, a.ino(), entry(out, a));
            return;
        }
        Attributes a;
        try {
            a = fs.lookupAttributes(r.nodeid(), name);
        } catch (FsException e) {
            if (e.errno() == Errno.ENOENT && options.negativeTimeoutNanos() > 0) {
                out.send(AttrCodec.putNegativeEntry(out, 0, options.negativeTimeoutNanos()));
                return;
            }
            throw e;
        }
        sendEntry(out, a.ino(), entry(out, a));
    }

    void mknod(Request r, Reply out) {
        int mode = r.argInt(0);
        long rdev = Integer.toUnsignedLong(r.argInt(4));
        int umask = r.argInt(8);
        String name = r.string(MKNOD_IN_SIZE);
        long dir = r.nodeid();
        int requested = FileMode.type(mode) == 0 ? mode | FileMode.S_IFREG : mode;
        PosixAcls.NewInode n = acls.forNew(dir, requested, umask);
        long ino = fs.mknod(dir, name, n.mode(), rdev, r.uid(), r.gid());
        acls.inherit(ino, n);
        sendEntry(out, ino, entry(out, fs.getattr(ino)));
    }

    void mkdir(Request r, Reply out) {
        int mode = r.argInt(0);
        int umask = r.argInt(4);
        String name = r.string(MKDIR_IN_SIZE);
        long dir = r.nodeid();
        PosixAcls.NewInode n = acls.forNew(dir, FileMode.S_IFDIR | (mode & FileMode.PERMISSION_BITS), umask);
        long ino = fs.mkdir(dir, name, n.mode(), r.uid(), r.gid());
        acls.inherit(ino, n);
        sendEntry(out, ino, entry(out, fs.getattr(ino)));
    }

    void symlink(Request r, Reply out) {
        String name = r.string(0);
        String target = r.string(r.stringEnd(0));
        long ino = fs.symlink(r.nodeid(), name, target, r.uid(), r.gid());
        sendEntry(out, ino, entry(out, fs.getattr(ino)));
    }

    void link(Request r, Reply out) {
        long ino = r.argLong(0);
        String name = r.string(LINK_IN_SIZE);
        fs.link(ino, r.nodeid(), name);
        sendEntry(out, ino, entry(out, fs.getattr(ino)));
    }

    void unlink(Request r, Reply out) {
        fs.unlink(r.nodeid(), r.string(0));
        out.ok();
    }

    void rmdir(Request r, Reply out) {
        fs.rmdir(r.nodeid(), r.string(0));
        out.ok();
    }

    void rename(Request r, Reply out) {
        long newDir = r.argLong(0);
        String from = r.string(RENAME_IN_SIZE);
        String to = r.string(r.stringEnd(RENAME_IN_SIZE));
        lookups.pinBeforeReplacing(newDir, to);
        fs.rename(r.nodeid(), from, newDir, to);
        out.ok();
    }

    /**
     * renameat2: NOREPLACE, EXCHANGE and WHITEOUT (overlayfs's: the source name becomes a
     * character device 0/0 owned by the caller; the kernel has checked CAP_MKNOD).
     */
    void rename2(Request r, Reply out) {
        long newDir = r.argLong(0);
        int flags = r.argInt(8);
        String from = r.string(RENAME2_IN_SIZE);
        String to = r.string(r.stringEnd(RENAME2_IN_SIZE));
        int fsFlags = ((flags & RENAME_NOREPLACE) != 0 ? DaxFileSystem.RENAME_NOREPLACE : 0)
                | ((flags & RENAME_EXCHANGE) != 0 ? DaxFileSystem.RENAME_EXCHANGE : 0);
        if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) != 0) {
            throw new FsException(Errno.EINVAL, "rename flags " + flags);
        }
        if ((flags & (RENAME_NOREPLACE | RENAME_EXCHANGE)) == 0) {
            lookups.pinBeforeReplacing(newDir, to);
        }
        if ((flags & RENAME_WHITEOUT) != 0) {
            fs.renameWhiteout(r.nodeid(), from, newDir, to, fsFlags, r.uid(), r.gid());
        } else {
            fs.rename(r.nodeid(), from, newDir, to, fsFlags);
        }
        out.ok();
    }

    /**
     * open(O_CREAT): creates and opens in one step; the reply is an entry followed by the open
     * handle. If the name appeared since the kernel looked it up and O_EXCL was not asked for,
     * the existing file is opened instead, as open(2) would have.
     */
    void create(Request r, Reply out) {
        int flags = r.argInt(0);
        int mode = r.argInt(4);
        int umask = r.argInt(8);
        String name = r.string(CREATE_IN_SIZE);
        long dir = r.nodeid();
        PosixAcls.NewInode n = acls.forNew(dir, FileMode.S_IFREG | (mode & FileMode.PERMISSION_BITS), umask);
        long ino;
        try {
            ino = fs.createOpen(dir, name, n.mode(), r.uid(), r.gid());
        } catch (FsException e) {
            if (e.errno() != Errno.EEXIST || (flags & O_EXCL) != 0) {
                throw e;
            }
            ino = fs.lookup(dir, name);
            data.openExisting(r, ino, flags, r.argInt(12));
            try {
                replyCreated(out, ino, flags); // the entry carries the new mode: nothing to invalidate
            } catch (RuntimeException | Error e2) {
                fs.release(ino);
                throw e2;
            }
            return;
        }
        try {
            acls.inherit(ino, n);
            replyCreated(out, ino, flags);
        } catch (RuntimeException | Error e) {
            fs.release(ino);
            throw e;
        }
    }

    /**
     * open(O_TMPFILE): a file without a name, open, on the orphan list until linkat(2) names it
     * (LINK; the kernel allows that only without O_EXCL) or its last release frees it.
     */
    void tmpfile(Request r, Reply out) {
        int flags = r.argInt(0);
        int mode = r.argInt(4);
        int umask = r.argInt(8);
        long dir = r.nodeid();
        PosixAcls.NewInode n = acls.forNew(dir, FileMode.S_IFREG | (mode & FileMode.PERMISSION_BITS), umask);
        long ino = fs.createUnnamed(dir, n.mode(), r.uid(), r.gid());
        try {
            acls.inherit(ino, n);
            replyCreated(out, ino, flags);
        } catch (RuntimeException | Error e) {
            fs.release(ino);
            throw e;
        }
    }

    private void replyCreated(Reply out, long ino, int flags) {
        int n = entry(out, fs.getattr(ino));
        long fh = data.handle(ino, flags);
        n += data.putOpenOut(out, n, fh);
        lookups.handing(ino);
        if (!out.send(n)) {
            lookups.forget(ino, 1);
            data.forget(fh);
            fs.release(ino); // the open the kernel never saw
        }
    }
}
