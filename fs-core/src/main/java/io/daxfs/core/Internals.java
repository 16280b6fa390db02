package io.daxfs.core;

import io.daxfs.core.alloc.BlockAllocator;
import io.daxfs.core.alloc.InodeAllocator;
import io.daxfs.core.concurrent.BusyExtents;
import io.daxfs.core.concurrent.PausePoints;
import io.daxfs.core.concurrent.Safeguards;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeHandles;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.lifetime.InodeLifetimes;
import io.daxfs.core.space.Space;

/**
 * The parts of a mounted file system that tests and diagnostics look into
 * ({@link DaxFileSystem#internals()}): the journal, the allocator and busy list, the switches
 * that turn a concurrency mechanism off, the pause points that force interleavings, an
 * inode's handle. Nothing that serves requests goes through here.
 */
public final class Internals {
    private final Journal journal;
    private final Space space;
    private final Safeguards safeguards;
    private final PausePoints pauses;
    private final InodeHandles handles;
    private final InodeLifetimes lifetimes;
    private final InodeAllocator inodeAllocator;

    Internals(Journal journal, Space space, Safeguards safeguards, PausePoints pauses, InodeHandles handles,
              InodeLifetimes lifetimes, InodeAllocator inodeAllocator) {
        this.journal = journal;
        this.space = space;
        this.safeguards = safeguards;
        this.pauses = pauses;
        this.handles = handles;
        this.lifetimes = lifetimes;
        this.inodeAllocator = inodeAllocator;
    }

    public Journal journal() {
        return journal;
    }

    public BlockAllocator blockAllocator() {
        return space.allocator();
    }

    public BusyExtents busyExtents() {
        return space.busy();
    }

    /** Space: the release backlog of small freed extents ({@code releaseBacklog}, {@code unreleasedBlocks}). */
    public Space space() {
        return space;
    }

    /** Switches for the concurrency mechanisms; tests turn one off to show its hazard. */
    public Safeguards safeguards() {
        return safeguards;
    }

    /** Pause points where tests stop threads to force interleavings. */
    public PausePoints pausePoints() {
        return pauses;
    }

    /** The in-memory handle of inode {@code ino} (made if there is none). */
    public Inode inode(long ino) {
        if (!inodeAllocator.isUsed(ino)) {
            throw new IllegalArgumentException("inode " + ino + " is not in use");
        }
        return handles.get(ino);
    }

    /** Open handles of {@code ino}. */
    public int openHandles(long ino) {
        return lifetimes.openHandles(ino);
    }
}
