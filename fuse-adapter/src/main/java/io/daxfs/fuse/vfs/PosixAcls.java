package io.daxfs.fuse.vfs;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.perm.Acl;
import io.daxfs.core.perm.Credentials;
import io.daxfs.core.xattr.XattrNames;
import io.daxfs.fuse.options.PermissionPolicy;

import java.util.function.IntUnaryOperator;

/**
 * POSIX ACLs coupled with the mode as Linux's fs/posix_acl.c couples them, when the mount has
 * {@code acl} ({@link PermissionPolicy#aclSemantics()}); with {@code noacl} the ACL attributes are
 * opaque and every method here passes straight through.
 *
 * <ul>
 * <li>Setting an access ACL sets the mode's rwx bits from it (group bits from the mask) in the
 *     same transaction; an ACL the mode can say alone is not stored (posix_acl_update_mode).</li>
 * <li>chmod rewrites the access ACL's owner, mask (or owning group) and other entries in the same
 *     transaction as the mode (posix_acl_chmod).</li>
 * <li>A new inode in a directory with a default ACL gets its access ACL from it, masked by the
 *     requested mode, and no umask; a new directory also inherits the default ACL
 *     (posix_acl_create). Without a default ACL the umask applies: the kernel leaves it to
 *     the daemon since init asked for FUSE_CAP_DONT_MASK. The new inode and its ACLs are two
 *     transactions: a crash between them leaves the inode with the masked mode and no ACL,
 *     never with more access than intended.</li>
 * </ul>
 */
public final class PosixAcls {
    private final DaxFileSystem fs;
    private final boolean enabled;

    public PosixAcls(DaxFileSystem fs, boolean enabled) {
        this.fs = fs;
        this.enabled = enabled;
    }

    public boolean enabled() {
        return enabled;
    }

    /** The inode's access ACL, or null if it has none (or ACLs are opaque). */
    public Acl accessAcl(long ino) {
        return enabled ? read(ino, XattrNames.ACL_ACCESS) : null;
    }

    private Acl read(long ino, String name) {
        byte[] value;
        try {
            value = fs.getxattr(ino, name);
        } catch (FsException e) {
            if (e.errno() == Errno.ENODATA) {
                return null;
            }
            throw e;
        }
        return Acl.parse(value);
    }

    /** The mode and ACLs a new inode gets: see the class comment. */
    public record NewInode(int mode, Acl access, Acl dflt) {
    }

    /**
     * What an inode created in {@code dir} with the requested {@code mode} (type bits included)
     * gets. Symlinks get neither ACLs nor a umask.
     */
    public NewInode forNew(long dir, int mode, int umask) {
        if (!enabled) {
            return new NewInode(mode, null, null);
        }
        Acl dflt = read(dir, XattrNames.ACL_DEFAULT);
        if (dflt == null) {
            return new NewInode(mode & ~(umask & 0777), null, null);
        }
        Acl.Created c = dflt.createMasked(mode);
        return new NewInode(c.mode(), c.access(), FileMode.isDirectory(mode) ? dflt : null);
    }

    /** Stores the inherited ACLs of a freshly made inode. */
    public void inherit(long ino, NewInode n) {
        if (n.access() != null) {
            fs.setxattr(ino, XattrNames.ACL_ACCESS, n.access().toBytes(), 0);
        }
        if (n.dflt() != null) {
            fs.setxattr(ino, XattrNames.ACL_DEFAULT, n.dflt().toBytes(), 0);
        }
    }

    /** chmod, with the access ACL following the new mode. */
    public void chmod(long ino, int mode) {
        Acl acl = accessAcl(ino);
        if (acl == null) {
            fs.chmod(ino, mode);
            return;
        }
        int perms = mode & FileMode.PERMISSION_BITS;
        fs.setxattr(ino, XattrNames.ACL_ACCESS, acl.chmod(perms).toBytes(), XattrNames.XATTR_REPLACE, old -> perms);
    }

    /**
     * setxattr of any name: an access ACL also sets the mode (and is dropped if the mode says it
     * all); the setgid bit is cleared when the caller is neither in the file's group nor root. A
     * default ACL is only for directories (EACCES).
     */
    public void setxattr(Credentials who, long ino, String name, byte[] value, int flags) {
        if (!enabled || !XattrNames.isAcl(name)) {
            fs.setxattr(ino, name, value, flags);
            return;
        }
        Acl acl = Acl.parse(value);
        Attributes a = fs.getattr(ino);
        if (name.equals(XattrNames.ACL_DEFAULT)) {
            if (!a.isDirectory()) {
                throw new FsException(Errno.EACCES, "a default ACL is only for directories");
            }
            fs.setxattr(ino, name, acl.toBytes(), flags);
            return;
        }
        boolean keepSetgid = who.inGroupOrRoot(a.gid());
        IntUnaryOperator mode = old -> {
            int m = acl.applyToMode(old);
            return keepSetgid ? m : m & ~FileMode.S_ISGID;
        };
        if (!acl.isEquivalentToMode()) {
            fs.setxattr(ino, name, acl.toBytes(), flags, mode);
            return;
        }
        try {
            if ((flags & XattrNames.XATTR_CREATE) != 0 && read(ino, name) != null) {
                throw new FsException(Errno.EEXIST, name);
            }
            fs.removexattr(ino, name, mode);
        } catch (FsException e) {
            if (e.errno() != Errno.ENODATA || (flags & XattrNames.XATTR_REPLACE) != 0) {
                throw e;
            }
            fs.chmod(ino, mode.applyAsInt(fs.getattr(ino).mode()));
        }
    }
}
