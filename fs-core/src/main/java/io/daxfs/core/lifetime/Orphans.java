package io.daxfs.core.lifetime;

import io.daxfs.core.format.Geometry;
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

    Orphans(MemorySegment media, Geometry g, InodeTable inodes) {
        this.inodes = inodes;
        this.headOffset = headOffset(g);
        long ino = media.get(MediaOrder.LONG, headOffset);
        int guard = 0;
        while (ino != 0 && guard++ < g.inodeCount()) {
            list.add(ino);
            ino = inodes.nextOrphan(ino);
        }
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
