package io.daxfs.core;

import io.daxfs.core.RecordedWorkload.Entry;
import io.daxfs.core.RecordedWorkload.Full;
import io.daxfs.core.RecordedWorkload.Names;
import io.daxfs.core.RecordedWorkload.Op;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.journal.Journal;
import io.daxfs.devdax.MediaOrder;
import io.daxfs.devdax.CrashStates;
import io.daxfs.devdax.CrashStates.CrashState;
import io.daxfs.devdax.PmemRegion;
import io.daxfs.devdax.RecordingRegion;
import io.daxfs.devdax.ScratchRegion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongPredicate;

/**
 * The strict crash explorer: for a recorded workload ({@link RecordedWorkload}), builds the
 * states a power cut could leave under the strict persistence model ({@link CrashStates}) at
 * many points of its log, recovers each (mounts it in-process: journal replay, orphans), checks
 * it with fsck and compares what it shows with what had been promised at that point.
 *
 * <h2>Crash points</h2>
 * Every fence (just before it and just after it), the start and the return of every
 * operation, one position chosen at random inside every stretch between two fences, and (in
 * msync mode) every flush.
 *
 * <h2>States at a point</h2>
 * Every non-durable word lost ("durable only"); every one kept ("all written": what a process
 * crash leaves); if the pending words allow at most {@value #ENUMERATE} combinations, all of
 * them; otherwise the stores of one region only (the journal, everything but the journal, the
 * other metadata, the data blocks) and random mixes in which each pending word is kept with
 * probability 0.5, 0.15 or 0.85 and then holds any value it took. The number of mixes adapts to
 * reach the workload's target number of states. An image already checked (same 128-bit
 * fingerprint) is not mounted again, only compared with the promises of the new point.
 *
 * <h2>Crashes during recovery</h2>
 * For one in 16 images (by default) on which recovery has work to do (a
 * committed transaction to replay, orphans to free), the recovery itself is recorded and a
 * power cut is simulated at each of its fences and at its end (durable only, all written, one
 * mix); each of those is recovered again and held to the same promises.
 *
 * <h2>The oracle</h2>
 * See {@link RecordedWorkload}: a namespace operation in flight shows all or nothing of its
 * effect, a returned one all of it; an inode's attributes (and size) are those the last
 * returned operation on it left, or those of one in flight; each byte of a file shows a value
 * it had since the file's last durable point (the start, or a returned fsync), never from
 * before a point where the byte lay past the end of file. Besides: fsck clean after recovery
 * (and before it, for one in 8 images that need recovery), space accounted for, and new work
 * (a file written and deleted) goes through.
 */
public final class CrashExplorer {
    /** At most this many combinations are enumerated at a point instead of sampled. */
    static final int ENUMERATE = 32;
    private static final double[] KEEP = {0.5, 0.15, 0.85};
    private static final int FAILURES_KEPT = 5;
    /** fsck before recovery runs on one in this many images that recovery changes ({@code -Ddaxfs.crash.fsckBeforeEvery}). */
    static final int FSCK_BEFORE_EVERY = Integer.getInteger("daxfs.crash.fsckBeforeEvery", 8);
    /** Crashes during recovery are explored for one in this many images that recovery changes ({@code -Ddaxfs.crash.recoveryEvery}). */
    static final int RECOVERY_CRASH_EVERY = Integer.getInteger("daxfs.crash.recoveryEvery", 16);
    /** At most this many random mixes at one point. */
    private static final int MAX_MIXES = 1024;

    /** What an exploration found. */
    public record Result(String workload, int operations, int events, int fences, int points, long states, long checks,
                         long recoveryCrashStates, long inconsistent, List<String> failures, long millis) {
        public String line() {
            return String.format("crash explorer: %s: %d crash states (%d points, %d checks; %d operations, %d events, "
                    + "%d fences; %d more from crashes during recovery), %d inconsistent, %.1f s", workload, states, points,
                    checks, operations, events, fences, recoveryCrashStates, inconsistent, millis / 1000.0);
        }
    }

    private record Fingerprint(long low, long high) {
    }

    /** What recovering one image showed: the state, or why it is inconsistent in itself. */
    private record Observation(Full seen, String problem, List<Full> afterCrashesDuringRecovery) {
    }

