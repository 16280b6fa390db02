/**
 * The kernel front end ({@code -o frontend=kernel}, the default): daxfs's own implementation of
 * the FUSE protocol on /dev/fuse ({@link io.daxfs.fuse.kernel.KernelFrontEnd}), with libfuse 2
 * used for the mount system call alone. docs/kernel-frontend.md describes it; its lock order is
 * at the top of {@code KernelFileSystem}. The io_uring front end ({@code -o frontend=uring},
 * {@link io.daxfs.fuse.kernel.UringFrontEnd}) serves the same handlers through FUSE over
 * io_uring: docs/uring-frontend.md.
 */
package io.daxfs.fuse.kernel;
