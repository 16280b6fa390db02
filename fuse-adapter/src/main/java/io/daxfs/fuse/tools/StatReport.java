package io.daxfs.fuse.tools;

import io.daxfs.fuse.vfs.OpcodeNames;
import io.daxfs.lease.LeaseProtocol;
import io.daxfs.lease.MountLeases;
import io.daxfs.lease.MountStats;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code daxfs stat}: one reading of a mount's live statistics (the daemon's STATS answer,
 * docs/stats.md) and of its leases, as text for people and as JSON for scripts. Figures are
 * since the mount; rates are per second of the mount's life ({@link StatWatch} gives them per
 * interval).
 */
public final class StatReport {
    /** Busy reasons always listed, even at zero; others (kinds of reference) when present. */
    static final List<String> REASONS = List.of("durability", "read", "lease");

    private final Path mount;
    private final MountStats.Snapshot s;
    private final MountLeases.Listing leases;
    private final String leasesNote;

    private StatReport(Path mount, MountStats.Snapshot s, MountLeases.Listing leases, String leasesNote) {
        this.mount = mount;
        this.s = s;
        this.leases = leases;
        this.leasesNote = leasesNote;
    }

    /**
     * @param leases     the mount's leases, or null when they could not be listed
     * @param leasesNote why not (one line), when {@code leases} is null
     */
    public static StatReport of(Path mount, MountStats.Snapshot s, MountLeases.Listing leases, String leasesNote) {
        return new StatReport(mount, s, leases, leasesNote);
    }

    /** "READ", "journal commit", "opcode 99". */
    public static String name(int key) {
        return key == LeaseProtocol.LATENCY_JOURNAL_COMMIT ? "journal commit" : OpcodeNames.of(key);
    }

    /** "850 ns", "12.3 us", "4.56 ms", "1.23 s": three significant digits at most. */
    public static String nanos(long ns) {
        if (ns < 1_000) {
            return ns + " ns";
        }
        double v = ns / 1_000.0;
        String unit = "us";
        if (v >= 1_000) {
            v /= 1_000;
            unit = "ms";
        }
        if (v >= 1_000) {
            v /= 1_000;
            unit = "s";
        }
        String f = v >= 100 ? "%.0f %s" : v >= 10 ? "%.1f %s" : "%.2f %s";
        return String.format(Locale.ROOT, f, v, unit);
    }

    /** The busy reasons: {@link #REASONS} first (zero when absent), then any other present. */
    List<MountStats.Busy> busy() {
        List<MountStats.Busy> out = new ArrayList<>();
        for (String r : REASONS) {
            out.add(s.busy().stream().filter(b -> b.reason().equals(r)).findFirst()
                    .orElse(new MountStats.Busy(r, 0, 0, 0)));
        }
        s.busy().stream().filter(b -> !REASONS.contains(b.reason())).forEach(out::add);
        return out;
    }

    private List<MountStats.Latency> requests() {
        return s.latency().stream().filter(l -> l.key() != LeaseProtocol.LATENCY_JOURNAL_COMMIT).toList();
    }

    private MountStats.Latency commits() {
        return s.latency().stream().filter(l -> l.key() == LeaseProtocol.LATENCY_JOURNAL_COMMIT).findFirst()
                .orElse(new MountStats.Latency(LeaseProtocol.LATENCY_JOURNAL_COMMIT, 0, 0, 0, 0, 0, 0, 0, 0, 0, new byte[0]));
    }

    private double perSecond(long n) {
        double seconds = s.summary().uptime().toNanos() / 1e9;
        return seconds <= 0 ? 0 : n / seconds;
    }

