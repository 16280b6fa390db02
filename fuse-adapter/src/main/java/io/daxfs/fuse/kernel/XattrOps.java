package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.xattr.XattrNames;
import io.daxfs.fuse.vfs.PosixAcls;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static io.daxfs.fuse.kernel.FuseAbi.*;

/**
 * SETXATTR, GETXATTR, LISTXATTR, REMOVEXATTR. The kernel checks the namespaces' permissions
 * (xattr_permission: trusted.* needs CAP_SYS_ADMIN, user.* the file's mode, an ACL its owner);
 * {@link PosixAcls} couples ACLs with the mode. With xattrs off every call is ENOSYS, after
 * which the kernel stops sending them (and answers EOPNOTSUPP itself).
 */
final class XattrOps {
    private final DaxFileSystem fs;
    private final PosixAcls acls;
    /** Set by INIT, before the kernel sends any other request; read by every worker. */
    private volatile boolean extendedSetxattr;

    XattrOps(DaxFileSystem fs, PosixAcls acls) {
        this.fs = fs;
        this.acls = acls;
    }

    /** Whether INIT agreed on FUSE_SETXATTR_EXT (a 16-byte struct fuse_setxattr_in). */
    void extendedSetxattr(boolean on) {
        extendedSetxattr = on;
    }

    void setxattr(Request r, Reply out) {
        int size = r.argInt(0);
        int flags = r.argInt(4);
        int header = extendedSetxattr ? SETXATTR_IN_SIZE : SETXATTR_IN_COMPAT_SIZE;
        String name = r.string(header);
        if (size < 0 || size > XattrNames.MAX_VALUE) {
            throw new FsException(Errno.E2BIG, "value of " + size + " bytes");
        }
        byte[] value = r.bytes(r.stringEnd(header), size);
        acls.setxattr(NamespaceOps.caller(r), r.nodeid(), name, value, flags);
        if (XattrNames.isAcl(name)) {
            out.invalidateAttributes(r.nodeid()); // an access ACL sets the mode
        }
        out.ok();
    }

    void getxattr(Request r, Reply out) {
        long size = Integer.toUnsignedLong(r.argInt(0));
        String name = r.string(GETXATTR_IN_SIZE);
        sendValue(out, fs.getxattr(r.nodeid(), name), size);
    }

    /** As Linux lists trusted.* only to CAP_SYS_ADMIN, it is listed only to root. */
    void listxattr(Request r, Reply out) {
        long size = Integer.toUnsignedLong(r.argInt(0));
        boolean privileged = r.uid() == 0;
        ByteArrayOutputStream names = new ByteArrayOutputStream();
        for (String n : fs.listxattr(r.nodeid())) {
            if (privileged || !XattrNames.isTrusted(n)) {
                names.writeBytes(n.getBytes(StandardCharsets.UTF_8));
                names.write(0);
            }
        }
        sendValue(out, names.toByteArray(), size);
    }

    void removexattr(Request r, Reply out) {
        String name = r.string(0);
        fs.removexattr(r.nodeid(), name);
        if (XattrNames.isAcl(name)) {
            out.invalidateAttributes(r.nodeid()); // and the kernel's cached ACL with the attributes
        }
        out.ok();
    }

    /** size 0 asks for the length (struct fuse_getxattr_out); a buffer too small is ERANGE. */
    private static void sendValue(Reply out, byte[] value, long size) {
        if (size == 0) {
            out.putInt(0, value.length);
            out.putInt(4, 0);
            out.send(GETXATTR_OUT_SIZE);
            return;
        }
        if (size < value.length) {
            throw new FsException(Errno.ERANGE, "value of " + value.length + " bytes, buffer of " + size);
        }
        out.putBytes(0, value);
        out.send(value.length);
    }
}
