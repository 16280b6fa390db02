package io.daxfs.core.perm;

import java.util.function.Supplier;

/**
 * Who asks: file-system uid and gid and, fetched only when a decision depends on them, the
 * supplementary groups. One instance serves one request (not thread-safe); the groups source
 * is asked at most once.
 */
public final class Credentials {
    private final int uid;
    private final int gid;
    private final Supplier<int[]> groupsSource;
    private int[] groups;

    /** @param groupsSource the supplementary groups; called lazily, at most once */
    public Credentials(int uid, int gid, Supplier<int[]> groupsSource) {
        this.uid = uid;
        this.gid = gid;
        this.groupsSource = groupsSource;
    }

    /** Credentials with a known, fixed list of supplementary groups. */
    public static Credentials of(int uid, int gid, int... groups) {
        int[] copy = groups.clone();
        return new Credentials(uid, gid, () -> copy);
    }

    public int uid() {
        return uid;
    }

    public int gid() {
        return gid;
    }

    /** uid 0: treated as holding every capability (CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_CHOWN...). */
    public boolean isRoot() {
        return uid == 0;
    }

    /** in_group_p: the primary group or one of the supplementary groups. */
    public boolean inGroup(int g) {
        if (g == gid) {
            return true;
        }
        if (groups == null) {
            int[] fetched = groupsSource.get();
            groups = fetched == null ? new int[0] : fetched;
        }
        for (int s : groups) {
            if (s == g) {
                return true;
            }
        }
        return false;
    }

    /** in_group_or_capable: a member of {@code g}, or root. */
    public boolean inGroupOrRoot(int g) {
        return isRoot() || inGroup(g);
    }

    @Override
    public String toString() {
        return "uid " + uid + " gid " + gid;
    }
}
