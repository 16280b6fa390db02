package io.daxfs.fuse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The -o options of a daxfs mount: daxfs's own (consumed here) and FUSE/kernel options
 * (passed to libfuse), with speed-critical FUSE options on by default.
 *
 * <p>daxfs options: {@code threads=N} (FUSE worker threads), {@code noxattr} (no extended
 * attributes), {@code acl} (the default) / {@code noacl} (POSIX ACLs enforced by the daemon, or
 * opaque attributes with the kernel checking mode bits: {@link PermissionPolicy}). With
 * {@code acl}, a requested {@code default_permissions} is not passed to the kernel: the daemon
 * does the checks (docs/permissions.md). fstab-only options (defaults,
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
    private int threads;
    private boolean xattrs = true;
    private boolean acl = true;
    private PermissionPolicy permissions;

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
                if (o.equals("no_default_permissions")) {
                    m.fuse.remove("default_permissions");
                    continue;
                }
                m.put(o);
            }
        }
        m.permissions = PermissionPolicy.of(m.acl, m.fuse.containsKey("default_permissions"));
        if (m.permissions.daemonChecks()) {
            // The kernel would check the mode bits alone and refuse what an ACL grants.
            m.fuse.remove("default_permissions");
        }
        return m;
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

    /** Whether extended attributes are served (off with -o noxattr). */
    public boolean xattrs() {
        return xattrs;
    }

    /** Who checks permissions and whether ACLs are enforced. */
    public PermissionPolicy permissions() {
        return permissions;
    }

    /** Worker threads; 0 means the default. */
    public int threads() {
        return threads;
    }

    public boolean has(String option) {
        return fuse.containsKey(option);
    }
}
