package io.daxfs.devdax;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongPredicate;

import io.daxfs.devdax.RecordingRegion.Event;
import io.daxfs.devdax.RecordingRegion.Fence;
import io.daxfs.devdax.RecordingRegion.Fill;
import io.daxfs.devdax.RecordingRegion.Flush;
import io.daxfs.devdax.RecordingRegion.Release;
import io.daxfs.devdax.RecordingRegion.Store;

/**
 * The strict persistence model: replays a {@link RecordingRegion} log over the image it
 * started from and tells, at any point of the log, which 8-byte words are durable and which
 * values every other word may hold after a power cut there. From that it builds crash states.
 *
 * <h2>The model (x86 persistent memory)</h2>
 * <ul>
 *   <li>A <em>store</em> changes the image at once (every thread, and a process crash, see it),
 *       but reaches the persistence domain only when its cache line is written back. The
 *       hardware may write a line back at any time on its own (eviction), so until the store
 *       is durable a power cut may leave it there or not.</li>
 *   <li>A store is <em>durable</em> once a write-back of its 64-byte line was issued after it
 *       ({@link Flush}: clwb/clflushopt of every line the flushed range touches) <em>and</em> a
 *       {@link Fence} (sfence) followed that write-back. A fence alone makes nothing durable;
 *       a write-back alone promises nothing until the fence.</li>
 *   <li>Failure atomicity is 8 bytes: an aligned 8-byte word is never torn; it holds, after a
 *       power cut, its durable value or one of the values it took since, each word on its own
 *       (two words of one cache line are independent here, which is more than x86 allows:
 *       the explorer errs on the side of more states).</li>
 *   <li>{@link Release} is a store of zeros that is also written back (a device region writes
 *       zeros and flushes them; an image file punches a hole): durable at the next fence.
 *       {@link Fill} is a store of its value.</li>
 * </ul>
 * How a flush becomes durable depends on the {@link PersistenceMode} the file system ran in:
 * <ul>
 *   <li>{@link PersistenceMode#CACHE_LINE_WRITEBACK} (device-DAX, MAP_SYNC): as above.</li>
 *   <li>{@link PersistenceMode#MSYNC} (a plain shared mapping of an image file): a flush is
 *       msync(MS_SYNC) of the 4 KiB pages covering the range, which returns only once those
 *       pages are on stable storage: every store in those pages is durable when the flush
 *       returns, as if each line of the pages were written back and fenced. A fence adds
 *       nothing.</li>
 *   <li>{@link PersistenceMode#FENCE_ONLY} (eADR: caches inside the persistence domain): every
 *       store before a fence is durable; flushes change nothing. (This was the only model of
 *       the crash images before: it cannot see a forgotten flush.)</li>
 * </ul>
 * {@link PersistenceMode#VOLATILE} (tmpfs) is refused: nothing there survives a power cut.
 *
 * <h2>Use</h2>
 * {@link #advanceTo} replays events up to a position; at that position {@link #durableOnly},
 * {@link #allWritten}, {@link #keepOnly}, {@link #mixed} and {@link #allCombinations} build
 * {@link CrashState}s, each the durable image with some non-durable words replaced by values
 * they held. {@link #install} puts one into the model's native image for a check (mount,
 * fsck) and takes it out again afterwards, in time proportional to what changed; {@link #image}
 * copies one out. Every state has a 128-bit {@link CrashState#fingerprint() fingerprint} of the
 * whole image, so a caller can skip images it has already checked.
 *
 * <p>Random choices are made per word from (seed, word offset) alone, never from a sequence,
 * so the same seed picks the same value for a word whatever other words are pending: a state
 * is replayed exactly from its seed even when unrelated stores (timestamps) differ between
 * runs.
 *
 * <p>Not thread safe. Close it to free the native image.
 */
public final class CrashStates implements AutoCloseable {
    public static final int WORD = 8;
    public static final int LINE = 64;
    public static final int PAGE = 4096;

    private static final ValueLayout.OfLong LONG = MediaOrder.LONG;

    private final List<? extends Event> log;
    private final PersistenceMode mode;
    private final int size;
    private final byte[] base;
    /** Every event so far applied: what a process crash (not a power cut) leaves. */
    private final byte[] latest;
    private final MemorySegment latestView;
    private final Arena arena;
    /** The durable image; states are installed into it and taken out again. */
    private final MemorySegment media;

