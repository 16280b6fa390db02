package io.daxfs.core.journal;

import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.Geometry;
import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The checksum step of a commit ({@link Journal#commit}, format 2): adds to a transaction one
 * record per unit it changes, holding the unit's new CRC ({@link Checksums}): the CRC of the
 * unit as the media holds it once every earlier transaction is applied, overlaid with this
 * transaction's records in order - exactly what the unit holds once the transaction is applied.
 * Inodes and bitmap blocks are found by the address of a record; directory and overflow blocks
 * are marked by their writers ({@link Transaction#seal}).
 *
 * <p><b>Updated, not recomputed.</b> A 4 KiB unit (directory, overflow or bitmap block) whose
 * stored CRC is not 0 gets its new CRC from the old one and the bytes the records change
 * ({@link Checksums#updated}): reading a whole 4 KiB unit to change a few bytes of it was most
 * of a commit's time. That is exact because every covered byte of a unit is changed only by
 * commits, each of which stores the unit's new CRC, and these blocks are checked when they are
 * loaded (a damaged one is refused, not changed). A CRC of 0 is where no commit has sealed the
 * unit yet - a fresh directory or overflow block, zeroed when allocated - and gets the full
 * computation, as do the units of a transaction that {@link Transaction#resealFully reseals
 * fully} (fsck's repairs, which must make a damaged unit's CRC true again). Inodes (256 bytes)
 * are always computed in full: a free inode is not checked when it is allocated again, and a
 * create that writes it whole must leave a true CRC whatever was there before.
 *
 * <p><b>Mostly before the commit lock.</b> What a transaction's records change in a block's CRC
 * (its term: the update from 0, XORed into the stored CRC at commit) depends only on the bytes
 * they replace; an inode's CRC, on the inode as the media holds it. {@link #prepare} computes
 * both before the commit lock, in parallel with other threads' commits; {@link #seal}, under the
 * lock, XORs each term into the stored CRC and takes each inode's CRC as it is. A prepared value
 * is used only if the bytes it read were still the unit's at seal: no commit since prepare
 * changed the unit (each commit {@link #stamp stamps} the units it changes with its sequence,
 * and prepare notes the last applied sequence before reading), and no record added at commit
 * (bitmap updates, deferred counters, commit-time steps) touches it. Otherwise the term is
 * computed under the lock, as every term was before. A directory's blocks and a new inode are
 * changed only under the operation's own locks, so their terms hold; a bitmap block is
 * resolved at commit and is always computed there, from a few bytes.
 *
 * <p>Why a class of its own: this runs once per metadata operation, so it allocates nothing
 * per commit once warm: the units live in reused parallel arrays, found by a linear scan (a
 * transaction touches a handful of units; a large one - a truncate's overflow blocks - gets a
 * map).
 *
 * <p>Not thread safe: one per committing thread ({@link Journal}'s thread-local); {@link
 * #prepare} runs without the commit lock, {@link #seal} and {@link #stamp} under it.
 */
final class Sealer {
    private static final int NO_UNIT = -1;
    /** Not a CRC (CRCs are 32-bit unsigned): the update does not apply, compute in full. */
    private static final long NO_CRC = -1;
    private static final boolean VERIFY = Boolean.getBoolean("daxfs.verifySeals");
    /** Above this many units a lookup goes through a map instead of a scan. */
    private static final int SCAN_LIMIT = 32;

    private final Checksums checksums;
    private final MemorySegment media;
    private final byte[] image = new byte[Geometry.BLOCK_SIZE];
    /** The span of a unit its records touch, after them; then the difference (see term). */
    private final byte[] after = new byte[Geometry.BLOCK_SIZE];
    /** Units of this commit: kind, first byte, and whether a writer marked it (directory, overflow). */
    private Checksums.Kind[] kinds = new Checksums.Kind[16];
    private long[] starts = new long[16];
    private boolean[] marked = new boolean[16];
    private int units;
    /** (unit, record position) pairs, in record order. */
    private int[] touches = new int[32];
    private int touchCount;
    /** For a large transaction (more than SCAN_LIMIT units): unit by key, else null. */
    private java.util.Map<Long, Integer> byKey;
    /** The touches grouped by unit (a stable counting sort), and each unit's first in it. */
    private int[] grouped = new int[16];
    private int[] firstOf = new int[17];
    private int[] cursor = new int[17];
    private long[] crcs = new long[32];
    /** What {@link #prepare} computed, for {@link #seal} of the same transaction ({@code preTx}). */
    private Transaction preTx;
    private long[] preStarts = new long[8];
    private boolean[] preMarked = new boolean[8];
    private long[] preTerms = new long[8];
    private int preUnits;
    /** Record bytes and seals of the transaction at prepare, and the last commit applied then. */
    private int preEnd;
    private int preSeals;
    private long preApplied;

    Sealer(Checksums checksums, MemorySegment media) {
        this.checksums = checksums;
        this.media = media;
    }

    /**
     * Outside the commit lock, before {@link #seal}: computes, for each block the records so far
     * touch, the term its CRC will change by ({@link Checksums#updated} from 0), and for each
     * inode its whole new CRC, reading the media as it is now. {@code applied} is the last
     * commit the journal had applied, read before this: {@link #seal} uses a prepared value only
     * if no commit after it changed the unit ({@link #stamp}), so the bytes read were the unit's
     * bytes at seal time, even when a commit was applying meanwhile.
     */
    void prepare(Transaction tx, long applied) {
        preTx = null;
        if (tx.resealsFully()) {
            return;
        }
        ByteBuffer recs = tx.recordBuffer();
        int end = recs.position();
        if (collect(tx, 0, end) == 0) {
            return;
        }
        if (preTerms.length < units) {
            preTerms = new long[2 * units];
            preStarts = new long[2 * units];
            preMarked = new boolean[2 * units];
        }
        for (int u = 0; u < units; u++) {
            preStarts[u] = starts[u];
            preMarked[u] = marked[u];
            // Bitmap blocks are shared by every create and unlink: another commit has nearly
            // always changed one by the time this one seals, so its term is left to seal.
            preTerms[u] = switch (kinds[u]) {
                case BITMAP -> NO_CRC;
                case INODE -> full(u, recs, recs.array()) & 0xFFFF_FFFFL; // the CRC itself: see seal
                case DIRECTORY, OVERFLOW -> term(u, recs, recs.array());
            };
        }
        preUnits = units;
        preEnd = end;
        preSeals = tx.seals().size();
        preApplied = applied;
        preTx = tx;
    }

    /**
     * Under the commit lock: adds to {@code tx} the record of each changed unit's new CRC. A
     * unit's term from {@link #prepare} is used if every record touching the unit was there
     * then and no commit since changed the unit ({@code versions}); otherwise it is computed
     * here, over the media every earlier commit left.
     */
    void seal(Transaction tx, long[] versions) {
        ByteBuffer recs = tx.recordBuffer();
        boolean prepared = preTx == tx;
        preTx = null;
        // Prepare's units and touches stand (this sealer did nothing since) unless a step at
        // commit added a seal: then collect again from the start.
        boolean more = prepared && tx.seals().size() == preSeals;
        if (collect(tx, more ? preEnd : 0, recs.position()) == 0) {
            return;
        }
        byte[] recordBytes = recs.array();
        // Computed first, added after: the CRC records must not reseal each other.
        if (crcs.length < 2 * units) {
            crcs = new long[4 * units];
        }
        for (int u = 0; u < units; u++) {
            long crcAt = checksums.crcOffset(kinds[u], starts[u]);
            int stored = media.get(MediaOrder.INT, crcAt);
            long crc = NO_CRC;
            if (kinds[u] == Checksums.Kind.INODE) {
                // Inodes are computed in full (256 bytes, cheap), never updated: a free inode is
                // not checked when it is allocated again, so its stored CRC may not match what
                // is there (damage fsck leaves in free inodes), and a create writing it whole must
                // leave a true CRC. Prepared in full before the lock where it still holds.
                crc = prepared ? preparedTerm(u, versions) : NO_CRC;
            } else if (!tx.resealsFully() && stored != 0) {
                long term = prepared ? preparedTerm(u, versions) : NO_CRC;
                if (term == NO_CRC) {
                    term = term(u, recs, recordBytes);
                }
                if (term != NO_CRC) {
                    crc = (stored ^ term) & 0xFFFF_FFFFL;
                }
            }
            if (crc == NO_CRC) {
                crc = full(u, recs, recordBytes);
            } else if (VERIFY) {
                verify(u, stored, (int) crc, recs, recordBytes);
            }
            crcs[2 * u] = crcAt;
            crcs[2 * u + 1] = crc;
        }
        for (int u = 0; u < units; u++) {
            tx.putInt(crcs[2 * u], (int) crcs[2 * u + 1]);
        }
    }

    /** Marks every unit the last {@link #seal} sealed as changed by commit {@code seq} (under the commit lock). */
    void stamp(long[] versions, long seq) {
        for (int u = 0; u < units; u++) {
            versions[versionSlot(starts[u], versions.length)] = seq;
        }
    }

    /** Where a unit's last commit is kept; units that share a slot only cost each other a recomputation. */
    static int versionSlot(long unitStart, int slots) {
        return (int) ((unitStart >>> 8) * 0x9E3779B97F4A7C15L >>> 40) & (slots - 1);
    }

    /** The term {@link #prepare} computed for unit {@code u}, if it still holds; else NO_CRC. */
    private long preparedTerm(int u, long[] versions) {
        if (versions[versionSlot(starts[u], versions.length)] > preApplied) {
            return NO_CRC; // a commit since prepare changed the unit (or one sharing its slot)
        }
        for (int t = firstOf[u]; t < firstOf[u + 1]; t++) {
            if (grouped[t] >= preEnd) {
                return NO_CRC; // a record added at commit (bitmaps, counters, commit-time steps)
            }
        }
        for (int i = 0; i < preUnits; i++) { // the same unit, touched by the same records: the same term
            if (preStarts[i] == starts[u] && preMarked[i] == marked[u]) {
                return preTerms[i]; // NO_CRC for a bitmap block
            }
        }
        return NO_CRC;
    }

    /**
     * Finds the units of {@code tx}'s seals and of its records from {@code from} to {@code end},
     * and groups the records by unit ({@link #firstOf}, {@link #grouped}). From 0 it starts
     * afresh; from a later record it adds to what the last call found (the records before
     * {@code from}, and the seals, are the same). Returns the number of units.
     */
    private int collect(Transaction tx, int from, int end) {
        if (from == 0) {
            units = 0;
            touchCount = 0;
            byKey = null;
            for (Transaction.Seal s : tx.seals()) {
                boolean mark = s.kind() == Checksums.Kind.DIRECTORY || s.kind() == Checksums.Kind.OVERFLOW;
                if (find(s.unitStart(), mark) == NO_UNIT) {
                    add(s.kind(), s.unitStart(), mark);
                }
            }
        }
        ByteBuffer recs = tx.recordBuffer();
        for (int p = from; p < end; p += 16 + Transaction.pad8(recs.getInt(p + 8))) {
            long at = recs.getLong(p);
            long to = at + recs.getInt(p + 8);
            for (long blk = at & ~(Geometry.BLOCK_SIZE - 1L); blk < to; blk += Geometry.BLOCK_SIZE) {
                int m = find(blk, true);
                if (m != NO_UNIT) {
                    touch(m, p);
                    continue;
                }
                Checksums.Kind k = checksums.kindAt(blk);
                if (k == Checksums.Kind.BITMAP) {
                    touch(unit(k, blk), p);
                } else if (k == Checksums.Kind.INODE) {
                    long first = Math.max(at, blk);
                    long last = Math.min(to, blk + Geometry.BLOCK_SIZE) - 1;
                    for (long u = checksums.unitStart(k, first); u <= last; u += Geometry.INODE_SIZE) {
                        touch(unit(k, u), p);
                    }
                }
            }
        }
        if (units > 0) {
            groupTouches();
        }
        return units;
    }

    /** Unit {@code u}'s CRC computed over all its bytes: the media's, overlaid with its records. */
    private int full(int u, ByteBuffer recs, byte[] recordBytes) {
        int size = kinds[u].size();
        long start = starts[u];
        MemorySegment.copy(media, ValueLayout.JAVA_BYTE, start, image, 0, size);
        overlay(u, recs, recordBytes, image, start, start + size);
        return checksums.compute(kinds[u], start, image, 0);
    }

    /** Copies unit {@code u}'s records, in record order (later ones win), onto {@code into}, which holds bytes [lo, hi). */
    private void overlay(int u, ByteBuffer recs, byte[] recordBytes, byte[] into, long lo, long hi) {
        for (int t = firstOf[u]; t < firstOf[u + 1]; t++) {
            int p = grouped[t];
            long target = recs.getLong(p);
            long s = Math.max(target, lo);
            long e = Math.min(target + recs.getInt(p + 8), hi);
            if (s < e) {
                System.arraycopy(recordBytes, p + 16 + (int) (s - target), into, (int) (s - lo), (int) (e - s));
            }
        }
    }

    /**
     * What unit {@code u}'s CRC changes by ({@link Checksums#updated} from 0): XOR it into the
     * unit's stored CRC to get the new one. Reads only the span of the unit its records touch:
     * that span as the media holds it, the same overlaid with the records in order (later
     * ones win), and the difference. NO_CRC if no record touches the unit (a seal alone asks
     * for a full computation).
     */
    private long term(int u, ByteBuffer recs, byte[] recordBytes) {
        long start = starts[u];
        long end = start + kinds[u].size();
        long lo = end;
        long hi = start;
        for (int t = firstOf[u]; t < firstOf[u + 1]; t++) {
            int p = grouped[t];
            long target = recs.getLong(p);
            lo = Math.min(lo, Math.max(target, start));
            hi = Math.max(hi, Math.min(target + recs.getInt(p + 8), end));
        }
        if (lo >= hi) {
            return NO_CRC;
        }
        int n = (int) (hi - lo);
        MemorySegment.copy(media, ValueLayout.JAVA_BYTE, lo, image, 0, n);
        System.arraycopy(image, 0, after, 0, n);
        overlay(u, recs, recordBytes, after, lo, hi);
        for (int i = 0; i < n; i++) {
            after[i] ^= image[i];
        }
        return Checksums.updated(kinds[u], 0, (int) (lo - start), after, 0, n) & 0xFFFF_FFFFL;
    }

    /**
     * With {@code -Ddaxfs.verifySeals=true} (the test suites): a prepared inode CRC must equal
     * the full computation, and so must an updated block CRC whenever the block matched its
     * stored CRC before this transaction (on a damaged block they differ on purpose: the damage
     * stays detectable).
     */
    private void verify(int u, int stored, int crc, ByteBuffer recs, byte[] recordBytes) {
        int expected = full(u, recs, recordBytes);
        if (expected != crc && (kinds[u] == Checksums.Kind.INODE
                || checksums.compute(kinds[u], media, starts[u]) == stored)) {
            throw new IllegalStateException("updated checksum of the " + kinds[u] + " unit at byte " + starts[u]
                    + " is " + Integer.toHexString(crc) + ", a full computation gives " + Integer.toHexString(expected));
        }
    }

    /** Fills {@link #grouped} with the record positions of each unit, in record order, from {@link #firstOf}[unit]. */
    private void groupTouches() {
        if (firstOf.length < units + 1) {
            firstOf = new int[2 * units + 1];
        }
        if (grouped.length < touchCount / 2) {
            grouped = new int[touchCount];
        }
        Arrays.fill(firstOf, 0, units + 1, 0);
        for (int t = 0; t < touchCount; t += 2) {
            firstOf[touches[t] + 1]++;
        }
        for (int u = 0; u < units; u++) {
            firstOf[u + 1] += firstOf[u];
        }
        if (cursor.length < units) {
            cursor = new int[firstOf.length];
        }
        System.arraycopy(firstOf, 0, cursor, 0, units);
        for (int t = 0; t < touchCount; t += 2) {
            grouped[cursor[touches[t]]++] = touches[t + 1];
        }
    }

    /** The unit of {@code kind} at {@code start}, added if new (not a marked one). */
    private int unit(Checksums.Kind kind, long start) {
        int u = find(start, false);
        return u != NO_UNIT ? u : add(kind, start, false);
    }

    /** The unit at {@code start} that is marked ({@code mark}) or not, or NO_UNIT. */
    private int find(long start, boolean mark) {
        if (byKey != null) {
            Integer u = byKey.get(key(start, mark));
            return u == null ? NO_UNIT : u;
        }
        for (int u = 0; u < units; u++) {
            if (starts[u] == start && marked[u] == mark) {
                return u;
            }
        }
        return NO_UNIT;
    }

    /** Units start at multiples of 256 bytes, so the low bit can carry the mark. */
    private static long key(long start, boolean mark) {
        return mark ? start | 1 : start;
    }

    private int add(Checksums.Kind kind, long start, boolean mark) {
        if (units == starts.length) {
            kinds = Arrays.copyOf(kinds, units * 2);
            starts = Arrays.copyOf(starts, units * 2);
            marked = Arrays.copyOf(marked, units * 2);
        }
        kinds[units] = kind;
        starts[units] = start;
        marked[units] = mark;
        if (byKey == null && units == SCAN_LIMIT) {
            byKey = new java.util.HashMap<>();
            for (int u = 0; u < units; u++) {
                byKey.put(key(starts[u], marked[u]), u);
            }
        }
        if (byKey != null) {
            byKey.put(key(start, mark), units);
        }
        return units++;
    }

    private void touch(int unit, int recordPosition) {
        if (touchCount + 2 > touches.length) {
            touches = Arrays.copyOf(touches, touches.length * 2);
        }
        touches[touchCount++] = unit;
        touches[touchCount++] = recordPosition;
    }
}
