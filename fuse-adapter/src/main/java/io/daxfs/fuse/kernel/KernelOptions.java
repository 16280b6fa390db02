package io.daxfs.fuse.kernel;

import io.daxfs.fuse.options.MountOptions;
import io.daxfs.fuse.options.PermissionPolicy;

/**
 * How the kernel front end serves a mount: cache lifetimes, request sizes and which kernel
 * features it asks for.
 *
 * @param entryTimeoutNanos    how long the kernel may keep a name → inode mapping without asking
 * @param negativeTimeoutNanos how long it may remember that a name does not exist (0: not at all)
 * @param attrTimeoutNanos     how long it may keep an inode's attributes
 * @param keepCache            FOPEN_KEEP_CACHE: the page cache of a file survives close and reopen
 * @param writebackCache       FUSE_WRITEBACK_CACHE: writes complete in the page cache and reach
 *                             daxfs later (a killed daemon then loses the writes not yet sent)
 * @param xattrs               extended attributes are served (off: ENOSYS, and the kernel stops asking)
 * @param permissions          who checks permissions and whether ACLs mean anything
 * @param maxWrite             the largest WRITE (and READ) request, a multiple of 4 KiB
 * @param readaheadKib         the mount's readahead window in KiB, set through sysfs after mounting
 *                             (0 leaves the kernel's default)
 * @param spliceReadKib        READs of at least this many KiB are spliced from an image file
 *                             instead of copied ({@code SplicedRead}); 0 copies every READ
 *
 * <p>Why long timeouts are coherent: the device is locked to this daemon and every change to a
 * name or an inode reaches daxfs through this mount's kernel, which updates or invalidates what
 * it cached as it forwards the change (docs/kernel-frontend.md, "Caching").
 */
public record KernelOptions(long entryTimeoutNanos, long negativeTimeoutNanos, long attrTimeoutNanos,
                            boolean keepCache, boolean writebackCache, boolean xattrs,
                            PermissionPolicy permissions, int maxWrite, int readaheadKib,
                            int spliceReadKib) {
    public static final long DEFAULT_TIMEOUT_NANOS = 60_000_000_000L;
    public static final int DEFAULT_MAX_WRITE = 1 << 20;
    public static final int DEFAULT_READAHEAD_KIB = 1024;
    public static final int DEFAULT_SPLICE_READ_KIB = 64;

    public KernelOptions {
        if (maxWrite < 4096 || maxWrite % 4096 != 0 || maxWrite > (1 << 20)) {
            throw new IllegalArgumentException("max_write must be a multiple of 4 KiB between 4 KiB and 1 MiB");
        }
        if (spliceReadKib < 0) {
            throw new IllegalArgumentException("splice_read_kb must be 0 (off) or more");
        }
    }

    public static KernelOptions defaults(PermissionPolicy permissions) {
        return new KernelOptions(DEFAULT_TIMEOUT_NANOS, DEFAULT_TIMEOUT_NANOS, DEFAULT_TIMEOUT_NANOS,
                true, false, true, permissions, DEFAULT_MAX_WRITE, DEFAULT_READAHEAD_KIB, DEFAULT_SPLICE_READ_KIB);
    }

    /**
     * The settings the mount options give, for those options of the kernel front end that
     * libfuse would otherwise interpret: the cache timeouts (libfuse's names, in seconds),
     * kernel_cache (the default; no_kernel_cache turns it off), writeback_cache, max_write (bytes,
     * at most 1 MiB), readahead_kb and splice_read_kb (0: no READ is spliced); and noxattr,
     * acl/noacl.
     */
    public static KernelOptions from(MountOptions o) {
        KernelOptions d = defaults(o.permissions());
        return new KernelOptions(
                seconds(o, "entry_timeout", d.entryTimeoutNanos()), seconds(o, "negative_timeout", d.negativeTimeoutNanos()),
                seconds(o, "attr_timeout", d.attrTimeoutNanos()),
                !o.has("no_kernel_cache"), o.has("writeback_cache"), o.xattrs(), o.permissions(),
                (int) Math.min(1 << 20, number(o, "max_write", d.maxWrite())), (int) number(o, "readahead_kb", d.readaheadKib()),
                (int) Math.min(1 << 20, number(o, "splice_read_kb", d.spliceReadKib())));
    }

    private static long seconds(MountOptions o, String key, long dflt) {
        String value = o.given(key).orElse(null);
        if (value == null) {
            return dflt;
        }
        double s = Double.parseDouble(value);
        if (s < 0 || s > 1e9) {
            throw new IllegalArgumentException(key + " must be between 0 and 1e9 seconds");
        }
        return (long) (s * 1e9);
    }

    private static long number(MountOptions o, String key, long dflt) {
        return o.given(key).map(Long::parseLong).orElse(dflt);
    }

    /** Pages per request (FUSE_MAX_PAGES). */
    int maxPages() {
        return maxWrite / 4096;
    }
}
