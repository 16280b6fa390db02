package io.daxfs.core.xattr;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;

import java.nio.charset.StandardCharsets;

/**
 * Names, namespaces, flags and limits of extended attributes, with the checks Linux makes
 * (fs/xattr.c) in the order it makes them.
 *
 * <p>Namespaces: {@code user.}, {@code trusted.}, {@code security.} and the two POSIX ACL
 * names {@code system.posix_acl_access} and {@code system.posix_acl_default}. Anything else
 * is EOPNOTSUPP. A namespace prefix without a name after it is EINVAL.
 */
public final class XattrNames {
    /** setxattr flag: fail with EEXIST if the attribute exists. */
    public static final int XATTR_CREATE = 1;
    /** setxattr flag: fail with ENODATA if the attribute does not exist. */
    public static final int XATTR_REPLACE = 2;
    /** Longest name in bytes, prefix included (XATTR_NAME_MAX). */
    public static final int MAX_NAME = 255;
    /** Largest value in bytes (XATTR_SIZE_MAX). */
    public static final int MAX_VALUE = 65536;
    /**
     * Largest name list of one inode in bytes (each name plus its NUL): what listxattr(2) can
     * return at most (XATTR_LIST_MAX), so every file's list can always be read.
     */
    public static final int MAX_LIST = 65536;

    public static final String USER = "user.";
    public static final String TRUSTED = "trusted.";
    public static final String SECURITY = "security.";
    public static final String ACL_ACCESS = "system.posix_acl_access";
    public static final String ACL_DEFAULT = "system.posix_acl_default";
    /** Version of the POSIX ACL xattr format (posix_acl_xattr.h). */
    static final int ACL_XATTR_VERSION = 2;

    private XattrNames() {
    }

    /** A name of 1..255 bytes (ERANGE otherwise, as the syscalls). Returns its UTF-8 bytes. */
    public static byte[] checkLength(String name) {
        if (name == null || name.isEmpty()) {
            throw new FsException(Errno.ERANGE, "empty attribute name");
        }
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_NAME) {
            throw new FsException(Errno.ERANGE, "attribute name longer than " + MAX_NAME + " bytes");
        }
        return bytes;
    }

    /**
     * A supported namespace (EOPNOTSUPP otherwise) with a name after the prefix (EINVAL
     * otherwise, as fs/xattr.c's xattr_resolve_name).
     */
    public static void checkNamespace(String name) {
        String prefix = prefixOf(name);
        if (prefix == null) {
            throw new FsException(Errno.EOPNOTSUPP, "unsupported attribute namespace: " + name);
        }
        if (prefix.length() == name.length() && prefix.endsWith(".")) {
            throw new FsException(Errno.EINVAL, "attribute name is only a namespace prefix: " + name);
        }
        if (name.indexOf('\0') >= 0) {
            throw new FsException(Errno.EINVAL, "NUL in attribute name");
        }
    }

    /** Both checks: what does not depend on the inode. */
    public static byte[] check(String name) {
        byte[] bytes = checkLength(name);
        checkNamespace(name);
        return bytes;
    }

    /** The namespace prefix of a supported name ("user.", ... or a whole ACL name), or null. */
    static String prefixOf(String name) {
        if (name.startsWith(USER)) {
            return USER;
        }
        if (name.startsWith(TRUSTED)) {
            return TRUSTED;
        }
        if (name.startsWith(SECURITY)) {
            return SECURITY;
        }
        if (name.equals(ACL_ACCESS) || name.equals(ACL_DEFAULT)) {
            return name;
        }
        return null;
    }

    /** Whether a stored name is acceptable (fsck). */
    static boolean isValid(String name) {
        try {
            check(name);
            return true;
        } catch (FsException e) {
            return false;
        }
    }

    public static boolean isUser(String name) {
        return name.startsWith(USER);
    }

    public static boolean isTrusted(String name) {
        return name.startsWith(TRUSTED);
    }

    public static boolean isAcl(String name) {
        return name.equals(ACL_ACCESS) || name.equals(ACL_DEFAULT);
    }

    /** Flags must be 0, XATTR_CREATE, XATTR_REPLACE or both (EINVAL otherwise, as setxattr(2)). */
    static void checkFlags(int flags) {
        if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) != 0) {
            throw new FsException(Errno.EINVAL, "unknown setxattr flags " + flags);
        }
    }

    static void checkValueSize(int length) {
        if (length > MAX_VALUE) {
            throw new FsException(Errno.E2BIG, "attribute value larger than " + MAX_VALUE + " bytes");
        }
    }

    /**
     * A POSIX ACL value must be well formed (posix_acl_xattr.h): a u32 version 2, then 8-byte
     * entries. The kernel validates ACLs before they reach a FUSE file system; this keeps
     * direct callers to the same rule. The entries themselves are stored as given.
     */
    static void checkAcl(byte[] value) {
        if (value.length < 4 || (value.length - 4) % 8 != 0) {
            throw new FsException(Errno.EINVAL, "malformed POSIX ACL of " + value.length + " bytes");
        }
        int version = (value[0] & 0xff) | (value[1] & 0xff) << 8 | (value[2] & 0xff) << 16 | (value[3] & 0xff) << 24;
        if (version != ACL_XATTR_VERSION) {
            throw new FsException(Errno.EINVAL, "POSIX ACL version " + version + ", expected " + ACL_XATTR_VERSION);
        }
    }
}
