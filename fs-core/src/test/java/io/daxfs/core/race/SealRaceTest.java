package io.daxfs.core.race;

import io.daxfs.core.format.Checksums;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.journal.Transaction;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A commit's checksum terms are prepared before the commit lock (fs-core {@code Sealer}); a
 * term read from bytes that another commit changes before this one takes the lock must not be
 * used. Forced: commit A stops between preparing and the lock; commit B writes the same bytes
 * of the same inode, and the field after them, and completes; then A goes on. A's checksum was
 * prepared from the inode before B: used as it is, the inode's stored CRC would be wrong (fsck
 * and the next load of the inode would call it damaged). The journal sees that B changed the
 * unit after A prepared, and computes A's again under the lock.
 */
@Tag("race-catalog")
class SealRaceTest extends RaceFixture {
    @Test
    void aTermPreparedBeforeAnotherCommitChangedTheSameBytesIsComputedAgain() throws Exception {
        long f = fs.create(ROOT, "f", 0644, 0, 0);
        Journal journal = fs.internals().journal();
        Checksums checksums = journal.checksums();
        MemorySegment media = dev.region().readView();
        long uid = checksums.geometry().inodeOffset(f) + InodeLayout.UID;
        Gate gate = new Gate();
        Thread[] first = new Thread[1];
        journal.setObserver(step -> {
            if (step.equals("prepared") && Thread.currentThread() == first[0]) {
                gate.accept(f);
            }
        });
        Future<?> a = pool.submit(() -> {
            first[0] = Thread.currentThread();
            Transaction tx = journal.begin();
            tx.putInt(uid, 1111);
            journal.commit(tx);
        });
        gate.awaitArrivals(); // A has prepared its term against uid 0, and waits before the lock

        Transaction b = journal.begin();
        b.putInt(uid, 2222); // the bytes A writes too
        b.putInt(uid + 4, 3333); // and the next field (the gid), which A's checksum must include
        journal.commit(b);
        assertTrue(checksums.inodeOk(media, f), "after B");

        gate.open();
        get(a);
        journal.setObserver(null);
        assertEquals(1111, media.get(io.daxfs.devdax.MediaOrder.INT, uid));
        assertEquals(3333, media.get(io.daxfs.devdax.MediaOrder.INT, uid + 4));
        assertTrue(checksums.inodeOk(media, f), "A's CRC was computed from the bytes B left");
    }
}
