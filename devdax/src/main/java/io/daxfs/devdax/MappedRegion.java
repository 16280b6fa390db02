package io.daxfs.devdax;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * The {@link PmemRegion} over a real mapping, whatever made it. Stores go straight to the
 * mapped segment; flush and fence go to the mapping's {@link Persistence}; release punches
 * holes when a {@link HolePuncher} is given (pmem-backed file) and otherwise writes zeros and
 * flushes them (device).
 *
 * <p>Multi-byte values are stored in native byte order and need no alignment; an 8-byte store
 * is atomic (against other threads and power loss) only when its offset is a multiple of 8.
 *
 * <p>Closing: stores and reads fail with {@link IllegalStateException} once the owning arena
 * is closed (the arena guarantees it); flush and release additionally hold the
 * {@link CloseGuard} because they touch raw addresses or a descriptor number.
 */
final class MappedRegion implements PmemRegion {
    private static final ValueLayout.OfShort SHORT = MediaOrder.SHORT;
    private static final ValueLayout.OfInt INT = MediaOrder.INT;
    private static final ValueLayout.OfLong LONG = MediaOrder.LONG;

    private final MemorySegment segment;
    private final MemorySegment readView;
    private final boolean readOnly;
    private final boolean privateMapping;
    private final Persistence persistence;
    private final HolePuncher puncher;
    private final FileIo fileIo;
    private final long pageSize;
    private final CloseGuard guard;
    private final Runnable closeAction;

    /**
     * @param segment     the whole mapping (read-only segment when {@code readOnly})
     * @param puncher     null when release must write zeros instead of punching holes
     * @param fileIo      null when bulk loads and stores must go through the mapping (a device)
     * @param guard       shared with the owner, which closes it before unmapping
     * @param closeAction unmaps and unlocks (the owning {@link OpenedDevice#close()})
     */
    MappedRegion(MemorySegment segment, boolean readOnly, boolean privateMapping, Persistence persistence,
                 HolePuncher puncher, FileIo fileIo, long pageSize, CloseGuard guard, Runnable closeAction) {
        this.segment = segment;
        this.readView = segment.asReadOnly();
        this.readOnly = readOnly;
        this.privateMapping = privateMapping;
        this.persistence = persistence;
        this.puncher = puncher;
        this.fileIo = fileIo;
        this.pageSize = pageSize;
        this.guard = guard;
        this.closeAction = closeAction;
    }

    @Override
    public long size() {
        return segment.byteSize();
    }

    @Override
    public MemorySegment readView() {
        return readView;
    }

    @Override
    public boolean isPrivate() {
        return privateMapping;
    }

    @Override
    public void read(long offset, MemorySegment dst, long dstOffset, long length) {
        long done = throughDescriptor(false, offset, dst, dstOffset, length);
        MemorySegment.copy(segment, offset + done, dst, dstOffset + done, length - done);
    }

    @Override
    public long spliceToPipe(long offset, int pipeFd, long length) {
        if (fileIo == null || privateMapping) {
            return -1;
        }
        Objects.checkFromIndexSize(offset, length, size());
        guard.enter();
        try {
            return fileIo.spliceToPipe(offset, pipeFd, length);
        } finally {
            guard.exit();
        }
    }

    /**
     * Moves a page or more between native memory and the image file with pwrite ({@code store})
     * or pread when this region has a descriptor for that (an image file, docs/devdax.md "Bulk
     * loads and stores"); returns the bytes moved, 0 when the mapping must do it all. The caller
     * moves what is left through the mapping.
     */
    private long throughDescriptor(boolean store, long offset, MemorySegment memory, long memoryOffset, long length) {
        if (fileIo == null || length < FileIo.MIN_LENGTH || !memory.isNative()) {
            return 0;
        }
        Objects.checkFromIndexSize(offset, length, size());
        guard.enter();
        try {
            return store ? fileIo.write(offset, memory, memoryOffset, length) : fileIo.read(offset, memory, memoryOffset, length);
        } finally {
            guard.exit();
        }
    }

    @Override
    public void putByte(long offset, byte value) {
        checkWritable();
        segment.set(ValueLayout.JAVA_BYTE, offset, value);
    }

    @Override
    public void putShort(long offset, short value) {
        checkWritable();
        segment.set(SHORT, offset, value);
    }

    @Override
    public void putInt(long offset, int value) {
        checkWritable();
        segment.set(INT, offset, value);
    }

    @Override
    public void putLong(long offset, long value) {
        checkWritable();
        segment.set(LONG, offset, value);
    }

