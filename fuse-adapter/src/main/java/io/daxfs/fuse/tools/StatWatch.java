package io.daxfs.fuse.tools;

import io.daxfs.lease.LeaseProtocol;
import io.daxfs.lease.MountStats;

import org.HdrHistogram.Histogram;

import java.nio.ByteBuffer;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.zip.DataFormatException;

/**
 * {@code daxfs stat --watch N}: one line per interval, as vmstat prints them - the first since
 * the mount, then each the difference between two readings. Rates are per second of the
 * interval; the p99 latencies are of the interval's own requests and commits (the daemon sends
 * its cumulative HdrHistograms of the requests it sampled; the difference of two is the
 * interval's). "-" when the interval has no sample.
 */
public final class StatWatch {
    private static final String FORMAT = "%8s %8s %8s %9s %8s %9s %9s %9s %9s %10s %10s %6s %7s";
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    private MountStats.Snapshot previous;
    private Histogram previousRequests;
    private Histogram previousCommits;

    /** The column heads. */
    public static String header() {
        return String.format(Locale.ROOT, FORMAT, "time", "req/s", "READ/s", "read/s", "WRITE/s", "written/s", "req p99",
                "commit/s", "commit p99", "busy", "free", "open", "waits/s") + "\n";
    }

    /** The line of the interval that ends with {@code now} (the first: since the mount). */
    public String line(MountStats.Snapshot now, LocalTime clock) {
        if (previous != null && now.summary().uptime().compareTo(previous.summary().uptime()) < 0) {
            previous = null; // mounted again meanwhile: start over
            previousRequests = null;
            previousCommits = null;
        }
        Histogram requests = merged(now, false);
        Histogram commits = merged(now, true);
        double seconds = previous == null ? now.summary().uptime().toNanos() / 1e9
                : (now.takenNanos() - previous.takenNanos()) / 1e9;
        seconds = Math.max(seconds, 1e-9);
        Histogram intervalRequests = minus(requests, previousRequests);
        Histogram intervalCommits = minus(commits, previousCommits);
        MountStats.Summary u = now.summary();
        MountStats.Summary p = previous == null ? null : previous.summary();
        MountStats.Space sp = now.space();
        String line = String.format(Locale.ROOT, FORMAT, CLOCK.format(clock),
                rate(requests(now, false) - (previous == null ? 0 : requests(previous, false)), seconds),
                rate(count(now, 15) - (previous == null ? 0 : count(previous, 15)), seconds),
                Sizes.bytes(Math.round((u.bytesRead() - (p == null ? 0 : p.bytesRead())) / seconds)),
                rate(count(now, 16) - (previous == null ? 0 : count(previous, 16)), seconds),
                Sizes.bytes(Math.round((u.bytesWritten() - (p == null ? 0 : p.bytesWritten())) / seconds)),
                p99(intervalRequests), rate(requests(now, true) - (previous == null ? 0 : requests(previous, true)), seconds),
                p99(intervalCommits),
                Sizes.bytes(sp.busyBlocks() * sp.blockSize()), Sizes.bytes(sp.freeBlocks() * sp.blockSize()),
                Sizes.count(u.openFiles()),
                rate(u.rangeLockWaits() - (p == null ? 0 : p.rangeLockWaits()), seconds)) + "\n";
        previous = now;
        previousRequests = requests;
        previousCommits = commits;
        return line;
    }

    /** Requests of every opcode, or the journal's commits: exact counts. */
    private static long requests(MountStats.Snapshot s, boolean commits) {
        return s.latency().stream().filter(l -> (l.key() == LeaseProtocol.LATENCY_JOURNAL_COMMIT) == commits)
                .mapToLong(MountStats.Latency::count).sum();
    }

    private static long count(MountStats.Snapshot s, int opcode) {
        return s.latency().stream().filter(l -> l.key() == opcode).mapToLong(MountStats.Latency::count).sum();
    }

    private static String rate(long n, double seconds) {
        double r = n / seconds;
        return r >= 100 || r == 0 ? String.format(Locale.ROOT, "%,.0f", r) : String.format(Locale.ROOT, "%.1f", r);
    }

    private static String p99(Histogram h) {
        return h.getTotalCount() == 0 ? "-" : StatReport.nanos(h.getValueAtPercentile(99));
    }

    /** Every request's histogram added up (or the journal's commits). */
    private static Histogram merged(MountStats.Snapshot s, boolean commits) {
        Histogram sum = new Histogram(1, 60_000_000_000L, 2);
        for (MountStats.Latency l : s.latency()) {
            if ((l.key() == LeaseProtocol.LATENCY_JOURNAL_COMMIT) == commits && l.histogram().length > 0) {
                sum.add(decode(l.histogram()));
            }
        }
        return sum;
    }

    static Histogram decode(byte[] encoded) {
        try {
            return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(encoded), 0);
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("a histogram the daemon sent does not decode", e);
        }
    }

    private static Histogram minus(Histogram now, Histogram before) {
        Histogram d = now.copy();
        if (before != null) {
            d.subtract(before);
        }
        return d;
    }
}
