package io.daxfs.it.soak;

import io.daxfs.it.ItAccess;
import io.daxfs.it.soak.SoakModel.File;
import io.daxfs.it.soak.SoakModel.PartialWrite;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * The kill -9 soak: cycles of a mixed workload through a real mount, SIGKILL of the daemon at a
 * random moment, {@code fusermount -u} of the dead mount, fsck's check (in this JVM; must be clean), a
 * mount, and a check of every durable result against the workers' models.
 *
 * <p>Each of {@code workers} {@link SoakWorker} processes owns a directory {@code wN} of the mount
 * and runs a plan (see {@link SoakPlanner}) made from the model of that directory, logging each
 * op's start and return. After the kill the checker reads the log: ops 0..k-1 returned, so
 * their results must all be there; op k, if it started, was in flight, and its directory may
 * show the state before it or after it, all or nothing (a data write in flight: each byte of
 * its range old or new, the size anything in between, as POSIX promises nothing more); nothing
 * else may differ. "Returned" is strict: what the log shows as returned had been answered by the
 * daemon, and daxfs promises that a namespace or attribute change is durable when it returns and
 * that written data survives a kill of the daemon once write(2) returned (the mapping is shared;
 * docs/format.md, "Durability promise"), fsync'd or not. The tree found then becomes the model of
 * the next cycle, so each check covers everything written since the first cycle.
 *
 * <p>Everything random comes from the seed: each cycle's plans and kill delay. Where the kill
 * lands in the plans depends on timing, so a replay of the seed runs the same ops and kill
 * delays, and mostly but not always kills at the same op. A failure leaves the image as the kill
 * left it, the plans, the op logs, fsck's output and the daemon log in
 * {@code target/kill-soak-SEED-cycle-C/}.
 */
final class KillSoak {
    /** What a run is asked to do. */
    record Config(long seed, int cycles, int workers, int opsPerCycle, int maxKillDelayMillis, long cycleLimitSeconds,
                  String imageSize, Path reportDir) {
    }

    /** Totals over a run. */
    static final class Totals {
        int cycles;
        long opsCompleted;
        long fsyncedWrites;
        long bytesWritten;
        long inFlight;
        long entriesChecked;
        long bytesChecked;
        long planRanOut;
        long orphanNotes;
        long busyUnmounts;
        long unappliedTransactions;
        long maxEntries;
        final Map<SoakOp.Kind, Long> completedByKind = new EnumMap<>(SoakOp.Kind.class);
        final TreeMap<String, Long> inFlightOutcomes = new TreeMap<>();
        /** What the op in flight returned to the worker: errno N. */
        final TreeMap<String, Long> inFlightErrors = new TreeMap<>();

        String summary() {
            return cycles + " cycles, " + opsCompleted + " ops completed before a kill and checked after it ("
                    + fsyncedWrites + " fsync'd writes, " + (bytesWritten >> 20) + " MiB written), " + inFlight
                    + " in flight at a kill " + inFlightOutcomes + " (the call got " + inFlightErrors + "), " + entriesChecked + " entries and "
                    + (bytesChecked >> 20) + " MiB compared, largest tree " + maxEntries + " entries; fsck found "
                    + unappliedTransactions + " images with a committed transaction not yet applied and " + orphanNotes
                    + " with orphans; " + busyUnmounts + " dead mounts busy for a moment,"
                    + " 0 fsck errors, 0 lost durable results";
        }
    }

    /** What the op log of one worker says. */
    record LogState(int completed, boolean begun, int errno, long errNanos, String errMessage, List<String> lines) {
        static LogState read(Path log) throws IOException {
            List<String> lines = Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
            int completed = 0;
            boolean begun = false;
            int errno = 0;
            long errNanos = 0;
            String message = null;
            for (String l : lines) {
                String[] f = l.split(" ", 5);
                if (f.length >= 2 && f[0].equals("B") && Integer.parseInt(f[1]) == completed) {
                    begun = true;
                } else if (f.length >= 4 && f[0].equals("E") && Integer.parseInt(f[1]) == completed && begun) {
                    if (f[2].equals("ok")) {
                        completed++;
                        begun = false;
                    } else {
                        errno = Integer.parseInt(f[3]);
                        errNanos = Long.parseLong(f[4].split(" ")[0]);
                        message = f[4];
                    }
                } else {
                    throw new IllegalStateException(log + ": unexpected record '" + l + "' after " + completed + " ops");
                }
            }
            return new LogState(completed, begun, errno, errNanos, message, lines);
        }
    }

