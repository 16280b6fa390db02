package io.daxfs.core.inode;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.LongConsumer;
import java.util.function.LongFunction;

/**
 * The in-memory {@link Inode} of each inode number in use: at most one per number at a time,
 * made on first use.
 *
 * <p>In front of the map sits a direct-mapped array of recently used handles, indexed by the
 * low bits of the number, so the lookup every read and write starts with neither boxes the
 * number nor allocates a lambda (the request path allocates nothing; the daemon's C1 code
 * would not optimize either away). A slot may hold a handle the map no longer has; such a
 * handle has been {@link Inode#retire retired} first, and a lookup never returns a retired
 * handle from the array. A thread that got a handle before its removal keeps using it, as it
 * would have with the map alone.
 */
public final class InodeHandles {
    private static final int RECENT = 4096;

    private final ConcurrentHashMap<Long, Inode> all = new ConcurrentHashMap<>();
    private final AtomicReferenceArray<Inode> recent = new AtomicReferenceArray<>(RECENT);
    private final LongFunction<Inode> factory;
    private final LongConsumer verifier;

    public InodeHandles(LongFunction<Inode> factory) {
        this(factory, ino -> { });
    }

    /**
     * @param verifier checks an inode before its first handle is made, and throws if it is
     *                 damaged (outside the map's locks: {@link InodeVerifier#verify})
     */
    public InodeHandles(LongFunction<Inode> factory, LongConsumer verifier) {
        this.factory = factory;
        this.verifier = verifier;
    }

    private static int slot(long ino) {
        return (int) (ino & (RECENT - 1));
    }

    /** The handle of {@code ino}, made with the factory (after the verifier) if there is none. */
    public Inode get(long ino) {
        int i = slot(ino);
        Inode in = recent.get(i);
        if (in != null && in.ino() == ino && !in.isRetired()) {
            return in;
        }
        in = all.get(ino);
        if (in == null) {
            verifier.accept(ino);
            in = all.computeIfAbsent(ino, factory::apply);
        }
        recent.set(i, in);
        return in;
    }

    /** The handle of {@code ino} if one exists, without making one. */
    public Inode peek(long ino) {
        return all.get(ino);
    }

    /** Drops the handle of {@code ino}: the next {@link #get} makes a fresh one. */
    public void remove(long ino) {
        Inode old = all.remove(ino);
        if (old != null) {
            old.retire();
            recent.compareAndSet(slot(ino), old, null);
        }
    }
}
