package io.daxfs.core.concurrent;

/**
 * The one lock order of fs-core. Every lock of the file system is taken in this order and
 * never the reverse; each lock's own documentation points here, and docs/concurrency.md
 * explains why each exists.
 *
 * <ol>
 * <li><b>The rename lock</b> ({@code NamespaceLocks}): only renames across directories take
 *     it, before anything else. It keeps every directory's parent pointer still while such a
 *     rename checks for cycles and locks two directories.</li>
 * <li><b>Directory locks</b> - a directory inode's {@code Inode.lock()}: shared for lookups
 *     and listings, exclusive for any change to its entries. Several at once: a directory
 *     before its subdirectories (an ancestor first); two unrelated directories only under
 *     the rename lock, in ascending inode number.</li>
 * <li><b>Inode locks of the entries an operation changes</b> - {@code Inode.lock()} of the
 *     inode an unlink, link or rename changes (and of a directory being removed or moved),
 *     exclusive, after the directories that hold their entries; several in ascending inode
 *     number. The same lock alone guards attributes, extended attributes and opening: chmod,
 *     chown, utimens, setxattr hold it exclusively, open and getxattr shared. Freeing an
 *     inode holds it exclusively.</li>
 * <li><b>A file's range lock</b> ({@code Inode.ranges()}, byte ranges): shared by reads and
 *     writes, exclusive by truncate, punch, zero range, fallocate and freeing the inode.
 *     Reads and writes take no lock above this one.</li>
 * <li><b>The same file's entry locks</b> ({@code Inode.entries()}, block numbers):
 *     exclusive while a hole is allocated, shared while a read caches a hole.</li>
 * <li><b>The journal's commit lock</b> (inside {@code Journal.commit} and
 *     {@code Journal.storeMax}); commit-time steps run under it and take only leaves.</li>
 * <li><b>Leaf monitors</b>: {@code ExtentMap}, {@code BlockAllocator},
 *     {@code InodeAllocator}, {@link BusyExtents}, {@code DirtyRanges}, {@code OpenFiles},
 *     {@code Orphans}, the xattr cache, {@code ReleaseBacklog}. Nothing is called while
 *     holding one, except that {@link BusyExtents} calls its reuse sink (allocator, release,
 *     a batch release of the backlog) after leaving its monitor.</li>
 * </ol>
 *
 * <p>Lock-free: {@link InvalidationSequence} and {@link MappingCache} (readers retry), and
 * {@link RangeLock}'s internal queue monitor is held only inside its own methods.
 *
 * <p>Why there are no cycles: a directory lock is only ever waited for by a thread holding
 * ancestors of it, or (under the rename lock) unrelated directories in ascending order; an
 * inode lock of step 3 only by a thread holding directories and smaller inode numbers; a
 * rename checks, before it locks its source and target, that neither is an ancestor of a
 * directory it holds. The forced-interleaving tests of the namespace
 * ({@code NamespaceRaceTest}) and of the data path ({@code RaceCatalogTest}) exercise it.
 */
public final class LockOrder {
    private LockOrder() {
    }
}
