package io.daxfs.core.race;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;

/**
 * A pause-point handler: the first {@code parties} threads to reach the point stop there until
 * the test opens the gate. Later arrivals pass through. Waits are bounded so a broken test
 * fails instead of hanging.
 */
final class Gate implements LongConsumer {
    static final long TIMEOUT_SECONDS = 20;
    private final int parties;
    private final AtomicInteger arrivals = new AtomicInteger();
    private final CountDownLatch arrived;
    private final CountDownLatch open = new CountDownLatch(1);

    Gate(int parties) {
        this.parties = parties;
        this.arrived = new CountDownLatch(parties);
    }

    Gate() {
        this(1);
    }

    @Override
    public void accept(long ino) {
        if (arrivals.incrementAndGet() > parties) {
            return;
        }
        arrived.countDown();
        try {
            if (!open.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("gate never opened");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Blocks until all parties stand at the gate. */
    void awaitArrivals() throws InterruptedException {
        if (!arrived.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            throw new AssertionError("threads never reached the pause point");
        }
    }

    void open() {
        open.countDown();
    }

    /** Waits (bounded) until {@code condition} holds - e.g. "the other thread is blocked on a lock". */
    static void awaitCondition(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(1);
        }
    }
}
