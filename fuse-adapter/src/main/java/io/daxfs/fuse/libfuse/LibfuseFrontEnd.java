package io.daxfs.fuse.libfuse;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.fuse.mount.FrontEnd;
import io.daxfs.fuse.mount.MountSession;
import io.daxfs.fuse.options.MountOptions;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

/**
 * The libfuse front end ({@code -o frontend=libfuse}): {@link DaxfsFuse} behind libfuse 2's
 * high-level, path-based API, driven by a fixed pool of JVM threads ({@link FuseSessionLoop}):
 * callbacks never pay jffi's per-call attach and detach of native threads (docs/benchmarks.md).
 */
public record LibfuseFrontEnd(MountOptions options) implements FrontEnd {
    /**
     * UTIME_OMIT_OK: utimens understands UTIME_NOW/UTIME_OMIT. NULLPATH_OK: the callbacks that
     * have a file handle work without a path, which hard_remove needs (an unlinked open file
     * has none). NOPATH: libfuse does not even build the path for them, and jnr-fuse does not
     * decode it into a String: less work on every read and write.
     */
    static final Set<FuseOperationFlag> FLAGS = EnumSet.of(
            FuseOperationFlag.UTIME_OMIT_OK, FuseOperationFlag.NULLPATH_OK, FuseOperationFlag.NOPATH);

    @Override
    public String name() {
        return "libfuse";
    }

    @Override
    public MountSession mount(DaxFileSystem fs, String fsname, Path mountPoint, int threads) {
        DaxfsFuse fuse = new DaxfsFuse(fs, options.xattrs(), options.permissions());
        return FuseSessionLoop.builder(fuse, mountPoint)
                .programName("daxfs")
                .options(options.fuseArgs(fsname))
                .threads(threads)
                .flags(FLAGS)
                .mount();
    }
}
