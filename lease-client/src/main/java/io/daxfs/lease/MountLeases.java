package io.daxfs.lease;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.daxfs.lease.LeaseProtocol.*;

/**
 * Every lease held on a daxfs mount (the LIST command on the mount's root directory), for
 * {@code daxfs stat}. The caller must be allowed to open the mount's device, as for a lease.
 */
public final class MountLeases {
    private MountLeases() {
    }

    /**
     * One lease.
     *
     * @param pid       the holder's process id (when it took the lease)
     * @param path      the file's path as the holder opened it, or "" if the daemon could not tell
     * @param busyBytes bytes freed from the file that this lease keeps busy (broken leases only)
     */
    public record Held(long id, int pid, long ino, String path, long offset, long length, Duration age, boolean broken,
                       boolean write, long busyBytes) {
    }

    /** All leases of a mount and the busy bytes they hold together (overlaps counted once). */
    public record Listing(long heldBusyBytes, List<Held> leases) {
    }

    /** Lists the leases of the mount whose root directory is {@code mountRoot}. */
    public static Listing list(Path mountRoot) throws LeaseException {
        int fd = Native.open(mountRoot.toString(), Native.O_RDONLY | Native.O_DIRECTORY);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(MESSAGE_SIZE, 8);
            List<Held> all = new ArrayList<>();
            long after = 0;
            long held = 0;
            while (true) {
                header(m, LIST, Q_SIZE);
                m.set(U64, Q_AFTER, after);
                Native.ioctl(fd, ioctlNumber(LIST), m, "LIST on " + mountRoot);
                held = m.get(U64, LS_HELD_BUSY);
                int count = m.get(U32, LS_COUNT);
                long at = LS_RECORDS;
                for (int i = 0; i < count; i++) {
                    int recordLength = m.get(U16, at + LSR_RECORD_LENGTH) & 0xFFFF;
                    int pathLength = m.get(U16, at + LSR_PATH_LENGTH) & 0xFFFF;
                    byte[] path = m.asSlice(at + LSR_PATH, pathLength).toArray(ValueLayout.JAVA_BYTE);
                    int state = m.get(U32, at + LSR_STATE);
                    after = m.get(U64, at + LSR_ID);
                    all.add(new Held(after, m.get(U32, at + LSR_PID), m.get(U64, at + LSR_INO),
                            new String(path, StandardCharsets.UTF_8), m.get(U64, at + LSR_OFFSET),
                            m.get(U64, at + LSR_LENGTH), Duration.ofNanos(m.get(U64, at + LSR_AGE_NANOS)),
                            (state & STATE_BROKEN) != 0, (state & STATE_WRITE) != 0, m.get(U64, at + LSR_BUSY_BYTES)));
                    at += recordLength;
                }
                if ((m.get(U32, H_FLAGS) & MORE) == 0) {
                    return new Listing(held, List.copyOf(all));
                }
            }
        } finally {
            Native.close(fd);
        }
    }
}
