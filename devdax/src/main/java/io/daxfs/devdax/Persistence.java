package io.daxfs.devdax;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * How {@link PmemRegion#flush} and {@link PmemRegion#fence} are carried out on one mapping.
 * Offsets and lengths reaching these methods are already bounds-checked by the region, and the
 * region guarantees the mapping stays mapped for the duration of each call.
 */
sealed interface Persistence {

    PersistenceMode mode();

    void flush(long offset, long length);

    void fence();

    /**
     * A mapping made by {@link java.nio.channels.FileChannel#map}: {@link MemorySegment#force()}
     * on a slice. On a MAP_SYNC mapping the JDK writes back the slice's cache lines (no system
     * call); otherwise it calls msync(MS_SYNC) on the pages covering the slice.
     */
    final class Force implements Persistence {
        private final MemorySegment mapped;
        private final boolean sync;
        private final long pageSize;

        Force(MemorySegment mapped, boolean sync, long pageSize) {
            this.mapped = mapped;
            this.sync = sync;
            this.pageSize = pageSize;
        }

        @Override
        public PersistenceMode mode() {
            return sync ? PersistenceMode.CACHE_LINE_WRITEBACK : PersistenceMode.MSYNC;
        }

        @Override
        public void flush(long offset, long length) {
            if (length == 0) {
                return;
            }
            long start = offset;
            long end = offset + length;
            if (!sync) {
                // msync works on whole pages anyway; rounding here makes the range the kernel
                // sees explicit instead of relying on the JDK's own rounding. On a MAP_SYNC
                // mapping we do not round: every extra cache line is an extra clwb.
                start = Math.floorDiv(start, pageSize) * pageSize;
                end = Math.min(mapped.byteSize(), ceil(end, pageSize));
            }
            mapped.asSlice(start, end - start).force();
        }

        @Override
        public void fence() {
            // force() has completed synchronously (msync) or ended with the write-back
            // post-sync barrier (sfence); the full fence also orders plain stores of this
            // thread that were not flushed against later ones.
            VarHandle.fullFence();
        }
    }

    /**
     * A mapping the JDK does not know as "mapped" (our own mmap of a /dev/dax device): cache
     * lines are written back with {@link CacheLineWriteback}, which ends with its own sfence.
     */
    final class Writeback implements Persistence {
        private final long baseAddress;

        Writeback(long baseAddress) {
            this.baseAddress = baseAddress;
        }

        @Override
        public PersistenceMode mode() {
            return PersistenceMode.CACHE_LINE_WRITEBACK;
        }

        @Override
        public void flush(long offset, long length) {
            CacheLineWriteback.writeback(baseAddress + offset, length);
        }

        @Override
        public void fence() {
            VarHandle.fullFence();
        }
    }

    /**
     * Nothing can write caches back from here: flush is only a fence. Durable across power
     * loss only where CPU caches are inside the persistence domain (eADR).
     */
    final class FenceOnly implements Persistence {
        @Override
        public PersistenceMode mode() {
            return PersistenceMode.FENCE_ONLY;
        }

        @Override
        public void flush(long offset, long length) {
            VarHandle.fullFence();
        }

        @Override
        public void fence() {
            VarHandle.fullFence();
        }
    }

    /**
     * An image on tmpfs: no flush can make it outlive a power cut, and kill -9 safety needs
     * none (the pages are the file's), so flush does nothing and fence only orders stores.
     */
    final class Volatile implements Persistence {
        @Override
        public PersistenceMode mode() {
            return PersistenceMode.VOLATILE;
        }

        @Override
        public void flush(long offset, long length) {
            // nothing to write back to: the file's pages are its only copy
        }

        @Override
        public void fence() {
            VarHandle.fullFence();
        }
    }

    private static long ceil(long value, long unit) {
        return Math.ceilDiv(value, unit) * unit;
    }
}
