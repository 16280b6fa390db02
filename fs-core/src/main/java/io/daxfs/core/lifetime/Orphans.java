package io.daxfs.core.lifetime;

import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.InodeCheck;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.core.journal.Transaction;
import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The on-media orphan list: inodes whose last name is gone but whose space is not yet freed.
 * Two kinds: a file too large to free in one transaction (freed right after, in bounded
 * transactions), and a file still open when its last name went (freed at its last release).
 * Every orphan has link count 0 and the orphan flag. The head lives in the journal header at
 * byte 16; each orphan links to the next through its NEXT_ORPHAN field. Mount finishes
 * freeing every inode on the list - after a crash nothing is open - so a crash mid-way leaks
 * nothing.
 *
 * <p>Invariant: the mirror is the on-media list as the last committed transaction left it.
 * Operations in different directories build their transactions concurrently, so a link
 * computed when a transaction is built could be overtaken by another transaction that
 * commits first (one of the two orphans would drop off the list). So {@link #add} and
 * {@link #remove} only register a step that runs inside the commit, under the journal's
 * commit lock ({@link Transaction#atCommit}): it reads the mirror, writes the links and
 * updates the mirror in commit order, and undoes the mirror change if the commit is refused.
 * The monitor guards the mirror for {@link #snapshot}.
 */
final class Orphans {
    private final InodeTable inodes;
    private final long headOffset;
    /** Mirror of the on-media list, head first. */
    private final List<Long> list = new ArrayList<>();

    /**
     * Reads the list as far as it is sound (the mount verified it first, {@link #verify}; a
     * read-only mount of a damaged image reads what it can and never frees anything).
     */
    Orphans(MemorySegment media, Geometry g, InodeTable inodes) {
        this.inodes = inodes;
        this.headOffset = headOffset(g);
        long ino = media.get(MediaOrder.LONG, headOffset);
        java.util.Set<Long> seen = new java.util.HashSet<>();
        while (ino > 0 && ino <= g.inodeCount() && seen.add(ino)) {
            list.add(ino);
            ino = inodes.nextOrphan(ino);
        }
    }

    /**
     * Checks the on-media orphan list: every member is an inode number in use, sound
     * ({@link InodeCheck}), with link count 0 and the orphan flag, and the list ends without a
     * loop. Returns the members.
     *
     * @throws CorruptFileSystemException at the first member that is not
     */
    static List<Long> verify(MemorySegment media, Checksums checksums, java.util.function.LongPredicate inUse) {
        Geometry g = checksums.geometry();
        List<Long> out = new ArrayList<>();
        java.util.Set<Long> seen = new java.util.HashSet<>();
        long ino = media.get(MediaOrder.LONG, headOffset(g));
        while (ino != 0) {
            String problem = null;
            if (ino < 1 || ino > g.inodeCount()) {
                problem = "names " + ino + ", which is not an inode number";
            } else if (!seen.add(ino)) {
                problem = "loops at inode " + ino;
            } else if (!inUse.test(ino)) {
                problem = "holds inode " + ino + ", which is free";
            } else {
                CorruptFileSystemException e = InodeCheck.problem(media, checksums, ino);
                if (e != null) {
                    problem = "holds a damaged inode: " + e.getMessage();
                } else if (media.get(MediaOrder.INT, g.inodeOffset(ino) + InodeLayout.NLINK) != 0
                        || (media.get(MediaOrder.INT, g.inodeOffset(ino) + InodeLayout.FLAGS)
                        & InodeLayout.FLAG_ORPHAN) == 0) {
                    problem = "holds inode " + ino + ", which has links or lacks the orphan flag";
                }
            }
            if (problem != null) {
                throw new CorruptFileSystemException("the orphan list " + problem,
                        ino >= 1 && ino <= g.inodeCount() ? ino : CorruptFileSystemException.NONE,
                        g.journalStart());
            }
            out.add(ino);
            ino = media.get(MediaOrder.LONG, g.inodeOffset(ino) + InodeLayout.NEXT_ORPHAN);
        }
        return out;
    }

    synchronized List<Long> snapshot() {
        return List.copyOf(list);
    }

    /** Pushes {@code ino} on the list when {@code tx} commits. */
    void add(Transaction tx, long ino) {
        tx.atCommit(t -> push(t, ino));
    }

    /** Unlinks {@code ino} from the list when {@code tx} commits. */
    void remove(Transaction tx, long ino) {
        tx.atCommit(t -> unlink(t, ino));
    }

    private synchronized void push(Transaction tx, long ino) {
        long head = list.isEmpty() ? 0 : list.getFirst();
        inodes.setNextOrphan(tx, ino, head);
        tx.putLong(headOffset, ino);
        list.addFirst(ino);
        tx.onAbort(() -> {
            synchronized (this) {
                list.remove(Long.valueOf(ino));
            }
        });
    }

    private synchronized void unlink(Transaction tx, long ino) {
        int i = list.indexOf(ino);
        if (i < 0) {
            return;
        }
        long next = i + 1 < list.size() ? list.get(i + 1) : 0;
        if (i == 0) {
            tx.putLong(headOffset, next);
        } else {
            inodes.setNextOrphan(tx, list.get(i - 1), next);
        }
        inodes.setNextOrphan(tx, ino, 0);
        list.remove(i);
        tx.onAbort(() -> {
            synchronized (this) {
                list.add(i, ino);
            }
        });
    }

    static long headOffset(Geometry g) {
        return g.journalOffset() + 16;
    }
}
