package io.daxfs.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.journal.ErrorState;
import io.daxfs.core.journal.Journal;
import io.daxfs.devdax.MediaOrder;
import io.daxfs.devdax.ScratchRegion;

import java.lang.foreign.MemorySegment;

/**
 * Fuzzes the journal parser: the header ({@link Journal#header}: magic, applied sequence,
 * orphan head, recorded error state), the slot ({@link Journal#inspect}: a committed
 * transaction and its records), and the replay of a transaction that parses
 * ({@link Journal#recover}), behind the slot's CRC.
 *
 * <p>Input: byte 0 flags (bit 0: leave the slot's CRC as it is; bit 1: leave its total length;
 * bit 2: leave its sequence number; bit 3: leave the header's magic), bytes 1-2 the length
 * {@code h} of the part laid over the header (u16, at most 1088), then {@code h} header bytes,
 * then the bytes laid over the slot. Unless the flags say otherwise the slot is made a
 * committed, unapplied transaction as long as the input: magic, sequence applied + 1, total
 * length, CRC and end magic.
 */
class JournalFuzzTest {
    static final long HEADER_MAGIC = 0x31304c4e524a5844L; // "DXJRNL01"

    @FuzzTest(maxDuration = "20s")
    void journal(byte[] data) {
        if (data.length < 3) {
            return;
        }
        FuzzImage image = FuzzImage.get();
        Geometry g = image.g;
        ScratchRegion region = image.undoRegion();
        try {
            int flags = data[0];
            int h = Math.min((data[1] & 0xff) | (data[2] & 0xff) << 8, 1088);
            h = Math.min(h, data.length - 3);
            long header = g.journalOffset();
            long slot = header + Geometry.BLOCK_SIZE;
            region.write(header, data, 3, h);
            int slotBytes = data.length - 3 - h;
            region.write(slot, data, 3 + h, slotBytes);
            MemorySegment media = region.readView();
            if ((flags & 8) == 0) {
                region.putLong(header, HEADER_MAGIC);
            }
            if (slotBytes >= 24) {
                region.putInt(slot, Reseal.SLOT_MAGIC);
                if ((flags & 2) == 0) {
                    region.putLong(slot + 16, slotBytes + 8L);
                }
                if ((flags & 4) == 0) {
                    region.putLong(slot + 8, media.get(MediaOrder.LONG, header + 8) + 1);
                }
                if ((flags & 1) == 0) {
                    new Reseal(region, image.checksums).slot();
                }
            }
            Journal.slotSequence(media, g);
            Journal.Header head = Decoding.decode(() -> Journal.header(media, g));
            if (head != null && head.error() != null) {
                head.error().describe();
            }
            Journal.PendingTransaction pending = Decoding.decode(() -> Journal.inspect(media, g));
            if (pending == null) {
                return;
            }
            long[] bytes = {0};
            pending.forEachRecord((off, rec) -> bytes[0] += rec.length);
            FsckFuzzTest.assertNoCrash(FsChecker.check(media), "fsck of an image with a pending transaction");
            ScratchRegion replay = image.undoRegion();
            try {
                Decoding.decode(() -> Journal.recover(replay, image.checksums, ErrorState.defaults(), false));
            } finally {
                replay.rollback();
            }
        } finally {
            region.rollback();
        }
    }
}
