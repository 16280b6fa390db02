package io.daxfs.core;

import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.core.journal.Transaction;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * <p>Every change happens under the namespace write lock, which is held until the transaction
 * that carries it commits: list changes therefore reach the media in the order the mirror
 * saw them. The monitor only protects the mirror for readers such as fsck-style snapshots.
 */
final class Orphans {
    private final MemorySegment media;
    private final InodeTable inodes;
    private final long headOffset;
    /** Mirror of the on-media list, head first. */
    private final List<Long> list = new ArrayList<>();

    Orphans(MemorySegment media, Geometry g, InodeTable inodes) {
        this.media = media;
        this.inodes = inodes;
        this.headOffset = g.journalOffset() + 16;
        long ino = media.get(ValueLayout.JAVA_LONG_UNALIGNED, headOffset);
        int guard = 0;
        while (ino != 0 && guard++ < g.inodeCount()) {
            list.add(ino);
            ino = inodes.nextOrphan(ino);
        }
    }

    synchronized List<Long> snapshot() {
        return List.copyOf(list);
    }

    /** Pushes {@code ino} on the list in {@code tx}. */
    synchronized void add(Transaction tx, long ino) {
        long head = list.isEmpty() ? 0 : list.getFirst();
        inodes.setNextOrphan(tx, ino, head);
        tx.putLong(headOffset, ino);
        list.addFirst(ino);
    }

    /** Unlinks {@code ino} from the list in {@code tx}. */
    synchronized void remove(Transaction tx, long ino) {
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
    }

    static long headOffset(Geometry g) {
        return g.journalOffset() + 16;
    }
}
