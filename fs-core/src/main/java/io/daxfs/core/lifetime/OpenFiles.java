package io.daxfs.core.lifetime;

import java.util.HashMap;
import java.util.Map;

/**
 * How many handles each inode has open, and which open inodes have lost their last name.
 * In memory only: after a crash nothing is open, and the orphan list on the media says which
 * inodes still need freeing.
 *
 * <p>This monitor makes the two decisions that must not interleave atomic with respect to
 * each other: "the last name goes while the file is open, so keep it" ({@link #keepIfOpen})
 * and "the last handle of a file without names closes, so free it now" ({@link #release}).
 * Exactly one of them sees the other's effect, so an unlinked file is freed exactly once,
 * either by the unlink or by its last release. It is a leaf: nothing is called while holding it.
 */
final class OpenFiles {
    private static final class Count {
        int handles;
        /** The last name went while handles were open: the last release frees the inode. */
        boolean unlinked;
        /** Made without a name (O_TMPFILE) and not linked yet: link may give it its first name. */
        boolean linkable;
    }

    private final Map<Long, Count> open = new HashMap<>();

    /** Records one more open handle of {@code ino}. */
    synchronized void open(long ino) {
        open.computeIfAbsent(ino, i -> new Count()).handles++;
    }

    /** Records the one open handle of an inode made without a name (O_TMPFILE). */
    synchronized void openUnnamed(long ino) {
        Count c = open.computeIfAbsent(ino, i -> new Count());
        c.handles++;
        c.unlinked = true;
        c.linkable = true;
    }

    /** Whether {@code ino} was made without a name and is still open and unlinked. */
    synchronized boolean isLinkable(long ino) {
        Count c = open.get(ino);
        return c != null && c.linkable;
    }

    /** An unnamed inode got its first name: its last release no longer frees it. */
    synchronized void linked(long ino) {
        Count c = open.get(ino);
        if (c != null) {
            c.unlinked = false;
            c.linkable = false;
        }
    }

    /** Whether {@code ino} has an open handle. */
    synchronized boolean isOpen(long ino) {
        return open.containsKey(ino);
    }

    /** Open handles of {@code ino} (tests, diagnostics). */
    synchronized int handles(long ino) {
        Count c = open.get(ino);
        return c == null ? 0 : c.handles;
    }

    /**
     * Called when the last name of {@code ino} goes: if it is open, marks it so that the last
     * release frees it and returns true (the caller puts it on the orphan list instead of
     * freeing it); otherwise returns false (the caller frees it now).
     */
    synchronized boolean keepIfOpen(long ino) {
        Count c = open.get(ino);
        if (c == null) {
            return false;
        }
        c.unlinked = true;
        return true;
    }

    /**
     * Drops one handle of {@code ino}. Returns true if it was the last one of an inode whose
     * last name is gone: the caller must free it. Releasing a handle never opened is ignored
     * (a FUSE release after the daemon restarted its file system view cannot happen, but a
     * stray one must not make the count negative).
     */
    synchronized boolean release(long ino) {
        Count c = open.get(ino);
        if (c == null) {
            return false;
        }
        if (--c.handles > 0) {
            return false;
        }
        open.remove(ino);
        return c.unlinked;
    }
}
