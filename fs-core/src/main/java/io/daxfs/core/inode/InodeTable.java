package io.daxfs.core.inode;

import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.Timestamp;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.journal.ErrorState;
import io.daxfs.core.journal.Transaction;
import io.daxfs.devdax.MediaOrder;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.daxfs.core.inode.InodeLayout.*;

/**
 * Reads and writes on-media inode fields. Reads go straight to device memory; changes go
 * through a transaction, except {@link #touchDirect} for lone aligned 8-byte fields whose
 * store is atomic by itself.
 */
public final class InodeTable {
    private static final ValueLayout.OfLong LONG = MediaOrder.LONG;
    private static final ValueLayout.OfInt INT = MediaOrder.INT;
    private final MemorySegment media;
    private final PmemRegion region;
    private final Geometry geometry;
    private final ErrorState errors;

    public InodeTable(PmemRegion region, Geometry geometry) {
        this(region, geometry, ErrorState.defaults());
    }

    /** @param errors the direct stores store nothing once it refuses changes */
    public InodeTable(PmemRegion region, Geometry geometry, ErrorState errors) {
        this.region = region;
        this.media = region.readView();
        this.geometry = geometry;
        this.errors = errors;
    }

    public long offset(long ino) {
        return geometry.inodeOffset(ino);
    }

    public int mode(long ino) {
        return media.get(INT, offset(ino) + MODE);
    }

    public long nlink(long ino) {
        return Integer.toUnsignedLong(media.get(INT, offset(ino) + NLINK));
    }

    public long size(long ino) {
        return media.get(LONG, offset(ino) + SIZE);
    }

    public long blocks(long ino) {
        return media.get(LONG, offset(ino) + BLOCKS);
    }

    public long parent(long ino) {
        return media.get(LONG, offset(ino) + PARENT);
    }

    public int flags(long ino) {
        return media.get(INT, offset(ino) + FLAGS);
    }

    /** The first block of the inode's extended attributes, 0 if it has none. */
    public long xattrBlock(long ino) {
        return media.get(LONG, offset(ino) + XATTR);
    }

    public long nextOrphan(long ino) {
        return media.get(LONG, offset(ino) + NEXT_ORPHAN);
    }

    public Attributes attributes(long ino) {
        long o = offset(ino);
        return new Attributes(ino, media.get(INT, o + MODE), Integer.toUnsignedLong(media.get(INT, o + NLINK)),
                media.get(INT, o + UID), media.get(INT, o + GID), media.get(LONG, o + RDEV),
                media.get(LONG, o + SIZE), media.get(LONG, o + BLOCKS) * 8,
                media.get(LONG, o + ATIME), media.get(INT, o + ATIME_NS),
                media.get(LONG, o + MTIME), media.get(INT, o + MTIME_NS),
                media.get(LONG, o + CTIME), media.get(INT, o + CTIME_NS), media.get(INT, o + GENERATION));
    }

    /** When the inode was made (statx's btime); it never changes afterwards. */
    public Timestamp birthTime(long ino) {
        long o = offset(ino);
        return new Timestamp(media.get(LONG, o + BTIME), media.get(INT, o + BTIME_NS));
    }

    /** Writes a whole fresh inode (all 256 bytes; the commit adds its checksum) in {@code tx}. */
    public void initialize(Transaction tx, long ino, int mode, int uid, int gid, long rdev, long parent,
                           long nlink, Timestamp now) {
        java.nio.ByteBuffer b = MediaOrder.allocate(Geometry.INODE_SIZE);
        b.putInt(MODE, mode).putInt(NLINK, (int) nlink).putInt(UID, uid).putInt(GID, gid);
        b.putLong(SIZE, 0);
        b.putLong(ATIME, now.seconds()).putInt(ATIME_NS, now.nanos());
        b.putLong(MTIME, now.seconds()).putInt(MTIME_NS, now.nanos());
        b.putLong(CTIME, now.seconds()).putInt(CTIME_NS, now.nanos());
        b.putLong(BTIME, now.seconds()).putInt(BTIME_NS, now.nanos());
        b.putInt(GENERATION, media.get(INT, offset(ino) + GENERATION) + 1);
        b.putLong(RDEV, rdev).putLong(PARENT, parent);
        tx.write(offset(ino), b.array());
    }

    public void setMode(Transaction tx, long ino, int mode) {
        tx.putInt(offset(ino) + MODE, mode);
    }

    public void setNlink(Transaction tx, long ino, long nlink) {
        tx.putInt(offset(ino) + NLINK, (int) nlink);
    }

    public void setOwner(Transaction tx, long ino, int uid, int gid) {
        tx.putInt(offset(ino) + UID, uid);
        tx.putInt(offset(ino) + GID, gid);
    }

    public void setSize(Transaction tx, long ino, long size) {
        tx.putLong(offset(ino) + SIZE, size);
    }

    public void setBlocks(Transaction tx, long ino, long blocks) {
        tx.putLong(offset(ino) + BLOCKS, blocks);
    }

    public void setParent(Transaction tx, long ino, long parent) {
        tx.putLong(offset(ino) + PARENT, parent);
    }

    public void setFlags(Transaction tx, long ino, int flags) {
        tx.putInt(offset(ino) + FLAGS, flags);
    }

    public void setNextOrphan(Transaction tx, long ino, long next) {
        tx.putLong(offset(ino) + NEXT_ORPHAN, next);
    }