    public String text() {
        MountStats.Summary u = s.summary();
        MountStats.Space sp = s.space();
        StringBuilder b = new StringBuilder();
        long requests = requests().stream().mapToLong(MountStats.Latency::count).sum();
        long errors = requests().stream().mapToLong(MountStats.Latency::errors).sum();
        MountStats.Latency c = commits();
        long busyBytes = sp.busyBlocks() * sp.blockSize();
        line(b, "daxfs at " + mount + ", up " + uptime(u.uptime().toSeconds()));
        line(b, String.format(Locale.ROOT, "  requests     %s (%.1f/s), %s", Sizes.count(requests), perSecond(requests),
                Sizes.counted(errors, "error reply", "error replies")));
        line(b, "  data         read " + Sizes.bytes(u.bytesRead()) + ", written " + Sizes.bytes(u.bytesWritten()));
        line(b, "  open files   " + Sizes.count(u.openFiles()));
        line(b, "  journal      " + Sizes.counted(c.count(), "commit", "commits")
                + (c.samples() == 0 ? "" : ": p50 " + nanos(c.p50Nanos()) + ", p99 " + nanos(c.p99Nanos()) + ", max "
                + nanos(c.maxNanos())));
        line(b, "  contention   " + Sizes.counted(u.rangeLockWaits(), "range-lock wait", "range-lock waits") + " ("
                + nanos(u.rangeLockWaitTime().toNanos()) + " in all), "
                + Sizes.counted(u.invalidationRetries(), "invalidation-sequence retry", "invalidation-sequence retries"));
        line(b, "  free space   " + Sizes.bytes(sp.freeBlocks() * sp.blockSize()) + " of "
                + Sizes.bytes(sp.totalBlocks() * sp.blockSize()) + " in " + Sizes.counted(sp.freeExtents(), "extent", "extents")
                + ", the largest " + Sizes.bytes(sp.largestFreeBlocks() * sp.blockSize()));
        line(b, "  busy space   " + Sizes.bytes(busyBytes) + (sp.leaseHeldBlocks() == 0 ? ""
                : " (" + Sizes.bytes(sp.leaseHeldBlocks() * sp.blockSize()) + " held by leases)"));
        line(b, "  inodes       " + Sizes.count(sp.totalInodes() - sp.freeInodes()) + " used of " + Sizes.count(sp.totalInodes()));
        line(b, "");
        line(b, "Busy space by reason (freed blocks not reusable yet):");
        line(b, String.format(Locale.ROOT, "  %-12s %8s %12s %11s", "REASON", "EXTENTS", "BYTES", "REFERENCES"));
        for (MountStats.Busy x : busy()) {
            line(b, String.format(Locale.ROOT, "  %-12s %8s %12s %11s", x.reason(), Sizes.count(x.extents()),
                    Sizes.bytes(x.bytes()), Sizes.count(x.references())));
        }
        line(b, "");
        line(b, "Requests by opcode since the mount (latency: the daemon's service time, sampled):");
        String f = "  %-16s %10s %7s %9s %9s %9s %9s %9s %9s %9s";
        line(b, String.format(Locale.ROOT, f, "OPCODE", "COUNT", "ERRORS", "PER SEC", "MEAN", "P50", "P90", "P99",
                "P99.9", "MAX"));
        List<MountStats.Latency> rows = new ArrayList<>(requests());
        rows.sort((x, y) -> Long.compare(y.count(), x.count()));
        if (c.count() > 0) {
            rows.add(c);
        }
        for (MountStats.Latency l : rows) {
            boolean timed = l.samples() > 0; // "-": none of these requests was sampled yet
            line(b, String.format(Locale.ROOT, f, name(l.key()), Sizes.count(l.count()), Sizes.count(l.errors()),
                    String.format(Locale.ROOT, "%.1f", perSecond(l.count())), sampled(timed, l.meanNanos()),
                    sampled(timed, l.p50Nanos()), sampled(timed, l.p90Nanos()), sampled(timed, l.p99Nanos()),
                    sampled(timed, l.p999Nanos()), sampled(timed, l.maxNanos())));
        }
        line(b, "");
        leasesText(b);
        return b.toString();
    }

    private static String sampled(boolean timed, long ns) {
        return timed ? nanos(ns) : "-";
    }

    private void leasesText(StringBuilder b) {
        if (leases == null) {
            line(b, "leases: " + leasesNote);
            return;
        }
        line(b, "leases: " + leases.leases().size() + ", busy space they hold: " + Sizes.bytes(leases.heldBusyBytes()));
        if (leases.leases().isEmpty()) {
            return;
        }
        String f = "%6s %8s %10s %-5s %-28s %9s %-7s %12s  %s";
        line(b, String.format(Locale.ROOT, f, "ID", "PID", "INODE", "MODE", "RANGE", "AGE", "STATE", "BUSY", "PATH"));
        for (MountLeases.Held h : leases.leases()) {
            line(b, String.format(Locale.ROOT, f, h.id(), h.pid(), h.ino(), h.write() ? "write" : "read",
                    "[" + h.offset() + ", " + (h.offset() + h.length()) + ")",
                    String.format(Locale.ROOT, "%.1fs", h.age().toNanos() / 1e9), h.broken() ? "broken" : "held",
                    Sizes.bytes(h.busyBytes()), h.path().isEmpty() ? "?" : h.path()));
        }
    }