    private final RecordedWorkload w;
    private final long seed;
    private final int target;
    private final boolean probe;
    private final List<Op> ops;
    private final Map<Fingerprint, Observation> seenImages = new HashMap<>();
    private final Set<Fingerprint> failed = new HashSet<>();
    private final List<String> failures = new ArrayList<>();
    private final Map<Object, Object> canon = new HashMap<>();
    private final int[] fencesBefore;
    private long checks;
    private long recoveryImages;
    private long recoveryCrashStates;
    private long generated;
    /** Nanoseconds spent per step of a check, for -Ddaxfs.crash.timing=true. */
    private final long[] nanos = new long[8];
    private static final String[] STEPS = {"generate", "fsck before", "mount", "observe", "space", "fsck after", "probe", "compare"};
    private static final boolean TIMING = Boolean.getBoolean("daxfs.crash.timing");

    private CrashExplorer(RecordedWorkload w, long seed, int target, boolean probe) {
        this.w = w;
        this.seed = seed ^ CrashStatesMix.mix(w.name().hashCode());
        this.target = target;
        this.probe = probe;
        this.ops = w.ops();
        List<RecordingRegion.Event> log = w.log();
        fencesBefore = new int[log.size() + 1];
        for (int i = 0; i < log.size(); i++) {
            fencesBefore[i + 1] = fencesBefore[i] + (log.get(i) instanceof RecordingRegion.Fence ? 1 : 0);
        }
        // Expected values are the canonical copies, so observations that match share them.
        for (List<Entry> h : w.history().values()) {
            for (Entry e : h) {
                if (e.content() != null) {
                    canon.putIfAbsent(new ByteContent(e.content()), e.content());
                }
                canon.putIfAbsent(e.attrs(), e.attrs());
            }
        }
        for (Full f : w.fulls()) {
            canon.putIfAbsent(f.names(), f.names());
        }
        for (Op op : ops) {
            if (op.namespace()) {
                for (Full f : w.around(op.index())) {
                    canon.putIfAbsent(f.names(), f.names());
                }
            }
        }
    }

    /**
     * Explores {@code w} (stopped) aiming at about {@code targetStates} distinct crash states,
     * with random choices from {@code seed}. {@code probe}: write and delete a file in each
     * recovered state.
     */
    public static Result explore(RecordedWorkload w, int targetStates, long seed, boolean probe) {
        return new CrashExplorer(w, seed, targetStates, probe).run();
    }

    private Result run() {
        long t0 = System.nanoTime();
        List<RecordingRegion.Event> log = w.log();
        TreeMap<Integer, String> points = points(log);
        Geometry g = w.geometry();
        long journalLo = g.journalOffset();
        long journalHi = journalLo + g.journalBytes();
        long dataLo = g.dataStart() * Geometry.BLOCK_SIZE;
        LongPredicate journal = off -> off >= journalLo && off < journalHi;
        LongPredicate data = off -> off >= dataLo;
        int done = 0;
        try (CrashStates model = new CrashStates(w.base(), log, w.mode())) {
            for (var point : points.entrySet()) {
                int p = point.getKey();
                model.advanceTo(p);
                String label = label(p, point.getValue());
                long pointSeed = CrashStatesMix.mix(seed ^ CrashStatesMix.mix(labelKey(p, point.getValue())));
                long g0 = System.nanoTime();
                List<CrashState> states = new ArrayList<>();
                states.add(model.durableOnly());
                states.add(model.allWritten());
                List<CrashState> all = model.allCombinations(ENUMERATE);
                if (all != null) {
                    states.addAll(all);
                } else {
                    states.add(model.keepOnly("journal only", journal));
                    states.add(model.keepOnly("all but the journal", journal.negate()));
                    states.add(model.keepOnly("metadata only", off -> !journal.test(off) && !data.test(off)));
                    states.add(model.keepOnly("data only", data));
                    // Enough random mixes to reach the target: what is still wanted per point,
                    // divided by the share of states so far that were new images.
                    double wanted = (double) (target - seenImages.size()) / (points.size() - done);
                    double yield = Math.max(0.2, (double) seenImages.size() / Math.max(1, generated));
                    int mixes = (int) Math.max(1, Math.min(MAX_MIXES, Math.round(wanted / yield) - 6));
                    for (int m = 0; m < mixes; m++) {
                        double keep = KEEP[m % KEEP.length];
                        states.add(model.mixed("mix " + m + " keep=" + keep, pointSeed + m, keep));
                    }
                }
                nanos[0] += System.nanoTime() - g0;
                generated += states.size();
                for (CrashState s : states) {
                    check(model, s, p, label);
                }
                done++;
            }
        }
        if (TIMING) {
            StringBuilder b = new StringBuilder(w.name() + " timing:");
            for (int i = 0; i < STEPS.length; i++) {
                b.append(String.format(" %s %.1f s", STEPS[i], nanos[i] / 1e9));
            }
            System.out.println(b);
        }
        return new Result(w.name(), ops.size(), log.size(), fencesBefore[log.size()], points.size(), seenImages.size(), checks,
                recoveryCrashStates, failed.size(), List.copyOf(failures), (System.nanoTime() - t0) / 1_000_000);
    }

