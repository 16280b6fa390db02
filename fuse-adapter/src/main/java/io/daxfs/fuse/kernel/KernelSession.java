package io.daxfs.fuse.kernel;

import io.daxfs.fuse.mount.FuseMountException;
import io.daxfs.fuse.mount.MountPointCheck;
import io.daxfs.fuse.mount.MountSession;
import io.daxfs.fuse.mount.MountTable;
import io.daxfs.fuse.mount.Unmounter;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A mount served by a fixed pool of Java threads that read requests from /dev/fuse and write
 * replies, with no libfuse between them and the kernel (libfuse 2 only performs the mount:
 * {@link KernelMount}). The pool, its supervisor and the stop are the {@link MountSession} both
 * front ends share; this class is the kernel front end's part of it: the worker loop, and what
 * ends the connection.
 *
 * <p>Each worker owns a request buffer (max_write plus room for the headers) and a reply buffer
 * (max_write plus the reply header), both off-heap, and reads into them with read(2): serving a
 * READ or WRITE allocates nothing on the Java heap.
 *
 * <p>Lifecycle: {@link #start} mounts and starts the session. It ends when the kernel ends the
 * connection (every worker's read fails with ENODEV): after an external umount, or after
 * {@link MountSession#stop()}, which unmounts normally as soon as nothing under the mount is in
 * use and forces the unmount after a grace period, then aborts the connection through fusectl
 * (a forced unmount that the kernel only detached leaves it alive while files are open). The
 * supervisor then closes the descriptor ({@link KernelMount#unmount}).
 *
 * <p>Concurrency: the workers share only the {@link KernelFileSystem} (thread-safe; its locks and
 * their order are documented there) and the channel; each one's buffers are its own, confined to
 * its thread. This class takes no lock.
 */
final class KernelSession {
    private static final Logger LOG = LoggerFactory.getLogger(KernelSession.class);
    /** Room for struct fuse_in_header, fuse_write_in and a name, ahead of max_write bytes of data. */
    static final int REQUEST_HEADROOM = 4096;

    private final MountTable.Entry entry;
    private final MountSession session;

    private KernelSession(KernelFileSystem fs, KernelMount mount, MountTable.Entry entry, Path mountPoint,
                          MountSession.Settings settings) {
        this.entry = entry;
        this.session = new MountSession(settings, mountPoint, entry, s -> () -> serve(fs, mount.channel(), s), new MountSession.Connection() {
            @Override
            public void afterForcedUnmount() {
                Unmounter.abortConnection(entry);
            }

            @Override
            public void close() {
                fs.disconnect();
                mount.unmount(); // the connection is gone: this only closes the descriptor
            }
        });
    }

    /**
     * Mounts {@code fs} at {@code mountPoint} with the kernel options {@code mountOptions}
     * (allow_other, default_permissions, fsname=, subtype=, ro, ...) and starts serving it with
     * {@code threads} workers.
     *
     * @throws FuseMountException if the mount point is unusable or the mount fails
     */
    static MountSession start(KernelFileSystem fs, Path mountPoint, List<String> mountOptions, int threads) {
        MountSession.Settings settings = MountSession.Settings.of("daxfs-kfuse", threads);
        Path canonical = MountPointCheck.validate(mountPoint,
                mountOptions.isEmpty() ? List.of() : List.of("-o", String.join(",", mountOptions)));
        KernelMount m = KernelMount.mount(canonical, mountOptions);
        fs.connect(m.channel(), canonical.toString());
        KernelSession s;
        try {
            s = new KernelSession(fs, m, MountTable.justMounted(canonical), canonical, settings);
            s.session.start();
        } catch (RuntimeException | Error e) {
            m.unmount(); // no worker ran yet
            throw e;
        }
        raiseReadahead(fs, s.entry, readaheadKib(fs.options().readaheadKib(), mountOptions));
        return s.session;
    }

    /**
     * One worker: read a request from {@code channel}, serve it, until the connection ends.
     * Also the /dev/fuse side of the io_uring front end ({@link UringSession}).
     */
    static void serve(KernelFileSystem fs, FuseChannel channel, MountSession session) {
        KernelOptions o = fs.options();
        SplicedRead spliced = null;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(Math.max(FuseAbi.MIN_READ_BUFFER, o.maxWrite() + REQUEST_HEADROOM), 4096);
            MemorySegment outBuffer = arena.allocate(FuseAbi.OUT_HEADER_SIZE + (long) o.maxWrite(), 4096);
            MemorySegment state = FuseChannel.newCallState(arena);
            Request request = new Request(in);
            Reply reply = new Reply(channel, outBuffer, state, arena.allocate(Reply.NOTICE_SIZE, 8));
            if (o.spliceReadKib() > 0) {
                spliced = new SplicedRead(channel, o.spliceReadKib() * 1024, o.maxWrite(), state, outBuffer, arena);
                reply.useSplicedReads(spliced);
            }
            while (true) {
                long n = channel.read(state, in);
                if (n < 0) {
                    int errno = (int) -n;
                    if (errno == FuseChannel.EINTR || errno == FuseChannel.EAGAIN || errno == FuseChannel.ENOENT) {
                        continue; // interrupted, or a request that was withdrawn before we read it
                    }
                    if (errno != FuseChannel.ENODEV) {
                        session.workerFailed("read of /dev/fuse failed with errno " + errno, null);
                    }
                    return; // ENODEV: the connection has ended (unmounted or aborted)
                }
                if (n < FuseAbi.IN_HEADER_SIZE) {
                    LOG.error("short request of {} bytes from the kernel; ignored", n);
                    continue;
                }
                request.reset((int) n);
                fs.handle(request, reply);
            }
        } catch (RuntimeException | Error e) {
            session.workerFailed("FUSE worker failed", e);
        } finally {
            if (spliced != null) {
                spliced.close();
            }
        }
    }

    /**
     * The readahead window for {@code kib} KiB asked and the mount's max_read, if it has one: a
     * whole number of READs, so no window ends in a short READ of its own (max_read=1044480,
     * which splicing sets without CAP_SYS_RESOURCE, makes a 1024 KiB window two READs, of 1020
     * and of 4 KiB; a 1020 KiB window is one).
     */
    static int readaheadKib(int kib, List<String> mountOptions) {
        for (String o : mountOptions) {
            if (o.startsWith("max_read=")) {
                long maxRead = Long.parseLong(o.substring("max_read=".length()));
                long reads = kib * 1024L / maxRead;
                return reads == 0 ? kib : (int) (reads * maxRead / 1024);
            }
        }
        return kib;
    }

    /**
     * Sets the mount's readahead window (sysfs, root only) once INIT is done: the kernel takes the
     * smaller of its default (128 KiB) and what INIT says, and a sequential reader then waits for
     * one 128 KiB READ after another.
     */
    static void raiseReadahead(KernelFileSystem fs, MountTable.Entry entry, int kib) {
        if (kib <= 0) {
            return;
        }
        Path knob = Path.of("/sys/class/bdi", entry.device(), "read_ahead_kb");
        try {
            if (!fs.awaitInit(Duration.ofSeconds(10))) {
                return;
            }
            if (Files.isWritable(knob)) {
                Files.writeString(knob, Integer.toString(kib));
            }
        } catch (IOException e) {
            LOG.debug("could not set {}: {}", knob, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