    /** Words whose latest value is not (known to be) durable. */
    private final BitSet dirty = new BitSet();
    private int dirtyCount;
    /** Dirty words written back since their last store (their latest value becomes durable at the next fence). */
    private final BitSet writtenBack = new BitSet();
    private int[] writtenBackList = new int[64];
    private int writtenBackCount;
    /** Per dirty word: the values it took after its durable one and before its latest, oldest first. */
    private final Map<Integer, Values> older = new HashMap<>();
    /** Dirty words written back and stored again before a fence: index in {@link #older} of the value written back. */
    private final Map<Integer, Integer> writtenBackOlder = new HashMap<>();

    private int position;
    private long fingerprint1;
    private long fingerprint2;
    private Installed installed;

    /**
     * @param base the image before the first event (not modified)
     * @param log  the events, in order
     * @param mode how the file system's flushes reached the media (the mode it was told)
     */
    public CrashStates(byte[] base, List<? extends Event> log, PersistenceMode mode) {
        Objects.requireNonNull(mode, "mode");
        if (mode == PersistenceMode.VOLATILE) {
            throw new IllegalArgumentException("nothing on tmpfs survives a power cut: model the mode the file system "
                    + "would run in on persistent memory");
        }
        if (base.length % WORD != 0) {
            throw new IllegalArgumentException("the image size must be a multiple of " + WORD + ": " + base.length);
        }
        this.log = List.copyOf(log);
        this.mode = mode;
        this.size = base.length;
        this.base = base;
        this.latest = base.clone();
        this.latestView = MemorySegment.ofArray(latest);
        validate();
        this.arena = Arena.ofShared();
        this.media = arena.allocate(Math.max(size, 1), PAGE).asSlice(0, size);
        MemorySegment.copy(base, 0, media, ValueLayout.JAVA_BYTE, 0, size);
    }

    private void validate() {
        for (int i = 0; i < log.size(); i++) {
            Event e = log.get(i);
            long[] range = switch (e) {
                case Store s -> new long[] {s.offset(), s.bytes().length};
                case Fill f -> new long[] {f.offset(), f.length()};
                case Release r -> new long[] {r.offset(), r.length()};
                case Flush f -> new long[] {f.offset(), f.length()};
                case Fence f -> null;
            };
            if (range != null && (range[0] < 0 || range[1] < 0 || range[0] + range[1] > size)) {
                throw new IllegalArgumentException("event " + i + " (" + e + ") lies outside the " + size + "-byte image");
            }
        }
    }

    public PersistenceMode mode() {
        return mode;
    }

    /** Events replayed so far: a crash "at position p" happens after event p-1 and before event p. */
    public int position() {
        return position;
    }

    public int logSize() {
        return log.size();
    }

    public Event event(int index) {
        return log.get(index);
    }

    /** Words that are not durable at this position (each may or may not survive a power cut). */
    public int pendingWords() {
        return dirtyCount;
    }

    /** The durable image at this position, read-only (a state may be installed in it). */
    public MemorySegment durableView() {
        return media.asReadOnly();
    }

    /** Replays events up to {@code target} (exclusive). Positions only move forward. */
    public void advanceTo(int target) {
        if (installed != null) {
            throw new IllegalStateException("a crash state is installed");
        }
        if (target < position || target > log.size()) {
            throw new IllegalArgumentException("cannot move from position " + position + " to " + target);
        }
        while (position < target) {
            apply(log.get(position++));
        }
    }

    private void apply(Event e) {
        switch (e) {
            case Store s -> store(s.offset(), s.bytes(), s.bytes().length, (byte) 0);
            case Fill f -> store(f.offset(), null, f.length(), f.value());
            case Release r -> {
                store(r.offset(), null, r.length(), (byte) 0);
                writeBack(r.offset(), r.length());
            }
            case Flush f -> writeBack(f.offset(), f.length());
            case Fence f -> fence();
        }
    }

    // ------------------------------------------------------------------ the model

    private void store(long offset, byte[] src, long length, byte value) {
        long end = offset + length;
        for (long w = offset >>> 3; (w << 3) < end; w++) {
            long ws = w << 3;
            int s = (int) Math.max(offset, ws);
            int t = (int) Math.min(end, ws + WORD);
            long before = latestView.get(LONG, ws);
            if (src != null) {
                System.arraycopy(src, (int) (s - offset), latest, s, t - s);
            } else {
                Arrays.fill(latest, s, t, value);
            }
            long after = latestView.get(LONG, ws);
            if (before != after) {
                stored((int) w, before);
            }
        }
    }