    /** Position -> why it is a crash point. */
    private TreeMap<Integer, String> points(List<RecordingRegion.Event> log) {
        TreeMap<Integer, String> points = new TreeMap<>();
        points.put(0, "start of the log");
        points.put(log.size(), "end of the log");
        for (Op op : ops) {
            points.putIfAbsent(op.start(), "'" + op.name() + "' begins");
            points.put(op.end(), "'" + op.name() + "' returned");
        }
        int epochStart = 0;
        int epoch = 0;
        for (int i = 0; i <= log.size(); i++) {
            boolean fence = i < log.size() && log.get(i) instanceof RecordingRegion.Fence;
            if (i < log.size() && !fence) {
                if (w.mode() == io.daxfs.devdax.PersistenceMode.MSYNC && log.get(i) instanceof RecordingRegion.Flush) {
                    points.putIfAbsent(i + 1, "after an msync");
                }
                continue;
            }
            if (i - epochStart >= 2) {
                long r = CrashStatesMix.mix(seed ^ (epoch * 0x9E3779B97F4A7C15L));
                int inside = epochStart + 1 + (int) Long.remainderUnsigned(r, i - epochStart - 1);
                points.putIfAbsent(inside, "between fences");
            }
            if (fence) {
                points.putIfAbsent(i, "before a fence");
                points.putIfAbsent(i + 1, "after a fence");
            }
            epochStart = i + 1;
            epoch++;
        }
        return points;
    }

    /** The last operation begun at or before position p. */
    private Op opAt(int p) {
        Op best = ops.getFirst();
        for (Op op : ops) {
            if (op.start() < p && op.start() >= best.start()) {
                best = op;
            }
        }
        return best;
    }

    private String label(int p, String why) {
        Op op = opAt(p);
        List<String> flying = new ArrayList<>();
        for (Op o : ops) {
            if (o.inFlightAt(p)) {
                flying.add("'" + o.name() + "'");
            }
        }
        return "position " + p + " (" + why + "; fence " + (fencesBefore[p] - fencesBefore[op.start()]) + " of op "
                + op.index() + " '" + op.name() + "'; in flight: " + (flying.isEmpty() ? "nothing" : String.join(", ", flying))
                + ")";
    }

    /** A key of the point that survives small differences between runs (timestamp stores): op, fences since its start, reason. */
    private long labelKey(int p, String why) {
        Op op = opAt(p);
        return op.index() * 0x100000001B3L + (fencesBefore[p] - fencesBefore[op.start()]) * 31L + why.hashCode();
    }

    private void check(CrashStates model, CrashState s, int p, String label) {
        checks++;
        Fingerprint fp = new Fingerprint(s.fingerprint(), s.fingerprintHigh());
        Observation o = seenImages.get(fp);
        if (o == null) {
            o = observe(model, s);
            seenImages.put(fp, o);
        }
        long c0 = System.nanoTime();
        String problem = o.problem != null ? o.problem : compare(o.seen, p);
        for (int i = 0; problem == null && i < o.afterCrashesDuringRecovery.size(); i++) {
            String bad = compare(o.afterCrashesDuringRecovery.get(i), p);
            if (bad != null) {
                problem = "recovered after a crash during its recovery: " + bad;
            }
        }
        nanos[7] += System.nanoTime() - c0;
        if (problem != null && failed.add(fp) && failures.size() < FAILURES_KEPT) {
            failures.add(w.name() + ": crash at " + label + ", state " + s.describe() + ": " + problem);
        }
    }

