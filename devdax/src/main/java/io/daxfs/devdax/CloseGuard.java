package io.daxfs.devdax;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps a mapping and a file descriptor alive while an operation that the {@link
 * java.lang.foreign.Arena} cannot protect is running: a cache-line write-back on a raw address
 * (on an unmapped address the CPU faults and the JVM dies) or a fallocate on a descriptor
 * number (after close the number may already name another file, whose blocks we would punch).
 * Plain segment accesses need no guard: closing a shared arena already waits for them or makes
 * them throw.
 *
 * <p>Invariant: once {@link #close()} has returned, no {@link #enter()} succeeds and every
 * operation that entered before has exited. Dekker-style: an operation increments
 * {@code inFlight} and then reads {@code closed}; close sets {@code closed} and then reads
 * {@code inFlight}; both are volatile, so at least one of the two sees the other.
 */
final class CloseGuard {
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong inFlight = new AtomicLong();
    private final String what;

    CloseGuard(String what) {
        this.what = what;
    }

    /** Marks an operation as running; throws {@link IllegalStateException} once closed. */
    void enter() {
        inFlight.incrementAndGet();
        if (closed.get()) {
            inFlight.decrementAndGet();
            throw closedException();
        }
    }

    void exit() {
        inFlight.decrementAndGet();
    }

    /** Throws {@link IllegalStateException} once closed; for operations that touch nothing. */
    void check() {
        if (closed.get()) {
            throw closedException();
        }
    }

    boolean isClosed() {
        return closed.get();
    }

    /**
     * Refuses new operations and waits for running ones (each is short: a write-back or one
     * system call). Returns true for the one caller that actually closed.
     */
    boolean close() {
        if (!closed.compareAndSet(false, true)) {
            return false;
        }
        while (inFlight.get() != 0) {
            Thread.onSpinWait();
        }
        return true;
    }

    private IllegalStateException closedException() {
        return new IllegalStateException(what + " is closed");
    }
}
