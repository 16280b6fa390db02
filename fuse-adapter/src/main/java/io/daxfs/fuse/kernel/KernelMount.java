package io.daxfs.fuse.kernel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.daxfs.fuse.mount.FuseMountException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;

/**
 * Mounts and unmounts a FUSE file system whose requests daxfs reads from {@code /dev/fuse}
 * itself. Only the mount system call is borrowed from libfuse 2 ({@code fuse_mount} /
 * {@code fuse_unmount}): as root it opens /dev/fuse and calls mount(2); as any other user it
 * runs the setuid fusermount helper, which passes the descriptor back over a socket. Neither
 * the Java process nor ProcessBuilder can hand an extra descriptor to a child, which is why this
 * is not done here.
 *
 * <p>Lifecycle: {@link #mount} returns a mounted instance; {@link #unmount} is called exactly once
 * (by the session, after its workers stopped reading), and also closes the descriptor.
 *
 * <p>Concurrency: {@link #unmount} is synchronized and idempotent, and libfuse is loaded once
 * under {@code LibFuse}'s class monitor; both are leaves (nothing else is locked inside). The
 * {@link #channel} is used by every worker at once ({@link FuseChannel}).
 */
final class KernelMount {
    private static final String LIBRARY = "libfuse.so.2";

    private final Arena arena;
    private final MemorySegment unmountFunction;
    private final MemorySegment mountPointC;
    private final MemorySegment chan;
    private final FuseChannel channel;
    private boolean unmounted;

    private KernelMount(Arena arena, MemorySegment unmountFunction, MemorySegment mountPointC, MemorySegment chan, int fd) {
        this.arena = arena;
        this.unmountFunction = unmountFunction;
        this.mountPointC = mountPointC;
        this.chan = chan;
        this.channel = new FuseChannel(fd);
    }

    /**
     * Mounts at {@code mountPoint} with the kernel/fusermount options {@code options} (e.g.
     * {@code allow_other,default_permissions,fsname=...,subtype=daxfs,max_read=...}).
     *
     * @throws FuseMountException if libfuse 2 is missing or the mount fails (libfuse prints why
     *                            on standard error)
     */
    static KernelMount mount(Path mountPoint, List<String> options) {
        LibFuse lib = LibFuse.load();
        Arena arena = Arena.ofShared();
        try {
            // struct fuse_args { int argc; char **argv; int allocated; }
            String[] argv = options.isEmpty() ? new String[] {"daxfs"}
                    : new String[] {"daxfs", "-o", String.join(",", options)};
            MemorySegment argvC = arena.allocate(ADDRESS, argv.length + 1);
            for (int i = 0; i < argv.length; i++) {
                argvC.setAtIndex(ADDRESS, i, arena.allocateFrom(argv[i]));
            }
            MemorySegment args = arena.allocate(24, 8);
            args.set(JAVA_INT, 0, argv.length);
            args.set(ADDRESS, 8, argvC);
            args.set(JAVA_INT, 16, 0);
            MemorySegment mountPointC = arena.allocateFrom(mountPoint.toString());
            MemorySegment chan = (MemorySegment) lib.fuseMount.invokeExact(mountPointC, args);
            if (chan.address() == 0) {
                throw new FuseMountException("could not mount " + mountPoint + " (see the message above)");
            }
            int fd = (int) lib.chanFd.invokeExact(chan);
            return new KernelMount(arena, lib.fuseUnmount, mountPointC, chan, fd);
        } catch (FuseMountException e) {
            arena.close();
            throw e;
        } catch (Throwable t) {
            arena.close();
            throw new FuseMountException("mount of " + mountPoint + " failed: " + t);
        }
    }

    FuseChannel channel() {
        return channel;
    }

    /**
     * Loads libfuse 2 and makes the downcall handles the mount needs, and those of
     * {@link FuseChannel}: tens of milliseconds of method-handle spinning each, which a daemon
     * does on a thread of its own while it opens the device. Safe to call from any thread, any
     * number of times.
     */
    static void prepare() {
        try {
            LibFuse.load();
        } catch (FuseMountException e) {
            // reported again, at the mount
        }
        FuseChannel.prepare();
    }

    /** libfuse.so.2, loaded once; its symbols stay valid for the life of the JVM (global arena). */
    private static final class LibFuse {
        private static volatile LibFuse instance;
        final MethodHandle fuseMount;
        final MethodHandle chanFd;
        final MemorySegment fuseUnmount;

        private LibFuse(SymbolLookup lib) {
            Linker linker = Linker.nativeLinker();
            fuseMount = linker.downcallHandle(lib.find("fuse_mount").orElseThrow(),
                    FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
            chanFd = linker.downcallHandle(lib.find("fuse_chan_fd").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS));
            // fuse_unmount's handle is made when it is needed
            fuseUnmount = lib.find("fuse_unmount").orElseThrow();
        }

        static synchronized LibFuse load() {
            if (instance == null) {
                SymbolLookup lib;
                try {
                    lib = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
                } catch (IllegalArgumentException e) {
                    throw new FuseMountException(LIBRARY + " not found: install Debian's libfuse2");
                }
                instance = new LibFuse(lib);
            }
            return instance;
        }
    }

    /**
     * Unmounts (lazily, if it is still mounted: MNT_DETACH, or fusermount -u -z) and closes the
     * descriptor. If the kernel connection is gone already (unmounted from outside), only closes.
     * Idempotent.
     */
    synchronized void unmount() {
        if (unmounted) {
            return;
        }
        unmounted = true;
        try {
            Linker.nativeLinker().downcallHandle(unmountFunction, FunctionDescriptor.ofVoid(ADDRESS, ADDRESS))
                    .invokeExact(mountPointC, chan);
        } catch (Throwable t) {
            throw new IllegalStateException("fuse_unmount failed", t);
        } finally {
            arena.close();
        }
    }
}
