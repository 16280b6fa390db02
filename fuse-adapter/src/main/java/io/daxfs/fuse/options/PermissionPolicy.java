package io.daxfs.fuse.options;

/**
 * Who checks permissions on a mount, and whether POSIX ACLs mean anything (docs/permissions.md).
 * Chosen by the mount options {@code acl}/{@code noacl} and {@code default_permissions}/
 * {@code no_default_permissions}.
 */
public enum PermissionPolicy {
    /** acl (the default): the daemon checks mode bits and access ACLs; ACLs follow the mode. */
    DAEMON_ACL(true, true),
    /** acl,no_default_permissions: nothing is checked, but ACLs still follow the mode and are inherited. */
    ACL_UNCHECKED(true, false),
    /** noacl: the kernel checks the mode bits (default_permissions); ACLs are opaque attributes. */
    KERNEL_MODE_BITS(false, false),
    /** noacl,no_default_permissions: nothing is checked; ACLs are opaque attributes. */
    NONE(false, false);

    private final boolean aclSemantics;
    private final boolean daemonChecks;

    PermissionPolicy(boolean aclSemantics, boolean daemonChecks) {
        this.aclSemantics = aclSemantics;
        this.daemonChecks = daemonChecks;
    }

    /**
     * Whether ACLs behave as on ext4 with acl: setting one sets the mode's group bits from the
     * mask, chmod updates the mask, default ACLs are inherited, and the daemon (not the kernel)
     * applies the umask.
     */
    public boolean aclSemantics() {
        return aclSemantics;
    }

    /** Whether the daemon checks every request (the kernel then gets no default_permissions). */
    public boolean daemonChecks() {
        return daemonChecks;
    }

    static PermissionPolicy of(boolean acl, boolean defaultPermissions) {
        if (acl) {
            return defaultPermissions ? DAEMON_ACL : ACL_UNCHECKED;
        }
        return defaultPermissions ? KERNEL_MODE_BITS : NONE;
    }
}
