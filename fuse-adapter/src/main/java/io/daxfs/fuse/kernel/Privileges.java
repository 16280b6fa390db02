package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.FileMode;

/**
 * Dropping set-user-ID, set-group-ID and file capabilities as Linux's file_remove_privs and
 * chown do, when the kernel has decided that they go (HANDLE_KILLPRIV_V2 leaves the doing to
 * daxfs): the set-user-ID bit always; the set-group-ID bit with group-execute, and without it
 * when the caller is neither in the file's group nor root (setattr_should_drop_sgid). The
 * caller's supplementary groups are read only for a file with set-group-ID and no
 * group-execute, so a write by an ordinary user to an ordinary file allocates nothing here.
 */
final class Privileges {
    private Privileges() {
    }

    /** Drops what a change by the sender of {@code r} takes away; returns whether the mode changed. */
    static boolean drop(DaxFileSystem fs, Request r, long ino) {
        return fs.dropPrivileges(ino, sgidWithoutExecGoes(fs, r, ino));
    }

    /**
     * Whether the sender of {@code r} would lose a set-group-ID bit without group-execute on
     * {@code ino}: the file has one and the caller is neither in its group nor root. Asked
     * before a chown, which changes the group the answer depends on.
     */
    static boolean sgidWithoutExecGoes(DaxFileSystem fs, Request r, long ino) {
        int mode = fs.mode(ino);
        if ((mode & (FileMode.S_ISGID | 0010)) != FileMode.S_ISGID || FileMode.isDirectory(mode)) {
            return false;
        }
        return !NamespaceOps.caller(r).inGroupOrRoot(fs.getattr(ino).gid());
    }
}
