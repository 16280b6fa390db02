package io.daxfs.concurrency;

/** Widens a critical section a little, so that a broken lock is caught in few samples. */
final class Spin {
    private Spin() {
    }

    /** Roughly 0.5 to 4 microseconds of spinning (PAUSE instructions on x86). */
    static void window() {
        for (int i = 0; i < 32; i++) {
            Thread.onSpinWait();
        }
    }
}
