/**
 * The libfuse front end ({@code -o frontend=libfuse}): daxfs behind libfuse 2.9's high-level,
 * path-based API, through jnr-fuse. Everything that knows libfuse or jnr-fuse is here.
 *
 * <p>{@link io.daxfs.fuse.libfuse.DaxfsFuse} maps the callbacks onto fs-core. Its path-based
 * parts stay with it: {@link io.daxfs.fuse.libfuse.AccessControl} (the daemon's permission
 * checks, component by component) and {@link io.daxfs.fuse.libfuse.UnlinkedAliases} (libfuse's
 * {@code .fuse_hidden} names of unlinked open files).
 *
 * <p>Serving a jnr-fuse file system from a fixed pool of Java threads:
 * {@link io.daxfs.fuse.libfuse.FuseSessionLoop} replaces jnr-fuse's {@code mount(...)}: it mounts
 * with libfuse 2's {@code fuse_setup} using the {@code struct fuse_operations} that jnr-fuse's
 * {@code AbstractFuseFS} built, then runs {@code fuse_session_receive_buf} /
 * {@code fuse_session_process_buf} on JVM threads, so jffi never attaches or detaches a thread per
 * callback. {@link io.daxfs.fuse.libfuse.FuseOperationsLayout} knows the C layout of that struct,
 * checks jnr-fuse's copy against it, and sets the {@link io.daxfs.fuse.libfuse.FuseOperationFlag}
 * bits that jnr-fuse only declares as padding.
 *
 * <p>Linux and libfuse 2.9 only (Debian's libfuse2).
 */
package io.daxfs.fuse.libfuse;
