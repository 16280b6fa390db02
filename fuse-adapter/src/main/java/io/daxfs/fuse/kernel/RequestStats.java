package io.daxfs.fuse.kernel;

import io.daxfs.core.stats.LatencyHistogram;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What the kernel front end served since the mount, for {@code daxfs stat} (docs/stats.md):
 * per FUSE opcode the requests, the error replies and a latency histogram, and the bytes READ
 * and WRITE moved. Shared by every worker of both transports (/dev/fuse and io_uring), which all
 * serve through one {@link KernelFileSystem}.
 *
 * <p>Latency is the daemon's service time: from the worker having the request to the reply
 * written (or, for FORGET, done) - what the daemon adds, without the kernel's queueing.
 *
 * <p>Recording is on every request's path, so it allocates nothing, takes no lock and stays
 * cheap (the budget: under 2% of throughput; docs/stats.md has the measurement):
 * <ul>
 * <li>counts are exact and kept per worker: a {@link Stripe} of plain counters hangs off each
 *     {@link Reply} (a worker's, or an io_uring ring entry's; a reply serves one request at a
 *     time), made at its first request and registered here. Its one writer increments without
 *     atomics, no cache line moves between CPUs, and no thread-local or thread-id lookup is
 *     paid (each cost more than the rest of the recording under C1). A reader sums the stripes;
 *     it may see a count a moment late, never torn (64-bit loads and stores are whole on the
 *     64-bit JVMs daxfs runs on);</li>
 * <li>latency is <em>sampled</em>: one request in {@link #SAMPLE_EVERY}, chosen by a hash of
 *     the request's unique id (so no workload pattern lines up with it), is timed and recorded
 *     in its opcode's histogram ({@link LatencyHistogram}, made at the mount). Reading the clock
 *     is what costs: System.nanoTime() took about 70 ns on the virtual machine measured, twice
 *     per timed request.</li>
 * </ul>
 */
final class RequestStats {
    /** FUSE opcodes are below this (STATX is 52); anything else is counted under opcode 0. */
    static final int OPCODES = 64;
    /** One request in this many is timed (a power of two). */
    static final int SAMPLE_EVERY = 16;
    private static final int SAMPLE_BITS = Integer.numberOfTrailingZeros(SAMPLE_EVERY);
    private static final int ERRORS = OPCODES;
    private static final int BYTES_READ = 2 * OPCODES;
    private static final int BYTES_WRITTEN = BYTES_READ + 1;
    private static final int STRIDE = BYTES_WRITTEN + 1;

    /**
     * Recording is on unless the daemon's JVM runs with {@code -Ddaxfs.stats=off} (then daxfs
     * stat shows no requests; the overhead benchmark's baseline is such an instance).
     */
    static final boolean DEFAULT_ON = !"off".equals(System.getProperty("daxfs.stats"));

    /** One reply's counters: requests and errors per opcode, bytes read and written. One writer. */
    static final class Stripe {
        private final RequestStats owner;
        private final long[] cells = new long[STRIDE];

        private Stripe(RequestStats owner) {
            this.owner = owner;
        }
    }

    /** Whether requests are counted and sampled: a final field, one load and branch per request. */
    final boolean on;
    private final LatencyHistogram[] latency = new LatencyHistogram[OPCODES];
    private final List<Stripe> stripes = new CopyOnWriteArrayList<>();
    private final long startNanos = System.nanoTime();

    RequestStats() {
        this(DEFAULT_ON);
    }

    RequestStats(boolean on) {
        this.on = on;
        for (int i = 0; i < OPCODES; i++) {
            latency[i] = new LatencyHistogram();
        }
    }

    /** Whether the request with this unique id is one to time (Fibonacci hashing of the id). */
    boolean sampled(long unique) {
        return on && (unique * 0x9E3779B97F4A7C15L) >>> (64 - SAMPLE_BITS) == 0;
    }

    /** The counters of the worker that answers through {@code out}; made at its first request. */
    private Stripe stripe(Reply out) {
        Stripe s = out.stripe;
        if (s == null || s.owner != this) {
            s = new Stripe(this);
            stripes.add(s);
            out.stripe = s;
        }
        return s;
    }

    /** A request of {@code opcode} was served through {@code out}; {@code failed}: its reply was an error. */
    void served(Reply out, int opcode, boolean failed) {
        if (!on) {
            return;
        }
        long[] c = stripe(out).cells;
        int i = index(opcode);
        c[i]++;
        if (failed) {
            c[ERRORS + i]++;
        }
    }

    /** A sampled request of {@code opcode} took {@code nanos}. */
    void timed(int opcode, long nanos) {
        latency[index(opcode)].record(nanos);
    }

    void read(Reply out, long bytes) {
        if (on) {
            stripe(out).cells[BYTES_READ] += bytes;
        }
    }

    void written(Reply out, long bytes) {
        if (on) {
            stripe(out).cells[BYTES_WRITTEN] += bytes;
        }
    }

    private static int index(int opcode) {
        return opcode > 0 && opcode < OPCODES ? opcode : 0;
    }

    private long sum(int offset) {
        long n = 0;
        for (Stripe s : stripes) {
            n += s.cells[offset];
        }
        return n;
    }

    /** Requests of {@code opcode} served (0: any opcode outside the table). */
    long count(int opcode) {
        return sum(opcode);
    }

    /** The sampled latencies of {@code opcode}. */
    LatencyHistogram latency(int opcode) {
        return latency[opcode];
    }

    long errors(int opcode) {
        return sum(ERRORS + opcode);
    }

    long bytesRead() {
        return sum(BYTES_READ);
    }

    long bytesWritten() {
        return sum(BYTES_WRITTEN);
    }

    /** Nanoseconds since this front end started serving. */
    long uptimeNanos() {
        return System.nanoTime() - startNanos;
    }
}
