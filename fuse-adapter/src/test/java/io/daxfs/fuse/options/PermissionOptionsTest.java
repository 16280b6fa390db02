package io.daxfs.fuse.options;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mount options acl/noacl and default_permissions, and what reaches the kernel. */
class PermissionOptionsTest {
    private static String kernelOptions(String... lists) {
        return MountOptions.parse(List.of(lists)).fuseArgs("img").get(1);
    }

    @Test
    void aclIsTheDefaultAndTheDaemonThenChecks() {
        MountOptions m = MountOptions.parse(List.of());
        assertEquals(PermissionPolicy.DAEMON_ACL, m.permissions());
        assertFalse(kernelOptions().contains("default_permissions"), "the kernel would refuse what ACLs grant");
        assertFalse(kernelOptions("default_permissions").contains("default_permissions"));
    }

    @Test
    void noaclGivesTheKernelTheModeBits() {
        assertEquals(PermissionPolicy.KERNEL_MODE_BITS, MountOptions.parse(List.of("noacl")).permissions());
        assertTrue(kernelOptions("noacl").contains("default_permissions"));
        assertFalse(kernelOptions("noacl").contains("acl,"), "acl/noacl are daxfs's, not FUSE's");
    }

    @Test
    void noDefaultPermissionsMeansNoChecksAtAll() {
        assertEquals(PermissionPolicy.ACL_UNCHECKED, MountOptions.parse(List.of("no_default_permissions")).permissions());
        assertEquals(PermissionPolicy.NONE, MountOptions.parse(List.of("noacl,no_default_permissions")).permissions());
        assertFalse(kernelOptions("noacl,no_default_permissions").contains("default_permissions"));
        assertEquals(PermissionPolicy.DAEMON_ACL, MountOptions.parse(List.of("noacl", "acl")).permissions(),
                "the last one wins");
    }
}
