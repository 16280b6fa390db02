package io.daxfs.fuse.libfuse;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A NULL-terminated {@code char *argv[]} in native memory.
 *
 * <p>Invariant: the strings are referenced from {@link #strings}, so they stay allocated as long
 * as this object is reachable (jnr-ffi frees direct memory when its Pointer is collected). The
 * session keeps its argv for its whole life, as a C main()'s argv would be.
 */
final class NativeArgv {
    private final List<String> args;
    private final List<Pointer> strings = new ArrayList<>();
    private final Pointer array;

    NativeArgv(List<String> args) {
        Runtime runtime = Runtime.getSystemRuntime();
        this.args = List.copyOf(args);
        int ptr = runtime.addressSize();
        array = Memory.allocateDirect(runtime, (long) (args.size() + 1) * ptr, true);
        for (int i = 0; i < args.size(); i++) {
            byte[] bytes = args.get(i).getBytes(StandardCharsets.UTF_8);
            Pointer s = Memory.allocateDirect(runtime, bytes.length + 1, true);
            s.put(0, bytes, 0, bytes.length);
            strings.add(s);
            array.putPointer((long) i * ptr, s);
        }
        // allocateDirect(..., true) zeroed the memory, so argv[argc] is already NULL.
    }

    int argc() {
        return args.size();
    }

    Pointer argv() {
        return array;
    }

    @Override
    public String toString() {
        return String.join(" ", args);
    }
}
