package io.daxfs.core.concurrent;

/**
 * Objects a thread closed and may reuse for its next request (range-lock requests, read
 * references), so taking and releasing one allocates nothing. Each thread has its own stack of
 * at most {@code capacity}; an object given back beyond that is left to the garbage
 * collector. Only the thread that owns an object may give it back here: the stacks are not
 * shared.
 */
final class ThreadSpares<T> {
    private static final class Stack {
        final Object[] items;
        int count;

        Stack(int capacity) {
            items = new Object[capacity];
        }
    }

    private final ThreadLocal<Stack> stacks;

    ThreadSpares(int capacity) {
        this.stacks = ThreadLocal.withInitial(() -> new Stack(capacity));
    }

    /** A spare of this thread, or null if it has none. */
    @SuppressWarnings("unchecked")
    T take() {
        Stack s = stacks.get();
        return s.count == 0 ? null : (T) s.items[--s.count];
    }

    /** Gives {@code spare} back; call on the thread that owns it. */
    void giveBack(T spare) {
        Stack s = stacks.get();
        if (s.count < s.items.length) {
            s.items[s.count++] = spare;
        }
    }
}
