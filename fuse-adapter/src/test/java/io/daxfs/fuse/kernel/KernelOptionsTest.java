package io.daxfs.fuse.kernel;

import io.daxfs.fuse.options.MountOptions;
import io.daxfs.fuse.options.PermissionPolicy;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kernel front end's settings, derived from the parsed mount options. */
class KernelOptionsTest {
    private static KernelOptions from(String... lists) {
        return KernelOptions.from(MountOptions.parse(List.of(lists)));
    }

    @Test
    void withoutOptionsTheKernelFrontEndsDefaultsApply() {
        // max_write=131072 is a default of the libfuse front end only: not taken from there.
        assertEquals(KernelOptions.defaults(PermissionPolicy.DAEMON_ACL), from());
    }

    @Test
    void givenOptionsOverrideTheDefaults() {
        KernelOptions o = from("entry_timeout=1.5,attr_timeout=0,negative_timeout=2", "max_write=131072,readahead_kb=0");
        assertEquals(1_500_000_000L, o.entryTimeoutNanos());
        assertEquals(0, o.attrTimeoutNanos());
        assertEquals(2_000_000_000L, o.negativeTimeoutNanos());
        assertEquals(131072, o.maxWrite());
        assertEquals(0, o.readaheadKib());
        assertEquals(1 << 20, from("max_write=4194304").maxWrite(), "at most 1 MiB");
    }

    @Test
    void cachesXattrsAndPermissionsFollowTheirOptions() {
        KernelOptions o = from("no_kernel_cache,writeback_cache,noxattr,noacl");
        assertFalse(o.keepCache());
        assertTrue(o.writebackCache());
        assertFalse(o.xattrs());
        assertEquals(PermissionPolicy.KERNEL_MODE_BITS, o.permissions());
        assertTrue(from().keepCache());
    }

    @Test
    void badValuesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> from("entry_timeout=-1"));
        assertThrows(IllegalArgumentException.class, () -> from("max_write=1000"));
    }
}
