package io.daxfs.fuse.libfuse;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * In-memory names for open files whose last real name is gone: "{@code .fuse_hidden…} means
 * inode I". They exist for libfuse 2's high-level API, which is path based: when a file that
 * is open is unlinked (or renamed over), libfuse renames it to a hidden name and from then on
 * addresses it by that path (fstat, fchmod, the final unlink...). daxfs unlinks the file for
 * real instead ({@link DaxFileSystem#unlinkKeepingAlias}): the directory entry goes at once,
 * the inode waits on the orphan list for its last release, and only this alias - never on the
 * media, never listed by readdir - lets libfuse's hidden path still resolve.
 *
 * <p>An alias is matched by its last path component alone, whatever the directories before
 * it: libfuse's hidden names are unique in a daemon's life (they carry a counter), and the
 * directory may be gone by the time the file is used again (rmdir of the now-empty parent
 * succeeds, as on ext4).
 *
 * <p>Invariant: an alias never outlives its inode. Freeing an inode drops its aliases
 * ({@link #forget}, an {@link io.daxfs.core.DaxFileSystem#onInodeFreed} listener) in the commit
 * hook of the freeing transaction, before the number can be allocated again, so a stale alias
 * can never resolve to a new file that reused the number. An alias is added before the
 * unlink it stands in for (and taken back if that unlink does not happen), so the free of the
 * file always comes after the alias exists.
 *
 * <p>The monitor makes the maps safe; it is a leaf: nothing is called while holding it. fs-core
 * calls {@link #forget} while it frees an inode (holding that inode's locks) and
 * {@link DaxfsFuse} the others holding nothing, so it comes after every other lock.
 */
final class UnlinkedAliases {
    private final Map<String, Long> byName = new HashMap<>();
    private final Map<Long, Set<String>> byInode = new HashMap<>();
    /** Lets lookups skip the monitor in the common case of no alias at all. */
    private volatile boolean empty = true;

    synchronized void add(String name, long ino) {
        Long old = byName.put(name, ino);
        if (old != null) {
            byInode.getOrDefault(old, new HashSet<>()).remove(name);
        }
        byInode.computeIfAbsent(ino, i -> new HashSet<>()).add(name);
        empty = false;
    }

    /** The inode {@code name} stands for, or 0. */
    long lookup(String name) {
        if (empty) {
            return 0;
        }
        synchronized (this) {
            Long ino = byName.get(name);
            return ino == null ? 0 : ino;
        }
    }

    /** Removes one alias; returns whether it existed. */
    synchronized boolean remove(String name) {
        Long ino = byName.remove(name);
        if (ino == null) {
            return false;
        }
        Set<String> names = byInode.get(ino);
        if (names != null) {
            names.remove(name);
            if (names.isEmpty()) {
                byInode.remove(ino);
            }
        }
        empty = byName.isEmpty();
        return true;
    }

    /** Drops every alias of inode {@code ino}. */
    synchronized void forget(long ino) {
        if (empty) {
            return;
        }
        Set<String> names = byInode.remove(ino);
        if (names != null) {
            names.forEach(byName::remove);
        }
        empty = byName.isEmpty();
    }

    synchronized int size() {
        return byName.size();
    }
}
