package io.daxfs.core.stats;

import org.HdrHistogram.AtomicHistogram;
import org.HdrHistogram.Histogram;

/**
 * Latencies in nanoseconds since the mount, from 1 ns to {@link #HIGHEST} at 2 significant
 * digits (HdrHistogram: every recorded value is kept within 1%), for {@code daxfs stat}.
 *
 * <p>Recording is what the request path pays: an {@link AtomicHistogram} of fixed size, so
 * {@link #record} is a few atomic increments - no lock, no allocation, never a resize. Values
 * above {@link #HIGHEST} are counted as {@link #HIGHEST}. Readers take a {@link #snapshot}: a
 * copy made while writers go on, so its count may be a few values behind or ahead of the sum of
 * its buckets (each value is counted exactly once; the copy just is not one instant).
 * Cumulative only: the difference of two snapshots is the interval between them
 * ({@code daxfs stat --watch}), so any number of readers can watch without disturbing each
 * other.
 */
public final class LatencyHistogram {
    /** The largest latency kept apart: a minute. */
    public static final long HIGHEST = 60_000_000_000L;
    /** Significant decimal digits kept of each value. */
    public static final int DIGITS = 2;

    private final AtomicHistogram histogram = new AtomicHistogram(1, HIGHEST, DIGITS);

    /** Records one latency of {@code nanos}; allocation-free, lock-free, safe from any thread. */
    public void record(long nanos) {
        histogram.recordValue(nanos <= 0 ? 0 : Math.min(nanos, HIGHEST));
    }

    /** How many values were recorded (a racy read: for a cheap look, not for a report). */
    public long count() {
        return histogram.getTotalCount();
    }

    /** A copy of everything recorded so far (allocates: for readers, not for the request path). */
    public Histogram snapshot() {
        Histogram h = new Histogram(1, HIGHEST, DIGITS);
        h.add(histogram);
        return h;
    }
}
