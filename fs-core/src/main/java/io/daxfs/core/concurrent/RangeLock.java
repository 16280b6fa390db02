package io.daxfs.core.concurrent;

import io.daxfs.core.stats.Contention;

import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fair reader/writer lock over ranges [start, end) of one file.
 *
 * <p>Requests queue in arrival order. A request is granted when no request ahead of it in the
 * queue - granted or still waiting - conflicts with it; two requests conflict when their
 * ranges overlap and at least one is exclusive. Consequences:
 * <ul>
 * <li>shared requests over overlapping ranges run together;</li>
 * <li>requests over disjoint ranges never wait for each other, whatever their modes;</li>
 * <li>fairness: a waiting exclusive request (a truncate) blocks later conflicting shared
 *     requests, so a stream of readers cannot starve it; conflicting requests are granted
 *     in arrival order.</li>
 * </ul>
 *
 * <p>Not reentrant. The internal mutex is held only to link or unlink a request and to hand
 * grants out, never while a caller waits; waiting is a park on the request itself.
 *
 * <p>Requests are recycled: a thread keeps a few {@link Range} objects that it closed and
 * reuses them for its next requests, so taking and releasing a range allocates nothing (the
 * read and write paths allocate nothing per request). Hence the rule for callers: close a
 * range once, on the thread that took it, and do not touch it after closing (every caller
 * uses try-with-resources or one close in a finally). A range closed by another thread is
 * simply not recycled.
 */
public final class RangeLock {
    /** A held (or awaited) range; release it exactly once, e.g. with try-with-resources. */
    public static final class Range implements AutoCloseable {
        long start;
        long end;
        boolean exclusive;
        final Thread owner;
        volatile boolean granted;
        Range prev;
        Range next;
        private RangeLock lock;

        private Range() {
            this.owner = Thread.currentThread();
        }

        /** A request of the current thread: a recycled one if it has one, else a new one. */
        static Range take(RangeLock lock, long start, long end, boolean exclusive) {
            Range r = SPARES.take();
            if (r == null) {
                r = new Range();
            }
            r.start = start;
            r.end = end;
            r.exclusive = exclusive;
            r.granted = false;
            r.lock = lock;
            return r;
        }

        /** Back to the owner's spares (only on the owner's thread: the spares are not shared). */
        void recycle() {
            if (Thread.currentThread() == owner) {
                SPARES.giveBack(this);
            }
        }

        boolean conflicts(Range o) {
            return start < o.end && o.start < end && (exclusive || o.exclusive);
        }

        public long start() {
            return start;
        }

        public long end() {
            return end;
        }

        public boolean exclusive() {
            return exclusive;
        }

        @Override
        public void close() {
            RangeLock l = lock;
            lock = null;
            if (l != null) {
                l.release(this);
                recycle();
            }
        }
    }

    /** Closed ranges of each thread, ready for its next requests. */
    private static final ThreadSpares<Range> SPARES = new ThreadSpares<>(8);

    private final ReentrantLock mutex = new ReentrantLock();
    private Range head;
    private Range tail;

    public Range lockShared(long start, long end) {
        return acquire(start, end, false);
    }

    public Range lockExclusive(long start, long end) {
        return acquire(start, end, true);
    }

    /** Takes [start, end) in the given mode, waiting for conflicting earlier requests. */
    public Range acquire(long start, long end, boolean exclusive) {
        if (end <= start) {
            throw new IllegalArgumentException("empty range [" + start + ", " + end + ")");
        }
        Range r = Range.take(this, start, end, exclusive);
        mutex.lock();
        try {
            boolean blocked = false;
            for (Range p = head; p != null; p = p.next) {
                if (p.conflicts(r)) {
                    blocked = true;
                    break;
                }
            }
            append(r);
            if (!blocked) {
                r.granted = true;
                return r;
            }
        } finally {
            mutex.unlock();
        }
        boolean interrupted = false;
        long waitStart = System.nanoTime();
        while (!r.granted) {
            LockSupport.park(this);
            if (Thread.interrupted()) {
                interrupted = true; // uninterruptible, like a file-system lock; restore below
            }
        }
        Contention.rangeLockWaited(System.nanoTime() - waitStart);
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return r;
    }

    /** Non-blocking attempt: the range if granted at once, else null. */
    public Range tryAcquire(long start, long end, boolean exclusive) {
        Range r = Range.take(this, start, end, exclusive);
        mutex.lock();
        try {
            for (Range p = head; p != null; p = p.next) {
                if (p.conflicts(r)) {
                    r.lock = null;
                    r.recycle();
                    return null;
                }
            }
            append(r);
            r.granted = true;
            return r;
        } finally {
            mutex.unlock();
        }
    }

    void release(Range r) {
        mutex.lock();
        try {
            unlink(r);
            // Grant every waiter that no earlier request conflicts with any more.
            for (Range w = head; w != null; w = w.next) {
                if (w.granted) {
                    continue;
                }
                boolean blocked = false;
                for (Range p = head; p != w; p = p.next) {
                    if (p.conflicts(w)) {
                        blocked = true;
                        break;
                    }
                }
                if (!blocked) {
                    w.granted = true;
                    LockSupport.unpark(w.owner);
                }
            }
        } finally {
            mutex.unlock();
        }
    }

    /** Number of requests granted or waiting (tests and diagnostics). */
    public int queued() {
        mutex.lock();
        try {
            int n = 0;
            for (Range p = head; p != null; p = p.next) {
                n++;
            }
            return n;
        } finally {
            mutex.unlock();
        }
    }

    /** Number of requests waiting (tests: to know a thread is blocked). */
    public int waiting() {
        mutex.lock();
        try {
            int n = 0;
            for (Range p = head; p != null; p = p.next) {
                if (!p.granted) {
                    n++;
                }
            }
            return n;
        } finally {
            mutex.unlock();
        }
    }

    private void append(Range r) {
        r.prev = tail;
        if (tail == null) {
            head = r;
        } else {
            tail.next = r;
        }
        tail = r;
    }

    private void unlink(Range r) {
        if (r.prev == null) {
            head = r.next;
        } else {
            r.prev.next = r.next;
        }
        if (r.next == null) {
            tail = r.prev;
        } else {
            r.next.prev = r.prev;
        }
        r.prev = null;
        r.next = null;
    }
}