    /** Word {@code w} changed; {@code before} was its latest value. */
    private void stored(int w, long before) {
        if (!dirty.get(w)) {
            dirty.set(w);
            dirtyCount++;
            return; // clean: before was the durable value
        }
        Values o = older.computeIfAbsent(w, k -> new Values());
        o.add(before);
        if (writtenBack.get(w)) {
            // The write-back took the value just replaced: that one becomes durable at the fence.
            writtenBack.clear(w);
            writtenBackOlder.put(w, o.size() - 1);
        }
    }

    private void writeBack(long offset, long length) {
        if (length == 0) {
            return;
        }
        switch (mode) {
            case CACHE_LINE_WRITEBACK -> {
                int from = (int) ((offset / LINE * LINE) >>> 3);
                int to = (int) ((Math.min(size, ceil(offset + length, LINE))) >>> 3);
                for (int w = dirty.nextSetBit(from); w >= 0 && w < to; w = dirty.nextSetBit(w + 1)) {
                    if (!writtenBack.get(w)) {
                        writtenBack.set(w);
                        if (writtenBackCount == writtenBackList.length) {
                            writtenBackList = Arrays.copyOf(writtenBackList, writtenBackCount * 2);
                        }
                        writtenBackList[writtenBackCount++] = w;
                    }
                }
            }
            case MSYNC -> {
                int from = (int) ((offset / PAGE * PAGE) >>> 3);
                int to = (int) ((Math.min(size, ceil(offset + length, PAGE))) >>> 3);
                for (int w = dirty.nextSetBit(from); w >= 0 && w < to; w = dirty.nextSetBit(w + 1)) {
                    makeDurable(w);
                }
            }
            default -> {
                // FENCE_ONLY: the fence alone decides
            }
        }
    }

    private void fence() {
        switch (mode) {
            case CACHE_LINE_WRITEBACK -> {
                for (int i = 0; i < writtenBackCount; i++) {
                    int w = writtenBackList[i];
                    if (writtenBack.get(w)) {
                        makeDurable(w);
                    }
                }
                writtenBackCount = 0;
                for (var e : writtenBackOlder.entrySet()) {
                    int w = e.getKey();
                    Values o = older.get(w);
                    long value = o.get(e.getValue());
                    setDurable(w, value);
                    o.dropThrough(e.getValue());
                    if (o.size() == 0) {
                        older.remove(w);
                        if (latestView.get(LONG, (long) w << 3) == value) {
                            dirty.clear(w);
                            dirtyCount--;
                        }
                    }
                }
                writtenBackOlder.clear();
            }
            case FENCE_ONLY -> {
                for (int w = dirty.nextSetBit(0); w >= 0; w = dirty.nextSetBit(w + 1)) {
                    setDurable(w, latestView.get(LONG, (long) w << 3));
                }
                dirty.clear();
                dirtyCount = 0;
                older.clear();
            }
            default -> {
                // MSYNC: msync already made its pages durable; a fence writes nothing back
            }
        }
    }

    private void makeDurable(int w) {
        setDurable(w, latestView.get(LONG, (long) w << 3));
        dirty.clear(w);
        dirtyCount--;
        writtenBack.clear(w);
        older.remove(w);
        writtenBackOlder.remove(w);
    }

    private void setDurable(int w, long value) {
        long off = (long) w << 3;
        long old = media.get(LONG, off);
        if (old != value) {
            media.set(LONG, off, value);
            fingerprint1 += h1(w, value) - h1(w, old);
            fingerprint2 += h2(w, value) - h2(w, old);
        }
    }

    private static long ceil(long value, long unit) {
        return Math.ceilDiv(value, unit) * unit;
    }

    // ------------------------------------------------------------------ states

    /** Every non-durable word lost: the image holds only what was durable. */
    public CrashState durableOnly() {
        return new Builder("durable only").build();
    }

    /** Every non-durable word at its latest value: what a process crash leaves (no power cut). */
    public CrashState allWritten() {
        return keepOnly("all written", off -> true);
    }

    /**
     * The non-durable words at byte offsets {@code kept} accepts hold their latest value, the
     * others their durable one (e.g. "only the journal's stores reached the media").
     */
    public CrashState keepOnly(String kind, LongPredicate kept) {
        Builder b = new Builder(kind);
        for (int w = dirty.nextSetBit(0); w >= 0; w = dirty.nextSetBit(w + 1)) {
            if (kept.test((long) w << 3)) {
                b.set(w, latestView.get(LONG, (long) w << 3));
            }
        }
        return b.build();
    }

