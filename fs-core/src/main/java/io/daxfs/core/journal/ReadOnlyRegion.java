package io.daxfs.core.journal;

import io.daxfs.devdax.PersistenceMode;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;

/** A region over a segment that refuses every store: lets read-only code reuse readers. */
final class ReadOnlyRegion implements PmemRegion {
    private final MemorySegment segment;

    ReadOnlyRegion(MemorySegment segment) {
        this.segment = segment;
    }

    private static UnsupportedOperationException readOnly() {
        return new UnsupportedOperationException("read-only");
    }

    @Override public long size() { return segment.byteSize(); }
    @Override public MemorySegment readView() { return segment; }
    @Override public void putByte(long o, byte v) { throw readOnly(); }
    @Override public void putShort(long o, short v) { throw readOnly(); }
    @Override public void putInt(long o, int v) { throw readOnly(); }
    @Override public void putLong(long o, long v) { throw readOnly(); }
    @Override public void write(long o, MemorySegment s, long so, long l) { throw readOnly(); }
    @Override public void write(long o, byte[] s, int so, int l) { throw readOnly(); }
    @Override public void fill(long o, long l, byte v) { throw readOnly(); }
    @Override public void flush(long o, long l) { }
    @Override public void fence() { }
    @Override public void release(long o, long l) { throw readOnly(); }
    @Override public PersistenceMode persistenceMode() { return PersistenceMode.FENCE_ONLY; }
    @Override public void close() { }
}
