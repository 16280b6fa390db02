package io.daxfs.devdax;

import java.lang.foreign.MemorySegment;

/**
 * A mapped range of byte-addressable persistent memory.
 *
 * <p>This is the only way any module writes device memory. Every store, bulk copy, fill,
 * flush, fence and release goes through these methods so that a test can interpose a
 * recorder ({@link RecordingRegion}) and rebuild every state a crash could leave.
 * Reads go straight to {@link #readView()}, a read-only segment over the whole mapping.
 *
 * <p>Persistence model (the x86 pmem model): a store is visible to every thread at once,
 * survives the death of this process at once (the mapping is shared), but is durable against
 * power loss only after {@link #flush} of its range followed by {@link #fence}. Stores to
 * different ranges may reach the persistence domain in any order unless a fence separates them.
 *
 * <p>Offsets are byte offsets from the start of the region. Implementations are thread safe
 * in the same way plain memory is: concurrent stores to disjoint ranges are fine, callers
 * order conflicting stores themselves.
 */
public interface PmemRegion extends AutoCloseable {

    /** Size of the mapping in bytes. */
    long size();

    /** Read-only view of the whole mapping. Never write through a cast or a copy of it. */
    MemorySegment readView();

    /**
     * Copies {@code length} bytes at {@code offset} into {@code dst}: the same bytes as
     * {@link #readView()} holds there, by whatever way is cheapest (a file-backed region reads
     * large ranges with pread(2), so the pages are not mapped into this process).
     */
    default void read(long offset, MemorySegment dst, long dstOffset, long length) {
        MemorySegment.copy(readView(), offset, dst, dstOffset, length);
    }

    /**
     * Hands {@code length} bytes at {@code offset} to the pipe {@code pipeFd} by reference, with
     * splice(2) from the backing file: the pipe then holds the file's own pages, not a copy, and
     * whoever drains it copies them once (docs/devdax.md, "Reads spliced into a pipe"). Until the
     * pipe is drained it shows any later store to those bytes, so the caller keeps the range from
     * being reused meanwhile. Returns the bytes handed over (possibly fewer: the pipe is full,
     * as it is expected to be non-blocking, or the call failed), or -1 when this region never
     * can: a device, a private mapping, a region that records its stores. The default: -1.
     */
    default long spliceToPipe(long offset, int pipeFd, long length) {
        return -1;
    }

    void putByte(long offset, byte value);

    void putShort(long offset, short value);

    void putInt(long offset, int value);

    /** An aligned 8-byte store: atomic with respect to other threads and to power loss. */
    void putLong(long offset, long value);

    /** Copies {@code length} bytes from {@code src} (heap or native) into the region. */
    void write(long offset, MemorySegment src, long srcOffset, long length);

    /** Copies {@code length} bytes of {@code src} into the region. */
    void write(long offset, byte[] src, int srcOffset, int length);

    /** Sets {@code length} bytes to {@code value}. */
    void fill(long offset, long length, byte value);

    /**
     * Writes range [start, start + span) whole: {@code length} bytes of {@code src} from
     * {@code srcOffset} at {@code offset} (inside the range) and zeros before and after them -
     * a new block taking a write that covers only part of it. The same bytes as
     * {@code fill}, {@code write}, {@code fill}, which the default does; an image file's region
     * does it with one pwritev(2) instead, so the block's page is allocated by the write rather
     * than by a page fault of the daemon's mapping (docs/devdax.md, "Bulk loads and stores of
     * image files").
     */
    default void writeZeroPadded(long start, long span, long offset, MemorySegment src, long srcOffset, long length) {
        if (offset > start) {
            fill(start, offset - start, (byte) 0);
        }
        if (length > 0) {
            write(offset, src, srcOffset, length);
        }
        long tail = offset + length;
        if (start + span > tail) {
            fill(tail, start + span - tail, (byte) 0);
        }
    }

    /** Starts writing the range back towards the persistence domain (clwb / msync). */
    void flush(long offset, long length);

    /** Orders: every range flushed before this call is durable before any later store is. */
    void fence();

    /**
     * Gives the backing memory of the range back to the system (fallocate PUNCH_HOLE on a
     * pmem-backed file; a no-op that only zeroes on a device). Afterwards the range reads as
     * zeros. The caller guarantees nothing references the range.
     */
    void release(long offset, long length);

    /**
     * A hint, not a store: the range is about to be written whole, so back it with memory now
     * in one step (one madvise instead of a page fault per 4 KiB page on a sparse image).
     * Changes no byte. The default does nothing.
     */
    default void prepareForWrite(long offset, long length) {
    }

    /**
     * True for a private copy-on-write mapping of a file opened read-only: stores are taken
     * but stay in this process and never reach the device (a read-only mount replaying its
     * journal in memory). The default: false.
     */
    default boolean isPrivate() {
        return false;
    }

    /** How {@link #flush} and {@link #fence} reach the persistence domain on this mapping. */
    PersistenceMode persistenceMode();

    /** Unmaps. Further use throws {@link IllegalStateException}. */
    @Override
    void close();
}
