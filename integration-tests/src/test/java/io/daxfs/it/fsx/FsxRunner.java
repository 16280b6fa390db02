package io.daxfs.it.fsx;

import io.daxfs.it.Posix;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A model-based random tester of one file, in the manner of fsx: a seeded generator makes
 * operations (reads, writes, truncates, the fallocate modes, mmap reads and writes, fsync,
 * reopen and full-file checks), each runs against the real file and against a {@link FsxModel},
 * and every read, every mmap read, the size after every operation and the whole file at each
 * {@code check} op must agree with the model. Plain I/O goes through java.lang.foreign
 * downcalls in this process; mmap ops go through a long-lived {@link FsxMmapHelper} child
 * process, so that mapped access meets the other process's I/O in the page cache.
 *
 * <p>The op sequence depends only on the seed, the op count, the maximum size and the check
 * interval (the generator consults its own model, never the real file), so it can be
 * regenerated after a failure instead of being kept in memory.
 *
 * <p>On the first mismatch the runner shrinks the sequence that led to it (see
 * {@link #shrink}), prints a report with the seed, the index of the failing op, the first
 * differing byte and the minimal op log, and writes the report to
 * {@code REPORTDIR/fsx-failure-SEED.txt}. That file replays: its op lines are read by
 * {@code FsxRunner --replay FILE DIR} or by {@code FsxTest} with {@code -Ddaxfs.fsx.replay=FILE}.
 * A replay runs the ops on a fresh file and ends with a full-file compare.
 *
 * <pre>
 * FsxRunner --replay LOG DIR                    replays LOG on a fresh file in DIR (on a daxfs mount); exit 1 on a mismatch
 * FsxRunner --seed N --ops M [--max BYTES] DIR  runs M random ops on a fresh file in DIR
 * </pre>
 */
public final class FsxRunner {
    static final long DEFAULT_MAX_SIZE = 4L << 20;
    static final int DEFAULT_CHECK_EVERY = 500;
    private static final long HELPER_TIMEOUT_SECONDS = 120;

    private final Path dir;
    private final String name;
    private final long maxSize;
    private final int checkEvery;
    private final long shrinkNanos;
    private final Path reportDir;
    private final PrintStream out;
    private int replays;

    /**
     * @param dir where the test file ({@code name}) and the shrinker's fresh files are made
     * @param shrinkSeconds time bound of the shrinking after a failure
     * @param reportDir where fsx-failure-SEED.txt goes
     */
    FsxRunner(Path dir, String name, long maxSize, int checkEvery, long shrinkSeconds, Path reportDir, PrintStream out) {
        this.dir = dir;
        this.name = name;
        this.maxSize = maxSize;
        this.checkEvery = checkEvery;
        this.shrinkNanos = TimeUnit.SECONDS.toNanos(shrinkSeconds);
        this.reportDir = reportDir;
        this.out = out;
    }

    /** What a run found. {@code report} is null when all ops agreed with the model. */
    record Outcome(long seed, long opsRun, Map<FsxOp.Type, Long> counts, long nanos, Mismatch mismatch,
            List<FsxOp> minimal, String report, Path reportFile) {
        boolean ok() {
            return mismatch == null;
        }
    }

    /** The real file disagreed with the model (or an operation failed) at op {@code index}. */
    static final class Mismatch extends Exception {
        final long index;
        final FsxOp op;

        Mismatch(long index, FsxOp op, String detail) {
            super("op " + index + " (" + op + "): " + detail);
            this.index = index;
            this.op = op;
        }
    }

    // ---------------------------------------------------------------- generation

    /** Makes the op sequence of a seed; it keeps a model of its own to aim at the current size. */
    static final class Generator {
        private final Random rnd;
        private final long count;
        private final long maxSize;
        private final int checkEvery;
        private final FsxModel model = new FsxModel();
        private long index;

        Generator(long seed, long count, long maxSize, int checkEvery) {
            this.rnd = new Random(seed);
            this.count = count;
            this.maxSize = maxSize;
            this.checkEvery = checkEvery;
        }

        boolean hasNext() {
            return index < count;
        }

        FsxOp next() {
            long i = index++;
            FsxOp op;
            if (i == count - 1 || (checkEvery > 0 && i % checkEvery == checkEvery - 1)) {
                op = new FsxOp(FsxOp.Type.CHECK, 0, 0, 0);
            } else {
                op = make(pick());
            }
            applyToModel(model, op);
            return op;
        }

        private FsxOp.Type pick() {
            int p = rnd.nextInt(100);
            // cumulative weights: read 17, write 24, mmap read 8, mmap write 8, truncate 6, fallocate 5,
            // fallocate keep-size 4, punch 10, zero range 6, zero range keep-size 5, fsync 3, reopen 4
            int[] bounds = {17, 41, 49, 57, 63, 68, 72, 82, 88, 93, 96, 100};
            FsxOp.Type[] types = {FsxOp.Type.READ, FsxOp.Type.WRITE, FsxOp.Type.MMAP_READ, FsxOp.Type.MMAP_WRITE,
                    FsxOp.Type.TRUNCATE, FsxOp.Type.FALLOCATE, FsxOp.Type.FALLOCATE_KEEP_SIZE, FsxOp.Type.PUNCH_HOLE,
                    FsxOp.Type.ZERO_RANGE, FsxOp.Type.ZERO_RANGE_KEEP_SIZE, FsxOp.Type.FSYNC, FsxOp.Type.REOPEN};
            for (int k = 0; k < bounds.length; k++) {
                if (p < bounds[k]) {
                    return types[k];
                }
            }
            throw new AssertionError();
        }

        private FsxOp make(FsxOp.Type t) {
            long size = model.size();
            return switch (t) {
                case READ, WRITE -> ranged(t, offset(size), ioLength(), t == FsxOp.Type.WRITE ? rnd.nextLong() : 0);
                case MMAP_READ, MMAP_WRITE -> {
                    // within the size (normalized again when run: see FsxOp.mmapRange)
                    long off = size == 0 ? 0
                            : rnd.nextInt(4) == 0 ? Math.max(0, size - 1 - rnd.nextInt(8192)) : nextLong(size);
                    yield new FsxOp(t, off, ioLength(), t == FsxOp.Type.MMAP_WRITE ? rnd.nextLong() : 0);
                }
                case TRUNCATE -> new FsxOp(t, newSize(size), 0, 0);
                case FALLOCATE, FALLOCATE_KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE, ZERO_RANGE_KEEP_SIZE ->
                        ranged(t, offset(size), rangeLength(), 0);
                case FSYNC, REOPEN, CHECK -> new FsxOp(t, 0, 0, 0);
            };
        }

        private FsxOp ranged(FsxOp.Type t, long off, long len, long seed) {
            off = Math.min(off, maxSize - 1);
            len = Math.max(1, Math.min(len, maxSize - off));
            return new FsxOp(t, off, len, seed);
        }

        /** Unaligned mostly; within the file, near its end, just past it, or anywhere. */
        private long offset(long size) {
            long off = switch (rnd.nextInt(10)) {
                case 0, 1, 2, 3 -> size > 0 ? nextLong(size) : 0;
                case 4, 5 -> Math.max(0, size - 1 - rnd.nextInt(16384));
                case 6 -> size + rnd.nextInt(65536);
                default -> nextLong(maxSize);
            };
            if (rnd.nextInt(8) == 0) {
                off &= -Posix.PAGE;
            }
            return off;
        }

        /** Small and medium: up to 64 KiB, sometimes a whole number of pages. */
        private long ioLength() {
            int p = rnd.nextInt(100);
            long len = p < 45 ? 1 + rnd.nextInt(512) : p < 85 ? 1 + rnd.nextInt(8192) : 1 + rnd.nextInt(65536);
            if (rnd.nextInt(8) == 0) {
                len = (len + Posix.PAGE - 1) & -Posix.PAGE;
            }
            return len;
        }

        /** Ranges for fallocate, punch and zero: like I/O, sometimes up to 2.5 MiB (whole 2 MiB blocks). */
        private long rangeLength() {
            return rnd.nextInt(10) == 0 ? 1 + rnd.nextInt(5 << 19) : ioLength();
        }

        private long newSize(long size) {
            long s = switch (rnd.nextInt(10)) {
                case 0 -> 0;
                case 1, 2, 3 -> nextLong(size + 1);
                case 4, 5 -> Math.max(0, size - 4096 + rnd.nextInt(8193));
                case 6, 7, 8 -> nextLong(maxSize + 1);
                default -> nextLong(maxSize + 1) & -Posix.PAGE;
            };
            return Math.min(s, maxSize);
        }

        private long nextLong(long bound) {
            return bound <= 0 ? 0 : (long) (rnd.nextDouble() * bound);
        }
    }

    /** What an op does to the model (nothing for reads, fsync, reopen and checks). */
    static void applyToModel(FsxModel m, FsxOp op) {
        switch (op.type()) {
            case WRITE -> m.write(op.offset(), FsxOp.data(op.seed(), (int) op.length()));
            case MMAP_WRITE -> {
                long[] r = op.mmapRange(m.size());
                if (r != null) {
                    m.mmapWrite(r[0], FsxOp.data(op.seed(), (int) r[1]));
                }
            }
            case TRUNCATE -> m.truncate(op.offset());
            case FALLOCATE -> m.fallocate(op.offset(), op.length(), false);
            case FALLOCATE_KEEP_SIZE -> m.fallocate(op.offset(), op.length(), true);
            case PUNCH_HOLE -> m.punchHole(op.offset(), op.length());
            case ZERO_RANGE -> m.zeroRange(op.offset(), op.length(), false);
            case ZERO_RANGE_KEEP_SIZE -> m.zeroRange(op.offset(), op.length(), true);
            case READ, MMAP_READ, FSYNC, REOPEN, CHECK -> {
            }
        }
    }

    /** The first {@code n} ops of a seed's sequence. */
    List<FsxOp> regenerate(long seed, long count, long n) {
        Generator g = new Generator(seed, count, maxSize, checkEvery);
        List<FsxOp> ops = new ArrayList<>();
        for (long i = 0; i < n && g.hasNext(); i++) {
            ops.add(g.next());
        }
        return ops;
    }

    // ---------------------------------------------------------------- running

    /**
     * Runs {@code count} ops of {@code seed} on a fresh file {@code dir/name}; on a mismatch,
     * shrinks, reports and writes the report file. The file is deleted at the end.
     */
    Outcome run(long seed, long count) {
        long start = System.nanoTime();
        Map<FsxOp.Type, Long> counts = new EnumMap<>(FsxOp.Type.class);
        Generator g = new Generator(seed, count, maxSize, checkEvery);
        Mismatch mismatch = null;
        long i = 0;
        try (Helper helper = Helper.start(); Posix posix = new Posix(); Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(maxSize + (1 << 20), Posix.PAGE);
            try (Execution ex = new Execution(posix, helper, buf, dir.resolve(name))) {
                long progressEvery = Math.max(count / 4, 1);
                for (; g.hasNext(); i++) {
                    FsxOp op = g.next();
                    counts.merge(op.type(), 1L, Long::sum);
                    ex.apply(op, i);
                    if ((i + 1) % progressEvery == 0 && i + 1 < count) {
                        out.printf("fsx %s: %d/%d ops, size %d%n", name, i + 1, count, ex.model.size());
                    }
                }
            } catch (Mismatch m) {
                mismatch = m;
            }
            long nanos = System.nanoTime() - start;
            if (mismatch == null) {
                out.printf("fsx %s: seed %d, %d ops agree with the model in %.1f s %s%n", name, seed, count,
                        nanos / 1e9, counts);
                return new Outcome(seed, count, counts, nanos, null, null, null, null);
            }
            return failed(seed, count, i, counts, nanos, mismatch, helper, posix, buf);
        }
    }

    private Outcome failed(long seed, long count, long opsRun, Map<FsxOp.Type, Long> counts, long nanos, Mismatch m,
            Helper helper, Posix posix, MemorySegment buf) {
        out.println("fsx " + name + ": MISMATCH with seed " + seed + " at " + m.getMessage());
        out.println("fsx " + name + ": shrinking the " + (m.index + 1) + " ops that led to it (at most "
                + TimeUnit.NANOSECONDS.toSeconds(shrinkNanos) + " s)...");
        List<FsxOp> prefix = regenerate(seed, count, m.index + 1);
        long shrinkStart = System.nanoTime();
        int replaysBefore = replays;
        Shrunk s = shrink(prefix, helper, posix, buf, shrinkStart + shrinkNanos);
        double shrinkSeconds = (System.nanoTime() - shrinkStart) / 1e9;
        Path reportFile = reportDir.resolve("fsx-failure-" + seed + ".txt");
        StringBuilder r = new StringBuilder();
        r.append("# daxfs fsx failure: seed ").append(seed).append(", ").append(count).append(" ops, max size ")
                .append(maxSize).append(", check every ").append(checkEvery).append(", file ").append(dir.resolve(name))
                .append('\n');
        r.append("# first mismatch at op index ").append(m.index).append(": ").append(m.getMessage()).append('\n');
        if (s.mismatch == null) {
            r.append("# the failure did NOT reproduce on a fresh file (timing dependent?); the log below is the whole\n")
                    .append("# prefix up to the failing op\n");
        } else {
            r.append("# minimal op log: ").append(s.ops.size()).append(" of ").append(prefix.size())
                    .append(" ops, shrunk by delta debugging in ").append(String.format("%.1f", shrinkSeconds))
                    .append(" s (").append(replays - replaysBefore).append(" replays")
                    .append(s.complete ? ", 1-minimal" : ", stopped at the time bound").append(")\n");
            r.append("# replaying it fails with: ").append(s.mismatch.getMessage()).append('\n');
        }
        r.append("# A replay runs these ops on a fresh file and ends with a full-file compare. Replay with\n")
                .append("#   mvn -o -pl integration-tests test -Dtest=FsxTest -Ddaxfs.fsx.replay=").append(reportFile.toAbsolutePath())
                .append('\n')
                .append("# or, on a mounted daxfs: java --enable-native-access=ALL-UNNAMED -cp integration-tests/target/test-classes ")
                .append(FsxRunner.class.getName()).append(" --replay THIS_FILE DIR_ON_THE_MOUNT\n");
        for (FsxOp op : s.mismatch == null ? prefix : s.ops) {
            r.append(op).append('\n');
        }
        String report = r.toString();
        try {
            Files.createDirectories(reportDir);
            Files.writeString(reportFile, report);
        } catch (IOException e) {
            out.println("fsx: could not write " + reportFile + ": " + e);
        }
        out.print(report);
        out.println("fsx " + name + ": report written to " + reportFile.toAbsolutePath());
        return new Outcome(seed, opsRun, counts, nanos, m, s.ops, report, reportFile);
    }

    // ---------------------------------------------------------------- shrinking

    private record Shrunk(List<FsxOp> ops, Mismatch mismatch, boolean complete) {
    }

    /** Thrown inside a replay when the shrinking time is up. */
    private static final class OutOfTime extends RuntimeException {
        OutOfTime() {
            super(null, null, false, false);
        }
    }

    /**
     * Delta debugging (ddmin, complement variant). First short suffixes of the prefix (its last
     * 8, 32, 128 ... ops) are replayed on a fresh file, since the ops that matter are usually
     * close to the failure; if none fails, the whole prefix is, to see that it fails again at
     * all (with a time bound of its own). Then, with the list cut
     * into n chunks, each chunk in turn is removed and the rest replayed: if the rest still fails
     * it becomes the list (cut after the op that now fails, and n goes down by one), otherwise
     * the next chunk is tried; when no chunk can go, n doubles, until chunks are single ops and
     * none can be removed (the list is then 1-minimal). Every replay uses a fresh file in the
     * same mount and ends with a full-file compare; "fails" means any mismatch. The time bound
     * stops it with the smallest failing list found so far.
     */
    private Shrunk shrink(List<FsxOp> prefix, Helper helper, Posix posix, MemorySegment buf, long deadline) {
        List<FsxOp> cur = null;
        Mismatch curMismatch = null;
        try {
            for (int tail = 8; tail < prefix.size(); tail *= 4) {
                List<FsxOp> cand = new ArrayList<>(prefix.subList(prefix.size() - tail, prefix.size()));
                Mismatch mm = replay(cand, helper, posix, buf, deadline);
                if (mm != null) {
                    cur = cut(cand, mm);
                    curMismatch = mm;
                    break;
                }
            }
        } catch (OutOfTime e) {
            // no short suffix fails within the time: replay the whole prefix
        }
        if (cur == null) {
            try {
                // the whole prefix: as long as the run took to get there, with a time bound of its own
                long own = System.nanoTime() + shrinkNanos;
                curMismatch = replay(prefix, helper, posix, buf, own);
                deadline = Math.max(deadline, own);
            } catch (OutOfTime e) {
                curMismatch = null;
            }
            if (curMismatch == null) {
                return new Shrunk(prefix, null, false);
            }
            cur = cut(prefix, curMismatch);
        }
        try {
            int n = 2;
            while (cur.size() >= 2) {
                int chunk = (cur.size() + n - 1) / n;
                boolean reduced = false;
                for (int from = 0; from < cur.size(); from += chunk) {
                    List<FsxOp> cand = new ArrayList<>(cur.subList(0, from));
                    cand.addAll(cur.subList(Math.min(from + chunk, cur.size()), cur.size()));
                    if (cand.isEmpty()) {
                        continue;
                    }
                    Mismatch mm = replay(cand, helper, posix, buf, deadline);
                    if (mm != null) {
                        cur = cut(cand, mm);
                        curMismatch = mm;
                        n = Math.max(n - 1, 2);
                        reduced = true;
                        break;
                    }
                }
                if (!reduced) {
                    if (chunk == 1) {
                        break;
                    }
                    n = Math.min(n * 2, cur.size());
                }
            }
            return new Shrunk(cur, curMismatch, true);
        } catch (OutOfTime e) {
            return new Shrunk(cur, curMismatch, false);
        }
    }

    /** The ops up to and including the one that failed (all of them if the final compare failed). */
    private static List<FsxOp> cut(List<FsxOp> ops, Mismatch m) {
        return new ArrayList<>(ops.subList(0, (int) Math.min(ops.size(), m.index + 1)));
    }

    /** Runs {@code ops} on a fresh file, then a full compare; the first mismatch, or null. */
    private Mismatch replay(List<FsxOp> ops, Helper helper, Posix posix, MemorySegment buf, long deadline) {
        replays++;
        Path file = dir.resolve(name + ".replay-" + replays);
        try (Execution ex = new Execution(posix, helper, buf, file)) {
            for (int i = 0; i < ops.size(); i++) {
                if ((i & 63) == 0 && System.nanoTime() > deadline) {
                    throw new OutOfTime();
                }
                ex.apply(ops.get(i), i);
            }
            ex.apply(new FsxOp(FsxOp.Type.CHECK, 0, 0, 0), ops.size());
            return null;
        } catch (Mismatch m) {
            return m;
        }
    }

    /** Replays the op lines of a log (see the class comment) on a fresh file in {@link #dir}. */
    Mismatch replayLog(Path log) throws IOException {
        List<FsxOp> ops = parseLog(log);
        out.println("fsx: replaying " + ops.size() + " ops of " + log);
        try (Helper helper = Helper.start(); Posix posix = new Posix(); Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(maxSize + (1 << 20), Posix.PAGE);
            Mismatch m = replay(ops, helper, posix, buf, Long.MAX_VALUE);
            out.println(m == null ? "fsx: replay agrees with the model" : "fsx: replay MISMATCH at " + m.getMessage());
            return m;
        }
    }

    static List<FsxOp> parseLog(Path log) throws IOException {
        List<FsxOp> ops = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            String l = line.strip();
            if (!l.isEmpty() && !l.startsWith("#")) {
                ops.add(FsxOp.parse(l));
            }
        }
        return ops;
    }

    // ---------------------------------------------------------------- one file

    /** A real file and its model, with the checks. */
    private final class Execution implements AutoCloseable {
        final Posix posix;
        final Helper helper;
        final MemorySegment buf;
        final Path file;
        final FsxModel model = new FsxModel();
        int fd;

        Execution(Posix posix, Helper helper, MemorySegment buf, Path file) {
            this.posix = posix;
            this.helper = helper;
            this.buf = buf;
            this.file = file;
            try {
                Files.deleteIfExists(file);
                Files.createFile(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            fd = posix.open(file.toString());
        }

        void apply(FsxOp op, long index) throws Mismatch {
            try {
                run(op, index);
            } catch (Posix.ErrnoException | HelperException e) {
                throw new Mismatch(index, op, "the operation failed: " + e.getMessage());
            }
            applyToModel(model, op);
            long size;
            try {
                size = posix.fstatSize(fd);
            } catch (Posix.ErrnoException e) {
                throw new Mismatch(index, op, "fstat after the op failed: " + e.getMessage());
            }
            if (size != model.size()) {
                throw new Mismatch(index, op, "size after the op: expected " + model.size() + ", fstat says " + size);
            }
        }

        private void run(FsxOp op, long index) throws Mismatch {
            long off = op.offset();
            long len = op.length();
            switch (op.type()) {
                case READ -> {
                    long n = posix.preadFully(fd, buf, len, off);
                    compare(index, op, "pread", off, model.read(off, (int) len), buf, n);
                }
                case WRITE -> {
                    byte[] data = FsxOp.data(op.seed(), (int) len);
                    MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
                    posix.pwriteFully(fd, buf, len, off);
                }
                case MMAP_READ -> {
                    long[] r = op.mmapRange(model.size());
                    if (r != null) {
                        byte[] got = helper.read(file, r[0], (int) r[1]);
                        compare(index, op, "mmap read of [" + r[0] + ", " + (r[0] + r[1]) + ") in the helper", r[0],
                                model.mmapRead(r[0], (int) r[1]), MemorySegment.ofArray(got), got.length);
                    }
                }
                case MMAP_WRITE -> {
                    long[] r = op.mmapRange(model.size());
                    if (r != null) {
                        helper.write(file, r[0], (int) r[1], op.seed());
                    }
                }
                case TRUNCATE -> posix.ftruncate(fd, off);
                case FALLOCATE -> posix.fallocate(fd, 0, off, len);
                case FALLOCATE_KEEP_SIZE -> posix.fallocate(fd, Posix.FALLOC_FL_KEEP_SIZE, off, len);
                case PUNCH_HOLE -> posix.fallocate(fd, Posix.FALLOC_FL_PUNCH_HOLE | Posix.FALLOC_FL_KEEP_SIZE, off, len);
                case ZERO_RANGE -> posix.fallocate(fd, Posix.FALLOC_FL_ZERO_RANGE, off, len);
                case ZERO_RANGE_KEEP_SIZE -> posix.fallocate(fd, Posix.FALLOC_FL_ZERO_RANGE | Posix.FALLOC_FL_KEEP_SIZE, off, len);
                case FSYNC -> posix.fsync(fd);
                case REOPEN -> {
                    posix.close(fd);
                    fd = posix.open(file.toString());
                }
                case CHECK -> {
                    long n = posix.preadFully(fd, buf, buf.byteSize(), 0);
                    compare(index, op, "full-file compare (pread of the whole file)", 0, model.content(), buf, n);
                }
            }
        }

        /** Compares what was read ({@code n} bytes in {@code got}) with the model's bytes. */
        private void compare(long index, FsxOp op, String what, long fileOff, byte[] expected, MemorySegment got, long n)
                throws Mismatch {
            long common = Math.min(n, expected.length);
            long first = -1;
            long last = -1;
            long differ = 0;
            for (int i = 0; i < common; i++) {
                if (got.get(ValueLayout.JAVA_BYTE, i) != expected[i]) {
                    if (first < 0) {
                        first = i;
                    }
                    last = i;
                    differ++;
                }
            }
            if (first < 0 && n == expected.length) {
                return;
            }
            StringBuilder b = new StringBuilder(what);
            if (n != expected.length) {
                b.append(": got ").append(n).append(" bytes, expected ").append(expected.length)
                        .append(" (model size ").append(model.size()).append(")");
            }
            if (first >= 0) {
                b.append(n != expected.length ? "; " : ": ").append("first differing byte at file offset ")
                        .append(fileOff + first).append(": expected 0x")
                        .append(String.format("%02x", expected[(int) first] & 0xff)).append(", actual 0x")
                        .append(String.format("%02x", got.get(ValueLayout.JAVA_BYTE, first) & 0xff)).append(" (")
                        .append(differ).append(" bytes differ, the last at file offset ").append(fileOff + last)
                        .append("); expected ").append(hex(expected, first)).append(", actual ")
                        .append(hex(got.asSlice(first, Math.min(16, common - first)).toArray(ValueLayout.JAVA_BYTE), 0));
            }
            throw new Mismatch(index, op, b.toString());
        }

        private static String hex(byte[] b, long from) {
            StringBuilder s = new StringBuilder();
            for (long i = from; i < Math.min(b.length, from + 16); i++) {
                s.append(String.format("%02x", b[(int) i] & 0xff));
            }
            return s.toString();
        }

        @Override
        public void close() {
            try {
                helper.closeFile(file);
            } catch (HelperException ignored) {
                // the helper's answer does not matter here
            }
            try {
                posix.close(fd);
            } catch (Posix.ErrnoException ignored) {
                // deleting it is all that is left
            }
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                out.println("fsx: could not delete " + file + ": " + e);
            }
        }
    }

    // ---------------------------------------------------------------- the mmap helper process

    /** The helper's answer was an error, or it died or hung. */
    static final class HelperException extends RuntimeException {
        HelperException(String message) {
            super(message);
        }
    }

    /** The long-lived {@link FsxMmapHelper} child process of one run. */
    static final class Helper implements AutoCloseable {
        private final Process process;
        private final BufferedWriter toHelper;
        private final BufferedReader fromHelper;
        private final Path stderr;
        private final ExecutorService reader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fsx-helper-reader");
            t.setDaemon(true);
            return t;
        });

        private Helper(Process process, Path stderr) {
            this.process = process;
            this.stderr = stderr;
            this.toHelper = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
            this.fromHelper = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8),
                    1 << 17);
        }

        static Helper start() {
            try {
                List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                        "-cp", System.getProperty("java.class.path"), FsxMmapHelper.class.getName()));
                Path err = Files.createTempFile("fsx-helper-err", ".txt");
                Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
                Helper h = new Helper(p, err);
                String ready = h.readLine();
                if (!"ready".equals(ready)) {
                    h.close();
                    throw new HelperException("the mmap helper did not start: " + ready + h.stderrText());
                }
                return h;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        byte[] read(Path file, long off, int len) {
            return Base64.getDecoder().decode(call("read " + off + " " + len + " " + file).substring(3));
        }

        void write(Path file, long off, int len, long seed) {
            call("write " + off + " " + len + " " + seed + " " + file);
        }

        void closeFile(Path file) {
            call("close " + file);
        }

        private String call(String command) {
            try {
                toHelper.write(command);
                toHelper.write('\n');
                toHelper.flush();
            } catch (IOException e) {
                throw new HelperException("cannot talk to the mmap helper: " + e + stderrText());
            }
            String answer = readLine();
            if (answer == null) {
                throw new HelperException("the mmap helper died" + stderrText());
            }
            if (!answer.equals("ok") && !answer.startsWith("ok ")) {
                throw new HelperException("mmap helper: " + command + ": " + answer);
            }
            return answer;
        }

        private String readLine() {
            Future<String> f = reader.submit(fromHelper::readLine);
            try {
                return f.get(HELPER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                process.destroyForcibly();
                throw new HelperException("the mmap helper did not answer within " + HELPER_TIMEOUT_SECONDS + " s (hung mount?)");
            } catch (ExecutionException e) {
                throw new HelperException("reading from the mmap helper: " + e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HelperException("interrupted");
            }
        }

        private String stderrText() {
            try {
                String s = Files.readString(stderr).strip();
                return s.isEmpty() ? "" : "\n  helper stderr: " + s;
            } catch (IOException e) {
                return "";
            }
        }

        @Override
        public void close() {
            try {
                toHelper.write("quit\n");
                toHelper.flush();
            } catch (IOException ignored) {
                // it is gone already
            }
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
            reader.shutdownNow();
            try {
                Files.deleteIfExists(stderr);
            } catch (IOException ignored) {
                // a temp file
            }
        }
    }

    // ---------------------------------------------------------------- command line

    public static void main(String[] args) throws IOException {
        long seed = System.nanoTime();
        long ops = 10_000;
        long max = DEFAULT_MAX_SIZE;
        Path replay = null;
        Path dir = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--replay" -> replay = Path.of(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--ops" -> ops = Long.parseLong(args[++i]);
                case "--max" -> max = Long.parseLong(args[++i]);
                default -> dir = Path.of(args[i]);
            }
        }
        if (dir == null) {
            System.err.println("usage: FsxRunner --replay LOG DIR | FsxRunner --seed N --ops M [--max BYTES] DIR");
            System.exit(2);
        }
        FsxRunner r = new FsxRunner(dir, "fsx-cli", max, DEFAULT_CHECK_EVERY, 60, Path.of("target"), System.out);
        boolean ok = replay != null ? r.replayLog(replay) == null : r.run(seed, ops).ok();
        System.exit(ok ? 0 : 1);
    }
}
