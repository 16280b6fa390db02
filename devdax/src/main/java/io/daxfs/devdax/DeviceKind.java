package io.daxfs.devdax;

/** What {@link DeviceOpener} mapped. */
public enum DeviceKind {
    /** A regular file (a "pmem-backed file": on a DAX file system, in /dev/shm, or on disk). */
    REGULAR_FILE,
    /** A device-DAX character device such as /dev/dax0.0. */
    DAX_DEVICE
}
