package io.daxfs.core.check;

import io.daxfs.core.format.Checksums;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.journal.Transaction;
import io.daxfs.devdax.MediaOrder;

import java.util.ArrayList;
import java.util.List;

/**
 * The writes a repair decided on, in the order it decided them, committed through the
 * journal: each transaction is atomic and reseals (recomputes the checksum of) every unit it
 * touches, so a crash between two of them leaves an image whose every structure is whole -
 * one that fsck can repair again - and never a half-written one. Nothing else is written.
 */
final class Fixes {
    private sealed interface Op permits Write, Seal {
    }

    private record Write(long offset, byte[] data) implements Op {
    }

    private record Seal(Checksums.Kind kind, long unit) implements Op {
    }

    /** Groups of writes, each committed in one transaction. */
    private final List<List<Op>> groups = new ArrayList<>();
    private List<Op> open;

    void write(long offset, byte[] data) {
        add(new Write(offset, data));
    }

    private void add(Op op) {
        if (open != null) {
            open.add(op);
        } else {
            groups.add(List.of(op));
        }
    }

    /** The writes {@code body} makes go into one transaction: all of them reach the image, or none. */
    void atomically(Runnable body) {
        List<Op> outer = open;
        if (outer == null) {
            open = new ArrayList<>();
        }
        try {
            body.run();
        } finally {
            if (outer == null) {
                groups.add(open);
                open = null;
            }
        }
    }

    void putLong(long offset, long value) {
        write(offset, MediaOrder.allocate(8).putLong(0, value).array());
    }

    void putInt(long offset, int value) {
        write(offset, MediaOrder.allocate(4).putInt(0, value).array());
    }

    void putShort(long offset, short value) {
        write(offset, MediaOrder.allocate(2).putShort(0, value).array());
    }

    void putByte(long offset, byte value) {
        write(offset, new byte[] {value});
    }

    /** The unit of {@code kind} at {@code unit} gets its checksum recomputed (its content is sound). */
    void seal(Checksums.Kind kind, long unit) {
        add(new Seal(kind, unit));
    }

    boolean isEmpty() {
        return groups.isEmpty();
    }

    /** Commits every write, in order, in as few transactions as the journal's slot allows. */
    void commit(Journal journal) {
        Transaction tx = repair(journal);
        for (List<Op> group : groups) {
            int bytes = 0;
            for (Op op : group) {
                bytes += op instanceof Write w ? 16 + w.data().length + 56 : 48;
            }
            if (!tx.isEmpty() && !journal.fits(tx, bytes)) {
                journal.commit(tx);
                tx = repair(journal);
            }
            for (Op op : group) {
                switch (op) {
                    case Write w -> tx.write(w.offset(), w.data());
                    case Seal s -> tx.seal(s.kind(), s.unit());
                }
            }
        }
        journal.commit(tx);
        groups.clear();
    }

    /** A transaction of repairs: its units may not match their stored CRCs, so each is resealed in full. */
    private static Transaction repair(Journal journal) {
        Transaction tx = journal.begin();
        tx.resealFully();
        return tx;
    }
}
