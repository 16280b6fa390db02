package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.fuse.options.PermissionPolicy;
import io.daxfs.fuse.vfs.OpcodeNames;
import io.daxfs.fuse.vfs.PosixAcls;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import static io.daxfs.fuse.kernel.FuseAbi.*;

/**
 * Serves FUSE kernel requests from a {@link DaxFileSystem}: the INIT handshake, then one method
 * per opcode (grouped in {@link NamespaceOps}, {@link AttributeOps}, {@link DataOps},
 * {@link DirectoryOps}, {@link XattrOps}; IOCTL by {@link ChattrOps}, {@link ControlOps} and
 * {@link LeaseOps}, which also answers POLL). Every
 * request is timed and counted in {@link RequestStats} ({@code daxfs stat}; {@link StatsOps}
 * answers it over the IOCTL channel). Thread-safe: every worker calls {@link #handle}
 * concurrently; fs-core does the locking.
 *
 * <p>Every request that expects a reply gets exactly one: its result, the errno of an
 * {@link FsException}, or EIO for anything unexpected (logged: a bug must never take the daemon
 * down, nor leave a process waiting forever). FORGET, BATCH_FORGET and INTERRUPT get none, as
 * the protocol says. The kernel's lookup counts ({@link KernelLookups}) keep a freed inode's
 * number from new files, and a rename victim alive, while the kernel may still send requests
 * for it; a number reused after that carries a new generation.
 *
 * <p>Lock order of the kernel front end, around fs-core's ({@link io.daxfs.core.concurrent.LockOrder}):
 * <ol>
 * <li>{@link #forgetting}: read by a FORGET being served, which may call fs-core to free an
 *     inode; write by STATFS and the ENOSPC retry, which take it and let it go at once with
 *     nothing inside. Never taken while holding an fs-core lock.</li>
 * <li>A directory listing's monitor ({@link DirectoryOps}), held around fs-core's readdir; no
 *     request holds it and {@link #forgetting} together.</li>
 * <li>fs-core's locks.</li>
 * <li>Leaves, with nothing called inside: {@link KernelReferences}' stripe monitors (also taken by
 *     fs-core while it frees an inode), {@link KernelMount}'s monitor, an open file's monitor
 *     ({@link FileHandles.Handle}: its list of leases). A lease's break callback runs inside
 *     fs-core's locks (the freeing thread) and only writes a FUSE_NOTIFY_POLL.</li>
 * </ol>
 * The worker lifecycle ({@code MountSession}) holds nothing while a worker serves a request.
 */
final class KernelFileSystem {
    private static final Logger LOG = LoggerFactory.getLogger(KernelFileSystem.class);

    private final DaxFileSystem fs;
    private final KernelOptions options;
    private final NamespaceOps names;
    private final AttributeOps attributes;
    private final DataOps data;
    private final DirectoryOps directories;
    private final XattrOps xattrs;
    private final LeaseOps leases;
    private final RequestStats stats;
    private final ChattrOps chattr;
    private final ControlOps control;
    private final KernelLookups lookups;
    private final ReentrantReadWriteLock forgetting = new ReentrantReadWriteLock();
    private final java.util.concurrent.atomic.AtomicLong forgetsServed = new java.util.concurrent.atomic.AtomicLong();
    private final CountDownLatch initialized = new CountDownLatch(1);
    /** INIT flags the transport asks for besides {@link #wantedFlags()} (set before mounting). */
    private volatile long transportFlags;
    /** The flags INIT agreed on (valid once {@link #awaitInit} returned true). */
    private volatile long agreedFlags;

    KernelFileSystem(DaxFileSystem fs, KernelOptions options) {
        this(fs, options, null);
    }

    /** {@code device}: what lease clients map (docs/leases.md); null serves no leases (ENOTTY). */
    KernelFileSystem(DaxFileSystem fs, KernelOptions options, LeaseDevice device) {
        this(fs, options, device, new RequestStats());
    }

    /** As above, recording into {@code stats} (the overhead benchmark compares an instance that does not). */
    KernelFileSystem(DaxFileSystem fs, KernelOptions options, LeaseDevice device, RequestStats stats) {
        this.fs = fs;
        this.stats = stats;
        this.options = options;
        PosixAcls acls = new PosixAcls(fs, options.permissions().aclSemantics());
        this.lookups = new KernelLookups(fs);
        FileHandles handles = new FileHandles();
        this.leases = new LeaseOps(fs, handles, device, new StatsOps(fs, stats, handles));
        this.data = new DataOps(fs, options, handles, leases, stats);
        this.chattr = new ChattrOps(fs);
        this.control = new ControlOps(fs);
        this.names = new NamespaceOps(fs, options, acls, data, lookups);
        this.attributes = new AttributeOps(fs, options, acls);
        this.directories = new DirectoryOps(fs, options, lookups);
        this.xattrs = new XattrOps(fs, acls);
    }

