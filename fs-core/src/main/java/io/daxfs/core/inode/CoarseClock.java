package io.daxfs.core.inode;

/**
 * Wall-clock seconds for checks that tolerate a fraction of a second of error (relatime's
 * "atime a day old" rule), at the cost of a volatile load: a daemon thread refreshes the value
 * ten times a second. Reading the real clock costs about 25 ns here - more than the rest of
 * the relatime check on the read path together.
 */
final class CoarseClock {
    private static final long TICK_MS = 100;
    private static volatile long seconds = System.currentTimeMillis() / 1000;

    static {
        Thread t = new Thread(CoarseClock::tick, "daxfs-coarse-clock");
        t.setDaemon(true);
        t.start();
    }

    private CoarseClock() {
    }

    /** The current time in seconds since the epoch, at most about {@value #TICK_MS} ms old. */
    static long seconds() {
        return seconds;
    }

    private static void tick() {
        while (true) {
            seconds = System.currentTimeMillis() / 1000;
            try {
                Thread.sleep(TICK_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }
}
