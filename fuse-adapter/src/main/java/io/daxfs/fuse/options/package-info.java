/**
 * The {@code -o} options of a daxfs mount, parsed once for both front ends:
 * {@link io.daxfs.fuse.options.MountOptions} (daxfs's own options, the FUSE/kernel options passed
 * on, which front end serves the mount) and the {@link io.daxfs.fuse.options.PermissionPolicy}
 * they choose. Each front end derives its own settings from the parsed options; nothing here
 * knows a front end's classes.
 */
package io.daxfs.fuse.options;
