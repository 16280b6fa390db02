package io.daxfs.bench;

/**
 * A core-to-core round trip: a volatile ping-pong between the calling thread and a responder
 * thread. {@link CoreToCoreBench} measures it as a benchmark; two-thread benchmarks print
 * {@link #roundTripNanos} after each iteration, so that each of their figures says which
 * machine it describes: on the VM of docs/jmh-results.md the round trip is about 70 ns or about
 * 340 ns depending on where the host runs the two vCPUs at the time.
 */
final class CoreToCore implements AutoCloseable {
    private volatile long ping;
    private volatile long pong;
    private long sent;
    private final Thread responder;

    /** Starts the responder. */
    CoreToCore() {
        responder = new Thread(this::respond, "core-to-core-responder");
        responder.setDaemon(true);
        responder.start();
    }

    private void respond() {
        long seen = 0;
        while (true) {
            long v;
            while ((v = ping) == seen) {
                Thread.onSpinWait();
            }
            if (v < 0) {
                return;
            }
            seen = v;
            pong = v;
        }
    }

    /** One round trip: a store seen by the other core, and its answer seen back here. */
    long roundTrip() {
        long v = ++sent;
        ping = v;
        while (pong != v) {
            Thread.onSpinWait();
        }
        return v;
    }

    /** Stops the responder. */
    @Override
    public void close() {
        ping = -1;
        try {
            responder.join(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The mean round trip over about {@code nanos} of ping-pong, in nanoseconds. */
    static long roundTripNanos(long nanos) {
        try (CoreToCore c = new CoreToCore()) {
            long trips = 0;
            long start = System.nanoTime();
            long elapsed;
            do {
                for (int i = 0; i < 1_000; i++) {
                    c.roundTrip();
                }
                trips += 1_000;
                elapsed = System.nanoTime() - start;
            } while (elapsed < nanos);
            return elapsed / trips;
        }
    }
}
