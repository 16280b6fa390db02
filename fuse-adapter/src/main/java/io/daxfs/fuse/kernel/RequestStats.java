package io.daxfs.fuse.kernel;

import io.daxfs.core.stats.LatencyHistogram;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What the kernel front end served since the mount, for {@code daxfs stat} (docs/stats.md):
 * per FUSE opcode the requests and their latency, the error replies, and the bytes READ and
 * WRITE moved. Shared by every worker of both transports (/dev/fuse and io_uring), which all
 * serve through one {@link KernelFileSystem}.
 *
 * <p>Latency is the daemon's service time: from the worker having the request to the reply
 * written (or, for FORGET, done) - what the daemon adds, without the kernel's queueing.
 *
 * <p>Recording is on every request's path, so it allocates nothing and takes no lock: a
 * histogram per opcode made at the mount ({@link LatencyHistogram}: atomic increments), two
 * atomic adds for the bytes of a READ or WRITE. Readers copy ({@link #latency}) while workers go
 * on: a snapshot's figures are each exact but not taken at one instant.
 */
final class RequestStats {
    /** FUSE opcodes are below this (STATX is 52); anything else is counted under opcode 0. */
    static final int OPCODES = 64;

    private final LatencyHistogram[] latency = new LatencyHistogram[OPCODES];
    private final AtomicLongArray errors = new AtomicLongArray(OPCODES);
    private final AtomicLong bytesRead = new AtomicLong();
    private final AtomicLong bytesWritten = new AtomicLong();
    private final long startNanos = System.nanoTime();

    RequestStats() {
        for (int i = 0; i < OPCODES; i++) {
            latency[i] = new LatencyHistogram();
        }
    }

    /** A request of {@code opcode} was served in {@code nanos}; {@code failed}: its reply was an error. */
    void served(int opcode, long nanos, boolean failed) {
        int i = opcode > 0 && opcode < OPCODES ? opcode : 0;
        latency[i].record(nanos);
        if (failed) {
            errors.incrementAndGet(i);
        }
    }

    void read(long bytes) {
        bytesRead.addAndGet(bytes);
    }

    void written(long bytes) {
        bytesWritten.addAndGet(bytes);
    }

    /** The histogram of {@code opcode} (0: any opcode outside the table). */
    LatencyHistogram latency(int opcode) {
        return latency[opcode];
    }

    long errors(int opcode) {
        return errors.get(opcode);
    }

    long bytesRead() {
        return bytesRead.get();
    }

    long bytesWritten() {
        return bytesWritten.get();
    }

    /** Nanoseconds since this front end started serving. */
    long uptimeNanos() {
        return System.nanoTime() - startNanos;
    }
}
