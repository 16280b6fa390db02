package io.daxfs.fuse.libfuse;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import ru.serce.jnrfuse.AbstractFuseFS;
import ru.serce.jnrfuse.struct.FuseOperations;

import java.lang.reflect.Field;
import java.util.Set;

/**
 * A native copy of the {@code struct fuse_operations} that jnr-fuse built for a file system,
 * with the {@link FuseOperationFlag}s applied.
 *
 * <p>Why a copy: jnr-fuse's struct lives in heap memory (jnr-ffi allocates struct memory on the
 * Java heap unless asked for direct memory) and fuse_main_real only ever sees a temporary native
 * copy. We do the same, explicitly, and keep our copy alive for the whole session: libfuse 2.9
 * memcpy()s the struct in fuse_new, but nothing documents that, so we do not rely on it.
 *
 * <p>Invariant: the closures the struct points to are owned by jnr-fuse's FuseOperations (its
 * Func members keep them reachable), so {@link #fs} must stay reachable as long as libfuse may
 * call them; holding this object does that.
 */
final class NativeOperations {
    private final AbstractFuseFS fs;
    private final Pointer memory;
    private final long size;

    private NativeOperations(AbstractFuseFS fs, Pointer memory, long size) {
        this.fs = fs;
        this.memory = memory;
        this.size = size;
    }

    static NativeOperations of(AbstractFuseFS fs, FuseOperationsLayout layout, Set<FuseOperationFlag> flags) {
        FuseOperations ops = operationsOf(fs);
        layout.verify(ops);
        int size = Struct.size(ops);
        byte[] bytes = new byte[size];
        Struct.getMemory(ops).get(0, bytes, 0, size);
        Pointer copy = Memory.allocateDirect(Runtime.getSystemRuntime(), size);
        copy.put(0, bytes, 0, size);
        layout.writeFlags(copy, flags);
        return new NativeOperations(fs, copy, size);
    }

    /**
     * AbstractFuseFS keeps the struct in a protected field with no accessor; it is fully built by
     * the constructor (AbstractFuseFS.init), so reading it is all we need from jnr-fuse's mount path.
     */
    static FuseOperations operationsOf(AbstractFuseFS fs) {
        try {
            Field field = AbstractFuseFS.class.getDeclaredField("fuseOperations");
            field.setAccessible(true);
            return (FuseOperations) field.get(fs);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("jnr-fuse's AbstractFuseFS has no fuseOperations field", e);
        }
    }

    Pointer pointer() {
        return memory;
    }

    long size() {
        return size;
    }

    AbstractFuseFS fs() {
        return fs;
    }
}
