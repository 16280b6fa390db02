/**
 * What both front ends need to mount and to end a mount, written once: the
 * {@link io.daxfs.fuse.mount.FrontEnd} contract the daemon serves through, the worker lifecycle
 * ({@link io.daxfs.fuse.mount.MountSession}: a fixed pool of worker threads, a supervisor, stop
 * with a grace period and then force), the mount table ({@link io.daxfs.fuse.mount.MountTable}),
 * unmounting ({@link io.daxfs.fuse.mount.Unmounter}), the mount-point check and the mount error.
 * Nothing here knows a front end's classes.
 */
package io.daxfs.fuse.mount;
