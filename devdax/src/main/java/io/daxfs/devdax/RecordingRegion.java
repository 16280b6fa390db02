package io.daxfs.devdax;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A {@link PmemRegion} that forwards every call to another region and appends every mutating
 * call to an in-memory log, from which {@link CrashStates} rebuilds the states a power cut
 * could leave.
 *
 * <p>Recorded: every store as {@link Store} with the exact bytes written (multi-byte values in
 * native byte order, as {@link MappedRegion} stores them), a {@code fill} of more than
 * {@value #FILL_AS_STORE_LIMIT} bytes as {@link Fill} (small fills as {@link Store}), and
 * {@link Flush}, {@link Fence} and {@link Release}. Reads and {@link #close()} are not recorded.
 *
 * <p>Persistence mode: by default the region reports its delegate's
 * {@link #persistenceMode()}. A crash test runs on an in-memory or tmpfs delegate but wants
 * the file system to behave as on persistent memory (on tmpfs, {@link PersistenceMode#VOLATILE},
 * fs-core skips work that only matters for power loss); {@link #RecordingRegion(PmemRegion,
 * PersistenceMode)} reports a chosen mode instead, and {@link CrashStates} models flushes as
 * that mode performs them.
 *
 * <p>Thread safety: each call forwards and appends under this object's monitor, so the log
 * order is the order in which the calls took effect on the delegate. That serialises all
 * mutations of the region, which is fine for a test tool.
 */
public final class RecordingRegion implements PmemRegion {
    /** Fills up to this size are logged as ordinary stores; larger ones as {@link Fill}. */
    public static final int FILL_AS_STORE_LIMIT = 1 << 20;

    /** One mutating call. */
    public sealed interface Event permits Store, Fill, Flush, Fence, Release {
    }

    /**
     * Bytes written at an offset. {@code bytes} is owned by the log: do not modify it.
     */
    public record Store(long offset, byte[] bytes) implements Event {
        @Override
        public boolean equals(Object o) {
            return o instanceof Store s && s.offset == offset && Arrays.equals(s.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(offset) * 31 + Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "Store[offset=" + offset + ", length=" + bytes.length + "]";
        }
    }

    /** {@code length} bytes set to {@code value}. */
    public record Fill(long offset, long length, byte value) implements Event {
    }

    public record Flush(long offset, long length) implements Event {
    }

    public record Fence() implements Event {
    }

    /** The range was released; it reads as zeros afterwards. */
    public record Release(long offset, long length) implements Event {
    }

    private static final Fence FENCE = new Fence();

    private final PmemRegion delegate;
    private final PersistenceMode mode;
    private final ArrayList<Event> log = new ArrayList<>();

    /** Records {@code delegate}, reporting its persistence mode. */
    public RecordingRegion(PmemRegion delegate) {
        this(delegate, null);
    }

    /**
     * Records {@code delegate} and reports {@code mode} as this region's persistence mode (null:
     * the delegate's). The calls still go to the delegate as they are.
     */
    public RecordingRegion(PmemRegion delegate, PersistenceMode mode) {
        this.delegate = delegate;
        this.mode = mode;
    }

    public PmemRegion delegate() {
        return delegate;
    }

    /** A copy of the log so far. */
    public synchronized List<Event> events() {
        return List.copyOf(log);
    }

    /** A copy of the events from index {@code from} on. */
    public synchronized List<Event> eventsSince(int from) {
        return List.copyOf(log.subList(from, log.size()));
    }

    public synchronized int eventCount() {
        return log.size();
    }

    /** Forgets the log, e.g. after taking a new {@link #snapshot()} as the base image. */
    public synchronized void clear() {
        log.clear();
    }

    /**
     * A copy of the region's current contents: the base image for {@link CrashStates}. Taken
     * under the monitor, so it is consistent with the log (no recorded call is half-applied).
     */
    public synchronized byte[] snapshot() {
        return delegate.readView().toArray(ValueLayout.JAVA_BYTE);
    }

    @Override
    public long size() {
        return delegate.size();
    }

    @Override
    public MemorySegment readView() {
        return delegate.readView();
    }

    @Override
    public synchronized void putByte(long offset, byte value) {
        delegate.putByte(offset, value);
        log.add(new Store(offset, new byte[] {value}));
    }

    @Override
    public synchronized void putShort(long offset, short value) {
        delegate.putShort(offset, value);
        byte[] b = new byte[Short.BYTES];
        MemorySegment.ofArray(b).set(MediaOrder.SHORT, 0, value);
        log.add(new Store(offset, b));
    }

    @Override
    public synchronized void putInt(long offset, int value) {
        delegate.putInt(offset, value);
        byte[] b = new byte[Integer.BYTES];
        MemorySegment.ofArray(b).set(MediaOrder.INT, 0, value);
        log.add(new Store(offset, b));
    }

    @Override
    public synchronized void putLong(long offset, long value) {
        delegate.putLong(offset, value);
        byte[] b = new byte[Long.BYTES];
        MemorySegment.ofArray(b).set(MediaOrder.LONG, 0, value);
        log.add(new Store(offset, b));
    }

    @Override
    public synchronized void write(long offset, MemorySegment src, long srcOffset, long length) {
        delegate.write(offset, src, srcOffset, length);
        // Logged in chunks so that no single array exceeds what Java can allocate.
        long done = 0;
        while (done < length) {
            int chunk = (int) Math.min(length - done, 1 << 30);
            byte[] b = new byte[chunk];
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, srcOffset + done, b, 0, chunk);
            log.add(new Store(offset + done, b));
            done += chunk;
        }
    }

    @Override
    public synchronized void write(long offset, byte[] src, int srcOffset, int length) {
        delegate.write(offset, src, srcOffset, length);
        log.add(new Store(offset, Arrays.copyOfRange(src, srcOffset, srcOffset + length)));
    }

    @Override
    public synchronized void fill(long offset, long length, byte value) {
        delegate.fill(offset, length, value);
        if (length <= FILL_AS_STORE_LIMIT) {
            byte[] b = new byte[(int) length];
            Arrays.fill(b, value);
            log.add(new Store(offset, b));
        } else {
            log.add(new Fill(offset, length, value));
        }
    }

    @Override
    public synchronized void flush(long offset, long length) {
        delegate.flush(offset, length);
        log.add(new Flush(offset, length));
    }

    @Override
    public void prepareForWrite(long offset, long length) {
        delegate.prepareForWrite(offset, length); // a hint: changes no byte, so nothing to record
    }

    @Override
    public synchronized void fence() {
        delegate.fence();
        log.add(FENCE);
    }

    @Override
    public synchronized void release(long offset, long length) {
        delegate.release(offset, length);
        log.add(new Release(offset, length));
    }

    @Override
    public PersistenceMode persistenceMode() {
        return mode != null ? mode : delegate.persistenceMode();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
