package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.devdax.DeviceException;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.fuse.options.PermissionPolicy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.BiFunction;

import static io.daxfs.fuse.kernel.FuseAbi.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Plays the kernel's side of /dev/fuse for the unit tests of the kernel front end: a freshly
 * formatted 32 MiB image, a {@link KernelFileSystem} over it, and {@link #send} of one request
 * (struct fuse_in_header and the arguments, as fs/fuse/dev.c writes them) straight into
 * {@link KernelFileSystem#handle}. The replies and notifications go to a plain file standing in
 * for /dev/fuse; each send returns what it wrote (little-endian, from struct fuse_out_header
 * on; empty when the request has no reply). Confined to the thread that made it.
 *
 * <p>A test that measures the serving alone builds its request in place in {@link #in} and
 * calls {@link #handle(int)}, which copies and reads back nothing.
 */
final class KernelDriver implements AutoCloseable {
    final OpenedDevice device;
    final DaxFileSystem fs;
    final KernelFileSystem kfs;
    /** The request buffer: struct fuse_in_header at 0, the arguments after it. */
    final MemorySegment in;
    private final Arena arena = Arena.ofConfined();
    private final Path replies;
    private final Request request;
    private final Reply reply;
    private long unique = 1;
    /** {@link #kfs}, or for a while another front end over the same file system ({@link #servedBy}). */
    private KernelFileSystem serving;

    /** A driver of {@code new KernelFileSystem(fs, defaults with ACLs in the daemon)}, serving no leases. */
    KernelDriver(Path dir) {
        this(dir, (fs, device) -> new KernelFileSystem(fs, KernelOptions.defaults(PermissionPolicy.DAEMON_ACL)));
    }

    /** A driver of the front end {@code make} builds over the mounted image (e.g. with a LeaseDevice). */
    KernelDriver(Path dir, BiFunction<DaxFileSystem, OpenedDevice, KernelFileSystem> make) {
        try {
            device = DeviceOpener.open(dir.resolve("img"), DeviceOptions.builder().createSize(32 << 20).build());
        } catch (DeviceException e) {
            throw new IllegalStateException(e);
        }
        DaxFileSystem.format(device.region(), FormatOptions.defaults());
        fs = DaxFileSystem.mount(device.region());
        kfs = make.apply(fs, device);
        serving = kfs;
        replies = dir.resolve("replies");
        try {
            Files.createFile(replies);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        FuseChannel channel = new FuseChannel(openAppending(replies));
        kfs.connect(channel, "");
        in = arena.allocate(1 << 16);
        request = new Request(in);
        reply = new Reply(channel, arena.allocate(1 << 16), FuseChannel.newCallState(arena),
                arena.allocate(Reply.NOTICE_SIZE));
    }

    private int openAppending(Path file) {
        try {
            MethodHandle open = Linker.nativeLinker().downcallHandle(
                    Linker.nativeLinker().defaultLookup().find("open").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), Linker.Option.firstVariadicArg(2));
            int fd = (int) open.invokeExact(arena.allocateFrom(file.toString()), 02 | 02000); // O_RDWR | O_APPEND
            if (fd < 0) {
                throw new IllegalStateException("open " + file + " failed");
            }
            return fd;
        } catch (Throwable t) {
            throw t instanceof RuntimeException re ? re : new IllegalStateException(t);
        }
    }

    /** Sends one request from root (pid 1); returns what the front end wrote. */
    ByteBuffer send(int opcode, long nodeid, byte[] args) {
        return sendAs(opcode, nodeid, args, 0, 0, 1);
    }

    /** {@link #send} from the caller uid, gid and pid (a pid that does not exist has no supplementary groups). */
    ByteBuffer sendAs(int opcode, long nodeid, byte[] args, int uid, int gid, int pid) {
        long before = writtenSoFar();
        int len = IN_HEADER_SIZE + args.length;
        in.set(JAVA_INT_UNALIGNED, IN_LEN, len);
        in.set(JAVA_INT_UNALIGNED, IN_OPCODE, opcode);
        in.set(JAVA_LONG_UNALIGNED, IN_UNIQUE, nextUnique());
        in.set(JAVA_LONG_UNALIGNED, IN_NODEID, nodeid);
        in.set(JAVA_INT_UNALIGNED, IN_UID, uid);
        in.set(JAVA_INT_UNALIGNED, IN_GID, gid);
        in.set(JAVA_INT_UNALIGNED, IN_PID, pid);
        MemorySegment.copy(MemorySegment.ofArray(args), 0, in, IN_HEADER_SIZE, args.length);
        handle(len);
        return writtenSince(before);
    }

    /** Serves the request of {@code length} bytes already built in {@link #in}; allocates nothing itself. */
    void handle(int length) {
        request.reset(length);
        serving.handle(request, reply);
    }

    /** A request id not used before (fuse_in_header.unique). */
    long nextUnique() {
        return unique++;
    }

    /** Runs {@code body} with {@code other} (over the same file system) serving the requests instead of {@link #kfs}. */
    void servedBy(KernelFileSystem other, Runnable body) {
        serving = other;
        try {
            body.run();
        } finally {
            serving = kfs;
        }
    }

    /** How many bytes the front end has written so far: replies and notifications. */
    long writtenSoFar() {
        try {
            return Files.size(replies);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What the front end has written from byte {@code offset} on (little-endian). */
    ByteBuffer writtenSince(long offset) {
        try {
            byte[] all = Files.readAllBytes(replies);
            return ByteBuffer.wrap(all, (int) offset, (int) (all.length - offset)).slice().order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@link #sendAs} from {@code uid} (its gid the same) and this process, whose supplementary groups count. */
    ByteBuffer sendFrom(int uid, int opcode, long nodeid, byte[] args) {
        return sendAs(opcode, nodeid, args, uid, uid, (int) ProcessHandle.current().pid());
    }

    /** A file {@code name} in the root directory, owned by root, of {@code bytes} bytes of 7. */
    long file(String name, int bytes) {
        long ino = fs.create(DaxFileSystem.ROOT, name, 0644, 0, 0);
        byte[] data = new byte[bytes];
        Arrays.fill(data, (byte) 7);
        fs.write(ino, 0, MemorySegment.ofArray(data), 0, bytes);
        return ino;
    }

    /**
     * An IOCTL of {@code command} on {@code nodeid} from {@code uid}, as fs/fuse/ioctl.c sends a
     * restricted one: {@code data} is the in data (null: none), {@code outSize} what the caller's
     * buffer takes back.
     */
    ByteBuffer ioctl(long nodeid, int uid, int command, byte[] data, int outSize) {
        int inSize = data == null ? 0 : data.length;
        ByteBuffer a = ByteBuffer.allocate(IOCTL_IN_SIZE + inSize).order(ByteOrder.LITTLE_ENDIAN);
        a.putInt(IOCTL_IN_CMD, command).putInt(IOCTL_IN_IN_SIZE, inSize).putInt(IOCTL_IN_OUT_SIZE, outSize);
        if (data != null) {
            a.put(IOCTL_IN_SIZE, data);
        }
        return sendFrom(uid, IOCTL, nodeid, a.array());
    }

    /** {@code size} zero bytes, little-endian as the kernel's structs. */
    static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The out data of a successful IOCTL reply: what follows struct fuse_out_header and struct fuse_ioctl_out. */
    static ByteBuffer ioctlOut(ByteBuffer reply) {
        assertEquals(0, reply.getInt(4), "errno " + -reply.getInt(4));
        return reply.slice(OUT_HEADER_SIZE + IOCTL_OUT_SIZE, reply.getInt(0) - OUT_HEADER_SIZE - IOCTL_OUT_SIZE)
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The errno of a reply (0 for success; negative, as the kernel reads it), or of the first message written. */
    static int error(ByteBuffer reply) {
        return reply.getInt(4);
    }

    @Override
    public void close() {
        kfs.disconnect();
        arena.close();
        fs.close();
        device.close();
    }
}
