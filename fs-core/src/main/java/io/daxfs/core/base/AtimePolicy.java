package io.daxfs.core.base;

/**
 * When an access (read, readlink, a directory listing) updates atime: the mount options
 * {@code strictatime}, {@code relatime} and {@code noatime}, plus {@code nodiratime}.
 * FUSE marks every inode S_NOATIME, so the kernel never updates atime itself: daxfs does.
 *
 * @param mode        when to update
 * @param directories false under {@code nodiratime}: listings never update a directory's atime
 */
public record AtimePolicy(Mode mode, boolean directories) {
    /** As Linux: every access, only when stale (the default), or never. */
    public enum Mode {
        /** strictatime: every access. */
        STRICT,
        /**
         * relatime: only when atime is not after mtime or ctime (so "read since the last
         * change?" stays answerable), or is 24 hours old.
         */
        RELATIME,
        /** noatime: never. */
        NEVER
    }

    /** Seconds after which relatime updates atime anyway (as Linux: one day). */
    public static final long RELATIME_MAX_AGE_SECONDS = 24 * 60 * 60;

    /** Linux's default for a mount: relatime, directories included. */
    public static final AtimePolicy RELATIME = new AtimePolicy(Mode.RELATIME, true);
    public static final AtimePolicy STRICT = new AtimePolicy(Mode.STRICT, true);
    public static final AtimePolicy NEVER = new AtimePolicy(Mode.NEVER, true);

    public AtimePolicy {
        java.util.Objects.requireNonNull(mode, "mode");
    }

    /** Whether an access to a directory ({@code directory}) or another inode may update atime. */
    public boolean covers(boolean directory) {
        return mode != Mode.NEVER && (directories || !directory);
    }

    public AtimePolicy withMode(Mode m) {
        return new AtimePolicy(m, directories);
    }

    public AtimePolicy withDirectories(boolean d) {
        return new AtimePolicy(mode, d);
    }
}
