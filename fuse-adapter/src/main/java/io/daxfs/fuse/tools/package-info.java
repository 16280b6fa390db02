/**
 * The operator tools behind {@code daxfs info}, {@code freesp} and {@code map}, and the
 * conventions every subcommand shares: which device a TARGET or MOUNT argument names and who
 * has it mounted ({@link io.daxfs.fuse.tools.Target}), a read-only open that never takes the
 * lock for writing ({@link io.daxfs.fuse.tools.ReadOnlyDevice}), JSON output, sizes, progress
 * bars. Reading is fs-core's {@code io.daxfs.core.inspect}; this package presents it.
 */
package io.daxfs.fuse.tools;