    private static void line(StringBuilder b, String s) {
        b.append(s).append('\n');
    }

    /** "0:01:23", "2d 3:04:05". */
    static String uptime(long seconds) {
        long d = seconds / 86_400;
        String hms = String.format(Locale.ROOT, "%d:%02d:%02d", seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60);
        return d > 0 ? d + "d " + hms : hms;
    }

    public Map<String, Object> json() {
        MountStats.Summary u = s.summary();
        MountStats.Space sp = s.space();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mount", mount.toString());
        m.put("uptime_ns", u.uptime().toNanos());
        m.put("bytes_read", u.bytesRead());
        m.put("bytes_written", u.bytesWritten());
        m.put("open_files", u.openFiles());
        m.put("range_lock_waits", u.rangeLockWaits());
        m.put("range_lock_wait_ns", u.rangeLockWaitTime().toNanos());
        m.put("invalidation_retries", u.invalidationRetries());
        Map<String, Object> space = new LinkedHashMap<>();
        space.put("block_size", sp.blockSize());
        space.put("total_blocks", sp.totalBlocks());
        space.put("free_blocks", sp.freeBlocks());
        space.put("free_extents", sp.freeExtents());
        space.put("largest_free_blocks", sp.largestFreeBlocks());
        space.put("busy_blocks", sp.busyBlocks());
        space.put("lease_held_blocks", sp.leaseHeldBlocks());
        space.put("total_inodes", sp.totalInodes());
        space.put("free_inodes", sp.freeInodes());
        m.put("space", space);
        List<Object> busy = new ArrayList<>();
        for (MountStats.Busy x : busy()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("reason", x.reason());
            e.put("extents", x.extents());
            e.put("bytes", x.bytes());
            e.put("references", x.references());
            busy.add(e);
        }
        m.put("busy", busy);
        List<Object> requests = new ArrayList<>();
        for (MountStats.Latency l : requests()) {
            requests.add(latency(l));
        }
        m.put("requests", requests);
        m.put("journal_commits", latency(commits()));
        Map<String, Object> l = new LinkedHashMap<>();
        if (leases == null) {
            l.put("available", false);
            l.put("why", leasesNote);
        } else {
            l.put("available", true);
            l.put("busy_bytes", leases.heldBusyBytes());
            List<Object> held = new ArrayList<>();
            for (MountLeases.Held h : leases.leases()) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("id", h.id());
                e.put("pid", h.pid());
                e.put("inode", h.ino());
                e.put("path", h.path());
                e.put("mode", h.write() ? "write" : "read");
                e.put("offset", h.offset());
                e.put("length", h.length());
                e.put("age_ns", h.age().toNanos());
                e.put("broken", h.broken());
                e.put("busy_bytes", h.busyBytes());
                held.add(e);
            }
            l.put("held", held);
        }
        m.put("leases", l);
        return m;
    }

    private Map<String, Object> latency(MountStats.Latency l) {
        Map<String, Object> e = new LinkedHashMap<>();
        if (l.key() != LeaseProtocol.LATENCY_JOURNAL_COMMIT) {
            e.put("opcode", l.key());
            e.put("name", name(l.key()));
        }
        e.put("count", l.count());
        e.put("errors", l.errors());
        e.put("per_second", perSecond(l.count()));
        e.put("latency_samples", l.samples());
        boolean timed = l.samples() > 0; // null: none sampled yet
        e.put("mean_ns", timed ? l.meanNanos() : null);
        e.put("p50_ns", timed ? l.p50Nanos() : null);
        e.put("p90_ns", timed ? l.p90Nanos() : null);
        e.put("p99_ns", timed ? l.p99Nanos() : null);
        e.put("p999_ns", timed ? l.p999Nanos() : null);
        e.put("max_ns", timed ? l.maxNanos() : null);
        return e;
    }
}
