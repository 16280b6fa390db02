package io.daxfs.core.concurrent;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;

/**
 * Named points in fs-core's concurrent paths where a test can stop a thread to force an
 * interleaving (the race catalog). Production code calls {@link #reach}; with no handler
 * installed that is one volatile read.
 *
 * <p>Points (the argument is the inode number):
 * <ul>
 * <li>{@code read.mapped} - a read has looked up its blocks and holds references, range lock
 *     released, before copying;</li>
 * <li>{@code read.cached} - a read found a cached mapping, before copying from it;</li>
 * <li>{@code read.hole-looked-up} - a read found a hole, before caching that;</li>
 * <li>{@code write.mapped} - a write has resolved the device blocks of its range, before
 *     copying into them;</li>
 * <li>{@code write.allocating} - a write has (re)checked that its range has a hole, under the
 *     entry locks when they are on, and is about to allocate it;</li>
 * <li>{@code free.detached} - truncate/punch has detached extents, before committing;</li>
 * <li>{@code lease.found} - a lease has looked up its range's extents, range held shared,
 *     before it references them.</li>
 * </ul>
 */
public final class PausePoints {
    private final Map<String, LongConsumer> handlers = new ConcurrentHashMap<>();
    private volatile boolean any;

    public void reach(String point, long ino) {
        if (any) {
            LongConsumer h = handlers.get(point);
            if (h != null) {
                h.accept(ino);
            }
        }
    }

    public void install(String point, LongConsumer handler) {
        handlers.put(point, handler);
        any = true;
    }

    public void remove(String point) {
        handlers.remove(point);
        any = !handlers.isEmpty();
    }

    public void clear() {
        handlers.clear();
        any = false;
    }
}