    /**
     * A random state: each non-durable word, on its own, is kept with probability {@code keep}
     * and then holds one of the values it took since its durable one (chosen uniformly), else
     * its durable value. The choice for a word depends only on {@code seed} and its offset.
     */
    public CrashState mixed(String kind, long seed, double keep) {
        Builder b = new Builder(kind);
        long threshold = (long) (keep * (1L << 53));
        for (int w = dirty.nextSetBit(0); w >= 0; w = dirty.nextSetBit(w + 1)) {
            long r = mix(seed ^ mix(w * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L));
            if ((r >>> 11) >= threshold) {
                continue;
            }
            long[] c = candidates(w);
            if (c.length > 0) {
                b.set(w, c[(int) Long.remainderUnsigned(mix(r), c.length)]);
            }
        }
        return b.build();
    }

    /** The values word {@code w} may hold besides its durable one, oldest first, without repeats. */
    private long[] candidates(int w) {
        long durable = media.get(LONG, (long) w << 3);
        long last = latestView.get(LONG, (long) w << 3);
        Values o = older.get(w);
        if (o == null) {
            return last == durable ? new long[0] : new long[] {last};
        }
        long[] out = new long[o.size() + 1];
        int n = 0;
        for (int i = 0; i <= o.size(); i++) {
            long v = i < o.size() ? o.get(i) : last;
            boolean seen = v == durable;
            for (int j = 0; j < n && !seen; j++) {
                seen = out[j] == v;
            }
            if (!seen) {
                out[n++] = v;
            }
        }
        return Arrays.copyOf(out, n);
    }

    /**
     * How many distinct combinations of word values a power cut here can leave, up to
     * {@code cap} (returns {@code cap} when there are more).
     */
    public long combinations(long cap) {
        long n = 1;
        for (int w = dirty.nextSetBit(0); w >= 0 && n < cap; w = dirty.nextSetBit(w + 1)) {
            n = Math.min(cap, n * (1 + candidates(w).length));
        }
        return n;
    }

    /**
     * Every combination of word values a power cut here can leave (each non-durable word
     * lost or at any value it took), or null if there are more than {@code limit}.
     */
    public List<CrashState> allCombinations(int limit) {
        if (combinations((long) limit + 1) > limit) {
            return null;
        }
        List<Integer> words = new ArrayList<>();
        List<long[]> choices = new ArrayList<>();
        for (int w = dirty.nextSetBit(0); w >= 0; w = dirty.nextSetBit(w + 1)) {
            long[] c = candidates(w);
            if (c.length > 0) {
                words.add(w);
                choices.add(c);
            }
        }
        List<CrashState> out = new ArrayList<>();
        int[] digit = new int[words.size()]; // 0 = durable, i = choices[i-1]
        while (true) {
            Builder b = new Builder("combination " + out.size());
            for (int i = 0; i < digit.length; i++) {
                if (digit[i] > 0) {
                    b.set(words.get(i), choices.get(i)[digit[i] - 1]);
                }
            }
            out.add(b.build());
            int i = 0;
            while (i < digit.length && ++digit[i] > choices.get(i).length) {
                digit[i++] = 0;
            }
            if (i == digit.length) {
                return out;
            }
        }
    }

    /** A copy of the whole image of {@code state} (which must belong to the current position). */
    public byte[] image(CrashState state) {
        check(state);
        byte[] out = media.toArray(ValueLayout.JAVA_BYTE);
        MemorySegment view = MemorySegment.ofArray(out);
        for (int i = 0; i < state.words.length; i++) {
            view.set(LONG, (long) state.words[i] << 3, state.values[i]);
        }
        return out;
    }

    /**
     * Puts {@code state} into the model's image and hands out a region over it that a file
     * system can mount: whatever is written through that region is undone, and the state
     * taken out, when the returned handle is closed. One state at a time; the position cannot
     * move while it is installed.
     */
    public Installed install(CrashState state) {
        check(state);
        if (installed != null) {
            throw new IllegalStateException("another crash state is installed");
        }
        long[] saved = new long[state.words.length];
        for (int i = 0; i < state.words.length; i++) {
            long off = (long) state.words[i] << 3;
            saved[i] = media.get(LONG, off);
            media.set(LONG, off, state.values[i]);
        }
        installed = new Installed(state, saved, ScratchRegion.withUndo(media, mode));
        return installed;
    }

    private void check(CrashState state) {
        if (state.owner != this || state.position != position) {
            throw new IllegalArgumentException("the crash state belongs to another position or model");
        }
    }

