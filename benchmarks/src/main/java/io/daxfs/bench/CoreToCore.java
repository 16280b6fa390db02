package io.daxfs.bench;

/**
 * A core-to-core round trip measured on the spot: a volatile ping-pong between the calling
 * thread and a responder thread it starts (see {@link CoreToCoreBench}, the same measurement as
 * a benchmark). Two-thread benchmarks print it after each iteration, so that each of their
 * figures says which machine it describes: on the VM of docs/jmh-results.md the round trip is
 * about 70 ns or about 340 ns depending on where the host runs the two vCPUs at the time.
 */
final class CoreToCore {
    private static volatile long ping;
    private static volatile long pong;

    private CoreToCore() {
    }

    /** The mean round trip over about {@code nanos} of ping-pong, in nanoseconds. */
    static synchronized long roundTripNanos(long nanos) {
        ping = 0;
        pong = 0;
        Thread responder = new Thread(() -> {
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
        }, "core-to-core-responder");
        responder.setDaemon(true);
        responder.start();
        long trips = 0;
        long start = System.nanoTime();
        long elapsed;
        do {
            for (int i = 0; i < 1_000; i++) {
                long v = ++trips;
                ping = v;
                while (pong != v) {
                    Thread.onSpinWait();
                }
            }
            elapsed = System.nanoTime() - start;
        } while (elapsed < nanos);
        ping = -1;
        return elapsed / trips;
    }
}
