/**
 * The daemon's entry and wiring: {@link io.daxfs.fuse.MountDaemon} opens the device and the file
 * system and serves it through the front end the mount options choose - the one place that knows
 * both {@code io.daxfs.fuse.kernel} and {@code io.daxfs.fuse.libfuse}. The shared packages
 * ({@code mount}, {@code options}, {@code vfs}) sit below the front ends, the command line
 * ({@code cli}) above this package.
 */
package io.daxfs.fuse;