    /** A crash state in the model's image; {@link #close()} takes it out again. */
    public final class Installed implements AutoCloseable {
        private final CrashState state;
        private final long[] saved;
        private final ScratchRegion region;

        private Installed(CrashState state, long[] saved, ScratchRegion region) {
            this.state = state;
            this.saved = saved;
            this.region = region;
        }

        public CrashState state() {
            return state;
        }

        /** The image as a region (reporting the model's mode); writes are undone at close. */
        public ScratchRegion region() {
            return region;
        }

        @Override
        public void close() {
            if (installed != this) {
                return;
            }
            region.rollback();
            region.close();
            for (int i = state.words.length - 1; i >= 0; i--) {
                media.set(LONG, (long) state.words[i] << 3, saved[i]);
            }
            installed = null;
        }
    }

    @Override
    public void close() {
        if (installed != null) {
            installed.close();
        }
        arena.close();
    }

    /**
     * One state a power cut at {@link #position()} could leave: the durable image with
     * {@link #wordsReplaced()} words holding other values they took.
     */
    public static final class CrashState {
        private final CrashStates owner;
        private final int position;
        private final String kind;
        private final int[] words;
        private final long[] values;
        private final long fingerprint1;
        private final long fingerprint2;

        private CrashState(CrashStates owner, String kind, int[] words, long[] values, long f1, long f2) {
            this.owner = owner;
            this.position = owner.position;
            this.kind = kind;
            this.words = words;
            this.values = values;
            this.fingerprint1 = f1;
            this.fingerprint2 = f2;
        }

        public int position() {
            return position;
        }

        public String kind() {
            return kind;
        }

        /** Non-durable words that hold a value other than their durable one. */
        public int wordsReplaced() {
            return words.length;
        }

        /** Byte offset of the {@code i}-th replaced word. */
        public long replacedOffset(int i) {
            return (long) words[i] << 3;
        }

        /** The low half of a 128-bit fingerprint of the whole image: equal images, equal fingerprints. */
        public long fingerprint() {
            return fingerprint1;
        }

        /** The high half of the fingerprint. */
        public long fingerprintHigh() {
            return fingerprint2;
        }

        /** E.g. "position 1234, mixed keep=0.5: 17 of 250 pending words kept". */
        public String describe() {
            return "position " + position + ", " + kind + ": " + words.length + " of " + owner.dirtyCount
                    + " pending words not at their durable value";
        }

        @Override
        public String toString() {
            return describe();
        }
    }

    private final class Builder {
        private final String kind;
        private int[] words = new int[16];
        private long[] values = new long[16];
        private int n;
        private long f1 = fingerprint1;
        private long f2 = fingerprint2;

        Builder(String kind) {
            this.kind = kind;
        }

        void set(int w, long value) {
            long durable = media.get(LONG, (long) w << 3);
            if (value == durable) {
                return;
            }
            if (n == words.length) {
                words = Arrays.copyOf(words, n * 2);
                values = Arrays.copyOf(values, n * 2);
            }
            words[n] = w;
            values[n++] = value;
            f1 += h1(w, value) - h1(w, durable);
            f2 += h2(w, value) - h2(w, durable);
        }

        CrashState build() {
            return new CrashState(CrashStates.this, kind, Arrays.copyOf(words, n), Arrays.copyOf(values, n), f1, f2);
        }
    }

    /** Values of one word, oldest first, with a cheap drop of the oldest. */
    private static final class Values {
        private long[] v = new long[4];
        private int start;
        private int end;

        void add(long value) {
            if (end == v.length) {
                v = start > 0 ? Arrays.copyOfRange(v, start, Math.max(end, start + v.length)) : Arrays.copyOf(v, end * 2);
                end -= start;
                start = 0;
            }
            v[end++] = value;
        }

        int size() {
            return end - start;
        }

        long get(int i) {
            return v[start + i];
        }

        /** Drops values 0..i. */
        void dropThrough(int i) {
            start += i + 1;
        }
    }

    // ------------------------------------------------------------------ hashing

    private static long h1(int w, long value) {
        return mix(value * 0x9E3779B97F4A7C15L + w * 0xC2B2AE3D27D4EB4FL + 0x165667B19E3779F9L);
    }

    private static long h2(int w, long value) {
        return mix(value * 0xD6E8FEB86659FD93L ^ (w * 0xFF51AFD7ED558CCDL + 0x27D4EB2F165667C5L));
    }

    /** The splitmix64 finalizer. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
