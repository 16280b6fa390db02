package io.daxfs.core.journal;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.MountSettings;
import io.daxfs.core.format.CorruptFileSystemException;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Whether the mounted file system may still change the device, and what happens when damaged
 * metadata is found while it is mounted (docs/reliability.md, "errors="):
 * <ol>
 * <li>the call that met the damage fails with EUCLEAN (the decoder's
 *     {@link CorruptFileSystemException}, passed through {@link #damaged});</li>
 * <li>the finding is logged once, with its inode and block;</li>
 * <li>the first finding is recorded durably in the journal header (not on a read-only mount),
 *     so the next mount refuses the image until {@code daxfs fsck -y} has repaired it;</li>
 * <li>under {@link MountSettings.Errors#REMOUNT_RO} every later change fails with EROFS and
 *     nothing more is written: {@link #checkWritable} guards the start of every transaction,
 *     in-place size updates, the data write path and the direct timestamp stores.</li>
 * </ol>
 * A transaction already begun when the damage is found still commits: it was built from
 * metadata that passed its checks, and abandoning it half-way would leave the in-memory state
 * disagreeing with the device.
 *
 * <p>A {@linkplain #shutDown shut-down} file system (FS_IOC_SHUTDOWN, XFS's "going down")
 * refuses every later change with EIO instead of EROFS, whatever refused changes before; the
 * front end answers every other request with EIO too. As with damage, a transaction already
 * begun commits, so the device holds what a power cut at that instant would leave: every
 * completed operation, nothing after.
 */
public final class ErrorState {
    private static final System.Logger LOG = System.getLogger("io.daxfs.core");
    private static final int MAX_LOGGED = 1000;

    private final MountSettings.Errors policy;
    /** Non-null once changes are refused: the errno and the reason. */
    private volatile Refusal refusal;
    private volatile boolean shutDown;
    private final Set<String> logged = ConcurrentHashMap.newKeySet();
    private final AtomicReference<CorruptFileSystemException> first = new AtomicReference<>();
    private final AtomicLong findings = new AtomicLong();
    private volatile Consumer<CorruptFileSystemException> recorder = e -> { };

    public ErrorState(MountSettings.Errors policy, boolean readOnly) {
        this.policy = policy;
        if (readOnly) {
            refusal = new Refusal(Errno.EROFS, "the file system is mounted read-only");
        }
    }

    /** A writable mount with {@code errors=remount-ro}. */
    public static ErrorState defaults() {
        return new ErrorState(MountSettings.Errors.REMOUNT_RO, false);
    }

    /** Whether changes may still be written (one volatile read: the data path asks at every write). */
    public boolean writable() {
        return refusal == null;
    }

    /** Fails with EROFS if changes are refused (EIO once shut down). */
    public void checkWritable() {
        Refusal r = refusal;
        if (r != null) {
            throw new FsException(r.errno, r.reason);
        }
    }

    /**
     * Shuts the file system down: from now on every change fails with EIO and nothing more is
     * written to the device (a transaction already begun still commits). For good: only a new
     * mount, which recovers as after a crash, writes again.
     */
    public void shutDown(String reason) {
        shutDown = true;
        refusal = new Refusal(Errno.EIO, "the file system is shut down (" + reason + "); unmount and mount it again");
    }

    /** Whether {@link #shutDown} was called. */
    public boolean isShutDown() {
        return shutDown;
    }

    /**
     * Reports damage found while mounted and returns it for the caller to throw: logs it
     * (once per distinct finding), records the first finding durably, and under
     * {@code errors=remount-ro} refuses every later change.
     */
    public CorruptFileSystemException damaged(CorruptFileSystemException e) {
        findings.incrementAndGet();
        if (logged.size() < MAX_LOGGED && logged.add(e.getMessage())) {
            LOG.log(System.Logger.Level.ERROR, "damaged metadata: " + e.getMessage()
                    + (e.inode() != CorruptFileSystemException.NONE ? " (inode " + e.inode() : " (no inode")
                    + (e.block() != CorruptFileSystemException.NONE ? ", block " + e.block() + ")" : ")"));
        }
        if (first.compareAndSet(null, e) && !shutDown) { // shut down: nothing more is written
            try {
                recorder.accept(e);
            } catch (RuntimeException failure) {
                LOG.log(System.Logger.Level.ERROR, "could not record the damage in the journal header: " + failure);
            }
        }
        if (policy == MountSettings.Errors.REMOUNT_RO && refusal == null) {
            refusal = new Refusal(Errno.EROFS, "the file system turned read-only (errors=remount-ro) after finding"
                    + " damaged metadata: " + first.get().getMessage() + "; unmount it and run daxfs fsck -y");
            LOG.log(System.Logger.Level.ERROR, "changes refused from now on (errors=remount-ro); unmount and run"
                    + " daxfs fsck -y");
        }
        return e;
    }

    /** Refuses every later change, for {@code reason} (a mount turned read-only for rescue). */
    public void refuseChanges(String reason) {
        if (refusal == null) {
            refusal = new Refusal(Errno.EROFS, reason);
        }
    }

    /** The first damage found while mounted, or null. */
    public CorruptFileSystemException firstFinding() {
        return first.get();
    }

    /** How many times damage was met while mounted. */
    public long findings() {
        return findings.get();
    }

    public MountSettings.Errors policy() {
        return policy;
    }

    /** Where the first finding is recorded durably (the journal header); not set on a read-only mount. */
    void recorder(Consumer<CorruptFileSystemException> r) {
        this.recorder = r;
    }

    private record Refusal(Errno errno, String reason) {
    }
}
