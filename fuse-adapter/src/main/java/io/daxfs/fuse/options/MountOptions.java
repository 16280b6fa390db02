package io.daxfs.fuse.options;

import io.daxfs.core.base.AtimePolicy;
import io.daxfs.core.base.MountSettings;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The -o options of a daxfs mount: daxfs's own (consumed here) and FUSE/kernel options
 * (passed to libfuse), with speed-critical FUSE options on by default.
 *
 * <p>daxfs options: {@code threads=N} (FUSE worker threads), {@code noxattr} (no extended
 * attributes), {@code acl} (the default) / {@code noacl} (POSIX ACLs enforced by the daemon, or
 * opaque attributes with the kernel checking mode bits: {@link PermissionPolicy}). With
 * {@code acl}, a requested {@code default_permissions} is not passed to the kernel: the daemon
 * does the checks (docs/permissions.md). The atime options: see {@link #atimeOption}. What happens when
 * damaged metadata is found while mounted: {@code errors=remount-ro} (the default: every later change fails
 * with EROFS) or {@code errors=continue}; what a mount checks first: {@code check=auto} (the default),
 * {@code check=quick}, {@code check=full} (docs/reliability.md). {@code ro} mounts read-only: nothing is ever
 * written to the image, and a damaged one still mounts, for rescue. fstab-only options (defaults,
 * auto, noauto, nofail, _netdev, user, users, owner, comment=, x-*) are dropped.
 */
public final class MountOptions {
    /**
     * Defaults: 128 KiB requests (else writes arrive as 4 KiB), kernel permission checks, and
     * daxfs's own inode numbers in st_ino (hard links share one; stable across remounts), and
     * kernel_cache: the page cache is kept across opens. That is coherent because the device
     * is locked to this daemon, so every change to a file passes through this mount's cache.
     * Not hard_remove: libfuse then keeps a path for an unlinked open file (its "hidden" name,
     * which daxfs turns into a real unlink plus an in-memory alias, DaxFileSystem
     * .unlinkKeepingAlias), so fstat and friends on it keep working. With -o hard_remove the
     * name goes the same way, but libfuse loses the path and answers those with ENOENT.
     */
    static final String[] DEFAULT_FUSE = {"big_writes", "max_write=131072", "max_read=131072", "default_permissions",
        "use_ino", "kernel_cache"};

    private final Map<String, String> fuse = new LinkedHashMap<>();
    /** Keys of the options the user gave (not the libfuse front end's defaults). */
    private final java.util.Set<String> given = new java.util.HashSet<>();
    private int threads;
    private boolean xattrs = true;
    private boolean acl = true;
    private PermissionPolicy permissions;
    private AtimePolicy atime = AtimePolicy.RELATIME;
    private boolean readOnly;
    private MountSettings.Errors errors = MountSettings.Errors.REMOUNT_RO;
    private MountSettings.Check check = MountSettings.Check.AUTO;
    private boolean debug;
    private FrontEndKind frontEnd = FrontEndKind.KERNEL;
    private boolean enableUring;

    /**
     * Which code talks to the kernel: daxfs's own FUSE protocol implementation reading
     * /dev/fuse (the default), the same through FUSE over io_uring (docs/uring-frontend.md), or
     * libfuse 2's high-level API through jnr-fuse (docs/kernel-frontend.md compares them).
     */
    public enum FrontEndKind {
        KERNEL, URING, LIBFUSE
    }

    private MountOptions() {
    }

    public static MountOptions parse(List<String> optionLists) {
        MountOptions m = new MountOptions();
        for (String d : DEFAULT_FUSE) {
            m.put(d);
        }
        for (String list : optionLists) {
            for (String o : list.split(",")) {
                o = o.trim();
                if (o.isEmpty() || isFstabOnly(o)) {
                    continue;
                }
                if (o.startsWith("frontend=")) {
                    m.frontEnd = switch (o.substring("frontend=".length())) {
                        case "kernel" -> FrontEndKind.KERNEL;
                        case "uring" -> FrontEndKind.URING;
                        case "libfuse" -> FrontEndKind.LIBFUSE;
                        default -> throw new IllegalArgumentException("frontend must be kernel, uring or libfuse");
                    };
                    continue;
                }
                if (o.startsWith("errors=")) {
                    m.errors = switch (o.substring("errors=".length())) {
                        case "remount-ro" -> MountSettings.Errors.REMOUNT_RO;
                        case "continue" -> MountSettings.Errors.CONTINUE;
                        default -> throw new IllegalArgumentException("errors must be remount-ro or continue");
                    };
                    continue;
                }
                if (o.startsWith("check=")) {
                    m.check = switch (o.substring("check=".length())) {
                        case "auto" -> MountSettings.Check.AUTO;
                        case "quick" -> MountSettings.Check.QUICK;
                        case "full" -> MountSettings.Check.FULL;
                        default -> throw new IllegalArgumentException("check must be auto, quick or full");
                    };
                    continue;
                }
                if (o.equals("enable_uring")) {
                    // Switches the kernel's global fuse.enable_uring on if it is off (frontend=uring only).
                    m.enableUring = true;
                    continue;
                }
                if (o.startsWith("threads=")) {
                    m.threads = Integer.parseInt(o.substring("threads=".length()));
                    if (m.threads < 1 || m.threads > 256) {
                        throw new IllegalArgumentException("threads must be between 1 and 256");
                    }
                    continue;
                }
                if (o.equals("direct_io")) {
                    throw new IllegalArgumentException("direct_io is not supported: it makes shared mmap fail (ENODEV)");
                }
                if (o.equals("noxattr")) {
                    // No extended attributes: the kernel then stops asking for them, which saves
                    // the security.capability lookup it sends before every write.
                    m.xattrs = false;
                    continue;
                }
                if (o.equals("acl") || o.equals("noacl")) {
                    m.acl = o.equals("acl");
                    continue;
                }
                if (m.atimeOption(o)) {
                    continue;
                }
                if (o.equals("debug")) {
                    m.debug = true; // and passed on: libfuse then logs its own view of each request too
                }
                if (o.equals("ro")) {
                    m.readOnly = true; // and passed on: the kernel refuses writes
                }
                if (o.equals("no_default_permissions")) {
                    m.fuse.remove("default_permissions");
                    continue;
                }
                m.put(o);
                m.given.add(o.contains("=") ? o.substring(0, o.indexOf('=')) : o);
            }
        }
        if (m.enableUring && m.frontEnd != FrontEndKind.URING) {
            throw new IllegalArgumentException("enable_uring goes with frontend=uring only");
        }
        m.permissions = PermissionPolicy.of(m.acl, m.fuse.containsKey("default_permissions"));
        if (m.permissions.daemonChecks()) {
            // The kernel would check the mode bits alone and refuse what an ACL grants.
            m.fuse.remove("default_permissions");
        }
        return m;
    }

    /**
     * The atime options, as mount(8) documents them (mount(8) passes them to the helper like
     * any other option). FUSE inodes are S_NOATIME, so the kernel ignores its own atime flags
     * and daxfs applies them: strictatime, relatime (the default), noatime; nodiratime and
     * diratime; atime, norelatime and nostrictatime mean the default. The last one given wins.
     * libfuse 2 knows only atime and noatime (kernel flags, shown in the mount table): those
     * two are passed on as well; the others it would refuse, so they are consumed here.
     *
     * @return whether {@code o} was consumed
     */
    private boolean atimeOption(String o) {
        switch (o) {
            case "strictatime" -> atime = atime.withMode(AtimePolicy.Mode.STRICT);
            case "relatime", "norelatime", "nostrictatime" -> atime = atime.withMode(AtimePolicy.Mode.RELATIME);
            case "atime" -> {
                atime = atime.withMode(AtimePolicy.Mode.RELATIME);
                return false;
            }
            case "noatime" -> {
                atime = atime.withMode(AtimePolicy.Mode.NEVER);
                return false;
            }
            case "nodiratime" -> atime = atime.withDirectories(false);
            case "diratime" -> atime = atime.withDirectories(true);
            default -> {
                return false;
            }
        }
        return true;
    }

    /** Whether the mount is read-only ({@code -o ro}): the image is opened read-only and never written. */
    public boolean readOnly() {
        return readOnly;
    }

    /** What fs-core is told: read-only, errors=, check=, atime. */
    public MountSettings settings() {
        return new MountSettings(readOnly, errors, check, atimePolicy());
    }

    /** When accesses update atime; never on a read-only mount (as Linux). */
    public AtimePolicy atimePolicy() {
        return readOnly ? AtimePolicy.NEVER : atime;
    }

    private void put(String option) {
        int eq = option.indexOf('=');
        fuse.put(eq < 0 ? option : option.substring(0, eq), option);
    }

    static boolean isFstabOnly(String o) {
        return o.equals("defaults") || o.equals("auto") || o.equals("noauto") || o.equals("nofail")
                || o.equals("_netdev") || o.equals("user") || o.equals("users") || o.equals("owner")
                || o.startsWith("comment=") || o.startsWith("x-") || o.equals("rw");
    }

    /** FUSE option string plus fsname and subtype. */
    public List<String> fuseArgs(String fsname) {
        List<String> opts = new ArrayList<>(fuse.values());
        opts.removeIf(o -> o.startsWith("fsname=") || o.startsWith("subtype="));
        opts.add("fsname=" + fsname.replace(",", "\\,"));
        opts.add("subtype=daxfs");
        return List.of("-o", String.join(",", opts));
    }

    /**
     * Whether {@code enable_uring} was given: the io_uring front end may switch the kernel's
     * global {@code fuse.enable_uring} parameter on (docs/uring-frontend.md, "Enabling").
     */
    public boolean enableUring() {
        return enableUring;
    }

    /** Which front end serves the mount ({@code frontend=}; the daemon makes it). */
    public FrontEndKind frontEnd() {
        return frontEnd;
    }

    /**
     * The value of the FUSE option {@code key=value} if the user gave it (a default of the
     * libfuse front end, such as max_write=131072, does not count): what a front end reads for
     * its own settings (the kernel front end's KernelOptions).
     */
    public Optional<String> given(String key) {
        String o = given.contains(key) ? fuse.get(key) : null;
        return o == null ? Optional.empty() : Optional.of(o.substring(key.length() + 1));
    }

    /**
     * What the kernel front end passes to the mount itself (mount(2) or fusermount): the options
     * the kernel or fusermount knows, plus fsname and subtype. default_permissions is passed for
     * the permission policies that have the kernel check (with acl the kernel also enforces
     * ACLs, once INIT agrees on FUSE_POSIX_ACL).
     */
    public List<String> kernelMountOptions(String fsname) {
        List<String> opts = new ArrayList<>();
        for (String o : fuse.values()) {
            String key = o.contains("=") ? o.substring(0, o.indexOf('=')) : o;
            if (KERNEL_MOUNT_OPTIONS.contains(key) && (given.contains(key) || !key.equals("max_read"))) {
                opts.add(o);
            }
        }
        if (permissions == PermissionPolicy.DAEMON_ACL && !opts.contains("default_permissions")) {
            opts.add("default_permissions");
        }
        opts.add("fsname=" + fsname.replace(",", "\\,"));
        opts.add("subtype=daxfs");
        return opts;
    }

    /** Options libfuse 2's fuse_mount hands to mount(2) or fusermount (lib/mount.c). */
    private static final java.util.Set<String> KERNEL_MOUNT_OPTIONS = java.util.Set.of(
            "allow_other", "allow_root", "default_permissions", "ro", "rw", "nosuid", "suid", "nodev", "dev",
            "noexec", "exec", "sync", "async", "dirsync", "atime", "noatime", "max_read", "blksize",
            "auto_unmount", "nonempty", "user", "blkdev");

    /** Whether extended attributes are served (off with -o noxattr). */
    public boolean xattrs() {
        return xattrs;
    }

    /** Who checks permissions and whether ACLs are enforced. */
    public PermissionPolicy permissions() {
        return permissions;
    }

    /** {@code -o debug}: the daemon logs one line per request. */
    public boolean debug() {
        return debug;
    }

    /** Worker threads; 0 means the default. */
    public int threads() {
        return threads;
    }

    public boolean has(String option) {
        return fuse.containsKey(option);
    }
}