    private Observation observe(CrashStates model, CrashState s) {
        try (CrashStates.Installed in = model.install(s)) {
            ScratchRegion region = in.region();
            // Recovery has work to do: replay a pending transaction, free orphans.
            boolean recoveryWorks = Journal.inspect(region.readView(), w.geometry()) != null
                    || region.readView().get(MediaOrder.LONG, w.geometry().journalOffset() + 16) != 0; // Orphans.headOffset
            long n = recoveryWorks ? recoveryImages++ : -1;
            List<Full> nested = List.of();
            if (recoveryWorks && n % RECOVERY_CRASH_EVERY == 0) {
                Object r = crashesDuringRecovery(region);
                if (r instanceof String problem) {
                    return new Observation(null, problem, List.of());
                }
                @SuppressWarnings("unchecked")
                List<Full> seen = (List<Full>) r;
                nested = seen;
            }
            // fsck before recovery checks fsck's own view of what recovery will do (its replay
            // of a pending transaction, the orphans it will free); with neither it would see the
            // image the check after recovery sees. It copies the whole device when a transaction
            // is pending, so it runs on every FSCK_BEFORE_EVERY-th such image.
            Observation o = recover(region, recoveryWorks && n % FSCK_BEFORE_EVERY == 0, probe);
            return new Observation(o.seen, o.problem, nested);
        }
    }

    /** Recovers (mounts) the image in {@code region} and checks it: fsck, space, new work. */
    private Observation recover(PmemRegion region, boolean fsckBefore, boolean probeIt) {
        long t = System.nanoTime();
        if (fsckBefore) {
            FsckReport before = FsChecker.check(region.readView());
            if (!before.clean()) {
                return new Observation(null, "fsck before recovery:\n" + before.render(), List.of());
            }
        }
        t = lap(1, t);
        DaxFileSystem fs;
        try {
            fs = DaxFileSystem.mount(region);
        } catch (RuntimeException e) {
            return new Observation(null, "mount failed: " + e, List.of());
        }
        t = lap(2, t);
        try {
            Full seen = RecordedWorkload.observe(fs, -1, this::canonical);
            seen = new Full(-1, canonical(seen.names()), canonicalAttrs(seen.attrs()), seen.contents());
            t = lap(3, t);
            FsSnapshot.assertSpaceAccounted(fs);
            t = lap(4, t);
            FsckReport after = FsChecker.check(region.readView());
            t = lap(5, t);
            if (!after.clean()) {
                return new Observation(null, "fsck after recovery:\n" + after.render(), List.of());
            }
            if (probeIt) {
                long free = fs.statfs().freeBlocks();
                long ino = fs.create(DaxFileSystem.ROOT, "crash-explorer-probe", 0644, 0, 0);
                TestDevice.write(fs, ino, 0, TestDevice.pattern(104, 0, 9000));
                fs.unlink(DaxFileSystem.ROOT, "crash-explorer-probe");
                if (fs.statfs().freeBlocks() < free - 1) { // the root may have grown by a directory block
                    return new Observation(null, "new work leaked blocks: " + free + " free before, "
                            + fs.statfs().freeBlocks() + " after", List.of());
                }
            }
            fs.close();
            lap(6, t);
            return new Observation(seen, null, List.of());
        } catch (RuntimeException | AssertionError e) {
            return new Observation(null, "recovered file system misbehaves: " + e, List.of());
        }
    }

