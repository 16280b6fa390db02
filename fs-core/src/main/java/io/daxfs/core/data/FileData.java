package io.daxfs.core.data;

import io.daxfs.core.concurrent.PausePoints;
import io.daxfs.core.concurrent.Safeguards;
import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.core.journal.ErrorState;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.journal.Transaction;
import io.daxfs.core.space.Space;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

/**
 * The data of regular files, concurrent within one file: {@link FileReader} (read, seek),
 * {@link FileWriter} (write, fsync), {@link FileResizer} (truncate, punch, zero range,
 * fallocate), {@link Lease} (references to a range's blocks), over {@link FileBlocks}
 * (allocating, zeroing and freeing blocks in transactions). Callers pass the inode's handle;
 * the arguments' ranges are checked here ({@link FileRanges}); docs/concurrency.md states the invariants. Every
 * change first asks the {@link ErrorState} whether the device may still be written (EROFS).
 */
public final class FileData {
    private final MemorySegment media;
    private final Space space;
    private final FileBlocks blocks;
    private final FileReader reader;
    private final FileWriter writer;
    private final FileResizer resizer;
    private final ErrorState errors;
    private final PausePoints pauses;
    private final InodeTable table;

    public FileData(PmemRegion region, InodeTable table, Journal journal, Space space, Safeguards safeguards,
                    PausePoints pauses) {
        this.media = region.readView();
        this.space = space;
        this.pauses = pauses;
        this.table = table;
        this.blocks = new FileBlocks(region, table, journal, space, pauses);
        this.reader = new FileReader(region, table, space.busy(), safeguards, pauses);
        this.writer = new FileWriter(region, table, journal, blocks, safeguards, pauses);
        this.resizer = new FileResizer(region, table, journal, blocks);
        this.errors = journal.errors();
    }

    /** Reads up to {@code length} bytes at {@code offset}; holes read as zeros. */
    public int read(Inode in, long offset, MemorySegment dst, long dstOffset, int length) {
        return reader.read(in, offset, dst, dstOffset, length);
    }

    /** Reads up to {@code length} bytes at {@code offset} into {@code sink} by reference; -1 if it refused. */
    public int read(Inode in, long offset, int length, ReadSink sink) {
        return reader.read(in, offset, length, sink);
    }

    /** SEEK_DATA ({@code data}) or SEEK_HOLE from {@code offset}. */
    public long seek(Inode in, long offset, boolean data) {
        return reader.seek(in, offset, data);
    }

    public int write(Inode in, long offset, MemorySegment src, long srcOffset, int length) {
        if (FileRanges.checkWrite(offset, length) == 0) {
            return 0;
        }
        errors.checkWritable(); // one volatile read: the write path allocates nothing
        return writer.write(in, offset, src, srcOffset, length);
    }

    /** Makes the file's written data durable. */
    public void fsync(Inode in) {
        writer.fsync(in);
    }

    public void truncate(Inode in, long newSize) {
        FileRanges.checkSize(newSize);
        errors.checkWritable();
        resizer.truncate(in, newSize);
    }

    public void punchHole(Inode in, long offset, long length) {
        FileRanges.checkRange(offset, length);
        errors.checkWritable();
        resizer.punchHole(in, offset, length);
    }

    public void zeroRange(Inode in, long offset, long length, boolean keepSize) {
        FileRanges.checkRange(offset, length);
        errors.checkWritable();
        resizer.zeroRange(in, offset, length, keepSize);
    }

    public void fallocate(Inode in, long offset, long length, boolean keepSize) {
        FileRanges.checkRange(offset, length);
        errors.checkWritable();
        resizer.fallocate(in, offset, length, keepSize);
    }

    /**
     * References the blocks behind [offset, offset+length) (cut at the end of file rounded up to a
     * page) - at most {@code maxPieces} extents -
     * until the lease is closed; {@code onBreak} (or null) runs once when a free breaks it.
     * {@code id} is the number the registry gives it.
     */
    public Lease lease(long id, Inode in, long offset, long length, Lease.Mode mode, int maxPieces, Runnable onBreak) {
        return Lease.take(space.busy(), media, table, pauses, id, in, offset, length, mode, maxPieces, onBreak);
    }

    /**
     * Frees every block of logical [from, to) in bounded transactions ({@link FileBlocks#freeRange});
     * caller holds the range exclusively.
     */
    public void freeRange(Inode in, ExtentMap map, long from, long to, Consumer<Transaction> first) {
        blocks.freeRange(in, map, from, to, first);
    }
}
