package io.daxfs.core.perm;

import io.daxfs.core.base.FileMode;

import java.util.function.Supplier;

/**
 * Linux's access check for one inode (fs/namei.c generic_permission with acl_permission_check,
 * fs/posix_acl.c posix_acl_permission), with uid 0 standing for a caller holding every
 * capability.
 *
 * <p>Order, as acl(5) "ACCESS CHECK ALGORITHM": the owner gets the owner bits (ACLs do not
 * matter); else, if the inode has an access ACL and its group bits are not all clear, the ACL
 * decides: a named-user entry, else the owning group and the named groups (any matching entry
 * that grants all of {@code want}; if some matched and none granted, denied), named users and
 * groups limited by the mask; else the group bits (if the caller is in the file's group) or the
 * other bits. Then root overrides: always for directories except writing needs DAC_OVERRIDE
 * (which root has), and for other files reading and writing, but executing only if at least
 * one x bit is set.
 *
 * <p>The ACL is fetched through a supplier only when the decision needs it: never for the owner,
 * never when the group bits are clear (the mask then grants nothing), so the common path reads
 * no extended attribute.
 */
public final class PermissionChecker {
    public static final int MAY_EXEC = 1;
    public static final int MAY_WRITE = 2;
    public static final int MAY_READ = 4;
    private static final int S_IXUGO = 0111;

    private PermissionChecker() {
    }

    /** What the check needs to know of the inode. */
    public record Inode(int mode, int uid, int gid) {
        boolean isDirectory() {
            return FileMode.isDirectory(mode);
        }
    }

    /**
     * Whether {@code who} may access {@code inode} for {@code want} (MAY_READ | MAY_WRITE |
     * MAY_EXEC). {@code acl} gives the access ACL or null when there is none.
     */
    public static boolean permits(Credentials who, Inode inode, Supplier<Acl> acl, int want) {
        want &= MAY_READ | MAY_WRITE | MAY_EXEC;
        if (byModeAndAcl(who, inode, acl, want)) {
            return true;
        }
        if (!who.isRoot()) {
            return false;
        }
        if (inode.isDirectory()) {
            return true; // CAP_DAC_READ_SEARCH / CAP_DAC_OVERRIDE
        }
        return (want & MAY_EXEC) == 0 || (inode.mode() & S_IXUGO) != 0;
    }

    /** acl_permission_check: the decision without capabilities. */
    static boolean byModeAndAcl(Credentials who, Inode inode, Supplier<Acl> aclSource, int want) {
        int mode = inode.mode();
        if (who.uid() == inode.uid()) {
            return (want & ~(mode >> 6)) == 0;
        }
        if ((mode & 070) != 0) {
            Acl acl = aclSource == null ? null : aclSource.get();
            if (acl != null) {
                return byAcl(who, inode, acl, want);
            }
        }
        // Only when group and other bits differ in what is wanted does group membership matter.
        if ((want & (mode ^ (mode >> 3))) != 0 && who.inGroup(inode.gid())) {
            mode >>= 3;
        }
        return (want & ~mode) == 0;
    }

    /** posix_acl_permission. */
    static boolean byAcl(Credentials who, Inode inode, Acl acl, int want) {
        int mask = acl.maskPerm();
        int maskLimit = mask < 0 ? 7 : mask;
        boolean groupMatched = false;
        for (AclEntry e : acl.entries()) {
            switch (e.tag()) {
                case Acl.USER_OBJ -> {
                    if (who.uid() == inode.uid()) {
                        return (e.perm() & want) == want;
                    }
                }
                case Acl.USER -> {
                    if (who.uid() == e.id()) {
                        return (e.perm() & maskLimit & want) == want;
                    }
                }
                case Acl.GROUP_OBJ, Acl.GROUP -> {
                    int gid = e.tag() == Acl.GROUP_OBJ ? inode.gid() : e.id();
                    if (who.inGroup(gid)) {
                        groupMatched = true;
                        if ((e.perm() & want) == want) {
                            return (e.perm() & maskLimit & want) == want;
                        }
                    }
                }
                case Acl.OTHER -> {
                    return !groupMatched && (e.perm() & want) == want;
                }
                default -> {
                }
            }
        }
        return false; // a valid ACL always has OTHER
    }
}