    /**
     * Crashes during recovery: records the recovery of the image in {@code region}, and
     * recovers again from the states a power cut at each of its fences (and at its end) could
     * leave - durable only, all written, a random mix. Returns what each showed (to be held to
     * the same promises as the image itself), or a String: the first problem. Leaves
     * {@code region} as it found it.
     */
    private Object crashesDuringRecovery(ScratchRegion region) {
        RecordingRegion rec = new RecordingRegion(region, w.mode());
        byte[] base = rec.snapshot();
        try {
            DaxFileSystem.mount(rec).close();
        } catch (RuntimeException e) {
            region.rollback();
            return "mount failed: " + e;
        }
        List<RecordingRegion.Event> log = rec.events();
        region.rollback();
        List<Full> seen = new ArrayList<>();
        Set<Fingerprint> done = new HashSet<>();
        try (CrashStates m = new CrashStates(base, log, w.mode())) {
            List<Integer> points = new ArrayList<>();
            for (int i = 0; i < log.size(); i++) {
                if (log.get(i) instanceof RecordingRegion.Fence) {
                    points.add(i);
                }
            }
            points.add(log.size());
            for (int p : points) {
                m.advanceTo(p);
                for (CrashState s : List.of(m.durableOnly(), m.allWritten(), m.mixed("mix", seed ^ p, 0.5))) {
                    if (!done.add(new Fingerprint(s.fingerprint(), s.fingerprintHigh()))) {
                        continue;
                    }
                    recoveryCrashStates++;
                    try (CrashStates.Installed in = m.install(s)) {
                        Observation o = recover(in.region(), false, false);
                        if (o.problem != null) {
                            return "a crash during its recovery (at position " + p + " of the " + log.size()
                                    + " events of recovery, " + s.describe() + ") leaves: " + o.problem;
                        }
                        seen.add(o.seen);
                    }
                }
            }
        }
        return seen;
    }

    private long lap(int step, long since) {
        long now = System.nanoTime();
        nanos[step] += now - since;
        return now;
    }

    @SuppressWarnings("unchecked")
    private <T> T canonical(T value) {
        Object key = value instanceof byte[] b ? new ByteContent(b) : value;
        Object c = canon.get(key);
        if (c == null) {
            canon.put(key, value);
            return value;
        }
        return (T) c;
    }

    private Map<Long, String> canonicalAttrs(Map<Long, String> attrs) {
        Map<Long, String> out = new HashMap<>(attrs.size() * 2);
        attrs.forEach((k, v) -> out.put(k, canonical(v)));
        return out;
    }

    // ------------------------------------------------------------------ the oracle

    /** Null if {@code seen} keeps every promise made by position {@code p}, else what it breaks. */
    String compare(Full seen, int p) {
        Op namespaceOp = null;
        for (Op op : ops) {
            if (op.namespace() && op.inFlightAt(p)) {
                namespaceOp = op;
            }
        }
        if (namespaceOp != null) {
            Full[] around = w.around(namespaceOp.index());
            if (!sameTree(seen, around[0]) && !sameTree(seen, around[1])) {
                return "'" + namespaceOp.name() + "' was in flight, but the state is neither before it ("
                        + treeDiff(seen, around[0]) + ") nor after it (" + treeDiff(seen, around[1]) + ")";
            }
        } else {
            Full last = null;
            for (Full f : w.fulls()) {
                if (f.at() <= p) {
                    last = f;
                }
            }
            if (!seen.names().equals(last.names())) {
                return "the names differ from those after the last namespace operation: " + namesDiff(seen.names(), last.names());
            }
            for (var e : seen.attrs().entrySet()) {
                List<Entry> allowed = allowedEntries(e.getKey(), p);
                if (allowed.stream().noneMatch(x -> x.attrs().equals(e.getValue()))) {
                    return "inode " + e.getKey() + " (" + pathOf(seen, e.getKey()) + ") shows [" + e.getValue()
                            + "], promised: " + allowed.stream().map(x -> "[" + x.attrs() + "] by '"
                            + (x.op() < 0 ? "start" : ops.get(x.op()).name()) + "'").toList();
                }
            }
        }
        for (var e : seen.contents().entrySet()) {
            String bad = checkContent(e.getKey(), e.getValue(), p);
            if (bad != null) {
                return "inode " + e.getKey() + " (" + pathOf(seen, e.getKey()) + "): " + bad;
            }
        }
        return null;
    }

