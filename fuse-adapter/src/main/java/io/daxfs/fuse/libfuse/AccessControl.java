package io.daxfs.fuse.libfuse;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.perm.Credentials;
import io.daxfs.core.perm.PermissionChecker;
import io.daxfs.core.xattr.XattrNames;

import static io.daxfs.core.perm.PermissionChecker.MAY_EXEC;
import static io.daxfs.core.perm.PermissionChecker.MAY_READ;
import static io.daxfs.core.perm.PermissionChecker.MAY_WRITE;
import io.daxfs.fuse.options.PermissionPolicy;
import io.daxfs.fuse.vfs.PosixAcls;

/**
 * The permission checks of the Linux VFS, made by the daemon for every request when the mount
 * enforces ACLs ({@link PermissionPolicy#daemonChecks()}): the kernel then has no
 * default_permissions and checks almost nothing itself (docs/permissions.md lists what it still
 * does). Each method throws EACCES or EPERM as Linux would, and does nothing when the daemon
 * does not check.
 *
 * <p>Rules and their Linux source: search (x) on every directory of a path (may_lookup);
 * w+x on the parent to create (may_create) and to delete, plus the sticky-bit rule (may_delete);
 * w on a directory moved to another parent (vfs_rename); open by access mode, exec by x
 * (may_open); chmod, chown, utimes (setattr_prepare, chown_ok, chgrp_ok); extended attributes
 * (xattr_permission; POSIX ACLs: owner or root, as posix_acl_xattr_set).
 *
 * <p>Checks and the operation that follows are not atomic: a concurrent chmod can land between
 * them, as with any check-then-act across two requests; each decision uses the attributes as
 * they were when it was made.
 */
final class AccessControl {
    /** The kernel's __FMODE_EXEC: set in the open flags of execve(2) and uselib(2). */
    static final int FMODE_EXEC = 0x20;
    static final int O_ACCMODE = 3;
    static final int O_WRONLY = 1;
    static final int O_TRUNC = 01000;
    private static final int S_ISVTX = 01000;

    private final DaxFileSystem fs;
    private final PosixAcls acls;
    private final boolean enforce;
    private final UnlinkedAliases aliases;

    AccessControl(DaxFileSystem fs, PosixAcls acls, boolean enforce, UnlinkedAliases aliases) {
        this.fs = fs;
        this.acls = acls;
        this.enforce = enforce;
        this.aliases = aliases;
    }

    boolean enforcing() {
        return enforce;
    }

    /** Resolves an absolute path, checking search permission on every directory on the way. */
    long lookup(Credentials who, String path) {
        if (path == null) {
            // libfuse has no path for the node of an unlinked file (hard_remove); it answers
            // ENOENT itself before most callbacks, this covers the rest.
            throw new FsException(Errno.ENOENT, "no path (the file has no name)");
        }
        long alias = aliases.lookup(PathNames.name(path));
        if (alias != 0) {
            return alias; // an unlinked open file, found by libfuse's hidden name alone
        }
        if (!enforce || who.isRoot()) {
            return fs.resolve(path); // root may search any directory
        }
        long ino = DaxFileSystem.ROOT;
        int i = 0;
        int n = path.length();
        while (i < n) {
            int j = path.indexOf('/', i);
            if (j < 0) {
                j = n;
            }
            if (j > i) {
                Attributes dir = fs.getattr(ino);
                if (!dir.isDirectory()) {
                    throw new FsException(Errno.ENOTDIR, path);
                }
                require(who, ino, dir, MAY_EXEC);
                ino = fs.lookup(ino, path.substring(i, j));
            }
            i = j + 1;
        }
        return ino;
    }

    /** The directory holding the last component of {@code path}, searched with checks. */
    long parent(Credentials who, String path) {
        return lookup(who, PathNames.parent(path));
    }

    /** EACCES unless {@code who} may access {@code ino} for {@code want} (MAY_* bits). */
    void require(Credentials who, long ino, int want) {
        if (enforce) {
            require(who, ino, fs.getattr(ino), want);
        }
    }

    private void require(Credentials who, long ino, Attributes a, int want) {
        if (!permits(who, ino, a, want)) {
            throw new FsException(Errno.EACCES, who + " may not " + wanted(want) + " inode " + ino);
        }
    }

    private boolean permits(Credentials who, long ino, Attributes a, int want) {
        return PermissionChecker.permits(who, new PermissionChecker.Inode(a.mode(), a.uid(), a.gid()),
                () -> acls.accessAcl(ino), want);
    }

    private static String wanted(int want) {
        return ((want & MAY_READ) != 0 ? "r" : "") + ((want & MAY_WRITE) != 0 ? "w" : "")
                + ((want & MAY_EXEC) != 0 ? "x" : "");
    }

    private static boolean isOwnerOrRoot(Credentials who, Attributes a) {
        return who.isRoot() || who.uid() == a.uid();
    }

    /** may_create: write and search on the directory. */
    void mayCreate(Credentials who, long dir) {
        require(who, dir, MAY_WRITE | MAY_EXEC);
    }

    /** may_delete: write and search on the directory, then the sticky-bit rule (EPERM). */
    void mayDelete(Credentials who, long dir, long victim) {
        if (!enforce) {
            return;
        }
        Attributes d = fs.getattr(dir);
        require(who, dir, d, MAY_WRITE | MAY_EXEC);
        if ((d.mode() & S_ISVTX) != 0 && !who.isRoot() && who.uid() != d.uid()
                && who.uid() != fs.getattr(victim).uid()) {
            throw new FsException(Errno.EPERM, "sticky directory: " + who + " owns neither it nor the entry");
        }
    }

