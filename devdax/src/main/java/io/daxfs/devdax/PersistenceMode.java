package io.daxfs.devdax;

/**
 * How a mapping's stores reach the persistence domain. Reported to the user at mount so the
 * durability promise is never overstated.
 */
public enum PersistenceMode {
    /**
     * MAP_SYNC mapping of a file on a DAX file system, or a /dev/dax device: flush writes back
     * CPU cache lines (clwb/clflushopt), fence is sfence. Durable across power loss.
     */
    CACHE_LINE_WRITEBACK("cache-line write-back (MAP_SYNC/devdax): durable across power loss"),
    /**
     * Plain shared mapping of a regular file: flush is msync(MS_SYNC) of the pages in the
     * range, fence orders nothing more (msync is synchronous). Durable across power loss once
     * the file's own file system has the pages on stable storage (tmpfs: never).
     */
    MSYNC("msync of a shared file mapping: durable when the backing file system is"),
    /**
     * A shared mapping of an image on a memory file system (tmpfs, e.g. /dev/shm): its
     * contents survive the death of the daemon (the pages belong to the file) but never a
     * power cut or reboot, whatever is flushed. Flush is therefore free (no msync system
     * call); fence still orders stores.
     */
    VOLATILE("image on a memory file system (tmpfs): survives the daemon's death, not a power cut; flushes skipped"),
    /**
     * Device memory with no way to write back caches from Java: durability relies on a
     * platform whose caches are inside the persistence domain (eADR). Fence only.
     */
    FENCE_ONLY("fence only: durable across power loss only on eADR platforms");

    private final String description;

    PersistenceMode(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