    KernelOptions options() {
        return options;
    }

    /** The mount is up: lease notifications go to {@code channel} from now on. */
    void connect(FuseChannel channel, String mountPoint) {
        leases.connect(channel, mountPoint);
    }

    /** The connection ended. */
    void disconnect() {
        leases.close();
    }

    /**
     * Asks the kernel at INIT for {@code flags} as well: the io_uring front end's
     * FUSE_OVER_IO_URING, which only the transport can serve. Called before mounting.
     */
    void alsoAsk(long flags) {
        transportFlags |= flags;
    }

    /** The INIT flags both sides agreed on; 0 until INIT has been answered. */
    long agreedFlags() {
        return agreedFlags;
    }

    /** Waits until INIT has been answered; false on timeout. */
    boolean awaitInit(Duration timeout) throws InterruptedException {
        return initialized.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Serves one request; called by the session's workers. */
    void handle(Request r, Reply out) {
        int opcode = r.opcode();
        // Latency, from here to the reply written, of the requests daxfs stat samples (and of all with -o debug).
        boolean sampled = stats.sampled(r.unique());
        long t0 = sampled || LOG.isDebugEnabled() ? System.nanoTime() : 0;
        if (opcode == FORGET || opcode == BATCH_FORGET) {
            if (fs.control().isShutDown()) {
                return; // nothing is freed on a shut-down mount: the next mount frees the orphans
            }
            forget(opcode, r); // no reply
            stats.served(out, opcode, false);
            if (t0 != 0) {
                long nanos = System.nanoTime() - t0;
                if (sampled) {
                    stats.timed(opcode, nanos);
                }
                if (LOG.isDebugEnabled()) {
                    LOG.debug("{} node {}: {} us", OpcodeNames.of(opcode), r.nodeid(), nanos / 1000);
                }
            }
            return;
        }
        if (opcode == INTERRUPT || opcode == NOTIFY_REPLY) {
            return; // no reply: every request runs to completion, and daxfs asks nothing of the kernel
        }
        out.start(r.unique());
        long forgetsBefore = forgetsServed.get();
        try {
            try {
                dispatch(opcode, r, out);
            } catch (FsException e) {
                if (e.errno() != Errno.ENOSPC || out.sent() || !awaitForgets(forgetsBefore)) {
                    throw e;
                }
                dispatch(opcode, r, out); // a forget freed space meanwhile: once more (ENOSPC changes nothing)
            }
        } catch (FsException e) {
            if (!out.sent()) {
                out.error(e.errno().code());
            }
        } catch (Reply.ReplyFailedException e) {
            LOG.error("opcode {} (node {}): {}", opcode, r.nodeid(), e.getMessage());
        } catch (RuntimeException | Error e) {
            LOG.error("opcode {} on node {} failed", opcode, r.nodeid(), e);
            if (!out.sent()) {
                out.error(Errno.EIO.code());
            }
        }
        if (!out.sent()) {
            LOG.error("opcode {} on node {} produced no reply", opcode, r.nodeid());
            out.error(Errno.EIO.code());
        }
        stats.served(out, opcode, out.failed());
        if (t0 != 0) {
            long nanos = System.nanoTime() - t0;
            if (sampled) {
                stats.timed(opcode, nanos);
            }
            if (LOG.isDebugEnabled()) {
                LOG.debug("{} unique {} node {} length {}: {} us", OpcodeNames.of(opcode), r.unique(), r.nodeid(),
                        r.length(), nanos / 1000);
            }
        }
    }

    private void dispatch(int opcode, Request r, Reply out) {
        if (fs.control().isShutDown() && control.answerWhileDown(opcode, r, out)) {
            return;
        }
        switch (opcode) {
            case READ -> data.read(r, out);
            case WRITE -> data.write(r, out);
            case LOOKUP -> names.lookup(r, out);
            case GETATTR -> attributes.getattr(r, out);
            case STATX -> attributes.statx(r, out);
            case SETATTR -> attributes.setattr(r, out);
            case OPEN -> data.open(r, out);
            case RELEASE -> data.release(r, out);
            case CREATE -> names.create(r, out);
            case TMPFILE -> names.tmpfile(r, out);
            case MKNOD -> names.mknod(r, out);
            case MKDIR -> names.mkdir(r, out);
            case SYMLINK -> names.symlink(r, out);
            case LINK -> names.link(r, out);
            case UNLINK -> names.unlink(r, out);
            case RMDIR -> names.rmdir(r, out);
            case RENAME -> names.rename(r, out);
            case RENAME2 -> names.rename2(r, out);
            case READLINK -> attributes.readlink(r, out);
            case STATFS -> statfs(r, out);
            case FSYNC -> data.fsync(r, out);
            case FALLOCATE -> data.fallocate(r, out);
            case LSEEK -> data.lseek(r, out);
            case COPY_FILE_RANGE -> data.copyFileRange(r, out);
            case IOCTL -> {
                int command = r.argInt(IOCTL_IN_CMD);
                if (ControlOps.handles(command)) {
                    control.ioctl(r, out);
                } else if (ChattrOps.handles(command)) {
                    chattr.ioctl(r, out);
                } else {
                    leases.ioctl(r, out);
                }
            }
            case POLL -> leases.poll(r, out);
            case OPENDIR -> directories.opendir(r, out);
            case READDIR -> directories.readdir(r, out);
            case READDIRPLUS -> directories.readdirplus(r, out);
            case RELEASEDIR -> directories.releasedir(r, out);
            case FSYNCDIR -> directories.fsyncdir(r, out);
            case SETXATTR, GETXATTR, LISTXATTR, REMOVEXATTR -> xattr(opcode, r, out);
            case SYNCFS -> out.ok(); // every change is durable when its request is answered
            case INIT -> init(r, out);
            case DESTROY -> out.ok();
            // FLUSH: nothing to do at close (data is in device memory at each WRITE and POSIX
            // locks are the kernel's); ENOSYS makes the kernel stop sending it, one round trip
            // less per close(2). ACCESS: sent only without default_permissions, when nothing is
            // checked; ENOSYS means "allowed" from then on.
            default -> out.error(Errno.ENOSYS.code());
        }
    }

    /**
     * FORGET (nlookup u64) or BATCH_FORGET (count u32, dummy u32, then {nodeid, nlookup} pairs).
     * Held shared by every forget being served, exclusive by STATFS: the kernel queues the
     * FORGET of an unlinked file before unlink(2) returns and hands forgets out before other
     * requests, so a statfs that follows (`rm f; df`) waits for the inode it frees.
     */
    private void forget(int opcode, Request r) {
        Lock l = forgetting.readLock();
        l.lock();
        try {
            if (opcode == FORGET) {
                lookups.forget(r.nodeid(), r.argLong(0));
                return;
            }
            int count = r.argInt(BATCH_FORGET_IN_COUNT);
            for (int i = 0; i < count && 8 + 16 * (i + 1) <= r.argLength(); i++) {
                lookups.forget(r.argLong(8 + 16 * i), r.argLong(16 + 16 * i));
            }
        } catch (RuntimeException | Error e) {
            LOG.error("forget failed", e);
        } finally {
            forgetsServed.incrementAndGet();
            l.unlock();
        }
    }

    /** STATFS after every forget in progress has freed what it frees (see {@link #forget}). */
    private void statfs(Request r, Reply out) {
        awaitForgets(-1);
        attributes.statfs(r, out);
    }

    /**
     * Waits until no forget is being served; returns whether any forget finished since
     * {@code servedBefore} (a count of {@link #forgetsServed}). ENOSPC right after an unlink
     * (the inode table or the device full, the file's number or blocks waiting for its FORGET)
     * is retried once when this says space may have come back: fs-core fails an allocation as a
     * whole, so the retry starts from the same state. A FORGET can reach the daemon a little
     * after the requests that follow the unlink (the kernel evicts the inode when its last
     * reference goes), so while inode numbers are held for the kernel this also waits up to
     * {@link #FORGET_WAIT_MILLIS} for the next forget.
     */
    private boolean awaitForgets(long servedBefore) {
        Lock l = forgetting.writeLock();
        l.lock();
        l.unlock();
        if (servedBefore < 0 || forgetsServed.get() != servedBefore) {
            return servedBefore >= 0;
        }
        long deadline = System.nanoTime() + FORGET_WAIT_MILLIS * 1_000_000L;
        while (fs.inodeNumbersHeld() > 0 && forgetsServed.get() == servedBefore && System.nanoTime() < deadline) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        l.lock();
        l.unlock();
        return forgetsServed.get() != servedBefore;
    }

    /** How long an ENOSPC waits for a FORGET that may free a held inode number. */
    static final long FORGET_WAIT_MILLIS = 200;

    /** What was served since the mount (daxfs stat; tests). */
    RequestStats stats() {
        return stats;
    }

    /** Inodes the kernel holds lookups of (tests, diagnostics). */
    int referencedInodes() {
        return lookups.tracked();
    }

    private void xattr(int opcode, Request r, Reply out) {
        if (!options.xattrs()) {
            out.error(Errno.ENOSYS.code());
            return;
        }
        switch (opcode) {
            case SETXATTR -> xattrs.setxattr(r, out);
            case GETXATTR -> xattrs.getxattr(r, out);
            case LISTXATTR -> xattrs.listxattr(r, out);
            default -> xattrs.removexattr(r, out);
        }
    }

    /**
     * INIT: agree on the protocol minor version and the features (docs/kernel-frontend.md lists
     * each and why). The reply's flags are those the kernel offered and daxfs wants.
     */
    private void init(Request r, Reply out) {
        int major = r.argInt(INIT_IN_MAJOR);
        int minor = r.argInt(INIT_IN_MINOR);
        if (major != KERNEL_VERSION || minor < MIN_KERNEL_MINOR) {
            LOG.error("the kernel speaks FUSE {}.{}; daxfs needs 7.{} or later", major, minor, MIN_KERNEL_MINOR);
            out.error(71); // EPROTO
            return;
        }
        long offered = Integer.toUnsignedLong(r.argInt(INIT_IN_FLAGS));
        if ((offered & INIT_EXT) != 0) {
            offered |= Integer.toUnsignedLong(r.argInt(INIT_IN_FLAGS2)) << 32;
        }
        long agreed = (wantedFlags() | transportFlags) & offered;
        agreedFlags = agreed;
        int ourMinor = Math.min(minor, KERNEL_MINOR_VERSION);
        xattrs.extendedSetxattr((agreed & SETXATTR_EXT) != 0);
        data.directIoAllowsMmap((agreed & DIRECT_IO_ALLOW_MMAP) != 0);

        out.zero(0, INIT_OUT_SIZE);
        out.putInt(INIT_OUT_MAJOR, KERNEL_VERSION);
        out.putInt(INIT_OUT_MINOR, ourMinor);
        out.putInt(INIT_OUT_MAX_READAHEAD, r.argInt(INIT_IN_MAX_READAHEAD));
        out.putInt(INIT_OUT_FLAGS, (int) agreed);
        // Readahead and writeback go as background requests; the default limit of 12 in flight
        // leaves the workers idle between them.
        out.putShort(INIT_OUT_MAX_BACKGROUND, (short) 64);
        out.putShort(INIT_OUT_CONGESTION_THRESHOLD, (short) 48);
        out.putInt(INIT_OUT_MAX_WRITE, options.maxWrite());
        out.putInt(INIT_OUT_TIME_GRAN, 1);
        out.putShort(INIT_OUT_MAX_PAGES, (short) options.maxPages());
        out.putInt(INIT_OUT_FLAGS2, (int) (agreed >>> 32));
        out.send(INIT_OUT_SIZE);
        initialized.countDown();
        LOG.debug("FUSE {}.{} (kernel {}.{}), flags {}, max_write {} KiB, permissions {}", KERNEL_VERSION, ourMinor,
                major, minor, Long.toHexString(agreed), options.maxWrite() >> 10, options.permissions());
    }

    /**
     * ASYNC_READ: several READs of one file in flight. ATOMIC_O_TRUNC: O_TRUNC comes with OPEN
     * (one request, not two). BIG_WRITES and MAX_PAGES: requests up to max_write.
     * PARALLEL_DIROPS: lookups and listings of one directory run concurrently (fs-core locks).
     * READDIRPLUS(_AUTO): listings carry attributes when the kernel expects stats to follow.
     * CACHE_SYMLINKS: link targets stay in the page cache. EXPORT_SUPPORT: LOOKUP of "." and
     * ".." by node id, so file handles (open_by_handle_at, NFS) outlive the kernel's inode
     * cache. HANDLE_KILLPRIV_V2: daxfs drops
     * set-user-ID/set-group-ID on write, truncate and chown, so the kernel can skip its
     * security.capability lookup before every write. SETXATTR_EXT: the ACL_KILL_SGID flag.
     * DONT_MASK (ACL semantics): the daemon applies the umask only without a default ACL.
     * POSIX_ACL (acl with default_permissions): the kernel enforces ACLs, reading them through
     * GETXATTR and caching them. WRITEBACK_CACHE only on request (see {@link KernelOptions}).
     * DIRECT_IO_ALLOW_MMAP: files opened FOPEN_DIRECT_IO (strictatime) may still be mapped shared.
     */
    private long wantedFlags() {
        long want = ASYNC_READ | ATOMIC_O_TRUNC | BIG_WRITES | MAX_PAGES | PARALLEL_DIROPS
                | DO_READDIRPLUS | READDIRPLUS_AUTO | CACHE_SYMLINKS | HANDLE_KILLPRIV_V2 | INIT_EXT
                | EXPORT_SUPPORT | DIRECT_IO_ALLOW_MMAP;
        if (options.xattrs()) {
            want |= SETXATTR_EXT;
        }
        if (options.permissions().aclSemantics()) {
            want |= DONT_MASK;
        }
        if (options.permissions() == PermissionPolicy.DAEMON_ACL && options.xattrs()) {
            want |= POSIX_ACL;
        }
        if (options.writebackCache()) {
            want |= WRITEBACK_CACHE;
        }
        return want;
    }
}