    /**
     * vfs_rename: delete from the source directory; create in the target directory, or delete
     * there if the name exists ({@code target} 0 if not); a directory moving to another parent
     * also needs write permission on itself (its ".." changes).
     */
    void mayRename(Credentials who, long srcDir, long source, long dstDir, long target) {
        if (!enforce) {
            return;
        }
        mayDelete(who, srcDir, source);
        if (target == 0) {
            mayCreate(who, dstDir);
        } else {
            mayDelete(who, dstDir, target);
        }
        if (srcDir != dstDir && fs.getattr(source).isDirectory()) {
            require(who, source, MAY_WRITE);
        }
    }

    /**
     * may_open: read and/or write by the access mode, write for O_TRUNC (when the kernel passes
     * it), execute alone for an exec open (__FMODE_EXEC; executing needs no read permission).
     */
    void mayOpen(Credentials who, long ino, int flags) {
        require(who, ino, openWants(flags));
    }

    static int openWants(int flags) {
        if ((flags & FMODE_EXEC) != 0) {
            return MAY_EXEC;
        }
        int want = switch (flags & O_ACCMODE) {
            case 0 -> MAY_READ;
            case O_WRONLY -> MAY_WRITE;
            default -> MAY_READ | MAY_WRITE;
        };
        return (flags & O_TRUNC) != 0 ? want | MAY_WRITE : want;
    }

    /**
     * Truncating through an open file. The kernel sends open(O_TRUNC) as an open without O_TRUNC
     * followed by this setattr, so write permission is checked here; the owner may always (an
     * owner who created a read-only file and truncates it through the descriptor, as Linux
     * allows; the owner could chmod anyway).
     */
    void mayTruncateOpenFile(Credentials who, long ino) {
        if (!enforce) {
            return;
        }
        Attributes a = fs.getattr(ino);
        if (!isOwnerOrRoot(who, a)) {
            require(who, ino, a, MAY_WRITE);
        }
    }

    /**
     * chmod: owner or root (EPERM); the setgid bit is dropped when the caller is not in the
     * file's group (setattr_prepare). Returns the mode to set.
     *
     * <p>One exception: without default_permissions the kernel clears setuid/setgid after a
     * write, truncate or chown by sending a chmod as the writing user (fuse_setattr, with no
     * handle_killpriv on this protocol). A chmod that only clears those bits is therefore
     * allowed to anyone with write permission, who could have cleared them by writing.
     */
    int chmodMode(Credentials who, long ino, int mode) {
        if (!enforce) {
            return mode;
        }
        Attributes a = fs.getattr(ino);
        if (isOwnerOrRoot(who, a)) {
            return who.inGroupOrRoot(a.gid()) ? mode : mode & ~FileMode.S_ISGID;
        }
        int old = a.mode() & FileMode.PERMISSION_BITS;
        int now = mode & FileMode.PERMISSION_BITS;
        int privs = FileMode.S_ISUID | FileMode.S_ISGID;
        boolean onlyClearsPrivs = old != now && (now & ~privs) == (old & ~privs) && (now & ~old) == 0;
        if (onlyClearsPrivs && permits(who, ino, a, MAY_WRITE)) {
            return mode;
        }
        throw new FsException(Errno.EPERM, who + " does not own inode " + ino);
    }

    /**
     * chown_ok/chgrp_ok: only root changes the owner; the owner may change the group to one
     * they are in. -1 leaves a value unchanged.
     */
    void mayChown(Credentials who, long ino, int uid, int gid) {
        if (!enforce || who.isRoot()) {
            return;
        }
        Attributes a = fs.getattr(ino);
        boolean owner = who.uid() == a.uid();
        boolean uidOk = uid == -1 || (owner && uid == a.uid());
        boolean gidOk = gid == -1 || (owner && (gid == a.gid() || who.inGroup(gid)));
        if (!uidOk || !gidOk) {
            throw new FsException(Errno.EPERM, who + " may not chown inode " + ino + " to " + uid + ":" + gid);
        }
    }

    /**
     * utimensat: explicit times need the owner or root (EPERM); "now" needs the owner, root or
     * write permission (EACCES).
     */
    void maySetTimes(Credentials who, long ino, boolean explicit, boolean now) {
        if (!enforce || (!explicit && !now)) {
            return;
        }
        Attributes a = fs.getattr(ino);
        if (isOwnerOrRoot(who, a)) {
            return;
        }
        if (explicit) {
            throw new FsException(Errno.EPERM, who + " may not set explicit times of inode " + ino);
        }
        require(who, ino, a, MAY_WRITE);
    }

    /** xattr_permission for reading: user.* needs read permission; trusted.* root. */
    void mayReadXattr(Credentials who, long ino, String name) {
        if (!enforce) {
            return;
        }
        if (XattrNames.isTrusted(name) && !who.isRoot()) {
            throw new FsException(Errno.ENODATA, name);
        }
        if (XattrNames.isUser(name)) {
            require(who, ino, MAY_READ);
        }
    }

    /**
     * xattr_permission for writing: user.* needs write permission, trusted.* root, and the POSIX
     * ACLs the owner or root (EPERM).
     */
    void mayWriteXattr(Credentials who, long ino, String name) {
        if (!enforce) {
            return;
        }
        if (XattrNames.isTrusted(name) && !who.isRoot()) {
            throw new FsException(Errno.EPERM, "trusted attributes are for root");
        }
        if (XattrNames.isAcl(name) && !isOwnerOrRoot(who, fs.getattr(ino))) {
            throw new FsException(Errno.EPERM, who + " does not own inode " + ino);
        }
        if (XattrNames.isUser(name)) {
            require(who, ino, MAY_WRITE);
        }
    }
}