    public void setAtime(Transaction tx, long ino, Timestamp t) {
        tx.putLong(offset(ino) + ATIME, t.seconds());
        tx.putInt(offset(ino) + ATIME_NS, t.nanos());
    }

    public void setMtime(Transaction tx, long ino, Timestamp t) {
        tx.putLong(offset(ino) + MTIME, t.seconds());
        tx.putInt(offset(ino) + MTIME_NS, t.nanos());
    }

    public void setCtime(Transaction tx, long ino, Timestamp t) {
        tx.putLong(offset(ino) + CTIME, t.seconds());
        tx.putInt(offset(ino) + CTIME_NS, t.nanos());
    }

    /**
     * Updates mtime and ctime in place without the journal. Safe because the caller holds the
     * inode exclusively and no committed-but-unapplied transaction can touch this inode then;
     * a torn pair of (seconds, nanos) after a power cut is harmless for timestamps.
     */
    public void touchDirect(long ino, Timestamp t) {
        touchDirect(ino, t.seconds(), t.nanos());
    }

    /** {@link #touchDirect(long, Timestamp)} without a Timestamp object (the write path allocates nothing). */
    public void touchDirect(long ino, long seconds, int nanos) {
        if (!errors.writable()) {
            return;
        }
        long o = offset(ino);
        // Like Linux's coarse inode times: a store only when the time moved by a millisecond
        // or more. Concurrent writers of one file then mostly read this cache line instead of
        // bouncing it between CPUs with a store per write.
        if (media.get(LONG, o + MTIME) == seconds
                && media.get(INT, o + MTIME_NS) / 1_000_000 == nanos / 1_000_000
                && media.get(LONG, o + CTIME) == seconds
                && media.get(INT, o + CTIME_NS) / 1_000_000 == nanos / 1_000_000) {
            return;
        }
        region.putLong(o + MTIME, seconds);
        region.putInt(o + MTIME_NS, nanos);
        region.putLong(o + CTIME, seconds);
        region.putInt(o + CTIME_NS, nanos);
    }

    /**
     * Updates ctime alone in place, as {@link #touchDirect} does for both: for changes of an
     * inode that leave its contents as they were (fallocate that allocates without growing
     * the file).
     */
    public void touchCtimeDirect(long ino, Timestamp t) {
        if (!errors.writable()) {
            return;
        }
        long o = offset(ino);
        if (media.get(LONG, o + CTIME) == t.seconds() && media.get(INT, o + CTIME_NS) / 1_000_000 == t.nanos() / 1_000_000) {
            return;
        }
        region.putLong(o + CTIME, t.seconds());
        region.putInt(o + CTIME_NS, t.nanos());
    }

    /**
     * Whether relatime wants atime moved to now: atime is not after mtime or not after ctime,
     * or it is {@link io.daxfs.core.base.AtimePolicy#RELATIME_MAX_AGE_SECONDS} old. On the read path:
     * in the common case (atime already after both, and recent) three loads of one inode.
     */
    public boolean atimeStale(long ino, long nowSeconds) {
        long o = offset(ino);
        long a = media.get(LONG, o + ATIME);
        if (nowSeconds - a >= io.daxfs.core.base.AtimePolicy.RELATIME_MAX_AGE_SECONDS) {
            return true;
        }
        long m = media.get(LONG, o + MTIME);
        long c = media.get(LONG, o + CTIME);
        if (a > m && a > c) {
            return false;
        }
        int an = media.get(INT, o + ATIME_NS);
        return !after(a, an, m, media.get(INT, o + MTIME_NS)) || !after(a, an, c, media.get(INT, o + CTIME_NS));
    }

    private static boolean after(long s1, int ns1, long s2, int ns2) {
        return s1 > s2 || (s1 == s2 && ns1 > ns2);
    }

    /**
     * Records an access: atime becomes {@code t}, stored in place - no journal, no flush, no
     * fence, so a read costs no transaction and no cache-line write-back (the same reasoning
     * as {@link #touchDirect}). The stores cover the 12 atime bytes only, so no other field
     * can be damaged. Crash semantics: atime is best effort. The stores reach the media when
     * the line is written back (a journaled change of this inode, fsync's msync of an image
     * file, cache eviction on pmem); a crash before that leaves an older atime, at worst
     * seconds and nanoseconds from two different accesses; a journal replay may re-apply an
     * older utimens atime over it. None of that matters to anything but atime itself.
     * Like {@link #touchDirect}, it skips the store when atime already holds this millisecond,
     * so readers of one file under strictatime do not bounce the inode's line between CPUs.
     */
    public void touchAtimeDirect(long ino, Timestamp t) {
        if (!errors.writable()) {
            return; // a read-only mount, or one that met damage: reads go on, atime stays
        }
        long o = offset(ino);
        if (media.get(LONG, o + ATIME) == t.seconds() && media.get(INT, o + ATIME_NS) / 1_000_000 == t.nanos() / 1_000_000) {
            return;
        }
        region.putLong(o + ATIME, t.seconds());
        region.putInt(o + ATIME_NS, t.nanos());
    }

    /** Stores a new size in place: one aligned 8-byte store, durable after flush+fence. */
    public void setSizeDirect(long ino, long size) {
        errors.checkWritable();
        long o = offset(ino) + SIZE;
        region.putLong(o, size);
        region.flush(o, 8);
        region.fence();
    }
}
