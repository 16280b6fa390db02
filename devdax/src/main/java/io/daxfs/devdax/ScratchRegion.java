package io.daxfs.devdax;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;

/**
 * A {@link PmemRegion} over plain memory (any writable {@link MemorySegment}), for tests: no
 * file, no mapping, no system call. Flush does nothing and fence is a full fence; release
 * writes zeros. The persistence mode it reports is the caller's choice, so a file system on it
 * behaves as on that kind of memory.
 *
 * <p>With undo ({@link #withUndo}), the first store into each 4 KiB page saves the page, and
 * {@link #rollback()} puts every saved page back: a crash explorer mounts and checks a state,
 * then returns the memory to that state in time proportional to what the check wrote rather
 * than to the size of the image.
 *
 * <p>Thread safety as plain memory: concurrent stores to disjoint ranges are fine; saving a
 * page is synchronized.
 */
public final class ScratchRegion implements PmemRegion {
    public static final int PAGE = 4096;

    private final MemorySegment memory;
    private final MemorySegment readView;
    private final PersistenceMode mode;
    private final boolean undo;
    private final BitSet saved = new BitSet();
    private final List<SavedPage> savedPages = new ArrayList<>();
    private volatile boolean closed;

    private ScratchRegion(MemorySegment memory, PersistenceMode mode, boolean undo) {
        if (memory.isReadOnly()) {
            throw new IllegalArgumentException("a scratch region needs writable memory");
        }
        this.memory = memory;
        this.readView = memory.asReadOnly();
        this.mode = Objects.requireNonNull(mode, "mode");
        this.undo = undo;
    }

    /** A region over {@code memory}, reporting {@code mode}. */
    public ScratchRegion(MemorySegment memory, PersistenceMode mode) {
        this(memory, mode, false);
    }

    /** A region over {@code memory} that remembers what it overwrote, for {@link #rollback()}. */
    public static ScratchRegion withUndo(MemorySegment memory, PersistenceMode mode) {
        return new ScratchRegion(memory, mode, true);
    }

    /** Puts back every page stored into since this region was made or last rolled back. */
    public synchronized void rollback() {
        if (!undo) {
            throw new IllegalStateException("this scratch region keeps no undo log");
        }
        for (SavedPage p : savedPages) {
            MemorySegment.copy(p.bytes, 0, memory, ValueLayout.JAVA_BYTE, p.page * PAGE, p.bytes.length);
        }
        savedPages.clear();
        saved.clear();
    }

    /** Pages saved for {@link #rollback()} so far. */
    public synchronized int pagesSaved() {
        return savedPages.size();
    }

    private void before(long offset, long length) {
        if (closed) {
            throw new IllegalStateException("the scratch region is closed");
        }
        Objects.checkFromIndexSize(offset, length, memory.byteSize());
        if (!undo || length == 0) {
            return;
        }
        long first = offset / PAGE;
        long last = (offset + length - 1) / PAGE;
        synchronized (this) {
            for (long p = first; p <= last; p++) {
                if (!saved.get((int) p)) {
                    saved.set((int) p);
                    long start = p * PAGE;
                    int n = (int) Math.min(PAGE, memory.byteSize() - start);
                    byte[] copy = new byte[n];
                    MemorySegment.copy(memory, ValueLayout.JAVA_BYTE, start, copy, 0, n);
                    savedPages.add(new SavedPage(p, copy));
                }
            }
        }
    }

    private record SavedPage(long page, byte[] bytes) {
    }

    @Override
    public long size() {
        return memory.byteSize();
    }

    @Override
    public MemorySegment readView() {
        return readView;
    }

    @Override
    public void putByte(long offset, byte value) {
        before(offset, 1);
        memory.set(ValueLayout.JAVA_BYTE, offset, value);
    }

    @Override
    public void putShort(long offset, short value) {
        before(offset, Short.BYTES);
        memory.set(MediaOrder.SHORT, offset, value);
    }

    @Override
    public void putInt(long offset, int value) {
        before(offset, Integer.BYTES);
        memory.set(MediaOrder.INT, offset, value);
    }

    @Override
    public void putLong(long offset, long value) {
        before(offset, Long.BYTES);
        memory.set(MediaOrder.LONG, offset, value);
    }

    @Override
    public void write(long offset, MemorySegment src, long srcOffset, long length) {
        before(offset, length);
        MemorySegment.copy(src, srcOffset, memory, offset, length);
    }

    @Override
    public void write(long offset, byte[] src, int srcOffset, int length) {
        before(offset, length);
        MemorySegment.copy(src, srcOffset, memory, ValueLayout.JAVA_BYTE, offset, length);
    }

    @Override
    public void fill(long offset, long length, byte value) {
        before(offset, length);
        memory.asSlice(offset, length).fill(value);
    }

    @Override
    public void flush(long offset, long length) {
        Objects.checkFromIndexSize(offset, length, memory.byteSize());
    }

    @Override
    public void fence() {
        VarHandle.fullFence();
    }

    @Override
    public void release(long offset, long length) {
        fill(offset, length, (byte) 0);
    }

    @Override
    public PersistenceMode persistenceMode() {
        return mode;
    }

    /** Further stores fail; the memory belongs to the caller and stays as it is. */
    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "ScratchRegion[size=" + size() + ", " + mode + (undo ? ", undo" : "") + "]";
    }
}