    private final Config config;
    private final PrintStream out;
    private final Totals totals = new Totals();
    private ItAccess.Mount mount;
    private Path work;
    private SoakModel[] models;
    private final List<SoakWorkerProcess> workers = new ArrayList<>();
    private boolean renameFlags;

    KillSoak(Config config, PrintStream out) {
        this.config = config;
        this.out = out;
    }

    Totals totals() {
        return totals;
    }

    /** Sets up the mount and the workers; runs the cycles; unmounts and checks the image. Throws AssertionError on a failure. */
    void run() throws Exception {
        long start = System.nanoTime();
        try (ItAccess.Mount m = ItAccess.mount(config.imageSize())) {
            mount = m;
            work = Files.createDirectories(m.dir().resolve("soak"));
            renameFlags = probeRenameFlags(m.mountPoint());
            out.println("kill -9 soak: seed " + config.seed() + " (-Ddaxfs.soak.seed=" + config.seed() + " to replay), "
                    + config.cycles() + " cycles, " + config.workers() + " workers, front end " + ItAccess.frontend()
                    + ", renameat2 exchange/noreplace " + (renameFlags ? "yes" : "no (not supported by this front end)"));
            models = new SoakModel[config.workers()];
            for (int w = 0; w < config.workers(); w++) {
                Path d = Files.createDirectory(m.mountPoint().resolve("w" + w));
                models[w] = SoakModel.scan(d);
            }
            try {
                for (int c = 0; c < config.cycles(); c++) {
                    int cycle = c;
                    assertTimeoutPreemptively(Duration.ofSeconds(config.cycleLimitSeconds()), () -> cycle(cycle),
                            () -> "kill -9 soak seed " + config.seed() + ": cycle " + (cycle + 1) + " took longer than "
                                    + config.cycleLimitSeconds() + " s (hung?)");
                }
            } finally {
                for (SoakWorkerProcess w : workers) {
                    w.close();
                }
            }
            m.umount();
            m.fsckClean();
            m.assertNoDaemonErrors();
        }
        out.println("kill -9 soak: seed " + config.seed() + ": " + totals.summary() + "; "
                + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start) + " s");
        out.println("kill -9 soak: ops completed by kind: " + kinds(totals.completedByKind));
    }

    /** Whether renameat2 takes RENAME_EXCHANGE and RENAME_NOREPLACE on this mount (libfuse 2's API has no flags). */
    private static boolean probeRenameFlags(Path mnt) throws IOException {
        Path d = Files.createDirectory(mnt.resolve("probe"));
        Files.writeString(d.resolve("a"), "a");
        Files.writeString(d.resolve("b"), "b");
        boolean ok;
        try (SoakSys sys = new SoakSys()) {
            sys.rename(d.resolve("a").toString(), d.resolve("b").toString(), SoakSys.RENAME_EXCHANGE);
            ok = Files.readString(d.resolve("a")).equals("b");
        } catch (SoakSys.Errno e) {
            if (e.errno != SoakSys.EINVAL && e.errno != SoakSys.ENOSYS) {
                throw e;
            }
            ok = false;
        }
        try (Stream<Path> s = Files.list(d)) {
            for (Path p : s.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(d);
        return ok;
    }

    private SoakWorkerProcess worker(int w) {
        while (workers.size() <= w) {
            workers.add(new SoakWorkerProcess(work.resolve("worker-" + workers.size() + ".err")));
        }
        if (!workers.get(w).alive()) {
            workers.set(w, new SoakWorkerProcess(work.resolve("worker-" + w + ".err")));
        }
        return workers.get(w);
    }

    private static long mix(long seed, long cycle) {
        long z = seed + (cycle + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private void cycle(int c) throws Exception {
        long cycleStart = System.nanoTime();
        SplittableRandom rnd = new SplittableRandom(mix(config.seed(), c));
        int n = config.workers();
        List<List<SoakOp>> plans = new ArrayList<>();
        for (int w = 0; w < n; w++) {
            SoakPlanner planner = new SoakPlanner(rnd.split(), renameFlags);
            List<SoakOp> plan = planner.plan(models[w].copy(), config.opsPerCycle());
            plans.add(plan);
            Files.write(planFile(w), plan.stream().map(SoakOp::line).toList(), StandardCharsets.UTF_8);
        }
        long planned = System.nanoTime();
        // Mostly anywhere in the first seconds of the run, sometimes in its first milliseconds.
        int delay = rnd.nextInt(5) == 0 ? rnd.nextInt(30) : 30 + rnd.nextInt(Math.max(1, config.maxKillDelayMillis() - 30));

        for (int w = 0; w < n; w++) {
            worker(w).send("RUN\t" + mount.mountPoint().resolve("w" + w) + "\t" + planFile(w) + "\t" + logFile(w));
        }
        for (int w = 0; w < n; w++) {
            worker(w).await("STARTED", 120);
        }
        long started = System.nanoTime();
        Thread.sleep(delay);
        long daemonPid = mount.daemonPid();
        long killNanos = System.nanoTime();
        mount.killDaemon();
        for (int w = 0; w < n; w++) {
            worker(w).await("STOPPED", 120);
        }
        unmountDead(daemonPid);
        Path imageAtKill = work.resolve("image-at-kill");
        ItAccess.shOk("cp --sparse=always " + mount.image() + " " + imageAtKill);
        long unmounted = System.nanoTime();
        // fsck's check in this JVM: the same code and verdict as daxfs fsck without a JVM start
        // per cycle (about a fifth of a cycle); the real command runs after the last cycle.
        ItAccess.Result fsck = mount.fsckInProcess();
        long checked = System.nanoTime();
        Files.writeString(work.resolve("fsck.txt"), fsck.toString());
        if (fsck.exit() != 0) {
            fail(c, -1, plans, delay, "fsck of the image after the kill exits " + fsck.exit() + ":\n" + fsck, null);
        }
        if ((fsck.out() + fsck.err()).contains("orphan")) {
            totals.orphanNotes++;
        }
        if ((fsck.out() + fsck.err()).contains("committed but not applied")) {
            totals.unappliedTransactions++;
        }
        mount.mount();
        long mounted = System.nanoTime();

        Path mnt = mount.mountPoint();
        TreeSet<String> top = new TreeSet<>();
        try (Stream<Path> s = Files.list(mnt)) {
            s.forEach(p -> top.add(p.getFileName().toString()));
        }
        TreeSet<String> expectedTop = new TreeSet<>();
        for (int w = 0; w < n; w++) {
            expectedTop.add("w" + w);
        }
        if (!top.equals(expectedTop)) {
            fail(c, -1, plans, delay, "the mount's root holds " + top + ", expected " + expectedTop, null);
        }

        StringBuilder line = new StringBuilder("cycle " + (c + 1) + "/" + config.cycles() + ": kill after " + delay + " ms;");
        for (int w = 0; w < n; w++) {
            line.append(' ').append(verify(c, w, plans, delay, killNanos));
        }
        mount.assertNoDaemonErrors();
        totals.cycles++;
        long end = System.nanoTime();
        line.append(String.format(" %.1f s (plan %.1f, start %.1f, run %.1f, kill and unmount %.1f, fsck %.1f, mount %.1f, check %.1f)",
                (end - cycleStart) / 1e9, (planned - cycleStart) / 1e9, (started - planned) / 1e9,
                (killNanos - started) / 1e9, (unmounted - killNanos) / 1e9, (checked - unmounted) / 1e9, (mounted - checked) / 1e9,
                (end - mounted) / 1e9));
        out.println(line);
    }

    /**
     * {@code fusermount -u} of the dead mount, retried while it is busy (for up to 10 s); the
     * first time it is busy, what holds it is printed.
     */
    private void unmountDead(long daemonPid) throws InterruptedException {
        Path mnt = mount.mountPoint();
        long start = System.nanoTime();
        String busy = null;
        for (int i = 0; ; i++) {
            ItAccess.Result r = ItAccess.sh("fusermount -u " + mnt);
            if (r.exit() == 0) {
                break;
            }
            if (busy == null) {
                busy = r.err().strip() + "\n" + holders(mnt, daemonPid);
            }
            if (i == 200) {
                throw new AssertionError("fusermount -u of the dead mount keeps failing:\n" + busy + "\nnow:\n"
                        + holders(mnt, daemonPid));
            }
            Thread.sleep(50);
        }
        if (busy != null) {
            totals.busyUnmounts++;
            out.printf("the dead mount was busy for %d ms: %s%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
                    busy);
        }
    }

    /** Processes whose cwd, root or open files are under {@code mnt}, and the state of the killed daemon. */
    private static String holders(Path mnt, long daemonPid) {
        StringBuilder b = new StringBuilder();
        String prefix = mnt.toString();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                List<Path> refs = new ArrayList<>(List.of(proc.resolve("cwd"), proc.resolve("root")));
                try (Stream<Path> fds = Files.list(proc.resolve("fd"))) {
                    refs.addAll(fds.toList());
                } catch (IOException | RuntimeException gone) {
                    continue;
                }
                for (Path ref : refs) {
                    try {
                        String target = Files.readSymbolicLink(ref).toString();
                        if (target.startsWith(prefix)) {
                            b.append("  ").append(proc.getFileName()).append(' ')
                                    .append(Files.readString(proc.resolve("comm")).strip()).append(": ")
                                    .append(ref.getFileName()).append(" -> ").append(target).append('\n');
                        }
                    } catch (IOException | RuntimeException gone) {
                        // exited meanwhile
                    }
                }
            }
        } catch (IOException e) {
            b.append("  (cannot list /proc: ").append(e).append(")\n");
        }
        try {
            Path d = Path.of("/proc/" + daemonPid);
            String status = Files.readAllLines(d.resolve("status")).stream()
                    .filter(l -> l.startsWith("State") || l.startsWith("Threads")).collect(Collectors.joining(", "));
            b.append("  killed daemon ").append(daemonPid).append(": ").append(status);
            try (Stream<Path> tasks = Files.list(d.resolve("task"))) {
                for (Path t : tasks.toList()) {
                    b.append("\n    task ").append(t.getFileName()).append(": ")
                            .append(Files.readAllLines(t.resolve("status")).stream().filter(l -> l.startsWith("State"))
                                    .findFirst().orElse("?"))
                            .append(", wchan ").append(Files.readString(t.resolve("wchan")));
                }
            }
        } catch (IOException | RuntimeException e) {
            b.append("  killed daemon ").append(daemonPid).append(": gone");
        }
        return b.toString();
    }

    private Path planFile(int w) {
        return work.resolve("plan-" + w + ".txt");
    }

    private Path logFile(int w) {
        return work.resolve("log-" + w + ".txt");
    }

    /** Checks worker w's directory after the remount; returns a short note on it for the cycle's line. */
    private String verify(int c, int w, List<List<SoakOp>> plans, int delay, long killNanos) throws IOException {
        List<SoakOp> plan = plans.get(w);
        LogState log = LogState.read(logFile(w));
        int k = log.completed();
        SoakOp inFlight = log.begun() && k < plan.size() ? plan.get(k) : null;
        if (log.errno() != 0 && log.errno() != SoakSys.ENOTCONN && log.errno() != SoakSys.ECONNABORTED
                && log.errNanos() < killNanos) {
            fail(c, w, plans, delay, "op " + k + " (" + plan.get(k) + ") failed before the kill: "
                    + log.errMessage().substring(log.errMessage().indexOf(' ') + 1), null);
        }
        SoakModel before = models[w].copy();
        for (int i = 0; i < k; i++) {
            before.apply(plan.get(i));
        }
        SoakModel found;
        try {
            found = SoakModel.scan(mount.mountPoint().resolve("w" + w));
        } catch (UncheckedIOException e) {
            fail(c, w, plans, delay, "reading the directory after the remount fails: " + e.getCause(), log);
            return "";
        }
        String outcome;
        List<String> diffs = before.compare(found, null, 20);
        if (inFlight == null) {
            outcome = log.completed() == plan.size() ? "plan ran out" : "none";
            if (!diffs.isEmpty()) {
                fail(c, w, plans, delay, "the directory differs from the model after " + k + " completed ops:\n  - "
                        + String.join("\n  - ", diffs), log);
            }
        } else if (diffs.isEmpty()) {
            outcome = "before";
        } else {
            SoakModel after = before.copy();
            after.apply(inFlight);
            List<String> afterDiffs = after.compare(found, null, 20);
            if (afterDiffs.isEmpty()) {
                outcome = "after";
            } else {
                List<String> partialDiffs = null;
                if (inFlight.writesData()) {
                    File target = inFlight.kind() == SoakOp.Kind.WRITE ? (File) before.lookup(inFlight.path())
                            : before.handles.get(inFlight.handle());
                    partialDiffs = before.compare(found, new PartialWrite(target, inFlight.x(),
                            SoakOp.data(inFlight.seed(), (int) inFlight.y())), 20);
                }
                if (partialDiffs != null && partialDiffs.isEmpty()) {
                    outcome = "partial";
                } else {
                    fail(c, w, plans, delay, "the directory is neither the state before op " + k + " in flight ("
                            + inFlight + ") nor the state after it.\n against the state before it:\n  - "
                            + String.join("\n  - ", diffs) + "\n against the state after it:\n  - "
                            + String.join("\n  - ", afterDiffs)
                            + (partialDiffs == null ? "" : "\n against a partial write:\n  - "
                            + String.join("\n  - ", partialDiffs)), log);
                    return "";
                }
            }
        }
        // Count.
        totals.opsCompleted += k;
        for (int i = 0; i < k; i++) {
            SoakOp op = plan.get(i);
            totals.completedByKind.merge(op.kind(), 1L, Long::sum);
            if (op.writesData()) {
                totals.bytesWritten += op.y();
                if (op.fsync()) {
                    totals.fsyncedWrites++;
                }
            }
        }
        if (inFlight != null) {
            totals.inFlight++;
            totals.inFlightOutcomes.merge(outcome, 1L, Long::sum);
            totals.inFlightErrors.merge(errnoName(log.errno()), 1L, Long::sum);
        }
        if (log.completed() == plan.size()) {
            totals.planRanOut++;
        }
        SoakModel.Census census = found.census();
        totals.entriesChecked += census.entries();
        totals.bytesChecked += census.bytes();
        totals.maxEntries = Math.max(totals.maxEntries, census.entries());
        models[w] = found;
        return "w" + w + " " + k + " ops, " + census.entries() + " entries"
                + (inFlight == null ? "" : ", in flight " + inFlight.kind() + ": " + outcome)
                + (log.errno() != 0 && log.errno() != SoakSys.ENOTCONN && log.errno() != SoakSys.ECONNABORTED
                ? " (" + errnoName(log.errno()) + " after the kill)" : "") + ";";
    }

    /** Reports a failure with everything needed to understand it, keeps the evidence, and throws. */
    private void fail(int c, int w, List<List<SoakOp>> plans, int delay, String what, LogState log) {
        Path dir = config.reportDir().resolve("kill-soak-" + config.seed() + "-cycle-" + (c + 1));
        StringBuilder r = new StringBuilder();
        r.append("kill -9 soak FAILED: seed ").append(config.seed()).append(", cycle ").append(c + 1).append(" of ")
                .append(config.cycles()).append(w >= 0 ? ", worker w" + w : "").append(", front end ")
                .append(ItAccess.frontend()).append('\n');
        r.append("  replay: -Ddaxfs.soak.seed=").append(config.seed()).append(" -Ddaxfs.soak.cycles=").append(c + 1)
                .append(" (same plans and kill delays; where the kill lands depends on timing)\n");
        r.append("  the daemon was killed ").append(delay).append(" ms after the workers started\n");
        r.append(what).append('\n');
        for (int i = 0; i < plans.size(); i++) {
            if (w >= 0 && i != w) {
                continue;
            }
            try {
                LogState l = i == w && log != null ? log : LogState.read(logFile(i));
                r.append("  op log tail of w").append(i).append(" (").append(l.completed()).append(" of ")
                        .append(plans.get(i).size()).append(" planned ops completed):\n");
                int from = Math.max(0, l.completed() - 15);
                for (int k = from; k <= Math.min(l.completed(), plans.get(i).size() - 1); k++) {
                    String status = k < l.completed() ? "returned " : l.begun() ? (l.errno() != 0 ? "errno " + l.errno()
                            : "IN FLIGHT") + " " : "not begun ";
                    r.append(String.format("    %6d %-10s %s%n", k, status, plans.get(i).get(k)));
                }
            } catch (IOException | RuntimeException e) {
                r.append("  (op log of w").append(i).append(" unreadable: ").append(e).append(")\n");
            }
        }
        try {
            Files.createDirectories(dir);
            try (Stream<Path> s = Files.list(work)) {
                for (Path p : s.filter(Files::isRegularFile).toList()) {
                    ItAccess.shOk("cp --sparse=always " + p + " " + dir.resolve(p.getFileName()));
                }
            }
            Files.writeString(dir.resolve("daemon.log"), mount.daemonLog());
            Files.writeString(dir.resolve("report.txt"), r);
            r.append("  evidence (image at the kill, plans, op logs, fsck output, daemon log): ").append(dir).append('\n');
        } catch (IOException | RuntimeException e) {
            r.append("  (could not keep the evidence in ").append(dir).append(": ").append(e).append(")\n");
        }
        out.print(r);
        throw new AssertionError(r.toString());
    }

    static String errnoName(int errno) {
        return switch (errno) {
            case SoakSys.ENOTCONN -> "ENOTCONN";
            case SoakSys.ECONNABORTED -> "ECONNABORTED";
            case SoakSys.EIO -> "EIO";
            case SoakSys.ENOENT -> "ENOENT";
            default -> "errno " + errno;
        };
    }

    static String kinds(Map<SoakOp.Kind, Long> m) {
        return m.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
    }
}
