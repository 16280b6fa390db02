/**
 * Serving a jnr-fuse file system from a fixed pool of Java threads.
 *
 * <p>{@link io.daxfs.fuse.session.FuseSessionLoop} replaces jnr-fuse's {@code mount(...)}: it mounts
 * with libfuse 2's {@code fuse_setup} using the {@code struct fuse_operations} that jnr-fuse's
 * {@code AbstractFuseFS} built, then runs {@code fuse_session_receive_buf} /
 * {@code fuse_session_process_buf} on JVM threads, so jffi never attaches or detaches a thread per
 * callback. {@link io.daxfs.fuse.session.FuseOperationsLayout} knows the C layout of that struct,
 * checks jnr-fuse's copy against it, and sets the {@link io.daxfs.fuse.session.FuseOperationFlag}
 * bits that jnr-fuse only declares as padding.
 *
 * <p>Linux and libfuse 2.9 only (Debian's libfuse2).
 */
package io.daxfs.fuse.session;
