package io.daxfs.devdax;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Writes CPU cache lines back to memory for an address range, through the JDK's own
 * {@code jdk.internal.misc.Unsafe.writebackMemory} - the very routine
 * {@code MappedByteBuffer.force()} uses on a MAP_SYNC mapping. It issues a pre-sync barrier,
 * one clwb / clflushopt / clflush per cache line (whichever the CPU has; HotSpot intrinsifies
 * it), and a post-sync barrier (sfence), so on return every byte in the range has reached the
 * memory controller, i.e. the persistence domain of an ADR platform.
 *
 * <p>We need it because a mapping made with our own mmap(2) downcall (a /dev/dax device) is not
 * a "mapped" segment for the JDK, so {@link java.lang.foreign.MemorySegment#force()} is not
 * available on it.
 *
 * <p>Bound at run time through method handles rather than linked at compile time: javac cannot
 * combine {@code --release} with an export of a java.base package, and when the JVM was not
 * started with {@code --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED} we degrade
 * (callers fall back to {@link PersistenceMode#FENCE_ONLY}) instead of failing to link.
 * The handle is a constant, so the JIT inlines the call as if it were direct.
 */
final class CacheLineWriteback {
    /** (long address, long length) void, bound to the Unsafe instance; null if unavailable. */
    private static final MethodHandle WRITEBACK;
    /** Why write-back is unavailable, for the mapping description; null when available. */
    private static final String UNAVAILABLE_REASON;

    static {
        MethodHandle handle = null;
        String reason = null;
        try {
            Module base = Object.class.getModule();
            if (!base.isExported("jdk.internal.misc", CacheLineWriteback.class.getModule())) {
                reason = "the JVM does not export jdk.internal.misc"
                        + " (start it with --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED)";
            } else {
                Class<?> unsafeClass = Class.forName("jdk.internal.misc.Unsafe");
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                boolean enabled = (boolean) lookup.findStatic(unsafeClass, "isWritebackEnabled",
                        MethodType.methodType(boolean.class)).invoke();
                if (!enabled) {
                    reason = "this JVM/CPU does not support cache-line write-back";
                } else {
                    Object unsafe = lookup.findStatic(unsafeClass, "getUnsafe",
                            MethodType.methodType(unsafeClass)).invoke();
                    handle = lookup.findVirtual(unsafeClass, "writebackMemory",
                                    MethodType.methodType(void.class, long.class, long.class))
                            .bindTo(unsafe);
                }
            }
        } catch (Throwable t) {
            handle = null;
            reason = "cannot reach jdk.internal.misc.Unsafe: " + t;
        }
        WRITEBACK = handle;
        UNAVAILABLE_REASON = reason;
    }

    private CacheLineWriteback() {
    }

    static boolean available() {
        return WRITEBACK != null;
    }

    /** Null when {@link #available()}. */
    static String unavailableReason() {
        return UNAVAILABLE_REASON;
    }

    /**
     * Writes back every cache line overlapping {@code [address, address + length)} and waits
     * for completion. The range must be mapped: the caller guarantees it stays mapped for the
     * duration of the call (an unmapped address here crashes the JVM, it is not an exception).
     */
    static void writeback(long address, long length) {
        if (length <= 0) {
            return;
        }
        try {
            WRITEBACK.invokeExact(address, length);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