    @Override
    public void write(long offset, MemorySegment src, long srcOffset, long length) {
        checkWritable();
        long done = throughDescriptor(true, offset, src, srcOffset, length);
        if (done < length) {
            MemorySegment.copy(src, srcOffset + done, segment, offset + done, length - done);
        }
    }

    @Override
    public void writeZeroPadded(long start, long span, long offset, MemorySegment src, long srcOffset, long length) {
        checkWritable();
        Objects.checkFromIndexSize(start, span, size());
        if (offset < start || length < 0 || offset + length > start + span) {
            throw new IndexOutOfBoundsException("data [" + offset + ", +" + length + ") outside [" + start + ", +" + span + ")");
        }
        if (fileIo != null && span >= FileIo.MIN_LENGTH && src.isNative()) {
            long written;
            guard.enter();
            try {
                written = fileIo.writePadded(start, span, offset - start, src, srcOffset, length);
            } finally {
                guard.exit();
            }
            if (written == span) {
                return;
            }
            // Refused or short: the mapping writes it all again (the same bytes, so no harm).
        }
        PmemRegion.super.writeZeroPadded(start, span, offset, src, srcOffset, length);
    }

    @Override
    public void write(long offset, byte[] src, int srcOffset, int length) {
        checkWritable();
        MemorySegment.copy(src, srcOffset, segment, ValueLayout.JAVA_BYTE, offset, length);
    }

    @Override
    public void fill(long offset, long length, byte value) {
        checkWritable();
        long done = 0;
        if (value == 0 && fileIo != null && length >= FileIo.MIN_LENGTH) {
            // Zeroing new blocks (fallocate, the edges of a write) through the descriptor keeps
            // their pages out of the daemon's mapping, as for data (docs/devdax.md).
            Objects.checkFromIndexSize(offset, length, size());
            guard.enter();
            try {
                done = fileIo.writeZeros(offset, length);
            } finally {
                guard.exit();
            }
        }
        if (done < length) {
            segment.asSlice(offset + done, length - done).fill(value);
        }
    }

    @Override
    public void flush(long offset, long length) {
        Objects.checkFromIndexSize(offset, length, size());
        if (readOnly || length == 0) {
            guard.check();
            return; // nothing can be dirty in a read-only mapping
        }
        guard.enter();
        try {
            persistence.flush(offset, length);
        } finally {
            guard.exit();
        }
    }

    @Override
    public void fence() {
        guard.check();
        persistence.fence();
    }

    @Override
    public void prepareForWrite(long offset, long length) {
        Objects.checkFromIndexSize(offset, length, size());
        if (length < 4 * pageSize || readOnly || fileIo != null) {
            return; // a fault or two costs less than the call; pwrite allocates without faults
        }
        guard.enter();
        try {
            long start = Math.floorDiv(offset, pageSize) * pageSize;
            long end = Math.ceilDiv(offset + length, pageSize) * pageSize;
            Posix.madvise(segment.address() + start, Math.min(end, size()) - start, Posix.MADV_POPULATE_WRITE);
        } finally {
            guard.exit();
        }
    }

    @Override
    public void release(long offset, long length) {
        Objects.checkFromIndexSize(offset, length, size());
        checkWritable();
        if (length == 0) {
            return;
        }
        guard.enter();
        try {
            long end = offset + length;
            long holeStart = Math.ceilDiv(offset, pageSize) * pageSize;
            long holeEnd = Math.floorDiv(end, pageSize) * pageSize;
            if (puncher != null && holeStart < holeEnd && puncher.punch(holeStart, holeEnd - holeStart)) {
                // Only whole pages can be punched: the partial pages at either edge are zeroed.
                zeroAndFlush(offset, holeStart);
                zeroAndFlush(holeEnd, end);
            } else {
                zeroAndFlush(offset, end);
            }
        } finally {
            guard.exit();
        }
    }

    /**
     * A read-only segment would refuse the store too, but with an IllegalArgumentException
     * about segments; this names the actual cause. The branch is on a final field.
     */
    private void checkWritable() {
        if (readOnly) {
            throw new UnsupportedOperationException("the region is mapped read-only");
        }
    }

    private void zeroAndFlush(long from, long to) {
        if (from < to) {
            segment.asSlice(from, to - from).fill((byte) 0);
            persistence.flush(from, to - from);
        }
    }

    @Override
    public PersistenceMode persistenceMode() {
        return persistence.mode();
    }

    /** Closes the whole device: unmaps and releases the lock. Idempotent. */
    @Override
    public void close() {
        closeAction.run();
    }

    @Override
    public String toString() {
        return "MappedRegion[size=" + size() + ", " + persistence.mode() + (readOnly ? ", read-only" : "") + "]";
    }
}