    private static boolean sameTree(Full seen, Full expected) {
        if (!seen.names().equals(expected.names())) {
            return false;
        }
        for (var e : seen.attrs().entrySet()) {
            if (!e.getValue().equals(expected.attrs().get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    private static String treeDiff(Full seen, Full expected) {
        if (!seen.names().equals(expected.names())) {
            return "names: " + namesDiff(seen.names(), expected.names());
        }
        for (var e : seen.attrs().entrySet()) {
            String want = expected.attrs().get(e.getKey());
            if (!e.getValue().equals(want)) {
                return "inode " + e.getKey() + " shows [" + e.getValue() + "], expected [" + want + "]";
            }
        }
        return null;
    }

    /** The last entry of the inode at or before p, and the one after it if its operation is in flight. */
    private List<Entry> allowedEntries(long ino, int p) {
        List<Entry> h = w.history().get(ino);
        if (h == null) {
            return List.of();
        }
        int last = lastAtOrBefore(h, p);
        List<Entry> out = new ArrayList<>(2);
        if (last >= 0) {
            out.add(h.get(last));
        }
        Entry next = last + 1 < h.size() ? h.get(last + 1) : null;
        if (next != null && next.op() >= 0 && ops.get(next.op()).inFlightAt(p)) {
            out.add(next);
        }
        return out;
    }

    private static int lastAtOrBefore(List<Entry> h, int p) {
        int lo = 0;
        int hi = h.size() - 1;
        int best = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (h.get(mid).at() <= p) {
                best = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return best;
    }

    /**
     * Each byte must be a value the file held since its last durable point, and never one from
     * before a state in which the byte lay past the end of file (bytes read past the end are
     * zeros, and growth zeroes them); an operation in flight may have left its own values.
     */
    private String checkContent(long ino, byte[] got, int p) {
        List<Entry> h = w.history().get(ino);
        if (h == null) {
            return "an inode the workload never had";
        }
        int last = lastAtOrBefore(h, p);
        Entry next = last + 1 < h.size() ? h.get(last + 1) : null;
        if (next != null && (next.op() < 0 || !ops.get(next.op()).inFlightAt(p))) {
            next = null;
        }
        if (last >= 0 && Arrays.equals(got, h.get(last).content()) || next != null && Arrays.equals(got, next.content())) {
            return null;
        }
        int durable = 0;
        for (int k = last; k >= 0; k--) {
            if (h.get(k).durable()) {
                durable = k;
                break;
            }
        }
        for (int i = 0; i < got.length; i++) {
            boolean ok = false;
            for (int k = last; k >= durable && !ok; k--) {
                Entry e = h.get(k);
                ok = byteAt(e, i) == got[i];
                if (e.length() <= i) {
                    break;
                }
            }
            if (!ok && next != null) {
                ok = byteAt(next, i) == got[i];
            }
            if (!ok) {
                StringBuilder allowed = new StringBuilder();
                for (int k = last; k >= durable; k--) {
                    Entry e = h.get(k);
                    allowed.append(String.format(" 0x%02x (after '%s')", byteAt(e, i), e.op() < 0 ? "start" : ops.get(e.op()).name()));
                    if (e.length() <= i) {
                        break;
                    }
                }
                if (next != null) {
                    allowed.append(String.format(" 0x%02x (in flight: '%s')", byteAt(next, i), ops.get(next.op()).name()));
                }
                return String.format("byte %d of %d reads 0x%02x; allowed:%s", i, got.length, got[i], allowed);
            }
        }
        return null;
    }

    private static byte byteAt(Entry e, int i) {
        return i < e.length() ? e.content()[i] : 0;
    }

    private static String pathOf(Full f, long ino) {
        for (int i = 0; i < f.names().inos().length; i++) {
            if (f.names().inos()[i] == ino) {
                return f.names().paths()[i];
            }
        }
        return "no name";
    }

    private static String namesDiff(Names got, Names want) {
        TreeMap<String, Long> a = new TreeMap<>();
        TreeMap<String, Long> b = new TreeMap<>();
        for (int i = 0; i < got.paths().length; i++) {
            a.put(got.paths()[i], got.inos()[i]);
        }
        for (int i = 0; i < want.paths().length; i++) {
            b.put(want.paths()[i], want.inos()[i]);
        }
        List<String> diff = new ArrayList<>();
        for (var e : a.entrySet()) {
            Long x = b.get(e.getKey());
            if (!e.getValue().equals(x)) {
                diff.add(e.getKey() + "=" + e.getValue() + (x == null ? " (unexpected)" : " (expected " + x + ")"));
            }
        }
        for (var e : b.entrySet()) {
            if (!a.containsKey(e.getKey())) {
                diff.add(e.getKey() + " missing");
            }
        }
        return diff.size() > 12 ? diff.subList(0, 12) + "... (" + diff.size() + " differences)" : diff.toString();
    }

    /** splitmix64, as devdax's CrashStates uses. */
    static final class CrashStatesMix {
        static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }
    }
}
