package io.daxfs.core.perm;

/**
 * One entry of a POSIX ACL: a tag ({@link Acl#USER_OBJ} ...), the permission bits rwx (4, 2, 1)
 * and, for {@link Acl#USER} and {@link Acl#GROUP}, the uid or gid it names
 * ({@link Acl#UNDEFINED_ID} for the other tags).
 */
public record AclEntry(int tag, int perm, int id) {
    public AclEntry {
        if ((perm & ~7) != 0) {
            throw new IllegalArgumentException("ACL permission " + perm + " is more than rwx");
        }
    }

    AclEntry withPerm(int newPerm) {
        return new AclEntry(tag, newPerm & 7, id);
    }
}
