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
    void spliceReadKbSetsTheSplicedReadsThresholdAndZeroTurnsThemOff() {
        assertEquals(KernelOptions.DEFAULT_SPLICE_READ_KIB, from().spliceReadKib());
        assertEquals(0, from("splice_read_kb=0").spliceReadKib());
        assertEquals(128, from("splice_read_kb=128").spliceReadKib());
        assertThrows(IllegalArgumentException.class, () -> from("splice_read_kb=-1"));
    }

    @Test
    void aMaxReadShrinksTheReadaheadWindowToWholeReads() {
        assertEquals(1024, KernelSession.readaheadKib(1024, List.of("default_permissions")));
        assertEquals(1020, KernelSession.readaheadKib(1024, List.of("max_read=1044480")), "one READ per window, no 4 KiB tail");
        assertEquals(1024, KernelSession.readaheadKib(1024, List.of("max_read=131072")), "eight whole READs");
        assertEquals(64, KernelSession.readaheadKib(64, List.of("max_read=131072")), "a window under one READ stays");
        assertEquals(0, KernelSession.readaheadKib(0, List.of("max_read=1044480")), "0 leaves the kernel's default");
    }

    @Test
    void splicedReadsLimitMaxReadToWhatAPipeTakesUnlessTheUserSetIt() {
        KernelOptions o = KernelOptions.defaults(PermissionPolicy.DAEMON_ACL);
        int largest = SplicedRead.largestRead(o.maxWrite());
        assertTrue(largest >= 1044480, "a pipe of at least 1 MiB: " + largest);
        List<String> limited = KernelFrontEnd.readLimit(o, List.of("default_permissions"));
        if (largest < o.maxWrite()) {
            assertEquals(List.of("default_permissions", "max_read=" + largest), limited);
        } else {
            assertEquals(List.of("default_permissions"), limited, "a pipe takes the largest READ: no limit");
        }
        assertEquals(List.of("max_read=131072"), KernelFrontEnd.readLimit(o, List.of("max_read=131072")), "the user's own");
        assertEquals(List.of("ro"), KernelFrontEnd.readLimit(from("splice_read_kb=0"), List.of("ro")), "no splicing, no limit");
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
